/// A MIME media type (RFC 2045 section 5.1, RFC 6838 section 4.2): `type/subtype`, lower case.
public struct MediaType: Sendable, Equatable, CustomStringConvertible {
  public let type: String
  public let subtype: String

  public var description: String { type + "/" + subtype }

  /// Types a receiving client shows as text, where a charset parameter matters.
  public var isText: Bool { type == "text" }

  public static let octetStream = MediaType(checked: "application", "octet-stream")

  private init(checked type: String, _ subtype: String) {
    self.type = type
    self.subtype = subtype
  }

  /// Parses `type/subtype` as given with `--attach FILE;type=...`. Parameters are not accepted
  /// (the composer writes the ones it needs), nor are `multipart/*` and `message/*`, whose
  /// bodies must themselves be MIME and cannot be base64 (RFC 2045 section 6.4).
  public static func parse(_ text: String) throws(ComposeError) -> MediaType {
    try HeaderEncoding.validateValue(text, header: "Content-Type")
    let parts = text.trimmingSpaces.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isTokenCharacter) }) else {
      throw ComposeError(
        .invalidHeader,
        "invalid media type \(ComposeError.visible(text)): expected type/subtype, e.g. application/pdf")
    }
    let type = parts[0].lowercased()
    guard type != "multipart" && type != "message" else {
      throw ComposeError(.invalidHeader, "media type \(ComposeError.visible(text)) cannot be an attachment's type")
    }
    return MediaType(checked: type, parts[1].lowercased())
  }

  /// The type for a file name's extension (case-insensitive); `application/octet-stream` for
  /// anything not in the table, which leaves the choice to the recipient.
  public static func forFileName(_ name: String) -> MediaType {
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return octetStream }
    let suffix = name[name.index(after: dot)...].lowercased()
    guard let known = byExtension[suffix] else { return octetStream }
    let parts = known.split(separator: "/")
    return MediaType(checked: String(parts[0]), String(parts[1]))
  }

  /// The common office and web formats (IANA media type registry names). `.eml` is left out on
  /// purpose: a `message/rfc822` body may not be base64 (RFC 2046 section 5.2.1), and attachments
  /// always are.
  static let byExtension: [String: String] = [
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "gif": "image/gif", "webp": "image/webp", "svg": "image/svg+xml", "txt": "text/plain", "csv": "text/csv",
    "html": "text/html", "htm": "text/html", "md": "text/markdown", "ics": "text/calendar",
    "zip": "application/zip", "gz": "application/gzip", "json": "application/json", "xml": "application/xml",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
  ]

  /// RFC 2045 section 5.1 `token`: printable US-ASCII except space and tspecials.
  static func isTokenCharacter(_ byte: UInt8) -> Bool {
    byte > 0x20 && byte < 0x7F && !tspecials.contains(byte)
  }

  private static let tspecials = Set(#"()<>@,;:\"/[]?="#.utf8)
}

extension StringProtocol {
  /// Without leading and trailing spaces and tabs.
  var trimmingSpaces: String {
    var slice = Substring(self)
    while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
    while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
    return String(slice)
  }
}

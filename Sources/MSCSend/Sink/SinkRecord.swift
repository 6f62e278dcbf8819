import Foundation

/// What the sink prints for one captured message: one line on stdout, as `key=value` text or as a
/// JSON object (`--json`), so that a script can follow the sink with `while read`. Everything in
/// it came from the client: control characters are escaped before anything is printed.
struct SinkRecord: Sendable {
  var message: CapturedMessage
  /// The identifier the 250 reply gave (the Maildir file's unique part).
  var identifier: String
  /// Where the message was written, when `--maildir` was given.
  var file: String?
  /// "127.0.0.1:54321".
  var peer: String

  /// The Subject header for display: unfolded, encoded words decoded (RFC 2047), trimmed.
  var subject: String? { Self.subject(of: message.content) }

  /// `from=<a> to=<b>,<c> size=N subject="..." file=PATH` (no `file=` without a Maildir).
  var textLine: String {
    var line = "from=<\(Self.escaped(message.sender))>"
    line += " to=" + message.recipients.map { "<\(Self.escaped($0))>" }.joined(separator: ",")
    line += " size=\(message.content.count)"
    line += " subject=\"\(Self.escaped(subject ?? "", quoting: true))\""
    if let file { line += " file=\(Self.escaped(file))" }
    return line
  }

  /// One JSON object, keys sorted; JSON's own escaping covers control characters.
  var jsonLine: String {
    let object: [String: Any] = [
      "id": identifier, "from": message.sender, "to": message.recipients, "size": message.content.count,
      "subject": subject ?? NSNull(), "file": file ?? NSNull(), "helo": message.helloName, "peer": peer,
      "tls": message.tls, "user": message.authenticatedUser ?? NSNull(),
    ]
    guard
      let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return "{}" }
    return String(decoding: data, as: UTF8.self)
  }

  /// The first Subject field of the header section (RFC 5322 section 3.6.5), unfolded (section
  /// 2.2.3) and decoded. Only the first 64 KiB are searched: a header section longer than that
  /// is hostile or broken.
  static func subject(of content: [UInt8]) -> String? {
    let header = content.prefix(65_536)
    var value: [UInt8]?
    var index = header.startIndex
    while index < header.endIndex {
      let end = header[index...].firstIndex(of: UInt8(ascii: "\n")) ?? header.endIndex
      var line = header[index..<end]
      if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
      index = end == header.endIndex ? end : end + 1
      if line.isEmpty { break }  // end of the header section
      let continues = line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t")
      if continues {
        if value != nil { value? += line }
        continue
      }
      if value != nil { break }  // the next field after Subject
      let name = Array("subject:".utf8)
      if line.count >= name.count, zip(line, name).allSatisfy({ ((0x41...0x5a).contains($0) ? $0 + 0x20 : $0) == $1 }) {
        value = Array(line.dropFirst(name.count))
      }
    }
    guard let value else { return nil }
    return HeaderEncoding.decode(String(decoding: value, as: UTF8.self)).trimmingCharacters(in: .whitespaces)
  }

  /// Control characters (C0, DEL, C1) as `\xNN`; with `quoting`, `"` and `\` escaped too.
  static func escaped(_ text: String, quoting: Bool = false) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0..<0x20, 0x7f...0x9f:
        out += "\\x" + Crypto.hex([UInt8(truncatingIfNeeded: scalar.value)])
      case 0x22 where quoting, 0x5c where quoting:
        out += "\\"
        out.unicodeScalars.append(scalar)
      default:
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}

import Foundation

/// A message to fill in once per row: an RFC 5322 message (header fields, an empty line, the body)
/// with `{{name}}` placeholders in header values and the body (syntax in `TemplateText`).
///
/// Lines may end with CRLF or LF; folded header fields are unfolded (RFC 5322 section 2.2.3). How a
/// field is filled depends on its name:
/// - From and Sender hold one mailbox, To, Cc, Bcc and Reply-To a list (RFC 5322 sections
///   3.6.2-3.6.3); a value cannot change their structure (`TemplateText.filledAsAddress`:
///   `{{name}} <{{email}}>` with the name "Doe, Jane" is one mailbox). An empty Cc, Bcc or
///   Reply-To is left out; an empty From or To is an error.
/// - Date, Message-ID, In-Reply-To, References, MIME-Version, Return-Path and
///   List-Unsubscribe(-Post) must stay ASCII.
/// - Every other field is unstructured text, RFC 2047-encoded when not ASCII (encoded words already
///   in the template are decoded first, so they are not encoded twice).
/// - Content-Type, if given, must be a literal `text/*` type; its charset is replaced by the one the
///   body needs. Content-Transfer-Encoding is refused: it is chosen per message (`RenderedMessage`).
public struct MessageTemplate: Sendable {
  enum Role: Sendable, Equatable {
    case mailbox
    case mailboxList(optional: Bool)
    case structured
    case contentType
    case unstructured
  }

  struct Field: Sendable {
    let name: String
    let value: TemplateText
    /// The line the field starts on.
    let line: Int
    let role: Role
    /// A field without placeholders, rendered once when the template is parsed.
    var cached: RenderedField?
  }

  let fields: [Field]
  let body: TemplateText
  /// Every variable the template uses, in order of first use (header fields first, then the body).
  public let variables: [String]

  /// RFC 5322 section 3.6: fields that may appear at most once (plus the two MIME fields).
  static let singleFields: Set<String> = [
    "date", "from", "sender", "reply-to", "to", "cc", "bcc", "message-id", "in-reply-to", "references",
    "subject", "mime-version", "content-type",
  ]
  static let structuredFields: Set<String> = [
    "date", "message-id", "in-reply-to", "references", "mime-version", "return-path", "list-unsubscribe",
    "list-unsubscribe-post",
  ]

  /// Parses a template held as text.
  public init(_ text: String) throws(TemplateError) {
    var scalars = Substring(text).unicodeScalars
    if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
    var fields: [Field] = []
    var pending: (name: String, value: TemplateText, line: Int)?
    var lineNumber = 0
    var bodyStart: (index: String.UnicodeScalarView.Index, line: Int)?
    var position = scalars.startIndex
    while position < scalars.endIndex {
      lineNumber += 1
      let end = scalars[position...].firstIndex(of: "\n") ?? scalars.endIndex
      var line = scalars[position..<end]
      if line.last == "\r" { line.removeLast() }
      position = end < scalars.endIndex ? scalars.index(after: end) : end
      if line.isEmpty {
        bodyStart = (position, lineNumber + 1)
        break
      }
      if line.first == " " || line.first == "\t" {
        guard var field = pending else {
          throw TemplateError.syntax(line: lineNumber, "a continuation line with no header field before it")
        }
        field.value.append(contentsOf: try Self.headerText(line, name: field.name, line: lineNumber))
        pending = field
        continue
      }
      if let field = pending { fields.append(try Self.field(field, after: fields)) }
      pending = try Self.startField(line, line: lineNumber)
    }
    if let field = pending { fields.append(try Self.field(field, after: fields)) }
    if !fields.contains(where: { ["to", "cc", "bcc"].contains($0.name.lowercased()) }) {
      throw TemplateError(
        .unsupportedHeader, "the template has no To, Cc or Bcc field: add one, e.g. \"To: {{email}}\"")
    }
    self.fields = fields
    if let bodyStart {
      body = try TemplateText(parsing: scalars[bodyStart.index...], firstLine: bodyStart.line)
    } else {
      body = TemplateText(segments: [])
    }
    var seen: Set<String> = []
    variables = (fields.flatMap(\.value.variables) + body.variables).filter { seen.insert($0).inserted }
  }

  /// Parses a template from bytes, which must be UTF-8.
  public init(bytes: [UInt8]) throws(TemplateError) {
    guard let text = String(validating: bytes, as: UTF8.self) else {
      let line = Self.lineOfFirstInvalidUTF8(bytes)
      throw TemplateError.syntax(line: line, "not valid UTF-8: save the template as UTF-8")
    }
    try self.init(text)
  }

  /// Reads and parses a template file.
  public init(contentsOfFile path: String) throws(TemplateError) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TemplateError(.unreadable, "cannot read the template \(path)")
    }
    try self.init(bytes: Array(data))
  }

  /// True when the template has a field of this name (case-insensitive): the caller adds Date and
  /// Message-ID only when it does not.
  public func hasField(_ name: String) -> Bool {
    fields.contains { $0.name.lowercased() == name.lowercased() }
  }

  // MARK: Parsing

  /// `Name: value` on its first line.
  private static func startField(
    _ line: Substring.UnicodeScalarView, line number: Int
  ) throws(TemplateError) -> (name: String, value: TemplateText, line: Int) {
    let shown = ComposeError.visible(String(line.prefix(40)))
    guard let colon = line.firstIndex(of: ":") else {
      throw TemplateError.syntax(
        line: number, "\(shown) is not a header field (Name: value); an empty line must come before the body")
    }
    let name = String(line[..<colon])
    if name.contains("{{") {
      throw TemplateError.syntax(line: number, "a placeholder cannot be part of a header field name")
    }
    do {
      try HeaderEncoding.validateName(name)
    } catch {
      throw TemplateError.syntax(
        line: number, "\(shown) is not a header field (Name: value); an empty line must come before the body")
    }
    return (name, try headerText(line[line.index(after: colon)...], name: name, line: number), number)
  }

  /// One physical line of a header value: placeholders parsed, literal text checked.
  private static func headerText(
    _ text: Substring.UnicodeScalarView, name: String, line: Int
  ) throws(TemplateError) -> TemplateText {
    let value = try TemplateText(parsing: text, firstLine: line)
    for literal in value.literals {
      do {
        try HeaderEncoding.validateValue(literal, header: name)
      } catch {
        throw TemplateError.syntax(line: line, error.message)
      }
    }
    return value
  }

  /// A complete (unfolded) field with its role, checked against the fields before it.
  private static func field(
    _ parsed: (name: String, value: TemplateText, line: Int), after previous: [Field]
  ) throws(TemplateError) -> Field {
    let key = parsed.name.lowercased()
    if singleFields.contains(key), let first = previous.first(where: { $0.name.lowercased() == key }) {
      throw TemplateError(
        .unsupportedHeader, line: parsed.line,
        "template line \(parsed.line): a second \(parsed.name) field (the first is on line \(first.line)); "
          + "RFC 5322 section 3.6 allows one")
    }
    var value = parsed.value.trimmingLiteralWhitespace()
    let role: Role
    switch key {
    case "from", "sender": role = .mailbox
    case "to": role = .mailboxList(optional: false)
    case "cc", "bcc", "reply-to": role = .mailboxList(optional: true)
    case "content-transfer-encoding":
      throw TemplateError(
        .unsupportedHeader, line: parsed.line,
        "template line \(parsed.line): remove Content-Transfer-Encoding: msc-send chooses 7bit or "
          + "quoted-printable for each message")
    case "content-type":
      try checkContentType(value, line: parsed.line)
      role = .contentType
    case "mime-version" where !value.isLiteral:
      throw TemplateError.syntax(line: parsed.line, "MIME-Version cannot hold a placeholder")
    case _ where structuredFields.contains(key): role = .structured
    default:
      role = .unstructured
      value = value.mappingLiterals { HeaderEncoding.decode($0) }
    }
    var field = Field(name: parsed.name, value: value, line: parsed.line, role: role)
    if value.isLiteral && role != .contentType {
      do {
        field.cached = try field.rendered(with: [:], charset: "us-ascii")
      } catch {
        throw TemplateError(
          .invalidHeader, line: parsed.line, "template line \(parsed.line): " + describe(error, in: field))
      }
    }
    return field
  }

  /// One text part only (RFC 2045 section 5.1): `text/plain`, `text/html` and the like, literal.
  private static func checkContentType(_ value: TemplateText, line: Int) throws(TemplateError) {
    guard value.isLiteral else {
      throw TemplateError.syntax(line: line, "Content-Type cannot hold a placeholder")
    }
    let mediaType = value.filled(with: [:]).split(separator: ";").first.map { $0.lowercased() } ?? ""
    guard mediaType.trimmingSpacesAndTabs().hasPrefix("text/") else {
      throw TemplateError(
        .unsupportedHeader, line: line,
        "template line \(line): Content-Type must be a single text part such as text/plain or text/html, "
          + "not \(ComposeError.visible(mediaType.trimmingSpacesAndTabs()))")
    }
  }

  /// The line holding the first byte that does not start valid UTF-8 where it is.
  private static func lineOfFirstInvalidUTF8(_ bytes: [UInt8]) -> Int {
    var line = 1
    var start = 0
    for (index, byte) in bytes.enumerated() where byte == .lineFeed {
      if String(validating: bytes[start...index], as: UTF8.self) == nil { return line }
      line += 1
      start = index + 1
    }
    return line
  }
}

extension MessageTemplate {
  /// The message for one row, or the first problem with it. A variable the row lacks, a value with
  /// CR or LF (or another control character) bound for a header, an address that does not parse
  /// or no recipient at all are errors naming the row and the variable or header.
  public func render(_ row: BatchRow) throws(BatchRowError) -> RenderedMessage {
    var problems: [BatchRowError] = []
    let message = render(row, problems: &problems)
    if let message, problems.isEmpty { return message }
    throw problems[0]
  }

  /// Every problem with one row, not just the first (empty when the row renders).
  public func problems(for row: BatchRow) -> [BatchRowError] {
    var problems: [BatchRowError] = []
    _ = render(row, problems: &problems)
    return problems
  }

  /// The message, or nil with the reasons appended to `problems`.
  func render(_ row: BatchRow, problems: inout [BatchRowError]) -> RenderedMessage? {
    func problem(_ kind: BatchRowError.Kind, variable: String? = nil, header: String? = nil, _ text: String) {
      problems.append(BatchRowError(kind, row: row.number, line: row.line, variable: variable, header: header, text))
    }
    let missing = variables.filter { row.values[$0] == nil }
    for name in missing {
      let hint = Suggestion.nearest(to: name, in: Array(row.values.keys)).map { "; did you mean \"\($0)\"?" } ?? ""
      problem(.missingVariable, variable: name, "no value for {{\(name)}}: the row has no variable \"\(name)\"\(hint)")
    }
    guard missing.isEmpty else { return nil }

    let body = self.body.filled(with: row.values)
    let profile = TextBodyProfile(body.utf8)
    var message = MessageParts()
    let problemsBefore = problems.count
    for field in fields {
      if let cached = field.cached {
        message.add(cached, of: field)
        continue
      }
      guard checkHeaderValues(of: field, row: row, problem: problem) else { continue }
      do throws(ComposeError) {
        message.add(try field.rendered(with: row.values, charset: profile.charset), of: field)
      } catch {
        let source = field.value.variables.map { "{{\($0)}}" }.joined(separator: ", ")
        let text = Self.describe(error, in: field) + (source.isEmpty ? "" : " (from \(source))")
        let kind: BatchRowError.Kind = error.kind == .invalidAddress ? .invalidAddress : .invalidHeader
        problem(kind, variable: field.value.variables.first, header: field.name, text)
      }
    }
    if problems.count == problemsBefore && message.to.isEmpty && message.cc.isEmpty && message.bcc.isEmpty {
      problem(.noRecipients, "no recipients: To, Cc and Bcc are all empty")
    }
    guard problems.count == problemsBefore else { return nil }

    if !hasField("MIME-Version") { message.header += "MIME-Version: 1.0\r\n" }
    if !hasField("Content-Type") { message.header += "Content-Type: text/plain; charset=\(profile.charset)\r\n" }
    message.header += "Content-Transfer-Encoding: \(profile.transferEncoding.rawValue)\r\n"
    let everyone = [message.from].compactMap { $0 } + message.to + message.cc + message.bcc + message.replyTo
    return RenderedMessage(
      row: row.number, fields: message.fields, body: body, from: message.from, to: message.to, cc: message.cc,
      bcc: message.bcc, replyTo: message.replyTo, requiresSMTPUTF8: everyone.contains(where: \.requiresSMTPUTF8),
      transferEncoding: profile.transferEncoding, header: message.header)
  }

  /// False, with a problem per offending variable, when a value would put a line break or another
  /// control character into the field: CR or LF would end the field and let the row add fields of
  /// its own (header injection).
  private func checkHeaderValues(
    of field: Field, row: BatchRow,
    problem: (BatchRowError.Kind, String?, String?, String) -> Void
  ) -> Bool {
    var clean = true
    for name in field.value.variables {
      let value = row.values[name] ?? ""
      guard let control = value.unicodeScalars.first(where: { ComposeError.isControl($0) && $0 != "\t" }) else {
        continue
      }
      clean = false
      if control == "\r" || control == "\n" {
        problem(
          .headerInjection, name, field.name,
          "the value of {{\(name)}} contains a line break (CR or LF) and would go into header \(field.name): "
            + "refused to prevent header injection")
      } else {
        let code = "U+" + String(control.value, radix: 16, uppercase: true).leftPadded(to: 4)
        problem(
          .invalidHeader, name, field.name,
          "the value of {{\(name)}} contains the control character \(code) and would go into header \(field.name)")
      }
    }
    return clean
  }

  /// A compose error as one line naming the field.
  static func describe(_ error: ComposeError, in field: Field) -> String {
    error.kind == .invalidAddress ? "header \(field.name): \(error.message)" : error.message
  }
}

/// One field filled in and encoded: its lines for the header block ("" when it is not written:
/// Bcc, or an empty optional address field) and the mailboxes it holds.
struct RenderedField: Sendable {
  var lines = ""
  var value: String
  var mailboxes: [Mailbox] = []
  /// An empty Cc, Bcc or Reply-To, left out of the message.
  var isOmitted = false
}

extension MessageTemplate.Field {
  /// The field filled with `values` and encoded for the wire. `charset` is the body's, for
  /// Content-Type.
  func rendered(with values: [String: String], charset: String) throws(ComposeError) -> RenderedField {
    switch role {
    case .unstructured:
      let value = self.value.filled(with: values)
      return RenderedField(lines: try HeaderEncoding.unstructuredField(name: name, value: value), value: value)
    case .structured:
      let value = self.value.filled(with: values)
      return RenderedField(lines: try HeaderEncoding.structuredField(name: name, value: value), value: value)
    case .contentType:
      let value = self.value.filled(with: values)
      let withCharset = MessageParts.contentType(value, charset: charset)
      return RenderedField(lines: try HeaderEncoding.structuredField(name: name, value: withCharset), value: value)
    case .mailbox:
      let value = self.value.filledAsAddress(with: values)
      let mailbox = try Mailbox.parse(value)
      let lines = try HeaderEncoding.addressField(name: name, mailboxes: [mailbox])
      return RenderedField(lines: lines, value: value, mailboxes: [mailbox])
    case .mailboxList(let optional):
      let value = self.value.filledAsAddress(with: values)
      if optional && value.allSatisfy({ $0 == " " || $0 == "\t" }) {
        return RenderedField(value: value, isOmitted: true)
      }
      let mailboxes = try Mailbox.parseList(value)
      let lines = name.lowercased() == "bcc" ? "" : try HeaderEncoding.addressField(name: name, mailboxes: mailboxes)
      return RenderedField(lines: lines, value: value, mailboxes: mailboxes)
    }
  }
}

/// What rendering collects, field by field.
private struct MessageParts {
  var fields: [RenderedMessage.HeaderField] = []
  var header = ""
  var from: Mailbox?
  var to: [Mailbox] = []
  var cc: [Mailbox] = []
  var bcc: [Mailbox] = []
  var replyTo: [Mailbox] = []

  mutating func add(_ rendered: RenderedField, of field: MessageTemplate.Field) {
    guard !rendered.isOmitted else { return }
    header += rendered.lines
    switch field.name.lowercased() {
    case "from": from = rendered.mailboxes.first
    case "to": to = rendered.mailboxes
    case "cc": cc = rendered.mailboxes
    case "bcc": bcc = rendered.mailboxes
    case "reply-to": replyTo = rendered.mailboxes
    default: break
    }
    fields.append(RenderedMessage.HeaderField(name: field.name, value: rendered.value))
  }

  /// The template's media type and parameters with the charset the body needs (RFC 2046
  /// section 4.1.2) in place of any charset it named.
  static func contentType(_ value: String, charset: String) -> String {
    let parts = value.split(separator: ";").map { String($0).trimmingSpacesAndTabs() }
    let parameters = parts.dropFirst().filter { part in
      let attribute = part.split(separator: "=").first.map { String($0).trimmingSpacesAndTabs().lowercased() }
      return !part.isEmpty && attribute != "charset"
    }
    return ([parts.first ?? "text/plain", "charset=\(charset)"] + parameters).joined(separator: "; ")
  }
}

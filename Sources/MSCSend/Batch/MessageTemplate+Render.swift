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
      guard checkHeaderValues(of: field, row: row, problem: problem) else { continue }
      let value: String
      switch field.role {
      case .mailbox, .mailboxList: value = field.value.filledAsAddress(with: row.values)
      default: value = field.value.filled(with: row.values)
      }
      let source = field.value.variables.map { "{{\($0)}}" }.joined(separator: ", ")
      let fromVariables = source.isEmpty ? "" : " (from \(source))"
      do throws(ComposeError) {
        try message.add(field, value: value, charset: profile.charset)
      } catch {
        let kind: BatchRowError.Kind = error.kind == .invalidAddress ? .invalidAddress : .invalidHeader
        let text = error.kind == .invalidAddress ? "header \(field.name): \(error.message)" : error.message
        problem(kind, variable: field.value.variables.first, header: field.name, text + fromVariables)
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

  /// Encodes one filled field into the header block and keeps its mailboxes.
  mutating func add(
    _ field: MessageTemplate.Field, value: String, charset: String
  ) throws(ComposeError) {
    let name = field.name
    switch field.role {
    case .unstructured:
      header += try HeaderEncoding.unstructuredField(name: name, value: value)
    case .structured:
      header += try HeaderEncoding.structuredField(name: name, value: value)
    case .contentType:
      header += try HeaderEncoding.structuredField(name: name, value: Self.contentType(value, charset: charset))
    case .mailbox:
      let mailbox = try Mailbox.parse(value)
      if name.lowercased() == "from" { from = mailbox }
      header += try HeaderEncoding.addressField(name: name, mailboxes: [mailbox])
    case .mailboxList(let optional):
      if optional && value.allSatisfy({ $0 == " " || $0 == "\t" }) { return }
      let mailboxes = try Mailbox.parseList(value)
      switch name.lowercased() {
      case "to": to = mailboxes
      case "cc": cc = mailboxes
      case "bcc": bcc = mailboxes
      default: replyTo = mailboxes
      }
      if name.lowercased() != "bcc" { header += try HeaderEncoding.addressField(name: name, mailboxes: mailboxes) }
    }
    fields.append(RenderedMessage.HeaderField(name: name, value: value))
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

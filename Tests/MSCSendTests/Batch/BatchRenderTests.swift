import Foundation
import Testing
@testable import MSCSend

private let orderTemplate = """
  From: Acme News <news@acme.test>
  To: {{name}} <{{email}}>
  Bcc: archive@acme.test
  Subject: Your order {{order}}
  X-Campaign: spring

  Hello {{name}},
  your order {{order}} has shipped.

  """

private func text(_ message: RenderedMessage) -> String { String(decoding: message.renderedBytes(), as: UTF8.self) }

/// The header block's fields, unfolded, by name.
private func unfoldedFields(_ message: RenderedMessage) -> [String: String] {
  let text = text(message)
  let header = text.components(separatedBy: "\r\n\r\n")[0].replacingOccurrences(of: "\r\n ", with: " ")
  var fields: [String: String] = [:]
  for line in header.components(separatedBy: "\r\n") {
    let parts = line.split(separator: ":", maxSplits: 1)
    fields[String(parts[0])] = String(parts[1].dropFirst())
  }
  return fields
}

/// The single error `render` throws for `values`.
private func renderError(_ template: String, _ values: [String: String]) throws -> BatchRowError? {
  do {
    _ = try MessageTemplate(template).render(batchRow(values))
    return nil
  } catch let error as BatchRowError {
    return error
  }
}

@Suite struct BatchRenderTests {
  @Test func rendersASCIIMessageExactly() throws {
    let template = try MessageTemplate(orderTemplate)
    let message = try template.render(
      BatchRow(number: 7, line: 9, values: ["name": "Ada Lovelace", "email": "ada@example.com", "order": "A-17"]))
    #expect(
      text(message) == """
        From: Acme News <news@acme.test>\r
        To: Ada Lovelace <ada@example.com>\r
        Subject: Your order A-17\r
        X-Campaign: spring\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=us-ascii\r
        Content-Transfer-Encoding: 7bit\r
        \r
        Hello Ada Lovelace,\r
        your order A-17 has shipped.\r

        """)
    #expect(message.row == 7)
    #expect(message.from?.address == "news@acme.test")
    #expect(message.recipients.map(\.address) == ["ada@example.com", "archive@acme.test"])
    #expect(message.bcc.map(\.address) == ["archive@acme.test"])
    #expect(message.field("bcc") == "archive@acme.test")
    #expect(message.fields.map(\.name) == ["From", "To", "Bcc", "Subject", "X-Campaign"])
    #expect(message.transferEncoding == .sevenBit)
    #expect(!message.requiresSMTPUTF8)
  }

  /// Non-ASCII values in Subject and display names are RFC 2047 encoded words that decode back to
  /// the values; the body goes as quoted-printable UTF-8 and decodes back too.
  @Test(arguments: [
    ("山田 太郎", "ご注文の品を発送しました", "東京都千代田区"),
    ("李小龙", "您的订单已发货", "北京市朝阳区"),
    ("Åsa Ekström", "Din beställning är skickad", "Göteborg, Sverige"),
    ("Niccolò Àlvarez", "Il suo ordine è stato spedito", "Città di Castello"),
  ])
  func encodesInternationalValues(name: String, subject: String, city: String) throws {
    let template = try MessageTemplate(
      "From: {{shop}} <shop@acme.test>\nTo: {{name}} <{{email}}>\nSubject: {{subject}} – {{order}}\n\n"
        + "{{name}}, {{city}}\n")
    let values = [
      "shop": "Acme " + name, "name": name, "email": "customer@example.com", "subject": subject, "order": "A-17",
      "city": city,
    ]
    let message = try template.render(batchRow(values))
    let wire = text(message)
    #expect(wire.utf8.allSatisfy { $0 < 0x80 }, "the message must be 7-bit")
    #expect(wire.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
    let fields = unfoldedFields(message)
    #expect(HeaderEncoding.decode(fields["Subject"] ?? "") == subject + " – A-17")
    #expect(try Mailbox.parse(fields["To"] ?? "") == Mailbox(displayName: name, address: "customer@example.com"))
    #expect(try Mailbox.parse(fields["From"] ?? "").displayName == "Acme " + name)
    #expect(fields["Content-Type"] == "text/plain; charset=utf-8")
    #expect(fields["Content-Transfer-Encoding"] == "quoted-printable")
    let body = wire.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    #expect(String(decoding: QuotedPrintable.decode(Array(body.utf8)), as: UTF8.self) == "\(name), \(city)\r\n")
    #expect(message.subject == subject + " – A-17")
    #expect(message.to.first?.displayName == name)
  }

  @Test func rendersSwedishMessageExactly() throws {
    let template = try MessageTemplate(
      "From: Åsa <asa@acme.test>\nTo: {{email}}\nSubject: Hej {{name}}!\n\nHej {{name}}")
    let message = try template.render(batchRow(["email": "bo@example.se", "name": "Björn"]))
    #expect(
      text(message) == """
        From: =?UTF-8?Q?=C3=85sa?= <asa@acme.test>\r
        To: bo@example.se\r
        Subject: Hej =?UTF-8?Q?Bj=C3=B6rn!?=\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: quoted-printable\r
        \r
        Hej Bj=C3=B6rn\r

        """)
  }

  @Test func encodedWordsInTheTemplateAreNotEncodedTwice() throws {
    let template = try MessageTemplate("To: {{email}}\nSubject: =?UTF-8?Q?Hej_=C3=85sa?= {{x}}")
    let message = try template.render(batchRow(["email": "a@x.test", "x": "och Bo"]))
    #expect(message.subject == "Hej Åsa och Bo")
    #expect(HeaderEncoding.decode(unfoldedFields(message)["Subject"] ?? "") == "Hej Åsa och Bo")
  }

  /// A value with CR or LF must never start a header field of its own; in the body it is text.
  @Test(arguments: ["Hi\r\nBcc: victim@example.com", "Hi\nBcc: victim@example.com", "Hi\rthere"])
  func refusesLineBreaksInHeaderValues(value: String) throws {
    let template = "To: {{email}}\nSubject: {{subject}}\n\n{{subject}}"
    let error = try renderError(template, ["email": "a@x.test", "subject": value])
    #expect(
      error?.message
        == "row 1 (line 2): the value of {{subject}} contains a line break (CR or LF) and would go into header "
        + "Subject: refused to prevent header injection")
    #expect(error?.kind == .headerInjection)
    #expect(error?.variable == "subject")
    #expect(error?.header == "Subject")
    #expect(error?.exitCode == .dataError)
    let bodyOnly = try MessageTemplate("To: {{email}}\n\n{{subject}}").render(
      batchRow(["email": "a@x.test", "subject": value]))
    #expect(bodyOnly.body == value)
  }

  @Test func refusesLineBreaksInAddressValuesAndOtherControls() throws {
    let template = "To: {{name}} <{{email}}>\nX-Tag: {{tag}}"
    let values = ["name": "Eve\r\nBcc: victim@example.com", "email": "eve@x.test", "tag": "a\u{0}b"]
    let problems = try MessageTemplate(template).problems(for: batchRow(values))
    #expect(
      problems.map(\.message) == [
        "row 1 (line 2): the value of {{name}} contains a line break (CR or LF) and would go into header To: "
          + "refused to prevent header injection",
        "row 1 (line 2): the value of {{tag}} contains the control character U+0000 and would go into header X-Tag",
      ])
    #expect(problems.map(\.kind) == [.headerInjection, .invalidHeader])
  }

  @Test func missingVariablesAreNamedEachWithASuggestion() throws {
    let template = try MessageTemplate(orderTemplate)
    let row = BatchRow(number: 4, line: 6, values: ["nmae": "Ada", "email": "ada@example.com"])
    #expect(
      template.problems(for: row).map(\.message) == [
        "row 4 (line 6): no value for {{name}}: the row has no variable \"name\"; did you mean \"nmae\"?",
        "row 4 (line 6): no value for {{order}}: the row has no variable \"order\"",
      ])
    #expect(template.problems(for: row).map(\.variable) == ["name", "order"])
    do {
      _ = try template.render(row)
      Issue.record("a row without its variables rendered")
    } catch {
      #expect(error.kind == .missingVariable)
      #expect(error.variable == "name")
    }
  }

  @Test func emptyValuesAreNotMissing() throws {
    let message = try MessageTemplate("To: {{email}}\nSubject: [{{tag}}]").render(
      batchRow(["email": "a@x.test", "tag": ""]))
    #expect(message.subject == "[]")
  }

  @Test(arguments: [
    (
      "To: {{name}} <{{email}}>", ["name": "Ada", "email": "ada@"],
      "row 1 (line 2): header To: invalid address \"\\\"Ada\\\" <ada@>\": missing domain (from {{name}}, {{email}})"
    ),
    (
      "From: {{sender}}\nTo: a@x.test", ["sender": ""],
      "row 1 (line 2): header From: invalid address \"\": empty (from {{sender}})"
    ),
    (
      "To: {{email}}", ["email": " "],
      "row 1 (line 2): header To: invalid address \" \": no address given (from {{email}})"
    ),
  ])
  func invalidAddressesNameHeaderAndValue(template: String, values: [String: String], message: String) throws {
    let error = try renderError(template, values)
    #expect(error?.message == message)
    #expect(error?.kind == .invalidAddress)
  }

  /// An empty Cc, Bcc or Reply-To is left out (an optional column); with no address at all left,
  /// the row is refused.
  @Test func emptyOptionalAddressFieldsAreLeftOut() throws {
    let template = try MessageTemplate("To: {{email}}\nCc: {{cc}}\nReply-To: {{reply}}\nBcc: {{bcc}}")
    let message = try template.render(batchRow(["email": "a@x.test", "cc": "", "reply": " ", "bcc": ""]))
    #expect(message.fields.map(\.name) == ["To"])
    #expect(message.recipients.map(\.address) == ["a@x.test"])
    let withCopies = try template.render(
      batchRow(["email": "a@x.test", "cc": "b@x.test, C <c@x.test>", "reply": "r@x.test", "bcc": "d@x.test"]))
    #expect(withCopies.recipients.map(\.address) == ["a@x.test", "b@x.test", "c@x.test", "d@x.test"])
    #expect(withCopies.replyTo.map(\.address) == ["r@x.test"])
    #expect(!text(withCopies).contains("d@x.test"))
    #expect(text(withCopies).contains("Cc: b@x.test, C <c@x.test>\r\n"))

    let error = try renderError("Bcc: {{bcc}}\nSubject: x", ["bcc": ""])
    #expect(error?.message == "row 1 (line 2): no recipients: To, Cc and Bcc are all empty")
    #expect(error?.kind == .noRecipients)
  }

  @Test func keepsTemplateContentTypeWithTheBodysCharset() throws {
    let template = try MessageTemplate(
      "MIME-Version: 1.0\nContent-Type: text/html; charset=iso-8859-1; format=flowed\nTo: {{email}}\n\n<p>{{name}}</p>")
    let message = try template.render(batchRow(["email": "a@x.test", "name": "Åsa"]))
    #expect(
      text(message) == """
        MIME-Version: 1.0\r
        Content-Type: text/html; charset=utf-8; format=flowed\r
        To: a@x.test\r
        Content-Transfer-Encoding: quoted-printable\r
        \r
        <p>=C3=85sa</p>\r

        """)
  }

  @Test func longASCIILinesGoQuotedPrintable() throws {
    let template = try MessageTemplate("To: {{email}}\n\n{{long}}")
    let long = String(repeating: "x", count: 999)
    let message = try template.render(batchRow(["email": "a@x.test", "long": long]))
    #expect(message.transferEncoding == .quotedPrintable)
    #expect(unfoldedFields(message)["Content-Type"] == "text/plain; charset=us-ascii")
    let body = text(message).components(separatedBy: "\r\n\r\n")[1]
    #expect(String(decoding: QuotedPrintable.decode(Array(body.utf8)), as: UTF8.self) == long + "\r\n")
  }

  @Test func structuredFieldsStayASCII() throws {
    let template = "To: {{email}}\nMessage-ID: <{{id}}@acme.test>\nDate: Mon, 23 Nov 2026 17:19:03 +0000"
    let message = try MessageTemplate(template).render(batchRow(["email": "a@x.test", "id": "r1"]))
    #expect(message.field("Message-ID") == "<r1@acme.test>")
    #expect(text(message).hasPrefix("To: a@x.test\r\nMessage-ID: <r1@acme.test>\r\nDate: Mon, 23 Nov 2026"))
    let error = try renderError(template, ["email": "a@x.test", "id": "räksmörgås"])
    #expect(error?.message == "row 1 (line 2): header value for Message-ID must be ASCII (from {{id}})")
    #expect(error?.kind == .invalidHeader)
    #expect(error?.header == "Message-ID")
  }

  /// A value in display-name position or inside quotes stays one display name, whatever it holds.
  @Test(arguments: [
    ("To: {{name}} <{{email}}>", "Doe, Jane", "To: \"Doe, Jane\" <jane@x.test>"),
    ("To: {{name}} <{{email}}>", "Ada Lovelace", "To: Ada Lovelace <jane@x.test>"),
    ("To: {{name}} <{{email}}>", "", "To: jane@x.test"),
    ("To: \"{{name}}\" <{{email}}>", "Jane \"JD\" Doe \\ Co", "To: \"Jane \\\"JD\\\" Doe \\\\ Co\" <jane@x.test>"),
    ("To: \"Dr. {{name}}\" <{{email}}>, b@x.test", "Doe, Jane", "To: \"Dr. Doe, Jane\" <jane@x.test>, b@x.test"),
    ("To: {{name}} <{{email}}>", "<evil@x.test>, x", "To: \"<evil@x.test>, x\" <jane@x.test>"),
  ])
  func displayNameValuesCannotSplitTheList(template: String, name: String, field: String) throws {
    let message = try MessageTemplate(template).render(batchRow(["name": name, "email": "jane@x.test"]))
    #expect(text(message).hasPrefix(field + "\r\n"))
    #expect(message.to.first?.displayName == (name.isEmpty ? nil : template.contains("Dr.") ? "Dr. " + name : name))
    #expect(message.to.first?.address == "jane@x.test")
  }

  @Test func nonASCIIAddressesNeedSMTPUTF8() throws {
    let message = try MessageTemplate("To: {{email}}").render(batchRow(["email": "用户@例子.广告"]))
    #expect(message.requiresSMTPUTF8)
    #expect(message.to.first?.address == "用户@例子.广告")
  }

  @Test func bodyValuesAreInsertedAsIs() throws {
    let values = ["email": "a@x.test", "note": "line one\nline two {{not a placeholder}} \\{{"]
    let message = try MessageTemplate("To: {{email}}\n\nNote: {{note}}").render(batchRow(values))
    #expect(message.body == "Note: line one\nline two {{not a placeholder}} \\{{")
  }
}

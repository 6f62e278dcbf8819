import Foundation
import Testing
@testable import MSCSend

/// The error parsing `text` as a template throws, or nil.
private func templateError(_ text: String) -> TemplateError? {
  do {
    _ = try MessageTemplate(text)
    return nil
  } catch {
    return error
  }
}

private let unclosed = "\"{{\" is not closed by \"}}\" on the same line (write \\{{ for a literal {{)"

@Suite struct BatchTemplateTests {
  @Test func listsVariablesInOrderOfFirstUse() throws {
    let template = try MessageTemplate(
      "From: {{sender}}\nTo: {{ name }} <{{email}}>\nSubject: Hi {{name}}\n\nDear {{name}}, {{amount}} {{\tsender\t}}")
    #expect(template.variables == ["sender", "name", "email", "amount"])
    #expect(template.hasField("subject"))
    #expect(!template.hasField("Date"))
  }

  @Test func namesMayUseAnyScriptDigitsDashesAndDots() throws {
    let template = try MessageTemplate("To: {{e-mail.address_2}}\n\n{{förnamn}} {{名前}} {{Ελένη}}")
    #expect(template.variables == ["e-mail.address_2", "förnamn", "名前", "Ελένη"])
  }

  /// `\{{` is a literal `{{`; a lone `}}` and single braces are text.
  @Test func escapesAndLoneBracesAreText() throws {
    let template = try MessageTemplate("To: {{email}}\nSubject: \\{{not}} {x} }}\n\nUse \\{{name}} for {{name}}. }}")
    let message = try template.render(batchRow(["email": "a@x.test", "name": "Ada"]))
    #expect(message.subject == "{{not}} {x} }}")
    #expect(message.body == "Use {{name}} for Ada. }}")
    #expect(template.variables == ["email", "name"])
  }

  /// RFC 5322 section 2.2.3: unfolding removes the line breaks only; CRLF and LF templates agree.
  @Test func unfoldsHeaderFieldsAndAcceptsCRLF() throws {
    let lf = try MessageTemplate("To: {{email}}\nSubject: Hello\n  dear\n\t{{name}}\n\nBody {{name}}\nline 2\n")
    let crlf = try MessageTemplate(
      "To: {{email}}\r\nSubject: Hello\r\n  dear\r\n\t{{name}}\r\n\r\nBody {{name}}\r\nline 2\r\n")
    let values = ["email": "a@x.test", "name": "Ada"]
    let fromLF = try lf.render(batchRow(values))
    let fromCRLF = try crlf.render(batchRow(values))
    #expect(fromLF.subject == "Hello  dear\tAda")
    #expect(fromLF.renderedBytes() == fromCRLF.renderedBytes())
    #expect(fromLF.body == "Body Ada\nline 2\n")
    #expect(fromCRLF.body == "Body Ada\r\nline 2\r\n")
  }

  @Test func templateWithoutBodyHasAnEmptyBody() throws {
    let message = try MessageTemplate("To: {{email}}").render(batchRow(["email": "a@x.test"]))
    #expect(message.body == "")
    #expect(
      String(decoding: message.renderedBytes(), as: UTF8.self)
        == "To: a@x.test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
        + "Content-Transfer-Encoding: 7bit\r\n\r\n")
  }

  @Test(arguments: [
    ("To: {{email}\n\nx", "template line 1: " + unclosed),
    (
      "To: a@x.test\n\nline 3\nHi {{name\n}}",
      "template line 4: " + unclosed
    ),
    (
      "To: a@x.test\n\n{{first name}}",
      "template line 3: the placeholder \"{{first name}}\" is not a name: use letters, digits, \"_\", \"-\" and \".\""
    ),
    ("To: a@x.test\nSubject: {{ }}", "template line 2: the placeholder \"{{ }}\" has no name"),
    (
      "To: a@x.test\nSubject: {{{name}}}",
      "template line 2: the placeholder \"{{{name}}\" is not a name: use letters, digits, \"_\", \"-\" and \".\""
    ),
    (
      "To: a@x.test\nnot a header\n\nbody",
      "template line 2: \"not a header\" is not a header field (Name: value); an empty line must come before the body"
    ),
    (
      "To: a@x.test\nBad Name: x\n\nbody",
      "template line 2: \"Bad Name: x\" is not a header field (Name: value); an empty line must come before the body"
    ),
    (" folded\nTo: a@x.test", "template line 1: a continuation line with no header field before it"),
    ("To: a@x.test\nX-{{kind}}: 1", "template line 2: a placeholder cannot be part of a header field name"),
    (
      "To: a@x.test\nSubject: a\u{7}b",
      "template line 2: header value for Subject contains the control character U+0007"
    ),
    ("To: a@x.test\nMIME-Version: {{v}}", "template line 2: MIME-Version cannot hold a placeholder"),
    ("To: a@x.test\nContent-Type: text/{{kind}}", "template line 2: Content-Type cannot hold a placeholder"),
  ])
  func rejectsBadSyntax(template: String, message: String) {
    let error = templateError(template)
    #expect(error?.message == message)
    #expect(error?.kind == .invalidSyntax)
    #expect(error?.exitCode == .dataError)
  }

  @Test(arguments: [
    (
      "To: {{email}}\nSubject: a\nsubject: b",
      "template line 3: a second subject field (the first is on line 2); RFC 5322 section 3.6 allows one"
    ),
    (
      "To: {{email}}\nContent-Transfer-Encoding: 8bit",
      "template line 2: remove Content-Transfer-Encoding: msc-send chooses 7bit or quoted-printable for each message"
    ),
    (
      "To: {{email}}\nContent-Type: multipart/alternative; boundary=x",
      "template line 2: Content-Type must be a single text part such as text/plain or text/html, "
        + "not \"multipart/alternative\""
    ),
    ("From: a@x.test\nSubject: Hi\n\nbody", "the template has no To, Cc or Bcc field: add one, e.g. \"To: {{email}}\""),
  ])
  func rejectsUnsupportedHeaders(template: String, message: String) {
    let error = templateError(template)
    #expect(error?.message == message)
    #expect(error?.kind == .unsupportedHeader)
  }

  /// A field without placeholders is checked once, when the template is read: it would otherwise
  /// fail for every row.
  @Test(arguments: [
    ("From: shop@\nTo: {{email}}", "template line 1: header From: invalid address \"shop@\": missing domain"),
    ("To: {{email}}\nMessage-ID: <räk@x.test>", "template line 2: header value for Message-ID must be ASCII"),
    ("Subject: hi\nTo:", "template line 2: header To: invalid address \"\": no address given"),
  ])
  func rejectsInvalidLiteralHeaderValues(template: String, message: String) {
    let error = templateError(template)
    #expect(error?.message == message)
    #expect(error?.kind == .invalidHeader)
  }

  @Test func rejectsInvalidUTF8NamingTheLine() {
    let bytes = Array("To: {{email}}\nSubject: Gr".utf8) + [0xFC, 0x73, 0x73, 0x65] + Array("\n\nbody".utf8)
    do {
      _ = try MessageTemplate(bytes: bytes)
      Issue.record("a template that is not UTF-8 was accepted")
    } catch {
      let expected = "template line 2: not valid UTF-8: save the template as UTF-8"
      #expect(error == TemplateError(.invalidSyntax, line: 2, expected))
    }
  }

  @Test func readsTemplateFilesAndReportsMissingOnes() throws {
    let file = try TemporaryFile(Array("\u{FEFF}To: {{email}}\r\n\r\nHi".utf8), name: "t.eml")
    defer { file.cleanUp() }
    let template = try MessageTemplate(contentsOfFile: file.path)
    #expect(try template.render(batchRow(["email": "a@x.test"])).body == "Hi")
    do {
      _ = try MessageTemplate(contentsOfFile: file.directory.appendingPathComponent("missing.eml").path)
      Issue.record("a missing template was read")
    } catch {
      #expect(error.kind == .unreadable)
      #expect(error.exitCode == .ioError)
      #expect(error.message.hasPrefix("cannot read the template /"))
    }
  }
}

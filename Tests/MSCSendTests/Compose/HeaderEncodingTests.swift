import Foundation
import Testing
@testable import MSCSend

/// Each encoded word of an unfolded value, checked on its own: at most 75 characters and decoding
/// to valid UTF-8 (so no word ends inside a UTF-8 sequence).
private func checkEncodedWords(in value: String, sourceLocation: SourceLocation = #_sourceLocation) {
  for word in value.split(separator: " ") where word.hasPrefix("=?") {
    #expect(word.count <= 75, "word too long: \(word)", sourceLocation: sourceLocation)
    let parts = word.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
    #expect(parts.count == 3, sourceLocation: sourceLocation)
    guard parts.count == 3 else { continue }
    var bytes: [UInt8] = []
    if parts[1] == "B" {
      bytes = Array(Data(base64Encoded: String(parts[2])) ?? Data())
    } else {
      var characters = Array(parts[2].utf8)[...]
      while let first = characters.popFirst() {
        if first == UInt8(ascii: "=") {
          bytes.append(UInt8(String(decoding: characters.prefix(2), as: UTF8.self), radix: 16) ?? 0)
          characters = characters.dropFirst(2)
        } else {
          bytes.append(first == UInt8(ascii: "_") ? 0x20 : first)
        }
      }
    }
    #expect(
      String(validating: bytes, as: UTF8.self) != nil, "word splits a UTF-8 sequence: \(word)",
      sourceLocation: sourceLocation)
  }
}

private func lines(_ field: String) -> [Substring] {
  field.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast()
}

/// The value a reader sees: unfolded, the single space after the colon removed.
private func unfoldedValue(_ field: String, name: String) -> String {
  String(field.replacingOccurrences(of: "\r\n", with: "").dropFirst(name.count + 2))
}

private let subjectInjection =
  "header value for Subject contains a line break (CR or LF): refused to prevent header injection"

@Suite struct HeaderEncodingTests {
  /// RFC 2047 section 8, plus a few cases from real mail.
  @Test(arguments: [
    ("=?ISO-8859-1?Q?a?=", "a"),
    ("=?ISO-8859-1?Q?a?= b", "a b"),
    ("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab"),
    ("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=", "ab"),
    ("=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=", "ab"),
    ("=?ISO-8859-1?Q?a_b?=", "a b"),
    ("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", "a b"),
    ("(=?ISO-8859-1?Q?a?= b)", "(a b)"),
    ("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>"),
    ("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>", "Keld Jørn Simonsen <keld@dkuug.dk>"),
    ("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>", "André Pirard <PIRARD@vm1.ulg.ac.be>"),
    (
      "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
      "If you can read this you understand the example."
    ),
    ("=?utf-8?q?caf=c3=a9?=", "café"),
    ("=?UTF-8*en?Q?hello?=", "hello"),
    ("=?UTF-8?B?5Lu2?=", "件"),
    ("=?UTF-8?Q?=E4=BB?= =?UTF-8?Q?=B6?=", "件"),
    ("=?UTF-8?B?5a2j5bqm5oql5ZGK?=", "季度报告"),
    ("=?windows-1252?Q?=80_5?=", "€ 5"),
    ("=?iso-2022-jp?b?GyRCN29MPiRHJDkbKEI=?=", "件名です"),
    ("=?iso-8859-2?q?P=F8=EDli=B9_=BElu=BBou=E8k=FD?=", "Příliš žluťoučký"),
    ("=?x-unknown?Q?abc?= d", "=?x-unknown?Q?abc?= d"),
    ("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="),
    ("=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated"),
    ("plain text, no words", "plain text, no words"),
    ("Re: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n aus Berlin", "Re: Grüße aus Berlin"),
  ])
  func decodesEncodedWords(_ encoded: String, _ decoded: String) {
    #expect(HeaderEncoding.decode(encoded) == decoded)
  }

  @Test(arguments: [
    ("Hälsningar från Göteborg", ["=?UTF-8?Q?H=C3=A4lsningar_fr=C3=A5n_G=C3=B6teborg?="]),
    ("Perché è già così", ["=?UTF-8?Q?Perch=C3=A9_=C3=A8_gi=C3=A0_cos=C3=AC?="]),
    ("季度报告", ["=?UTF-8?B?5a2j5bqm5oql5ZGK?="]),
    ("件名: 四半期レポート", ["=?UTF-8?B?5Lu25ZCNOiDlm5vljYrmnJ/jg6zjg53jg7zjg4g=?="]),
    ("a_b=c?d", ["=?UTF-8?Q?a=5Fb=3Dc=3Fd?="]),
    (
      "四半期レポート、四半期レポート、四半期レポート",
      [
        "=?UTF-8?B?5Zub5Y2K5pyf44Os44Od44O844OI44CB5Zub5Y2K5pyf44Os44Od44O844OI?=",
        "=?UTF-8?B?44CB5Zub5Y2K5pyf44Os44Od44O844OI?=",
      ]
    ),
  ])
  func encodesWordsExactly(_ text: String, _ words: [String]) {
    #expect(HeaderEncoding.encodedWords(text) == words)
  }

  @Test func smallWordsStillCarryEveryCharacter() {
    let text = "Göteborg 👩‍👩‍👧‍👦 件"
    let words = HeaderEncoding.encodedWords(text, encoding: .quotedPrintable, maximumLength: 20)
    #expect(words.first == "=?UTF-8?Q?G=C3=B6t?=")
    #expect(words.allSatisfy { $0.count <= 75 })
    #expect(HeaderEncoding.decode(words.joined(separator: " ")) == text)
    #expect(HeaderEncoding.encodedWords("", encoding: .base64).isEmpty)
  }

  @Test func choosesQForLatinAndBForCJK() {
    #expect(HeaderEncoding.preferredEncoding(for: "Hälsningar från Göteborg") == .quotedPrintable)
    #expect(HeaderEncoding.preferredEncoding(for: "季度报告") == .base64)
    #expect(HeaderEncoding.preferredEncoding(for: "Отчёт за квартал") == .base64)
  }

  @Test(arguments: [
    "件名: 四半期レポート", "季度报告", "Hälsningar från Göteborg", "Perché è già così",
    "Re: [Q3] Hälsningar från Göteborg och Malmö", "Fwd: 季度报告 Q3 (final) – bitte prüfen",
    String(repeating: "件名: 四半期レポート ", count: 8), String(repeating: "Perché è già così, ", count: 9),
    String(repeating: "👩‍👩‍👧‍👦", count: 20), "e\u{301}" + String(repeating: "e\u{301}\u{302}\u{303}", count: 30),
    "Rapport trimestriel – été 2026", "Ελληνικά θέματα", "a=?b?=c", "  leading and trailing  é  ",
    "wide   gap" + String(repeating: " ", count: 90) + "👩‍👩‍👧‍👦" + String(repeating: "\t", count: 80) + "é",
  ])
  func subjectsEncodeFoldAndDecodeBack(_ subject: String) throws {
    let field = try HeaderEncoding.unstructuredField(name: "Subject", value: subject)
    #expect(field.hasPrefix("Subject: "))
    #expect(field.hasSuffix("\r\n"))
    #expect(field.utf8.allSatisfy { $0 < 0x80 })
    for line in lines(field) {
      #expect(line.utf8.count <= 78, "line too long: \(line)")
      #expect(!line.allSatisfy { $0 == " " })
    }
    let value = unfoldedValue(field, name: "Subject")
    checkEncodedWords(in: value)
    #expect(HeaderEncoding.decode(value) == subject)
  }

  @Test func emojiFamiliesAreNeverSplitAcrossWords() throws {
    let family = "👩‍👩‍👧‍👦"
    let field = try HeaderEncoding.unstructuredField(name: "Subject", value: String(repeating: family, count: 10))
    let words = unfoldedValue(field, name: "Subject").split(separator: " ")
    #expect(words.count > 1)
    for word in words {
      let decoded = HeaderEncoding.decode(String(word))
      #expect(!decoded.isEmpty && decoded.allSatisfy { $0 == Character(family) })
    }
  }

  @Test func mixedSubjectKeepsAsciiWordsReadable() throws {
    let subject = "Re: [Q3] Hälsningar från Göteborg och Malmö"
    let field = try HeaderEncoding.unstructuredField(name: "Subject", value: subject)
    #expect(
      field == "Subject: Re: [Q3] =?UTF-8?Q?H=C3=A4lsningar_fr=C3=A5n_G=C3=B6teborg?= och\r\n =?UTF-8?Q?Malm=C3=B6?=\r\n")
  }

  @Test func longCJKSubjectFillsLinesExactly() throws {
    let field = try HeaderEncoding.unstructuredField(name: "Subject", value: String(repeating: "季度报告", count: 6))
    #expect(
      field == """
        Subject: =?UTF-8?B?5a2j5bqm5oql5ZGK5a2j5bqm5oql5ZGK5a2j5bqm5oql5ZGK5a2j5bqm?=\r
         =?UTF-8?B?5oql5ZGK5a2j5bqm5oql5ZGK5a2j5bqm5oql5ZGK?=\r

        """)
  }

  @Test(arguments: [
    ("Hi", "Subject: Hi\r\n"),
    ("", "Subject:\r\n"),
    ("two  spaces\tand tab", "Subject: two  spaces\tand tab\r\n"),
    (
      "Quarterly report for the third quarter of 2026, with many words and more words to fold",
      "Subject: Quarterly report for the third quarter of 2026, with many words and\r\n more words to fold\r\n"
    ),
    ("literal =?UTF-8?Q?x?= text", "Subject: literal =?UTF-8?Q?=3D=3FUTF-8=3FQ=3Fx=3F=3D?= text\r\n"),
  ])
  func asciiSubjectsStayReadable(_ subject: String, _ expected: String) throws {
    #expect(try HeaderEncoding.unstructuredField(name: "Subject", value: subject) == expected)
  }

  @Test func overlongAsciiWordIsEncodedRatherThanBreakingTheHardLimit() throws {
    let word = String(repeating: "x", count: 1200)
    let field = try HeaderEncoding.unstructuredField(name: "Subject", value: "see " + word)
    for line in lines(field) { #expect(line.utf8.count <= 78) }
    #expect(field.hasPrefix("Subject: see =?UTF-8?Q?xxx"))
    #expect(HeaderEncoding.decode(unfoldedValue(field, name: "Subject")) == "see " + word)
  }

  @Test func longUnbreakableStructuredValueIsRefused() {
    let value = "<" + String(repeating: "x", count: 1000) + "@example.com>"
    #expect(
      throws: ComposeError(
        .invalidHeader, "header field References has a line longer than 998 octets that cannot be folded")
    ) { try HeaderEncoding.structuredField(name: "References", value: value) }
  }

  @Test func structuredFieldFoldsAtWhitespaceAndRefusesNonASCII() throws {
    let ids = (1...4).map { "<message-\($0)-0123456789abcdef@mail.example.com>" }.joined(separator: " ")
    #expect(
      try HeaderEncoding.structuredField(name: "References", value: ids) == """
        References: <message-1-0123456789abcdef@mail.example.com>\r
         <message-2-0123456789abcdef@mail.example.com>\r
         <message-3-0123456789abcdef@mail.example.com>\r
         <message-4-0123456789abcdef@mail.example.com>\r

        """)
    #expect(throws: ComposeError(.invalidHeader, "header value for X-Note must be ASCII")) {
      try HeaderEncoding.structuredField(name: "X-Note", value: "café")
    }
  }

  @Test func addressFieldFoldsBetweenMailboxes() throws {
    let mailboxes = try Mailbox.parseList(
      #"Alice Example <alice@example.com>, "Doe, Jane" <jane.doe@example.com>, bob@example.org, "#
        + "Björn Åström <bjorn@example.se>, 山田 太郎 <yamada@example.jp>")
    let field = try HeaderEncoding.addressField(name: "To", mailboxes: mailboxes)
    #expect(
      field == """
        To: Alice Example <alice@example.com>, "Doe, Jane" <jane.doe@example.com>,\r
         bob@example.org, =?UTF-8?B?QmrDtnJuIMOFc3Ryw7Zt?= <bjorn@example.se>,\r
         =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <yamada@example.jp>\r

        """)
    let reparsed = try Mailbox.parseList(String(field.replacingOccurrences(of: "\r\n", with: "").dropFirst(4)))
    #expect(reparsed == mailboxes)
  }

  @Test func longDisplayNameIsSplitIntoWordsThatFitTheirLines() throws {
    let name = String(repeating: "Ünïcödé ", count: 12) + "end"
    let mailbox = try Mailbox(displayName: name, address: "someone@example.com")
    let field = try HeaderEncoding.addressField(name: "From", mailboxes: [mailbox])
    for line in lines(field) { #expect(line.utf8.count <= 78) }
    let value = unfoldedValue(field, name: "From")
    checkEncodedWords(in: value)
    #expect(try Mailbox.parse(value) == mailbox)
  }

  @Test(arguments: [
    ("Hi\r\nBcc: eve@evil.test", subjectInjection),
    ("Hi\nBcc: eve@evil.test", subjectInjection),
    ("Hi\r", subjectInjection),
    ("Hi\0", "header value for Subject contains a NUL character: refused"),
  ])
  func headerInjectionIsRefused(_ value: String, _ message: String) {
    #expect(throws: ComposeError(.headerInjection, message)) {
      try HeaderEncoding.unstructuredField(name: "Subject", value: value)
    }
  }

  @Test func otherControlCharactersAreRefusedButTabsAllowed() throws {
    #expect(throws: ComposeError(.invalidHeader, "header value for Subject contains the control character U+001B")) {
      try HeaderEncoding.validateValue("\u{1B}[31mred", header: "Subject")
    }
    try HeaderEncoding.validateValue("a\tb", header: "Subject")
  }

  @Test(arguments: ["", "X Bad", "X:Bad", "Ünïcode", "X-\r\nBcc", "X-Tab\t"])
  func invalidHeaderNamesAreRefused(_ name: String) {
    #expect(
      throws: ComposeError(
        .invalidHeader,
        "invalid header name \(ComposeError.visible(name)): use printable ASCII without spaces or \":\"")
    ) { try HeaderEncoding.validateName(name) }
  }

  @Test func validHeaderNamesPass() throws {
    for name in ["Subject", "X-Mailer", "List-Unsubscribe-Post", "x.y_z!#~"] { try HeaderEncoding.validateName(name) }
  }

  @Test func errorMessageNamesTheHeaderVisibly() {
    #expect(ComposeError.visible("a\r\n\"b\"\\\u{7}") == #""a\r\n\"b\"\\\u{7}""#)
  }
}

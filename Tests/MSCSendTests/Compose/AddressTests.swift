import Testing
@testable import MSCSend

private let longLocalPart = String(repeating: "a", count: 65)
private let longLabel = String(repeating: "a", count: 64)
private let longDomain = Array(repeating: String(repeating: "d", count: 62), count: 4).joined(separator: ".")

/// Invalid inputs and the problem reported after `invalid address "<input>": `.
private let invalidAddresses: [(input: String, problem: String)] = [
  ("bob@", "missing domain"),
  ("@example.com", "missing local part"),
  ("bob", #"missing "@""#),
  ("", "empty"),
  ("   ", "empty"),
  ("<>", #"empty address inside "<>""#),
  ("bob@example..com", "domain contains consecutive dots"),
  ("bob..smith@example.com", "local part contains consecutive dots"),
  (".bob@example.com", #"local part starts with ".""#),
  ("bob.@example.com", #"local part ends with ".""#),
  ("bob@.example.com", #"domain starts with ".""#),
  ("bob@example.com.", #"domain ends with ".""#),
  ("bob@@example.com", #"more than one "@""#),
  ("bob@a@example.com", #"more than one "@""#),
  ("bob@-example.com", #"domain label "-example" starts or ends with "-""#),
  ("bob@exa_mple.com", #"domain contains "_""#),
  ("bob@exa mple.com", "domain contains a space"),
  ("bo(b)@example.com", #"local part contains "(""#),
  ("Bob <bob@example.com", #"unbalanced "<""#),
  ("bob@example.com>", #"unbalanced ">""#),
  ("a>b <bob@example.com>", #"display name contains ">"; put the name in quotes"#),
  ("Bob <bob@example.com>>", #"unexpected text after ">""#),
  ("Bob <<bob@example.com>", #"local part contains "<""#),
  (#""Bob <bob@example.com>"#, "unbalanced quotes"),
  (#""bob@example.com"#, "unbalanced quotes"),
  ("Bob <bob@example.com> extra", #"unexpected text after ">""#),
  ("Bob bob@example.com", "unexpected space; write a display name as Name <address>"),
  ("Doe, Jane <jane@example.com>", #"display name contains ","; put the name in quotes"#),
  ("bob@example.com\r\nBcc: eve@evil.test", "contains a line break (CR or LF)"),
  ("bob@example.com\n", "contains a line break (CR or LF)"),
  ("bob\0@example.com", "contains a NUL character"),
  ("bob\u{7}@example.com", "contains the control character U+0007"),
  ("bob\u{85}@example.com", "contains the control character U+0085"),
  ("=?UTF-8?Q?Eve=0D=0ABcc=3A_x=40y?= <eve@example.com>", "display name contains a line break (CR or LF)"),
  ("bob@[1.2.3]", "domain literal [1.2.3] is neither an IPv4 address nor IPv6:address"),
  ("bob@[999.2.3.4]", "domain literal [999.2.3.4] is neither an IPv4 address nor IPv6:address"),
  ("bob@[1.2.3.4", #"unbalanced "[""#),
  ("bob@1.2.3.4]", #"unbalanced "]""#),
  (longLocalPart + "@example.com", "local part is 65 octets long; the limit is 64"),
  ("bob@" + longLabel + ".com", "domain label is longer than 63 octets"),
  ("bob@" + longDomain, "address is 255 octets long; the limit is 254"),
]

@Suite struct AddressTests {
  @Test(arguments: [
    ValidCase(input: "alice@example.com", displayName: nil, localPart: "alice", domain: "example.com"),
    ValidCase(input: "  alice@example.com\t", displayName: nil, localPart: "alice", domain: "example.com"),
    ValidCase(input: "<bob@example.com>", displayName: nil, localPart: "bob", domain: "example.com"),
    ValidCase(
      input: "Alice Example <alice@example.com>", displayName: "Alice Example", localPart: "alice",
      domain: "example.com"),
    ValidCase(
      input: "Alice\t Example   < alice@example.com >", displayName: "Alice Example", localPart: "alice",
      domain: "example.com"),
    ValidCase(
      input: "\"Doe, Jane\" <jane@example.com>", displayName: "Doe, Jane", localPart: "jane", domain: "example.com"),
    ValidCase(
      input: #""Say \"hi\"" <hi@example.com>"#, displayName: #"Say "hi""#, localPart: "hi", domain: "example.com"),
    ValidCase(input: "\"\" <a@example.com>", displayName: nil, localPart: "a", domain: "example.com"),
    ValidCase(
      input: "John Q. Public <john.q.public@example.com>", displayName: "John Q. Public",
      localPart: "john.q.public", domain: "example.com"),
    ValidCase(
      input: "user+tag@mail.sub.example.co.uk", displayName: nil, localPart: "user+tag",
      domain: "mail.sub.example.co.uk"),
    ValidCase(
      input: "!#$%&'*+-/=?^_`{|}~@example.com", displayName: nil, localPart: "!#$%&'*+-/=?^_`{|}~",
      domain: "example.com"),
    ValidCase(
      input: "\"john doe\"@example.com", displayName: nil, localPart: "\"john doe\"", domain: "example.com"),
    ValidCase(input: "\"john\"@example.com", displayName: nil, localPart: "john", domain: "example.com"),
    ValidCase(
      input: #""a\"b@c"@example.com"#, displayName: nil, localPart: #""a\"b@c""#, domain: "example.com"),
    ValidCase(input: "postmaster@[192.0.2.1]", displayName: nil, localPart: "postmaster", domain: "[192.0.2.1]"),
    ValidCase(
      input: "Ops <ops@[IPv6:2001:db8::1]>", displayName: "Ops", localPart: "ops", domain: "[IPv6:2001:db8::1]"),
    ValidCase(input: "root@localhost", displayName: nil, localPart: "root", domain: "localhost"),
    ValidCase(
      input: "Björn Åström <bjorn@example.se>", displayName: "Björn Åström", localPart: "bjorn", domain: "example.se"),
    ValidCase(
      input: "=?UTF-8?Q?Bj=C3=B6rn?= =?UTF-8?Q?_=C3=85str=C3=B6m?= <bjorn@example.se>", displayName: "Björn Åström",
      localPart: "bjorn", domain: "example.se"),
    ValidCase(
      input: "\"=?UTF-8?Q?not_decoded?=\" <q@example.com>", displayName: "=?UTF-8?Q?not_decoded?=", localPart: "q",
      domain: "example.com"),
    ValidCase(
      input: "用户@例子.广告", displayName: nil, localPart: "用户", domain: "例子.广告", requiresSMTPUTF8: true),
    ValidCase(
      input: "山田 太郎 <yamada@xn--wgv71a.example>", displayName: "山田 太郎", localPart: "yamada",
      domain: "xn--wgv71a.example"),
    ValidCase(
      input: "josé@bücher.example", displayName: nil, localPart: "josé", domain: "bücher.example",
      requiresSMTPUTF8: true),
  ])
  func parsesValidAddress(_ example: ValidCase) throws {
    let mailbox = try Mailbox.parse(example.input)
    #expect(mailbox.displayName == example.displayName)
    #expect(mailbox.localPart == example.localPart)
    #expect(mailbox.domain == example.domain)
    #expect(mailbox.address == example.localPart + "@" + example.domain)
    #expect(mailbox.requiresSMTPUTF8 == example.requiresSMTPUTF8)
  }

  @Test(arguments: invalidAddresses)
  func rejectsInvalidAddress(_ input: String, _ problem: String) {
    #expect(throws: ComposeError(.invalidAddress, "invalid address \(ComposeError.visible(input)): \(problem)")) {
      try Mailbox.parse(input)
    }
  }

  @Test func invalidAddressMessagesAreExactAndOnOneLine() {
    #expect(throws: ComposeError(.invalidAddress, #"invalid address "bob@": missing domain"#)) {
      try Mailbox.parse("bob@")
    }
    #expect(
      throws: ComposeError(
        .invalidAddress, #"invalid address "bob@example.com\r\nBcc: eve@evil.test": contains a line break (CR or LF)"#)
    ) { try Mailbox.parse("bob@example.com\r\nBcc: eve@evil.test") }
    #expect(throws: ComposeError(.invalidAddress, #"invalid address "\"Bob <bob@example.com>": unbalanced quotes"#)) {
      try Mailbox.parse(#""Bob <bob@example.com>"#)
    }
    #expect(throws: ComposeError(.invalidAddress, #"invalid address "bob\u{0}@x": contains a NUL character"#)) {
      try Mailbox.parse("bob\0@x")
    }
  }

  @Test func addressAtTheLengthLimitsIsAccepted() throws {
    let local = String(repeating: "l", count: 64)
    let domain = [String(repeating: "d", count: 63), String(repeating: "d", count: 63), String(repeating: "d", count: 61)]
      .joined(separator: ".")
    let mailbox = try Mailbox.parse(local + "@" + domain)
    #expect(mailbox.address.utf8.count == 254)
  }

  @Test func parsesListRespectingQuotesAndBrackets() throws {
    let list = try Mailbox.parseList(
      #"a@example.com, "Doe, Jane" <jane@example.com>,b@[192.0.2.1] , "x,y"@example.com,"#)
    #expect(list.map(\.address) == ["a@example.com", "jane@example.com", "b@[192.0.2.1]", #""x,y"@example.com"#])
    #expect(list.map(\.displayName) == [nil, "Doe, Jane", nil, nil])
  }

  @Test(arguments: [
    ("", #"invalid address "": no address given"#),
    (" , ,", #"invalid address " , ,": no address given"#),
    ("a@example.com, bob@", #"invalid address " bob@": missing domain"#),
    ("Doe, Jane <jane@example.com>", #"invalid address "Doe": missing "@""#),
  ])
  func rejectsInvalidList(_ input: String, _ message: String) {
    #expect(throws: ComposeError(.invalidAddress, message)) { try Mailbox.parseList(input) }
  }

  @Test(arguments: [
    ("alice@example.com", "alice@example.com"),
    ("<alice@example.com>", "alice@example.com"),
    ("Alice Example <alice@example.com>", "Alice Example <alice@example.com>"),
    ("\"Doe, Jane\" <jane@example.com>", "\"Doe, Jane\" <jane@example.com>"),
    ("John Q. Public <john@example.com>", "\"John Q. Public\" <john@example.com>"),
    (#""Say \"hi\" \\o/" <hi@example.com>"#, #""Say \"hi\" \\o/" <hi@example.com>"#),
    ("\"=?x?q?y?=\" <q@example.com>", "\"=?x?q?y?=\" <q@example.com>"),
    ("Björn <b@example.se>", "=?UTF-8?Q?Bj=C3=B6rn?= <b@example.se>"),
    ("Björn Åström <bjorn@example.se>", "=?UTF-8?B?QmrDtnJuIMOFc3Ryw7Zt?= <bjorn@example.se>"),
    ("山田 太郎 <yamada@example.jp>", "=?UTF-8?B?5bGx55SwIOWkqumDjg==?= <yamada@example.jp>"),
    ("用户 <用户@例子.广告>", "=?UTF-8?B?55So5oi3?= <用户@例子.广告>"),
  ])
  func rendersHeaderForm(_ input: String, _ expected: String) throws {
    #expect(try Mailbox.parse(input).headerForm == expected)
  }

  @Test(arguments: [
    "件名: 四半期レポート", "季度报告", "Hälsningar från Göteborg", "Perché è già così", "Doe, Jane (Ops)",
    "Zoë \"Z\" O'Brien", String(repeating: "Ünïcödé ", count: 12) + "end",
  ])
  func displayNameSurvivesHeaderFormRoundTrip(_ name: String) throws {
    let mailbox = try Mailbox(displayName: name, address: "someone@example.com")
    let reparsed = try Mailbox.parse(mailbox.headerForm)
    #expect(reparsed == mailbox)
    #expect(mailbox.headerForm.utf8.allSatisfy { $0 < 0x80 })
  }

  @Test func initializerValidatesBothParts() throws {
    let lineBreak = #"invalid address "Eve\r\nBcc: x@y": contains a line break (CR or LF)"#
    #expect(throws: ComposeError(.invalidAddress, lineBreak)) {
      try Mailbox(displayName: "Eve\r\nBcc: x@y", address: "eve@example.com")
    }
    let notBare = #"invalid address "Eve <eve@example.com>": unexpected space; write a display name as Name <address>"#
    #expect(throws: ComposeError(.invalidAddress, notBare)) {
      try Mailbox(displayName: nil, address: "Eve <eve@example.com>")
    }
    let mailbox = try Mailbox(displayName: "  Eve\tExample ", address: "eve@example.com")
    #expect(mailbox.displayName == "Eve Example")
    #expect(try Mailbox(displayName: " ", address: "eve@example.com").displayName == nil)
  }

  @Test func descriptionIsForPeople() throws {
    #expect(try Mailbox.parse("Björn Åström <bjorn@example.se>").description == "Björn Åström <bjorn@example.se>")
    #expect(try Mailbox.parse("\"Doe, Jane\" <jane@example.com>").description == "\"Doe, Jane\" <jane@example.com>")
    #expect(try Mailbox.parse("jane@example.com").description == "jane@example.com")
  }
}

extension AddressTests {
  struct ValidCase: Sendable, CustomTestStringConvertible {
    let input: String
    let displayName: String?
    let localPart: String
    let domain: String
    var requiresSMTPUTF8 = false
    var testDescription: String { input }
  }
}

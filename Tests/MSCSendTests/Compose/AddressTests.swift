import Testing
@testable import MSCSend

struct ValidAddressCase: Sendable, CustomTestStringConvertible {
  let input: String
  let displayName: String?
  let localPart: String
  let domain: String
  var requiresSMTPUTF8 = false
  var testDescription: String { input }
}

@Test(arguments: [
  ValidAddressCase(input: "alice@example.com", displayName: nil, localPart: "alice", domain: "example.com"),
  ValidAddressCase(input: "  alice@example.com\t", displayName: nil, localPart: "alice", domain: "example.com"),
  ValidAddressCase(input: "<bob@example.com>", displayName: nil, localPart: "bob", domain: "example.com"),
  ValidAddressCase(
    input: "Alice Example <alice@example.com>", displayName: "Alice Example", localPart: "alice",
    domain: "example.com"),
  ValidAddressCase(
    input: "Alice\t Example   < alice@example.com >", displayName: "Alice Example", localPart: "alice",
    domain: "example.com"),
  ValidAddressCase(
    input: "\"Doe, Jane\" <jane@example.com>", displayName: "Doe, Jane", localPart: "jane", domain: "example.com"),
  ValidAddressCase(
    input: #""Say \"hi\"" <hi@example.com>"#, displayName: #"Say "hi""#, localPart: "hi", domain: "example.com"),
  ValidAddressCase(input: "\"\" <a@example.com>", displayName: nil, localPart: "a", domain: "example.com"),
  ValidAddressCase(
    input: "John Q. Public <john.q.public@example.com>", displayName: "John Q. Public",
    localPart: "john.q.public", domain: "example.com"),
  ValidAddressCase(
    input: "user+tag@mail.sub.example.co.uk", displayName: nil, localPart: "user+tag",
    domain: "mail.sub.example.co.uk"),
  ValidAddressCase(
    input: "!#$%&'*+-/=?^_`{|}~@example.com", displayName: nil, localPart: "!#$%&'*+-/=?^_`{|}~",
    domain: "example.com"),
  ValidAddressCase(
    input: "\"john doe\"@example.com", displayName: nil, localPart: "\"john doe\"", domain: "example.com"),
  ValidAddressCase(input: "\"john\"@example.com", displayName: nil, localPart: "john", domain: "example.com"),
  ValidAddressCase(
    input: #""a\"b@c"@example.com"#, displayName: nil, localPart: #""a\"b@c""#, domain: "example.com"),
  ValidAddressCase(input: "postmaster@[192.0.2.1]", displayName: nil, localPart: "postmaster", domain: "[192.0.2.1]"),
  ValidAddressCase(
    input: "Ops <ops@[IPv6:2001:db8::1]>", displayName: "Ops", localPart: "ops", domain: "[IPv6:2001:db8::1]"),
  ValidAddressCase(input: "root@localhost", displayName: nil, localPart: "root", domain: "localhost"),
  ValidAddressCase(
    input: "Björn Åström <bjorn@example.se>", displayName: "Björn Åström", localPart: "bjorn", domain: "example.se"),
  ValidAddressCase(
    input: "=?UTF-8?Q?Bj=C3=B6rn?= =?UTF-8?Q?_=C3=85str=C3=B6m?= <bjorn@example.se>", displayName: "Björn Åström",
    localPart: "bjorn", domain: "example.se"),
  ValidAddressCase(
    input: "\"=?UTF-8?Q?not_decoded?=\" <q@example.com>", displayName: "=?UTF-8?Q?not_decoded?=", localPart: "q",
    domain: "example.com"),
  ValidAddressCase(
    input: "用户@例子.广告", displayName: nil, localPart: "用户", domain: "例子.广告", requiresSMTPUTF8: true),
  ValidAddressCase(
    input: "山田 太郎 <yamada@xn--wgv71a.example>", displayName: "山田 太郎", localPart: "yamada",
    domain: "xn--wgv71a.example"),
  ValidAddressCase(
    input: "josé@bücher.example", displayName: nil, localPart: "josé", domain: "bücher.example",
    requiresSMTPUTF8: true),
])
func parsesValidAddress(_ example: ValidAddressCase) throws {
  let mailbox = try Mailbox.parse(example.input)
  #expect(mailbox.displayName == example.displayName)
  #expect(mailbox.localPart == example.localPart)
  #expect(mailbox.domain == example.domain)
  #expect(mailbox.address == example.localPart + "@" + example.domain)
  #expect(mailbox.requiresSMTPUTF8 == example.requiresSMTPUTF8)
}

@Test(arguments: [
  ("bob@", #"invalid address "bob@": missing domain"#),
  ("@example.com", #"invalid address "@example.com": missing local part"#),
  ("bob", #"invalid address "bob": missing "@""#),
  ("", #"invalid address "": empty"#),
  ("   ", #"invalid address "   ": empty"#),
  ("<>", #"invalid address "<>": empty address inside "<>""#),
  ("bob@example..com", #"invalid address "bob@example..com": domain contains consecutive dots"#),
  ("bob..smith@example.com", #"invalid address "bob..smith@example.com": local part contains consecutive dots"#),
  (".bob@example.com", #"invalid address ".bob@example.com": local part starts with ".""#),
  ("bob.@example.com", #"invalid address "bob.@example.com": local part ends with ".""#),
  ("bob@.example.com", #"invalid address "bob@.example.com": domain starts with ".""#),
  ("bob@example.com.", #"invalid address "bob@example.com.": domain ends with ".""#),
  ("bob@@example.com", #"invalid address "bob@@example.com": more than one "@""#),
  ("bob@a@example.com", #"invalid address "bob@a@example.com": more than one "@""#),
  ("bob@-example.com", #"invalid address "bob@-example.com": domain label "-example" starts or ends with "-""#),
  ("bob@exa_mple.com", #"invalid address "bob@exa_mple.com": domain contains "_""#),
  ("bob@exa mple.com", #"invalid address "bob@exa mple.com": domain contains a space"#),
  ("bo(b)@example.com", #"invalid address "bo(b)@example.com": local part contains "(""#),
  ("Bob <bob@example.com", #"invalid address "Bob <bob@example.com": unbalanced "<""#),
  ("bob@example.com>", #"invalid address "bob@example.com>": unbalanced ">""#),
  (#""Bob <bob@example.com>"#, #"invalid address "\"Bob <bob@example.com>": unbalanced quotes"#),
  (#""bob@example.com"#, #"invalid address "\"bob@example.com": unbalanced quotes"#),
  ("Bob <bob@example.com> extra", #"invalid address "Bob <bob@example.com> extra": unexpected text after ">""#),
  (
    "Bob bob@example.com",
    #"invalid address "Bob bob@example.com": unexpected space; write a display name as Name <address>"#
  ),
  (
    "Doe, Jane <jane@example.com>",
    #"invalid address "Doe, Jane <jane@example.com>": display name contains ","; put the name in quotes"#
  ),
  (
    "bob@example.com\r\nBcc: eve@evil.test",
    #"invalid address "bob@example.com\r\nBcc: eve@evil.test": contains a line break (CR or LF)"#
  ),
  ("bob@example.com\n", #"invalid address "bob@example.com\n": contains a line break (CR or LF)"#),
  ("bob\0@example.com", #"invalid address "bob\u{0}@example.com": contains a NUL character"#),
  ("bob\u{7}@example.com", #"invalid address "bob\u{7}@example.com": contains the control character U+0007"#),
  ("bob\u{85}@example.com", #"invalid address "bob\u{85}@example.com": contains the control character U+0085"#),
  (
    "=?UTF-8?Q?Eve=0D=0ABcc=3A_x=40y?= <eve@example.com>",
    #"invalid address "=?UTF-8?Q?Eve=0D=0ABcc=3A_x=40y?= <eve@example.com>": display name contains a line break (CR or LF)"#
  ),
  ("bob@[1.2.3]", #"invalid address "bob@[1.2.3]": domain literal [1.2.3] is neither an IPv4 address nor IPv6:address"#),
  ("bob@[999.2.3.4]", #"invalid address "bob@[999.2.3.4]": domain literal [999.2.3.4] is neither an IPv4 address nor IPv6:address"#),
  ("bob@[1.2.3.4", #"invalid address "bob@[1.2.3.4": unbalanced "[""#),
  ("bob@1.2.3.4]", #"invalid address "bob@1.2.3.4]": unbalanced "]""#),
  (
    String(repeating: "a", count: 65) + "@example.com",
    #"invalid address ""# + String(repeating: "a", count: 65)
      + #"@example.com": local part is 65 octets long; the limit is 64"#
  ),
  (
    "bob@" + String(repeating: "a", count: 64) + ".com",
    #"invalid address "bob@"# + String(repeating: "a", count: 64) + #".com": domain label is longer than 63 octets"#
  ),
  (
    "bob@" + Array(repeating: String(repeating: "d", count: 62), count: 4).joined(separator: "."),
    #"invalid address "bob@"# + Array(repeating: String(repeating: "d", count: 62), count: 4).joined(separator: ".")
      + #"": address is 255 octets long; the limit is 254"#
  ),
])
func rejectsInvalidAddress(_ input: String, _ message: String) {
  #expect(throws: ComposeError(.invalidAddress, message)) { try Mailbox.parse(input) }
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
  #expect(throws: ComposeError(.invalidAddress, #"invalid address "Eve\r\nBcc: x@y": contains a line break (CR or LF)"#)) {
    try Mailbox(displayName: "Eve\r\nBcc: x@y", address: "eve@example.com")
  }
  #expect(throws: ComposeError(.invalidAddress, #"invalid address "Eve <eve@example.com>": unexpected space; write a display name as Name <address>"#)) {
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

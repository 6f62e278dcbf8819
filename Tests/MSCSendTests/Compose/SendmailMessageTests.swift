import Foundation
import Testing

@testable import MSCSend

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

@Suite struct SendmailMessageTests {
  private func prepare(_ input: String, _ options: SendmailOptions) throws -> PreparedMessage {
    try SendmailMessage.prepare(bytes(input), options: options, environment: goldenEnvironment())
  }

  // MARK: Reading

  private func read(_ input: String, ignoringDots: Bool = true) throws -> (header: String, body: String) {
    let message = try RawMessage(bytes(input), ignoringDots: ignoringDots)
    guard case .memory(let body) = message.body else { throw ComposeError(.invalidHeader, "spooled") }
    return (text(message.headerBytes), text(body))
  }

  @Test func aLoneDotEndsTheInputUnlessIgnored() throws {
    #expect(try read("Subject: x\n\none\n.\ntwo\n", ignoringDots: false).body == "one\r\n")
    #expect(try read("Subject: x\n\none\n.\ntwo\n").body == "one\r\n.\r\ntwo\r\n")
    #expect(try read("Subject: x\n\na\r\n.\r\nb", ignoringDots: false).body == "a\r\n")
    #expect(try read("Subject: x\n\na\n..\n.b\n", ignoringDots: false).body == "a\r\n..\r\n.b\r\n")
    #expect(try read("Subject: x\n\na\n.", ignoringDots: false).body == "a\r\n")
    #expect(try read("Subject: x\n.\nX-Not: header\n", ignoringDots: false) == ("Subject: x\r\n", ""))
  }

  /// The reader sees the input in chunks of any size: a CR LF or a lone-dot line split between two
  /// chunks must come out the same.
  @Test(arguments: [1, 2, 3, 7, 64])
  func chunkBoundariesDoNotMatter(_ size: Int) throws {
    let input = bytes("From x\nSubject: a\r\n b\r\n\r\nline\r\n..x\r\nend\rmore\n.\r\nafter\n")
    var reader = RawMessageReader(ignoringDots: false)
    var body: [UInt8] = []
    var start = 0
    while start < input.count {
      body += try reader.feed(Array(input[start..<min(start + size, input.count)]))
      start += size
    }
    body += reader.finish()
    #expect(text(body) == "line\r\n..x\r\nend\r\nmore\r\n")
    #expect(reader.fields.map(\.name) == ["Subject"])
    #expect(reader.isEnded)
  }

  @Test func headerAndBodyAreSplitWithEveryLineBreakMadeCRLF() throws {
    let message = try RawMessage(bytes("From bob Mon Nov 23\nSubject: a\n  folded\rX-A: 1\r\n\nbody\rline\r\nend"))
    #expect(message.fields.map(\.name) == ["Subject", "X-A"])
    #expect(message.fields[0].value == "a  folded")
    #expect(text(message.headerBytes) == "Subject: a\r\n  folded\r\nX-A: 1\r\n")
    #expect(try read("Subject: a\n\nbody\rline\r\nend").body == "body\r\nline\r\nend\r\n")
  }

  @Test func aLineThatIsNoFieldStartsTheBody() throws {
    #expect(try read("Subject: a\nthis is text\nmore\n") == ("Subject: a\r\n", "this is text\r\nmore\r\n"))
    #expect(try read("") == ("", ""))
    #expect(try read("just text") == ("", "just text\r\n"))
    let long = String(repeating: "x", count: 1_500)
    #expect(try read(long + "\n") == ("", long + "\r\n"), "too long for a field: it is body text")
  }

  @Test func largeBodiesAreSpooledAndReadBack() throws {
    let body = String(repeating: "0123456789abcdef\n", count: 200_000)
    var input = bytes("Subject: big\n\n" + body)
    let message = try RawMessage.read(
      {
        let chunk = Array(input.prefix(50_000))
        input.removeFirst(chunk.count)
        return chunk
      }, ignoringDots: true, spoolDirectory: FileManager.default.temporaryDirectory.path)
    guard case .spool(let file) = message.body else {
      Issue.record("a body over 1 MiB is spooled")
      return
    }
    var readBack: [UInt8] = []
    try file.readChunks { readBack += $0 }
    #expect(readBack == bytes(body.replacingOccurrences(of: "\n", with: "\r\n")))
    #expect(message.bodyProfile.longestLine == 16)
  }

  // MARK: Addresses in headers

  @Test func headerAddressListsTakeCommentsAndGroups() throws {
    let list = try HeaderAddressList.mailboxes(
      #"team: "Doe, Jane" <jane@example.com>, bob@example.com (Bob B.);, carol@example.com, undisclosed:;"#,
      header: "To")
    #expect(list.map(\.address) == ["jane@example.com", "bob@example.com", "carol@example.com"])
    #expect(list.map(\.displayName) == ["Doe, Jane", "Bob B.", nil])
    #expect(try HeaderAddressList.mailboxes("undisclosed-recipients:;", header: "To").isEmpty)
    #expect(try HeaderAddressList.mailboxes("=?UTF-8?B?5bGx55Sw?= <y@example.jp>", header: "To")[0].displayName == "山田")
  }

  @Test func anAddressWithoutDomainIsExplained() {
    #expect(
      throws: ComposeError(
        .invalidAddress,
        #"To: address "root" has no domain; msc-send delivers to full addresses only (in a crontab, set MAILTO=you@example.com)"#
      )
    ) { try HeaderAddressList.mailboxes("root", header: "To") }
    #expect(throws: ComposeError.self) { try HeaderAddressList.mailboxes("bob@", header: "Cc") }
  }

  // MARK: Preparation (golden files)

  /// Cron's message: From without a domain, no Date or Message-ID, a Bcc, bare LF.
  @Test func cronMessageGetsSenderDateAndMessageID() throws {
    let input =
      "From: root (Cron Daemon)\nTo: ops@example.com\nSubject: Cron <root@host> backup\n"
      + "Bcc: auditor@example.com\nContent-Type: text/plain; charset=UTF-8\n\nbackup done\n"
    let prepared = try prepare(input, SendmailOptions(recipients: ["ops@example.com"], defaultSender: "cron@acme.test"))
    try GoldenFile.check("sendmail-cron.eml", try prepared.content.bytes())
    #expect(prepared.sender.address == "cron@acme.test")
    #expect(prepared.envelopeSender == "cron@acme.test")
    #expect(prepared.recipients == ["ops@example.com"])
    #expect(!text(try prepared.content.bytes()).contains("auditor"))
    #expect(!prepared.content.requiresEightBitMIME)
    #expect(prepared.content.byteCount == (try prepared.content.bytes()).count)
  }

  /// -t: recipients from To, Cc and Bcc (groups too), plus the command line; the rest untouched.
  @Test func extractedRecipientsAndUntouchedMessage() throws {
    let input =
      "From: Åsa <asa@acme.test>\r\nTo: a@example.com, \"B, C\" <bc@example.com>\r\n"
      + "Cc: team: x@example.com,\r\n y@example.com;\r\nBcc: hidden@example.com\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\n"
      + "Message-ID: <given@acme.test>\r\nSubject: =?UTF-8?Q?Hej?=\r\n\r\n..leading dots stay\r\n"
    let prepared = try prepare(
      input, SendmailOptions(extractRecipients: true, recipients: ["a@example.com", "z@example.com"]))
    #expect(
      prepared.recipients == [
        "a@example.com", "z@example.com", "bc@example.com", "x@example.com", "y@example.com", "hidden@example.com",
      ])
    #expect(prepared.messageID == "<given@acme.test>")
    #expect(prepared.sender.address == "asa@acme.test")
    let expected = input.replacingOccurrences(of: "Bcc: hidden@example.com\r\n", with: "")
    #expect(text(try prepared.content.bytes()) == expected)
  }

  @Test func longLinesAreReencodedAsQuotedPrintable() throws {
    let input =
      "From: a@acme.test\nTo: b@example.com\nSubject: log\n\n"
      + String(repeating: "0123456789", count: 120) + "\nGrüße\n"
    let prepared = try prepare(input, SendmailOptions(recipients: ["b@example.com"]))
    try GoldenFile.check("sendmail-long-line.eml", try prepared.content.bytes())
    #expect(!prepared.content.requiresEightBitMIME, "quoted-printable made it 7-bit too")
    #expect(prepared.content.sevenBitAlternative == nil)
  }

  @Test func eightBitBodyGoesAsItIsWithAQuotedPrintableAlternative() throws {
    let input =
      "From: a@acme.test\nTo: b@example.com\nSubject: x\nContent-Type: text/plain; charset=utf-8\n"
      + "Content-Transfer-Encoding: 8bit\n\nHälsningar från Göteborg\n"
    let prepared = try prepare(input, SendmailOptions(recipients: ["b@example.com"]))
    #expect(prepared.content.requiresEightBitMIME)
    #expect(text(try prepared.content.bytes()).hasSuffix("\r\n\r\nHälsningar från Göteborg\r\n"))
    let alternative = try #require(prepared.content.sevenBitAlternative as? ReadyMessage)
    try GoldenFile.check("sendmail-8bit-reencoded.eml", try alternative.bytes())
    #expect(!alternative.requiresEightBitMIME)
    #expect(try alternative.bytes().allSatisfy { $0 < 0x80 })
  }

  /// Raw UTF-8 header text (not allowed without SMTPUTF8, common anyway) becomes RFC 2047 words
  /// in the 7-bit form; the 8-bit form keeps it as it came.
  @Test func eightBitHeaderTextIsEncodedInTheSevenBitForm() throws {
    let input = "From: Niccolò Rossi <niccolo@acme.test>\nTo: lucia@example.com\nSubject: Perché è già così\n\nciao\n"
    let prepared = try prepare(input, SendmailOptions(recipients: ["lucia@example.com"]))
    #expect(prepared.content.requiresEightBitMIME)
    #expect(text(prepared.content.header).contains("Subject: Perché è già così\r\n"))
    let alternative = try #require(prepared.content.sevenBitAlternative as? ReadyMessage)
    #expect(
      text(alternative.header).hasPrefix(
        "From: =?UTF-8?Q?Niccol=C3=B2_Rossi?= <niccolo@acme.test>\r\nTo: lucia@example.com\r\n"
          + "Subject: =?UTF-8?Q?Perch=C3=A9_=C3=A8_gi=C3=A0_cos=C3=AC?=\r\n"))
    #expect(text(try alternative.bytes()).hasSuffix("\r\n\r\nciao\r\n"), "an ASCII body stays as it is")
    #expect(try alternative.bytes().allSatisfy { $0 < 0x80 })
  }

  @Test(arguments: [
    "Content-Type: text/plain; name=\"Översikt.txt\"\n",
    "Message-ID: <ö@acme.test>\n",
    "X-Latin1: caf\u{E9}\n",
  ])
  func eightBitStructuredHeaderHasNoSevenBitForm(_ field: String) throws {
    var input = Array("From: a@acme.test\n\(field)\nbody\n".utf8)
    if field.hasPrefix("X-Latin1") {
      input = Array("From: a@acme.test\nX-Latin1: caf".utf8) + [0xE9] + Array("\n\nbody\n".utf8)
    }
    let prepared = try SendmailMessage.prepare(
      input, options: SendmailOptions(recipients: ["b@example.com"]), environment: goldenEnvironment())
    #expect(prepared.content.requiresEightBitMIME)
    #expect(prepared.content.sevenBitAlternative == nil)
  }

  @Test func eightBitWithoutContentTypeGetsUTF8WhenReencoded() throws {
    let prepared = try prepare("From: a@acme.test\n\nPerché\n", SendmailOptions(recipients: ["b@example.com"]))
    let alternative = try #require(prepared.content.sevenBitAlternative as? ReadyMessage)
    let header = text(alternative.header)
    #expect(
      header.contains(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
          + "Content-Transfer-Encoding: quoted-printable\r\n"))
    #expect(text(try alternative.bytes()).hasSuffix("\r\n\r\nPerch=C3=A9\r\n"))
  }

  @Test func multipartWithLongLinesIsRefused() {
    let input =
      "From: a@acme.test\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\n"
      + String(repeating: "y", count: 1_200) + "\n--x--\n"
    #expect(
      throws: ComposeError(
        .invalidHeader,
        "the message body has a line of 1200 octets (SMTP allows 998), so it must be re-encoded, but it is "
          + "multipart/mixed, which msc-send does not re-encode part by part; encode it before sending")
    ) { try prepare(input, SendmailOptions(recipients: ["b@example.com"])) }
  }

  @Test func eightBitMultipartHasNoAlternative() throws {
    let input = "From: a@acme.test\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\nGrüße\n--x--\n"
    let prepared = try prepare(input, SendmailOptions(recipients: ["b@example.com"]))
    #expect(prepared.content.requiresEightBitMIME)
    #expect(prepared.content.sevenBitAlternative == nil)
  }

  @Test func overlongHeaderLineIsRefused() {
    let input = "From: a@acme.test\nX-Long: " + String(repeating: "z", count: 1_000) + "\n\nbody\n"
    #expect(
      throws: ComposeError(
        .invalidHeader, "header field X-Long has a line longer than 998 octets (RFC 5322 section 2.1.1)")
    ) {
      try prepare(input, SendmailOptions(recipients: ["b@example.com"]))
    }
  }

  @Test func senderComesFromDashFThenFromThenDefault() throws {
    let withFrom = "From: Alice <alice@acme.test>\n\nx\n"
    let bounce = SendmailOptions(recipients: ["b@example.com"], envelopeSender: "bounce@acme.test")
    #expect(try prepare(withFrom, bounce).envelopeSender == "bounce@acme.test")
    #expect(
      try prepare(withFrom, SendmailOptions(recipients: ["b@example.com"], defaultSender: "d@acme.test"))
        .sender.address == "alice@acme.test")
    let nullSender = try prepare(withFrom, SendmailOptions(recipients: ["b@example.com"], envelopeSender: "<>"))
    #expect(nullSender.envelopeSender == "")
    #expect(nullSender.sender.address == "alice@acme.test")
    let added = try prepare(
      "Subject: s\n\nx\n",
      SendmailOptions(
        recipients: ["b@example.com"], envelopeSender: "carol@acme.test", fullName: "Carol Ö"))
    #expect(text(added.content.header).contains("From: =?UTF-8?Q?Carol_=C3=96?= <carol@acme.test>\r\n"))
    #expect(throws: ComposeError.self) {
      try prepare("Subject: s\n\nx\n", SendmailOptions(recipients: ["b@example.com"]))
    }
  }

  @Test func aFromWithoutDomainKeepsItsName() throws {
    for from in ["Cron Daemon <root>", "\"Cron Daemon\" <root>", "root (Cron Daemon)"] {
      let options = SendmailOptions(recipients: ["b@example.com"], fullName: "Other", defaultSender: "c@acme.test")
      let prepared = try prepare("From: \(from)\n\nx\n", options)
      #expect(text(prepared.content.header).hasPrefix("From: Cron Daemon <c@acme.test>\r\n"), "\(from)")
    }
  }

  @Test func noRecipientsAnywhereIsAnError() {
    #expect(
      throws: ComposeError(
        .invalidAddress, "no recipients: the message has no To, Cc or Bcc address, and none was given")
    ) { try prepare("From: a@acme.test\n\nx\n", SendmailOptions(extractRecipients: true)) }
  }

  @Test func utf8AddressesInTheHeaderNeedSMTPUTF8NotEightBitMIME() throws {
    let prepared = try prepare(
      "From: josé@bücher.example\nTo: 用户@例子.广告\n\nhello\n", SendmailOptions(extractRecipients: true))
    #expect(prepared.content.requiresSMTPUTF8)
    #expect(!prepared.content.requiresEightBitMIME)
    #expect(prepared.recipients == ["用户@例子.广告"])
    #expect(prepared.messageID.hasSuffix("@mail.host.example>"), "an ASCII Message-ID even for a UTF-8 domain")
  }

  @Test func chunksCoverTheMessageExactly() throws {
    let body = String(repeating: "line of text\n", count: 20_000)
    let prepared = try prepare("From: a@acme.test\n\n" + body, SendmailOptions(recipients: ["b@example.com"]))
    var written: [UInt8] = []
    var chunks = 0
    try prepared.content.writeChunks {
      written += $0
      chunks += 1
    }
    #expect(written == (try prepared.content.bytes()))
    #expect(written.count == prepared.content.byteCount)
    #expect(chunks > 3)
  }
}

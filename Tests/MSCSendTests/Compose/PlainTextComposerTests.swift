import Foundation
import Synchronization
import Testing
@testable import MSCSend

/// A fixed clock (Mon, 23 Nov 2026 17:19:03 UTC), counting random bytes, a fixed host name.
private func fixedEnvironment(offset: Int = 0) -> ComposeEnvironment {
  ComposeEnvironment(
    now: { Date(timeIntervalSince1970: 1_795_454_343) }, timeZoneOffsetSeconds: offset,
    randomBytes: { count in (0..<count).map { UInt8($0) } }, hostName: "mail.host.example")
}

private func text(_ message: ComposedMessage) -> String { String(decoding: message.bytes, as: UTF8.self) }

@Suite struct PlainTextComposerTests {
  @Test func composesPlainASCIIMessageExactly() throws {
    let message = OutgoingMessage(
      from: try Mailbox.parse("alice@acme.test"), to: [try Mailbox.parse("bob@example.com")], subject: "Hi",
      body: "Hello\nWorld")
    let composed = try PlainTextComposer.compose(message, environment: fixedEnvironment())
    #expect(
      text(composed) == """
        Date: Mon, 23 Nov 2026 17:19:03 +0000\r
        From: alice@acme.test\r
        To: bob@example.com\r
        Subject: Hi\r
        Message-ID: <20261123171903.aaaqeayeaudaocajbifqydiob4@acme.test>\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=us-ascii\r
        Content-Transfer-Encoding: 7bit\r
        \r
        Hello\r
        World\r

        """)
    #expect(composed.messageID == "<20261123171903.aaaqeayeaudaocajbifqydiob4@acme.test>")
    #expect(!composed.requiresSMTPUTF8)
  }

  @Test func composesInternationalMessageExactly() throws {
    let message = OutgoingMessage(
      from: try Mailbox.parse("Björn Åström <bjorn@example.se>"),
      to: try Mailbox.parseList("山田 太郎 <yamada@example.jp>, \"Doe, Jane\" <jane@example.com>"),
      cc: [try Mailbox.parse("Ops <ops@example.se>")],
      replyTo: [try Mailbox.parse("noreply@example.se")],
      subject: "Hälsningar från Göteborg",
      body: "Hej!\r\nSå här.\n.\nTrailing space \n",
      extraHeaders: [("X-Campaign", "q3-invite"), ("X-Note", "Perché è già così")])
    let composed = try PlainTextComposer.compose(message, environment: fixedEnvironment(offset: 3_600))
    #expect(
      text(composed) == """
        Date: Mon, 23 Nov 2026 18:19:03 +0100\r
        From: =?UTF-8?B?QmrDtnJuIMOFc3Ryw7Zt?= <bjorn@example.se>\r
        To: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <yamada@example.jp>,\r
         "Doe, Jane" <jane@example.com>\r
        Cc: Ops <ops@example.se>\r
        Reply-To: noreply@example.se\r
        Subject: =?UTF-8?Q?H=C3=A4lsningar_fr=C3=A5n_G=C3=B6teborg?=\r
        Message-ID: <20261123171903.aaaqeayeaudaocajbifqydiob4@example.se>\r
        X-Campaign: q3-invite\r
        X-Note: =?UTF-8?Q?Perch=C3=A9_=C3=A8_gi=C3=A0_cos=C3=AC?=\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: quoted-printable\r
        \r
        Hej!\r
        S=C3=A5 h=C3=A4r.\r
        =2E\r
        Trailing space=20\r

        """)
    #expect(composed.bytes.allSatisfy { $0 < 0x80 })
    #expect(!composed.requiresSMTPUTF8)
  }

  @Test func japaneseMessageIsSevenBitCleanWithShortLines() throws {
    let message = OutgoingMessage(
      from: try Mailbox.parse("山田 太郎 <yamada@example.jp>"), to: [try Mailbox.parse("team@example.jp")],
      subject: "件名: 四半期レポート " + String(repeating: "季度报告", count: 10),
      body: String(repeating: "四半期レポートを添付します。", count: 20) + "\n")
    let composed = try PlainTextComposer.compose(message, environment: fixedEnvironment())
    #expect(composed.bytes.allSatisfy { $0 < 0x80 })
    #expect(QuotedPrintableTests.hasOnlyCRLFLineBreaks(composed.bytes))
    let parts = text(composed).components(separatedBy: "\r\n\r\n")
    for line in parts[0].split(separator: "\r\n") { #expect(line.utf8.count <= 78) }
    for line in parts[1].split(separator: "\r\n") { #expect(line.utf8.count <= 76) }
    #expect(QuotedPrintable.decode(Array(parts.dropFirst().joined(separator: "\r\n\r\n").utf8)) == Array(
      (String(repeating: "四半期レポートを添付します。", count: 20) + "\r\n").utf8))
  }

  @Test func longASCIILinesSwitchToQuotedPrintable() throws {
    let longLine = String(repeating: "0123456789", count: 100)
    let message = OutgoingMessage(from: try Mailbox.parse("a@example.com"), to: [], subject: "Log", body: longLine)
    let composed = text(try PlainTextComposer.compose(message, environment: fixedEnvironment()))
    #expect(composed.contains("charset=us-ascii\r\nContent-Transfer-Encoding: quoted-printable\r\n"))
    #expect(!composed.contains("\r\nTo:"))
    let body = composed.components(separatedBy: "\r\n\r\n")[1]
    #expect(body.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 76 })
    #expect(QuotedPrintable.decode(Array(body.utf8)) == Array((longLine + "\r\n").utf8))
  }

  @Test func lineOfExactly998OctetsStaysSevenBit() throws {
    let line = String(repeating: "x", count: 998)
    let message = OutgoingMessage(from: try Mailbox.parse("a@example.com"), to: [], subject: "Edge", body: line)
    let composed = text(try PlainTextComposer.compose(message, environment: fixedEnvironment()))
    #expect(composed.contains("Content-Transfer-Encoding: 7bit\r\n"))
    #expect(composed.hasSuffix("\r\n\r\n" + line + "\r\n"))
  }

  @Test func emptyBodyHasOnlyTheHeaderSeparator() throws {
    let message = OutgoingMessage(from: try Mailbox.parse("a@example.com"), to: [try Mailbox.parse("b@example.com")])
    let composed = text(try PlainTextComposer.compose(message, environment: fixedEnvironment()))
    #expect(composed.hasSuffix("Subject:\r\nMessage-ID: <20261123171903.aaaqeayeaudaocajbifqydiob4@example.com>\r\n"
      + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"))
  }

  @Test func utf8AddressRequiresSMTPUTF8AndKeepsMessageIDASCII() throws {
    let message = OutgoingMessage(
      from: try Mailbox.parse("josé@bücher.example"), to: [try Mailbox.parse("用户@例子.广告")], subject: "Hi",
      body: "Hello\n")
    let composed = try PlainTextComposer.compose(message, environment: fixedEnvironment())
    #expect(composed.requiresSMTPUTF8)
    #expect(composed.messageID == "<20261123171903.aaaqeayeaudaocajbifqydiob4@mail.host.example>")
    #expect(text(composed).contains("From: josé@bücher.example\r\nTo: 用户@例子.广告\r\n"))
  }

  @Test func asksForSixteenRandomBytes() throws {
    let requested = Mutex<[Int]>([])
    var environment = fixedEnvironment()
    environment.randomBytes = { count in
      requested.withLock { $0.append(count) }
      return Array(repeating: 0xFF, count: count)
    }
    let message = OutgoingMessage(from: try Mailbox.parse("a@example.com"), to: [try Mailbox.parse("b@example.com")])
    let composed = try PlainTextComposer.compose(message, environment: environment)
    #expect(requested.withLock { $0 } == [16])
    #expect(composed.messageID == "<20261123171903.\(String(repeating: "7", count: 25))4@example.com>")
  }

  @Test func liveEnvironmentGivesDistinctMessageIDs() throws {
    let message = OutgoingMessage(from: try Mailbox.parse("a@example.com"), to: [try Mailbox.parse("b@example.com")])
    let first = try PlainTextComposer.compose(message, environment: .live)
    let second = try PlainTextComposer.compose(message, environment: .live)
    #expect(first.messageID != second.messageID)
    #expect(!ComposeEnvironment.live.hostName.isEmpty)
  }

  @Test(arguments: [
    ("Hi\r\nBcc: eve@evil.test", [], "Subject"),
    ("Hi", [("X-Note", "ok\nBcc: eve@evil.test")], "X-Note"),
  ])
  func headerInjectionInMessageIsRefused(_ subject: String, _ extra: [(String, String)], _ header: String) throws {
    let message = "header value for \(header) contains a line break (CR or LF): refused to prevent header injection"
    let outgoing = OutgoingMessage(
      from: try Mailbox.parse("a@example.com"), to: [try Mailbox.parse("b@example.com")], subject: subject,
      extraHeaders: extra)
    #expect(throws: ComposeError(.headerInjection, message)) {
      try PlainTextComposer.compose(outgoing, environment: fixedEnvironment())
    }
  }

  @Test(arguments: [
    ("To", ComposeError(.reservedHeader, "header To is written by the composer and cannot also be an extra header")),
    (
      "message-id",
      ComposeError(.reservedHeader, "header message-id is written by the composer and cannot also be an extra header")
    ),
    ("BCC", ComposeError(.reservedHeader, "header Bcc cannot be an extra header: blind copies go in the envelope only")),
    (
      "Bad Name",
      ComposeError(.invalidHeader, #"invalid header name "Bad Name": use printable ASCII without spaces or ":""#)
    ),
  ])
  func reservedOrInvalidExtraHeadersAreRefused(_ name: String, _ error: ComposeError) throws {
    let outgoing = OutgoingMessage(
      from: try Mailbox.parse("a@example.com"), to: [try Mailbox.parse("b@example.com")], extraHeaders: [(name, "x")])
    #expect(throws: error) { try PlainTextComposer.compose(outgoing, environment: fixedEnvironment()) }
    #expect(error.exitCode == .dataError)
  }

  @Test func bodyProfileJudgesChunkBoundaries() {
    var profile = TextBodyProfile()
    profile.scan(Array("abc\r".utf8))
    #expect(profile.containsLoneCarriageReturn)
    profile.scan(Array("\ndef".utf8))
    #expect(!profile.containsLoneCarriageReturn)
    #expect(profile.longestLine == 3)
    #expect(profile.transferEncoding == .sevenBit)
    profile.scan([0])
    #expect(profile.transferEncoding == .quotedPrintable)
    #expect(TextBodyProfile(Array("é".utf8)).charset == "utf-8")
  }

  @Test func lineBreakNormalizerKeepsCRLFSplitAcrossChunks() {
    var normalizer = LineBreakNormalizer()
    let output = normalizer.normalize(Array("a\r".utf8)) + normalizer.normalize(Array("\nb\nc\r".utf8))
      + normalizer.finish()
    #expect(String(decoding: output, as: UTF8.self) == "a\r\nb\r\nc\r")
  }
}

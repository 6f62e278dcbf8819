import Testing
@testable import MSCSend

/// Failures in the middle of a send: what was delivered stays delivered, nothing undelivered is
/// reported as accepted, and anything after the final dot is uncertain (RFC 1047).
@Suite struct SMTPFailureTests {
  let message = InMemoryMessage(Array("Subject: hi\r\n\r\nHello\r\n".utf8))
  static let data = ["C: DATA", "S: 354 go", "C: Subject: hi", "C: ", "C: Hello", "C: ."]

  private func opened(_ script: [String]) throws -> (SMTPSession, ScriptedTransport) {
    let transport = ScriptedTransport(["S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 PIPELINING"] + script)
    let session = makeSession(transport)
    try session.readGreeting()
    try session.hello()
    return (session, transport)
  }

  @Test func failureInALaterTransactionKeepsWhatWasDelivered() throws {
    let (session, transport) = try opened([
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<1@y.test>", "C: RCPT TO:<2@y.test>",
      "S: 250 OK", "S: 250 OK", "S: 452 4.5.3 Too many recipients",
    ] + Self.data + [
      "S: 250 delivered",
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<2@y.test>", "C: DATA",
      "S: 421 4.7.0 Try again later, closing connection.",
    ])
    let report = try session.send(Envelope(sender: "s@x.test", recipients: ["1@y.test", "2@y.test"]), content: message)
    verifyTranscript(transport)
    #expect(report.transactions == 1)
    #expect(report.recipients.map(\.outcome) == [.accepted, .rateThrottle])
    #expect(report.recipients[1].reply?.code == 421)
    #expect(report.exitCode == .tempFail)
  }

  @Test func pipelined421ToMailIsReportedAsTheServerSaidIt() throws {
    let (session, transport) = try opened([
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<r@y.test>", "C: DATA",
      "S: 421 4.7.0 Try again later, closing connection.",
    ])
    do {
      _ = try session.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: message)
      Issue.record("send should fail")
    } catch {
      #expect(error.phase == .mail && error.reply?.code == 421)
      #expect(ReplyClassification.classify(error) == .rateThrottle)
    }
    verifyTranscript(transport)
  }

  @Test func positiveReplyToDataIsNotADelivery() throws {
    let (session, transport) = try opened([
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<r@y.test>", "S: 250 OK", "S: 250 OK", "C: DATA", "S: 250 OK",
    ])
    do {
      _ = try session.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: message)
      Issue.record("send should fail")
    } catch {
      #expect(ReplyClassification.classify(error) == .protocolViolation)
    }
    verifyTranscript(transport)
  }

  @Test func oddPositiveReplyToRcptIsNotAnAcceptance() throws {
    let (session, transport) = try opened([
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<r@y.test>", "C: DATA", "S: 250 OK", "S: 252 Cannot VRFY user",
      "S: 503 5.5.1 No valid recipients", "C: RSET", "S: 250 OK",
    ])
    let report = try session.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: message)
    verifyTranscript(transport)
    #expect(report.recipients.map(\.outcome) == [.protocolViolation])
    #expect(report.exitCode == .protocolError)
  }

  @Test(arguments: ["S+ garbage\r\n", "S: 354 again?", "S+ 250 no line end"])
  func anythingButACompletionAfterTheFinalDotIsUncertain(_ afterDot: String) throws {
    let (session, transport) = try opened([
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<r@y.test>", "S: 250 OK", "S: 250 OK",
    ] + Self.data + [afterDot])
    do {
      _ = try session.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: message)
      Issue.record("send should fail")
    } catch {
      #expect(error.reason == .deliveryUncertain)
      #expect(ReplyClassification.classify(error) == .uncertain)
    }
    #expect(transport.closed)
  }

  @Test func c1ControlCharactersFromTheServerAreNeutralised() {
    // U+009B is the 8-bit CSI: a UTF-8 terminal would start an escape sequence.
    #expect(ReplyReader.printable(Array("bad \u{9B}31m text \u{85}".utf8)) == "bad ?31m text ?")
    #expect(ReplyReader.printable(Array("Grüße 件名".utf8)) == "Grüße 件名")
  }
}

import Testing
@testable import MSCSend

/// Literal transcripts: the server's lines in, the exact client lines out.
@Suite struct SMTPSessionTests {
  let message = InMemoryMessage(Array("Subject: hi\r\n\r\nHello\r\n.dot line\r\n".utf8))

  @Test func startTLSAuthPlainPipelinedSendAndQuit() throws {
    let transport = ScriptedTransport([
      "S: 220 mx.example ESMTP",
      "C: EHLO client.example",
      "S: 250-mx.example", "S: 250-STARTTLS", "S: 250 PIPELINING",
      "C: STARTTLS",
      "S: 220 2.0.0 Ready to start TLS",
      "TLS",
      "C: EHLO client.example",
      "S: 250-mx.example", "S: 250-PIPELINING", "S: 250-SIZE 1000", "S: 250 AUTH PLAIN LOGIN",
      "C: AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm",
      "S: 235 2.7.0 Authentication successful",
      "C: MAIL FROM:<tim@example.com> SIZE=33",
      "C: RCPT TO:<a@example.org>",
      "C: RCPT TO:<b@example.org>",
      "C: DATA",
      "S: 250 2.1.0 OK", "S: 250 2.1.5 OK", "S: 550 5.1.1 No such user",
      "S: 354 Go ahead",
      "C: Subject: hi", "C: ", "C: Hello", "C: ..dot line", "C: .",
      "S: 250 2.0.0 queued as 12345",
      "C: QUIT",
      "S: 221 2.0.0 Bye",
    ])
    let events = Box<[TranscriptEvent]>([])
    let smtp = makeSession(transport, events: events)
    try smtp.readGreeting()
    try smtp.hello()
    let info = try smtp.startTLS()
    #expect(info.protocolVersion == "TLSv1.3")
    #expect(smtp.capabilities.maximumSize == 1000)
    try smtp.authenticate(.password(user: "tim", password: "tanstaaftanstaaf"), host: "mx.example", port: 587)
    let report = try smtp.send(Envelope(sender: "tim@example.com", recipients: ["a@example.org", "b@example.org"]), content: message)
    smtp.quit()
    verifyTranscript(transport)
    #expect(report.transactions == 1)
    #expect(report.recipients.map(\.accepted) == [true, false])
    #expect(report.recipients[1].outcome == .recipientPermanent)
    #expect(report.recipients[1].reply?.enhancedStatus == EnhancedStatus(5, 1, 1))
    #expect(report.exitCode == .dataError)
    // The transcript shows both directions, never the credentials.
    #expect(events.value.contains(.client("AUTH PLAIN <redacted>")))
    #expect(!events.value.contains { "\($0)".contains("AHRpbQB0") })
    #expect(events.value.contains(.server("250-STARTTLS")))
    #expect(transport.closed)
  }

  @Test func startTLSResponseInjectionAbortsTheSession() {
    let transport = ScriptedTransport([
      "S: 220 mx ESMTP",
      "C: EHLO client.example",
      "S: 250-mx", "S: 250-STARTTLS", "S: 250 AUTH PLAIN",
      "C: STARTTLS",
      "S: 220 Ready", "S: 250-injected", "S: 250 AUTH PLAIN",
    ])
    let smtp = makeSession(transport)
    #expect(throws: SMTPError(phase: .startTLS, reason: .injectedAfterStartTLS)) {
      try smtp.readGreeting()
      try smtp.hello()
      try smtp.startTLS()
    }
    #expect(transport.clientLines == ["EHLO client.example", "STARTTLS"])
    #expect(transport.closed)
    #expect(!transport.isEncrypted)
  }

  @Test func requiredStartTLSMissingSendsNothingMore() {
    let transport = ScriptedTransport([
      "S: 220 mx ESMTP", "C: EHLO client.example", "S: 250-mx", "S: 250 AUTH PLAIN LOGIN",
    ])
    let smtp = makeSession(transport)
    #expect(throws: SMTPError(phase: .startTLS, reason: .startTLSNotOffered)) {
      try smtp.readGreeting()
      try smtp.hello()
      try smtp.startTLS()
    }
    verifyTranscript(transport)
    #expect(ReplyClassification.classify(SMTPError(phase: .startTLS, reason: .startTLSNotOffered)).exitCode == .unavailable)
  }

  @Test func heloFallbackWhenEHLOIsUnknown() throws {
    let transport = ScriptedTransport([
      "S: 220 old.example", "C: EHLO client.example", "S: 502 5.5.2 Command not recognized",
      "C: HELO client.example", "S: 250 old.example",
      "C: MAIL FROM:<a@example.com>", "S: 250 OK", "C: RCPT TO:<b@example.com>", "S: 250 OK",
      "C: DATA", "S: 354 go", "C: Subject: hi", "C: ", "C: Hello", "C: ..dot line", "C: .", "S: 250 OK",
    ])
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    let capabilities = try smtp.hello()
    #expect(!capabilities.isExtended)
    let report = try smtp.send(Envelope(sender: "a@example.com", recipients: ["b@example.com"]), content: message)
    #expect(report.acceptedCount == 1)
    verifyTranscript(transport)
  }

  @Test func tooManyRecipientsSplitsIntoFurtherTransactions() throws {
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 PIPELINING",
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<1@y.test>", "C: RCPT TO:<2@y.test>", "C: RCPT TO:<3@y.test>",
      "C: DATA", "S: 250 OK", "S: 250 OK", "S: 250 OK", "S: 452 4.5.3 Too many recipients", "S: 354 go",
      "C: Subject: hi", "C: ", "C: Hello", "C: ..dot line", "C: .", "S: 250 first",
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<3@y.test>", "C: DATA",
      "S: 250 OK", "S: 250 OK", "S: 354 go",
      "C: Subject: hi", "C: ", "C: Hello", "C: ..dot line", "C: .", "S: 250 second",
    ])
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    try smtp.hello()
    let report = try smtp.send(
      Envelope(sender: "s@x.test", recipients: ["1@y.test", "2@y.test", "3@y.test"]), content: message)
    verifyTranscript(transport)
    #expect(report.transactions == 2)
    #expect(report.recipients.map(\.reply?.text) == ["first", "first", "second"])
    #expect(report.exitCode == .ok)
  }

  @Test func connectionReuseWithRSETAfterAnAbandonedTransaction() throws {
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250 mx",
      "C: MAIL FROM:<s@x.test>", "S: 250 OK", "C: RCPT TO:<gone@y.test>", "S: 550 5.1.1 unknown",
      "C: RSET", "S: 250 OK",
      "C: MAIL FROM:<s@x.test>", "S: 250 OK", "C: RCPT TO:<here@y.test>", "S: 250 OK",
      "C: DATA", "S: 354 go", "C: Subject: hi", "C: ", "C: Hello", "C: ..dot line", "C: .", "S: 250 OK",
      "C: MAIL FROM:<s@x.test>", "S: 250 OK", "C: RCPT TO:<again@y.test>", "S: 250 OK",
      "C: DATA", "S: 354 go", "C: Subject: hi", "C: ", "C: Hello", "C: ..dot line", "C: .", "S: 250 OK",
      "C: QUIT", "S: 221 bye",
    ])
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    try smtp.hello()
    let first = try smtp.send(Envelope(sender: "s@x.test", recipients: ["gone@y.test"]), content: message)
    #expect(first.acceptedCount == 0 && first.exitCode == .dataError)
    let second = try smtp.send(Envelope(sender: "s@x.test", recipients: ["here@y.test"]), content: message)
    let third = try smtp.send(Envelope(sender: "s@x.test", recipients: ["again@y.test"]), content: message)
    #expect(second.exitCode == .ok && third.exitCode == .ok)
    smtp.quit()
    verifyTranscript(transport)
  }

  @Test func sizeIsCheckedBeforeAnythingIsSent() {
    let transport = ScriptedTransport(["S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 SIZE 10"])
    let smtp = makeSession(transport)
    #expect(throws: SMTPError(phase: .mail, reason: .messageTooLarge(size: 33, limit: 10))) {
      try smtp.readGreeting()
      try smtp.hello()
      _ = try smtp.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: message)
    }
    verifyTranscript(transport)
  }

  @Test func nonASCIIAddressNeedsSMTPUTF8() throws {
    let refused = ScriptedTransport(["S: 220 mx", "C: EHLO client.example", "S: 250 mx"])
    let smtp = makeSession(refused)
    #expect(throws: SMTPError(phase: .mail, reason: .smtpUTF8Required)) {
      try smtp.readGreeting()
      try smtp.hello()
      _ = try smtp.send(Envelope(sender: "s@x.test", recipients: ["用户@例子.测试"]), content: message)
    }
    verifyTranscript(refused)
    let offered = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 SMTPUTF8",
      "C: MAIL FROM:<s@x.test> SMTPUTF8", "S: 250 OK", "C: RCPT TO:<用户@例子.测试>", "S: 250 OK",
      "C: DATA", "S: 354 go", "C: Subject: hi", "C: ", "C: Hello", "C: ..dot line", "C: .", "S: 250 OK",
    ])
    let utf8Session = makeSession(offered)
    try utf8Session.readGreeting()
    try utf8Session.hello()
    _ = try utf8Session.send(Envelope(sender: "s@x.test", recipients: ["用户@例子.测试"]), content: message)
    verifyTranscript(offered)
  }

  @Test func eightBitContentUsesBody8BITMIMEOnlyWhenOffered() throws {
    let eightBit = InMemoryMessage(Array("Subject: x\r\n\r\nGrüße\r\n".utf8))
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 8BITMIME",
      "C: MAIL FROM:<s@x.test> BODY=8BITMIME", "S: 250 OK", "C: RCPT TO:<r@y.test>", "S: 250 OK",
      "C: DATA", "S: 354 go", "C: Subject: x", "C: ", "C: Grüße", "C: .", "S: 250 OK",
    ])
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    try smtp.hello()
    _ = try smtp.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: eightBit)
    verifyTranscript(transport)
  }

  /// RFC 6152: without 8BITMIME the client converts; content that has a 7-bit form sends that.
  @Test func sevenBitAlternativeIsSentWhen8BITMIMEIsMissing() throws {
    let content = TwoFormContent(
      eightBit: InMemoryMessage(Array("Subject: x\r\n\r\nGrüße\r\n".utf8)),
      sevenBit: InMemoryMessage(Array("Subject: x\r\n\r\nGr=C3=BC=C3=9Fe\r\n".utf8)))
    let without = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250 mx",
      "C: MAIL FROM:<s@x.test>", "S: 250 OK", "C: RCPT TO:<r@y.test>", "S: 250 OK",
      "C: DATA", "S: 354 go", "C: Subject: x", "C: ", "C: Gr=C3=BC=C3=9Fe", "C: .", "S: 250 OK",
    ])
    let events = Box<[TranscriptEvent]>([])
    let smtp = makeSession(without, events: events)
    try smtp.readGreeting()
    try smtp.hello()
    _ = try smtp.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: content)
    verifyTranscript(without)
    #expect(events.value.contains(.info("the server does not offer 8BITMIME: sending the body re-encoded to 7 bits")))

    let with = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 8BITMIME",
      "C: MAIL FROM:<s@x.test> BODY=8BITMIME", "S: 250 OK", "C: RCPT TO:<r@y.test>", "S: 250 OK",
      "C: DATA", "S: 354 go", "C: Subject: x", "C: ", "C: Grüße", "C: .", "S: 250 OK",
    ])
    let offered = makeSession(with)
    try offered.readGreeting()
    try offered.hello()
    _ = try offered.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: content)
    verifyTranscript(with)
  }

  @Test func eightBitContentWithoutAlternativeIsRefusedBeforeMAIL() throws {
    let transport = ScriptedTransport(["S: 220 mx", "C: EHLO client.example", "S: 250 mx"])
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    try smtp.hello()
    #expect(throws: SMTPError(phase: .mail, reason: .eightBitMIMERequired)) {
      try smtp.send(
        Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: InMemoryMessage(Array("Grüße\r\n".utf8)))
    }
    verifyTranscript(transport)
  }

  /// A UTF-8 address in a header (RFC 6532) needs SMTPUTF8 even with an ASCII envelope.
  @Test func utf8HeaderAddressNeedsSMTPUTF8() throws {
    let files = try ScratchFiles()
    defer { files.remove() }
    let composed = try MIMEComposer.compose(
      OutgoingMessage(
        from: try Mailbox.parse("s@x.test"), to: [try Mailbox.parse("r@y.test")],
        replyTo: [try Mailbox.parse("josé@bücher.example")]),
      environment: goldenEnvironment())
    let transport = ScriptedTransport(["S: 220 mx", "C: EHLO client.example", "S: 250 mx"])
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    try smtp.hello()
    #expect(throws: SMTPError(phase: .mail, reason: .smtpUTF8Required)) {
      try smtp.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: composed)
    }
    verifyTranscript(transport)
  }

  @Test func greeting554IsServiceUnavailable() {
    let transport = ScriptedTransport(["S: 554 5.7.1 No service for you"])
    let smtp = makeSession(transport)
    do {
      try smtp.readGreeting()
      Issue.record("greeting should fail")
    } catch {
      #expect(error.reply?.code == 554)
      #expect(ReplyClassification.classify(error).exitCode == .unavailable)
    }
  }

  @Test func connectionLostAfterFinalDotIsUncertain() {
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250 mx",
      "C: MAIL FROM:<s@x.test>", "S: 250 OK", "C: RCPT TO:<r@y.test>", "S: 250 OK",
      "C: DATA", "S: 354 go", "C: Subject: hi", "C: ", "C: Hello", "C: ..dot line", "C: .",
    ])
    let smtp = makeSession(transport)
    #expect(throws: SMTPError(phase: .message, reason: .deliveryUncertain)) {
      try smtp.readGreeting()
      try smtp.hello()
      _ = try smtp.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: message)
    }
    verifyTranscript(transport)
  }

  @Test func failingMessageSourceNeverSendsTheFinalDot() {
    struct FailingContent: MessageContent {
      struct ReadFailure: Error {}
      var byteCount: Int? { nil }
      var requiresEightBitMIME: Bool { false }
      func writeChunks(to sink: ([UInt8]) throws -> Void) throws {
        try sink(Array("Subject: partial\r\n".utf8))
        throw ReadFailure()
      }
    }
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250 mx",
      "C: MAIL FROM:<s@x.test>", "S: 250 OK", "C: RCPT TO:<r@y.test>", "S: 250 OK",
      "C: DATA", "S: 354 go",
    ])
    let smtp = makeSession(transport)
    do {
      try smtp.readGreeting()
      try smtp.hello()
      _ = try smtp.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: FailingContent())
      Issue.record("send should fail")
    } catch {
      #expect(ReplyClassification.classify(error) == .localIO)
    }
    #expect(!transport.clientLines.contains("."))
    #expect(transport.closed)
  }

  @Test func lineBreaksInCommandArgumentsAreRefused() {
    let transport = ScriptedTransport(["S: 220 mx", "C: EHLO client.example", "S: 250 mx"])
    let smtp = makeSession(transport)
    #expect(throws: SMTPError(phase: .mail, reason: .lineBreakInCommand)) {
      try smtp.readGreeting()
      try smtp.hello()
      _ = try smtp.send(Envelope(sender: "s@x.test\r\nRCPT TO:<evil@x>", recipients: ["r@y.test"]), content: message)
    }
    verifyTranscript(transport)
  }

  /// RFC 2920 section 3.1: DATA goes with the envelope; when every RCPT was refused the server
  /// must refuse DATA, and a server that says 354 anyway gets an empty message it refuses.
  @Test func pipelinedDataWithEveryRecipientRefused() throws {
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 PIPELINING",
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<r@y.test>", "C: DATA",
      "S: 250 OK", "S: 550 5.1.1 unknown", "S: 354 go ahead anyway",
      "C: .", "S: 554 5.5.1 no valid recipients",
      "C: RSET", "S: 250 OK",
    ])
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    try smtp.hello()
    let report = try smtp.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: message)
    verifyTranscript(transport)
    #expect(report.transactions == 0)
    #expect(report.recipients.map(\.outcome) == [.recipientPermanent])
  }

  @Test func senderRefusedBeforeAnyTransactionThrows() {
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 PIPELINING",
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<r@y.test>", "C: DATA",
      "S: 550 5.7.1 Unconfigured Sending Domain <x.test>", "S: 503 5.5.1 need MAIL", "S: 503 5.5.1 need RCPT",
    ])
    let smtp = makeSession(transport)
    do {
      try smtp.readGreeting()
      try smtp.hello()
      _ = try smtp.send(Envelope(sender: "s@x.test", recipients: ["r@y.test"]), content: message)
      Issue.record("send should fail")
    } catch {
      #expect(error.phase == .mail)
      #expect(ReplyClassification.classify(error) == .senderRefused)
    }
    verifyTranscript(transport)
  }
}

/// Content with an 8-bit form and a 7-bit alternative, like a ready-made message in sendmail mode.
private struct TwoFormContent: MessageContent {
  let eightBit: InMemoryMessage
  let sevenBit: InMemoryMessage
  var byteCount: Int? { eightBit.byteCount }
  var requiresEightBitMIME: Bool { true }
  var sevenBitAlternative: (any MessageContent)? { sevenBit }
  func writeChunks(to sink: ([UInt8]) throws -> Void) throws { try eightBit.writeChunks(to: sink) }
}

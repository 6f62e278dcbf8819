import Testing

@testable import MSCSend

/// The sink's server side as literal transcripts: client lines in, exact replies out.
@Suite struct SinkSessionTests {
  static let ehloLoopback = [
    "S: 250-localhost Hello", "S: 250-SIZE 52428800", "S: 250-8BITMIME", "S: 250-SMTPUTF8", "S: 250-PIPELINING",
    "S: 250-ENHANCEDSTATUSCODES", "S: 250 AUTH PLAIN LOGIN",
  ]

  @Test func wholeSessionWithAuthPipeliningAndDotUnstuffing() throws {
    let transcript = SinkTranscript()
    transcript.run(
      [SinkTranscript.greeting, "C: EHLO client.example"] + Self.ehloLoopback + [
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==",
        "S: 235 2.7.0 Authentication successful",
        "C: MAIL FROM:<alice@example.com> SIZE=40 BODY=8BITMIME SMTPUTF8",
        "C: RCPT TO:<bob@example.org> NOTIFY=NEVER",
        "C: RCPT TO:<carol@example.org>",
        "C: DATA",
        "S: 250 2.1.0 Sender ok", "S: 250 2.1.5 Recipient ok", "S: 250 2.1.5 Recipient ok",
        "S: 354 End data with <CR><LF>.<CR><LF>",
        "C: Subject: hi", "C: ", "C: ..leading dot", "C: .x", "C: last", "C: .",
        "S: 250 2.0.0 Ok: captured as ID1",
        "C: QUIT",
        "S: 221 2.0.0 Bye",
        "CLOSE",
      ])
    let message = try #require(transcript.messages.first)
    #expect(transcript.messages.count == 1)
    #expect(message.sender == "alice@example.com")
    #expect(message.recipients == ["bob@example.org", "carol@example.org"])
    #expect(message.content == Array("Subject: hi\r\n\r\n.leading dot\r\nx\r\nlast\r\n".utf8))
    #expect(message.helloName == "client.example")
    #expect(message.authenticatedUser == "alice")
    #expect(message.tls == false)
  }

  @Test func everythingInOneChunkIsAnsweredInOrder() {
    let transcript = SinkTranscript()
    let (lines, directive) = transcript.feed(
      "HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<b@x>\r\nDATA\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\nNOOP\r\n")
    #expect(
      lines == [
        "250 localhost", "250 2.1.0 Sender ok", "250 2.1.5 Recipient ok", "354 End data with <CR><LF>.<CR><LF>",
        "250 2.0.0 Ok: captured as ID1", "250 2.0.0 Ok", "221 2.0.0 Bye",
      ])
    #expect(directive == .close)
    #expect(transcript.messages.map(\.sender) == [""])
    #expect(transcript.messages.first?.content == Array("body\r\n".utf8))
  }

  @Test func commandsOutOfSequenceAndBadSyntax() {
    SinkTranscript().run([
      SinkTranscript.greeting,
      "C: MAIL FROM:<a@x>", "S: 503 5.5.1 Send EHLO or HELO first",
      "C: EHLO", "S: 501 5.5.4 Syntax: EHLO hostname",
      "C: HELO client.example", "S: 250 localhost",
      "C: RCPT TO:<b@x>", "S: 503 5.5.1 Send MAIL first",
      "C: DATA", "S: 503 5.5.1 Send MAIL first",
      "C: MAIL TO:<a@x>", "S: 501 5.5.4 Syntax: MAIL FROM:<address>",
      "C: MAIL FROM:<a@x", "S: 501 5.5.4 Syntax: MAIL FROM:<address>",
      "C: MAIL FROM:<a@x> SIZE=big", "S: 501 5.5.4 Syntax: SIZE=octets",
      "C: MAIL FROM:<a@x>", "S: 250 2.1.0 Sender ok",
      "C: MAIL FROM:<a@x>", "S: 503 5.5.1 Sender already given",
      "C: DATA", "S: 554 5.5.1 No valid recipients",
      "C: RCPT TO:<>", "S: 501 5.1.3 Bad recipient address syntax",
      "C: RCPT TO:<b\u{1}@x>", "S: 501 5.1.3 Bad recipient address syntax",
      "C: RCPT TO:<b@x>", "S: 250 2.1.5 Recipient ok",
      "C: DATA now", "S: 501 5.5.4 Syntax: DATA (no parameters)",
      "C: RSET", "S: 250 2.0.0 Ok",
      "C: RCPT TO:<b@x>", "S: 503 5.5.1 Send MAIL first",
      "C: STARTTLS", "S: 502 5.5.1 STARTTLS not available",
      "C: EXPN staff", "S: 502 5.5.1 Command not implemented",
      "C: VRFY bob", "S: 252 2.5.0 Cannot VRFY user, but will accept message",
      "C: FROB", "S: 500 5.5.2 Command unrecognized",
      "C: ", "S: 500 5.5.2 Syntax error: empty command",
      "C: rset", "S: 250 2.0.0 Ok",
      "C: noop anything", "S: 250 2.0.0 Ok",
    ])
  }

  /// RFC 3207 section 4.2: nothing said in plaintext survives the handshake, including commands
  /// pipelined behind STARTTLS (which an attacker may have injected).
  @Test func startTLSDiscardsPlaintextAndForgetsTheSession() {
    let transcript = SinkTranscript(settings: SinkTranscript.remoteWithTLS)
    transcript.run([
      SinkTranscript.greeting,
      "C: EHLO client.example",
      "S: 250-localhost Hello", "S: 250-SIZE 52428800", "S: 250-8BITMIME", "S: 250-SMTPUTF8", "S: 250-PIPELINING",
      "S: 250-ENHANCEDSTATUSCODES", "S: 250 STARTTLS",
      "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==",
      "S: 538 5.7.11 Encryption required for requested authentication mechanism",
      "C: MAIL FROM:<a@x>", "S: 250 2.1.0 Sender ok",
      "C: STARTTLS extra", "S: 501 5.5.4 Syntax: STARTTLS (no parameters)",
      "C: STARTTLS", "C: MAIL FROM:<injected@evil>", "C: RCPT TO:<victim@x>",
      "S: 220 2.0.0 Ready to start TLS",
      "TLS",
      "C: MAIL FROM:<a@x>", "S: 503 5.5.1 Send EHLO or HELO first",
      "C: EHLO client.example",
      "S: 250-localhost Hello", "S: 250-SIZE 52428800", "S: 250-8BITMIME", "S: 250-SMTPUTF8", "S: 250-PIPELINING",
      "S: 250-ENHANCEDSTATUSCODES", "S: 250 AUTH PLAIN LOGIN",
      "C: STARTTLS", "S: 503 5.5.1 TLS already active",
      "C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6",
      "C: Ym9i", "S: 334 UGFzc3dvcmQ6",
      "C: c2VjcmV0", "S: 235 2.7.0 Authentication successful",
      "C: MAIL FROM:<a@x>", "C: RCPT TO:<b@x>", "C: DATA",
      "S: 250 2.1.0 Sender ok", "S: 250 2.1.5 Recipient ok", "S: 354 End data with <CR><LF>.<CR><LF>",
      "C: hi", "C: .", "S: 250 2.0.0 Ok: captured as ID1",
    ])
    #expect(transcript.messages.count == 1)
    #expect(transcript.messages.first?.tls == true)
    #expect(transcript.messages.first?.authenticatedUser == "bob")
    #expect(transcript.messages.first?.recipients == ["b@x"])
  }

  @Test func authenticationVariants() {
    SinkTranscript().run(
      [
        "C: AUTH PLAIN", "S: 503 5.5.1 Send EHLO first",
        "C: HELO c", "S: 250 localhost",
        "C: AUTH PLAIN", "S: 503 5.5.1 Send EHLO first",
        "C: EHLO c",
      ] + Self.ehloLoopback + [
        "C: AUTH CRAM-MD5", "S: 504 5.5.4 Unrecognized authentication type",
        "C: AUTH", "S: 501 5.5.4 Syntax: AUTH mechanism [initial-response]",
        "C: AUTH PLAIN !!!", "S: 501 5.5.2 Cannot decode response",
        "C: AUTH PLAIN", "S: 334 ", "C: *", "S: 501 5.0.0 Authentication cancelled",
        "C: AUTH PLAIN", "S: 334 ", "C: dXNlcg==",
        "S: 501 5.5.2 Invalid PLAIN response: expected authzid NUL user NUL password",
        "C: AUTH LOGIN Ym9i", "S: 334 UGFzc3dvcmQ6", "C: ###", "S: 501 5.5.2 Cannot decode response",
        "C: AUTH PLAIN", "S: 334 ", "C: AGFsaWNlAHNlY3JldA==", "S: 235 2.7.0 Authentication successful",
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==", "S: 503 5.5.1 Already authenticated",
      ])
  }

  @Test func authDuringATransactionIsRefused() {
    SinkTranscript().run(
      [
        "C: EHLO c"
      ] + Self.ehloLoopback + [
        "C: MAIL FROM:<a@x>", "S: 250 2.1.0 Sender ok",
        "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==", "S: 503 5.5.1 AUTH not permitted during a mail transaction",
      ])
  }

  @Test func limitsOnSizeRecipientsAndLines() {
    var settings = SinkTranscript.loopback
    settings.maxMessageSize = 2000
    settings.maxRecipients = 2
    let transcript = SinkTranscript(settings: settings)
    let long = String(repeating: "x", count: 999)
    let fits = String(repeating: "y", count: 998)
    let block = String(repeating: "z", count: 900)
    transcript.run([
      "C: HELO c", "S: 250 localhost",
      "C: MAIL FROM:<a@x> SIZE=2001", "S: 552 5.3.4 Message size exceeds fixed maximum message size",
      "C: MAIL FROM:<a@x> size=2000", "S: 250 2.1.0 Sender ok",
      "C: RCPT TO:<1@x>", "C: RCPT TO:<2@x>", "C: RCPT TO:<3@x>",
      "S: 250 2.1.5 Recipient ok", "S: 250 2.1.5 Recipient ok", "S: 452 4.5.3 Too many recipients",
      "C: DATA", "S: 354 End data with <CR><LF>.<CR><LF>",
      "C: \(block)", "C: \(block)", "C: \(block)", "C: .",
      "S: 552 5.3.4 Message size exceeds fixed maximum message size",
      "C: MAIL FROM:<a@x>", "C: RCPT TO:<1@x>", "C: DATA",
      "S: 250 2.1.0 Sender ok", "S: 250 2.1.5 Recipient ok", "S: 354 End data with <CR><LF>.<CR><LF>",
      "C: \(fits)", "C: .", "S: 250 2.0.0 Ok: captured as ID1",
      "C: MAIL FROM:<a@x>", "C: RCPT TO:<1@x>", "C: DATA",
      "S: 250 2.1.0 Sender ok", "S: 250 2.1.5 Recipient ok", "S: 354 End data with <CR><LF>.<CR><LF>",
      "C: \(long)", "C: .",
      "S: 500 5.5.0 Line too long: over 1000 octets (RFC 5321 section 4.5.3.1.6), message refused",
      "C: NOOP \(String(repeating: "y", count: 12_300))", "S: 500 5.5.0 Line too long",
      "C: NOOP", "S: 250 2.0.0 Ok",
    ])
    // Only the message whose longest line fits (998 octets and CRLF) was handed over.
    #expect(transcript.messages.map(\.content) == [Array((fits + "\r\n").utf8)])
  }

  @Test func anOverlongCommandSplitAcrossReadsIsDroppedUpToItsEnd() {
    let transcript = SinkTranscript()
    #expect(transcript.feed(String(repeating: "A", count: 8_000)).lines == [])
    #expect(transcript.feed(String(repeating: "A", count: 8_000)).lines == [])
    #expect(transcript.feed("AAAA\r\nNOOP\r\n").lines == ["500 5.5.0 Line too long", "250 2.0.0 Ok"])
  }

  @Test func deliveryOutcomesDecideTheReplyToTheDot() {
    let failing = SinkTranscript(outcome: { _ in .failed("disk full") })
    failing.run([
      "C: HELO c", "C: MAIL FROM:<a@x>", "C: RCPT TO:<b@x>", "C: DATA",
      "S: 250 localhost", "S: 250 2.1.0 Sender ok", "S: 250 2.1.5 Recipient ok",
      "S: 354 End data with <CR><LF>.<CR><LF>",
      "C: hi", "C: .", "S: 451 4.3.0 Cannot store the message: disk full",
    ])
    let stopping = SinkTranscript(outcome: { _ in .shuttingDown })
    stopping.run([
      "C: HELO c", "C: MAIL FROM:<a@x>", "C: RCPT TO:<b@x>", "C: DATA",
      "S: 250 localhost", "S: 250 2.1.0 Sender ok", "S: 250 2.1.5 Recipient ok",
      "S: 354 End data with <CR><LF>.<CR><LF>",
      "C: hi", "C: .", "C: NOOP", "S: 421 4.3.2 The sink is shutting down, message not captured", "CLOSE",
    ])
  }

  @Test func tooManyErrorsCloseTheConnection() {
    var settings = SinkTranscript.loopback
    settings.maxErrors = 3
    SinkTranscript(settings: settings).run([
      "C: A", "C: B", "C: C", "C: D",
      "S: 500 5.5.2 Command unrecognized", "S: 500 5.5.2 Command unrecognized", "S: 500 5.5.2 Command unrecognized",
      "S: 421 4.7.0 Too many errors, closing connection", "CLOSE",
    ])
  }

  @Test func anHTTPRequestIsDroppedAtOnce() {
    SinkTranscript().run([
      "C: POST / HTTP/1.1", "C: Host: localhost:2525", "C: ",
      "S: 421 4.7.0 This is an SMTP server, closing connection", "CLOSE",
    ])
  }

  @Test func bareLineFeedsAreToleratedInCommands() {
    let transcript = SinkTranscript()
    #expect(transcript.feed("HELO c\nNOOP\n").lines == ["250 localhost", "250 2.0.0 Ok"])
  }

  @Test func pathsAndParameters() {
    func parse(_ argument: String, _ keyword: String = "TO:") -> [String]? {
      SinkSession.parsePath(argument, keyword: keyword).map { [$0.path] + $0.parameters }
    }
    #expect(parse("FROM:<a@x> SIZE=1 BODY=8BITMIME", "FROM:") == ["a@x", "SIZE=1", "BODY=8BITMIME"])
    #expect(parse("from: <a@x>", "FROM:") == ["a@x"])
    #expect(parse("FROM:a@x", "FROM:") == ["a@x"])
    #expect(parse("FROM:<>", "FROM:") == [""])
    #expect(parse("TO:<@relay.example,@b.example:bob@x>") == ["bob@x"])
    #expect(parse("TO:<\"odd>name\"@x>") == ["\"odd>name\"@x"])
    #expect(parse("TO:<\"a\\\"b\"@x>") == ["\"a\\\"b\"@x"])
    #expect(parse("TO:<bö@exämple.org>") == ["bö@exämple.org"])
    #expect(parse("TO:<a@x>junk") == nil)
    #expect(parse("TO:<a@x") == nil)
    #expect(parse("TO:") == nil)
    #expect(parse("TO") == nil)
    #expect(parse("TO:a<b") == nil)
  }
}

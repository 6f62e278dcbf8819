import Foundation
import Glibc
import Testing

@testable import MSCSend

/// The sink over real loopback sockets: our own SMTP client and Python's smtplib as clients, the
/// sink in-process or as the built binary. Serialized: each test runs its own servers.
@Suite("Sink over sockets", .serialized)
struct SinkIntegrationTests {
  let message = Array("From: a@example.com\r\nSubject: Hi\r\n\r\n.leading dot\r\nGrüße\r\n".utf8)

  private func endpoint(_ sink: InProcessSink, host: String = "127.0.0.1", tls: TLSMode = .none) -> SMTPEndpoint {
    SMTPEndpoint(host: host, port: sink.port, tlsMode: tls, helloName: "client.test", timeouts: SMTPTimeouts(all: 5))
  }

  @Test func ourClientInPlaintextOnLoopbackLandsByteForByteInTheMaildir() throws {
    let directory = try makeTemporaryDirectory("sink")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let sink = try InProcessSink(maildir: directory + "/Maildir")
    defer { sink.stop() }

    let session = try SMTPSubmission.open(endpoint(sink))
    #expect(session.capabilities.authMechanisms == ["PLAIN", "LOGIN"])
    #expect(!session.capabilities.startTLS)
    let report = try session.send(
      Envelope(sender: "alice@example.com", recipients: ["bob@example.org", "carol@example.org"]),
      content: InMemoryMessage(message))
    session.quit()

    #expect(report.acceptedCount == 2)
    let record = try #require(sink.records.value.first)
    #expect(sink.records.value.count == 1)
    #expect(record.message.sender == "alice@example.com")
    #expect(record.message.recipients == ["bob@example.org", "carol@example.org"])
    #expect(record.message.helloName == "client.test")
    #expect(record.subject == "Hi")
    let file = try #require(record.file)
    #expect(file.hasPrefix(directory + "/Maildir/new/\(record.identifier)."))
    #expect(Array(try Data(contentsOf: URL(fileURLWithPath: file))) == message)
    #expect(report.recipients.first?.reply?.text == "2.0.0 Ok: captured as \(record.identifier)")
  }

  @Test func ourClientWithSTARTTLSAndAuthentication() throws {
    let pki = try TestPKI.shared()
    let tls = try TLSServerContext(certificateFile: pki.good.certificate, keyFile: pki.good.key)
    let sink = try InProcessSink(tls: tls)
    defer { sink.stop() }

    var settings = endpoint(sink, tls: .starttls)
    settings.tls = TLSOptions(serverName: "127.0.0.1", caFile: pki.caFile)
    settings.credentials = .password(user: "alice@example.com", password: "anything")
    let session = try SMTPSubmission.open(settings)
    #expect(session.tlsInfo?.verified == true)
    #expect(!session.capabilities.startTLS)
    let report = try session.send(
      Envelope(sender: "alice@example.com", recipients: ["bob@example.org"]),
      content: InMemoryMessage(message))
    session.quit()

    #expect(report.acceptedCount == 1)
    let record = try #require(sink.records.value.first)
    #expect(record.message.tls)
    #expect(record.message.authenticatedUser == "alice@example.com")
    #expect(record.message.content == message)
    #expect(record.file == nil)
  }

  @Test(.enabled(if: LoopbackListener.ipv6Available, "no IPv6 loopback here"))
  func listensOnIPv6Loopback() throws {
    let sink = try InProcessSink(host: "::1")
    defer { sink.stop() }
    #expect(sink.server.address.description == "[::1]:\(sink.port)")
    let session = try SMTPSubmission.open(endpoint(sink, host: "::1"))
    _ = try session.send(Envelope(sender: "", recipients: ["bob@example.org"]), content: InMemoryMessage(message))
    session.quit()
    #expect(sink.records.value.map(\.message.sender) == [""])
    #expect(sink.records.value.first?.peer.hasPrefix("[::1]:") == true)
  }

  @Test func servesConnectionsSideBySideAndStopsAfterMaxMessages() throws {
    let sink = try InProcessSink(maxMessages: 2)
    defer { sink.stop() }
    let first = try SMTPSubmission.open(endpoint(sink))
    let second = try SMTPSubmission.open(endpoint(sink))
    _ = try second.send(Envelope(sender: "b@x.test", recipients: ["r@x.test"]), content: InMemoryMessage(message))
    _ = try first.send(Envelope(sender: "a@x.test", recipients: ["r@x.test"]), content: InMemoryMessage(message))
    // The limit is reached: a third message on an open connection is refused, not captured.
    let third = try second.send(
      Envelope(sender: "c@x.test", recipients: ["r@x.test"]), content: InMemoryMessage(message))
    #expect(third.acceptedCount == 0)
    #expect(third.recipients.first?.reply?.code == 421)
    first.quit()
    second.quit()
    #expect(sink.waitUntilFinished(timeout: 5))
    #expect(sink.records.value.map(\.message.sender) == ["b@x.test", "a@x.test"])
  }

  /// The server-side twin of CVE-2011-0411: a command pipelined behind STARTTLS is dropped, not
  /// answered in plaintext and not carried into the TLS session.
  @Test func plaintextPipelinedAfterSTARTTLSIsDiscarded() throws {
    let pki = try TestPKI.shared()
    let sink = try InProcessSink(
      tls: try TLSServerContext(certificateFile: pki.good.certificate, keyFile: pki.good.key))
    defer { sink.stop() }
    let client = try SocketTransport.connect(
      host: "127.0.0.1", port: sink.port, tls: TLSOptions(serverName: "127.0.0.1", caFile: pki.caFile),
      implicitTLS: false, connectTimeout: 3)
    defer { client.close() }
    _ = try readUntil(client, suffix: "\r\n", timeout: 3)
    try client.write(Array("EHLO client.test\r\n".utf8), deadline: .after(seconds: 2))
    #expect(try readUntil(client, suffix: "250 AUTH PLAIN LOGIN\r\n", timeout: 3).contains("250-STARTTLS\r\n"))
    try client.write(Array("STARTTLS\r\nNOOP\r\n".utf8), deadline: .after(seconds: 2))
    #expect(try readUntil(client, suffix: "\r\n", timeout: 3) == "220 2.0.0 Ready to start TLS\r\n")
    // Nothing more in plaintext (a 250 for the NOOP would be the injection).
    #expect(throws: TransportError.timeout) { try client.read(maxCount: 100, deadline: .after(seconds: 0.3)) }
    _ = try client.startTLS(deadline: .after(seconds: 3))
    try client.write(Array("NOOP\r\n".utf8), deadline: .after(seconds: 2))
    #expect(try readUntil(client, suffix: "\r\n", timeout: 3) == "250 2.0.0 Ok\r\n")
    try client.write(Array("MAIL FROM:<a@x.test>\r\n".utf8), deadline: .after(seconds: 2))
    #expect(try readUntil(client, suffix: "\r\n", timeout: 3) == "503 5.5.1 Send EHLO or HELO first\r\n")
  }

  @Test func aFailedHandshakeIsReportedAndTheSinkGoesOn() throws {
    let pki = try TestPKI.shared()
    let sink = try InProcessSink(
      tls: try TLSServerContext(certificateFile: pki.good.certificate, keyFile: pki.good.key))
    defer { sink.stop() }
    let client = try SocketTransport.connect(
      host: "127.0.0.1", port: sink.port, tls: nil, implicitTLS: false, connectTimeout: 3)
    defer { client.close() }
    _ = try readUntil(client, suffix: "\r\n", timeout: 3)
    try client.write(Array("STARTTLS\r\n".utf8), deadline: .after(seconds: 2))
    _ = try readUntil(client, suffix: "\r\n", timeout: 3)
    try client.write(Array("this is no ClientHello, just text\r\n".utf8), deadline: .after(seconds: 2))
    let deadline = Deadline.after(seconds: 3)
    while sink.diagnostics.value.isEmpty && !deadline.hasPassed { usleep(10_000) }
    #expect(sink.diagnostics.value.first?.hasPrefix("TLS with 127.0.0.1:") == true)

    let session = try SMTPSubmission.open(endpoint(sink))
    _ = try session.send(Envelope(sender: "a@x.test", recipients: ["b@x.test"]), content: InMemoryMessage(message))
    session.quit()
    #expect(sink.records.value.count == 1)
  }

  @Test func clientsBeyondTheConnectionLimitAreToldToComeBackLater() throws {
    let sink = try InProcessSink(maxConnections: 1)
    defer { sink.stop() }
    let first = try SMTPSubmission.open(endpoint(sink))
    let second = try SocketTransport.connect(
      host: "127.0.0.1", port: sink.port, tls: nil, implicitTLS: false, connectTimeout: 3)
    defer { second.close() }
    #expect(try readUntil(second, suffix: "never", timeout: 3) == "421 4.7.0 Too many connections, try again later\r\n")
    // The first client is not disturbed, and its slot frees once it leaves.
    _ = try first.send(Envelope(sender: "a@x.test", recipients: ["b@x.test"]), content: InMemoryMessage(message))
    first.quit()
    let deadline = Deadline.after(seconds: 3)
    var third: SMTPSession?
    while third == nil && !deadline.hasPassed {
      third = try? SMTPSubmission.open(endpoint(sink))
      if third == nil { usleep(20_000) }
    }
    let session = try #require(third)
    _ = try session.send(Envelope(sender: "c@x.test", recipients: ["b@x.test"]), content: InMemoryMessage(message))
    session.quit()
    #expect(sink.records.value.map(\.message.sender) == ["a@x.test", "c@x.test"])
  }

  @Test func aSilentClientIsDroppedAfterTheIdleTimeout() throws {
    let sink = try InProcessSink(idleTimeout: 1)
    defer { sink.stop() }
    let client = try SocketTransport.connect(
      host: "127.0.0.1", port: sink.port, tls: nil, implicitTLS: false, connectTimeout: 3)
    defer { client.close() }
    let start = Deadline.now()
    _ = try readUntil(client, suffix: "\r\n", timeout: 3)
    let text = try readUntil(client, suffix: "never", timeout: 5)
    #expect(text == "421 4.4.2 Idle timeout, closing connection\r\n")
    let elapsed = secondsSince(start)
    #expect(elapsed >= 0.9 && elapsed < 4, "\(elapsed) s")
  }
}

/// The command in-process: announces its port, prints the text line, exits 0 after --max-messages.
@Suite("Sink command over sockets", .serialized)
struct SinkCommandSocketTests {
  @Test func printsOneTextLinePerMessageAndExitsAfterMaxMessages() throws {
    let console = CapturingConsole()
    let result = Locked<ExitCode?>(nil)
    let thread = Thread {
      let code = CommandLineInterface.run(
        arguments: ["msc-send", "sink", "--listen", "127.0.0.1:0", "--max-messages", "1"], environment: [:],
        console: console)
      result.update { $0 = code }
    }
    thread.start()
    let deadline = Deadline.after(seconds: 5)
    var port: UInt16?
    while port == nil && !deadline.hasPassed {
      if let line = console.stderr.split(separator: "\n").first,
        line.hasPrefix("msc-send sink: listening on 127.0.0.1:")
      {
        port = UInt16(line.dropFirst("msc-send sink: listening on 127.0.0.1:".count))
      } else {
        usleep(5_000)
      }
    }
    let listening = try #require(port, "no port announced: \(console.stderr)")
    let session = try SMTPSubmission.open(
      SMTPEndpoint(host: "127.0.0.1", port: listening, tlsMode: .none, timeouts: SMTPTimeouts(all: 5)))
    let content = Array("Subject: =?utf-8?b?w6lsw6k=?= \"quoted\"\r\n\r\nbody\r\n".utf8)
    _ = try session.send(
      Envelope(sender: "a@x.test", recipients: ["b@x.test", "c@x.test"]), content: InMemoryMessage(content))
    session.quit()
    let end = Deadline.after(seconds: 8)
    while result.value == nil && !end.hasPassed { usleep(5_000) }
    #expect(result.value == .ok)
    #expect(
      console.stdout
        == "from=<a@x.test> to=<b@x.test>,<c@x.test> size=\(content.count) subject=\"élé \\\"quoted\\\"\"\n")
    #expect(console.stderr.hasSuffix("msc-send sink: stopped after 1 message\n"))
  }
}

import Foundation
import Testing

@testable import MSCSend

/// Proves the end-to-end harness on its own, without msc-send: the certificates verify as designed,
/// aiosmtpd delivers what Python's smtplib sends, and every fault scenario misbehaves as scripted.
/// When an end-to-end test of the CLI fails, these say whether to look at the CLI or the harness.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HarnessTests {
  static let message = "From: a@example.test\r\nTo: b@example.test\r\nSubject: harness\r\n\r\n"
    + ".a line that needs dot-stuffing\r\nbody line\r\n"

  @Test func testPythonImportsAiosmtpd() throws {
    let python = try TestEnvironment.pythonWithAiosmtpd()
    #expect(FileManager.default.isExecutableFile(atPath: python.path))
  }

  @Test func certificatesVerifyAsDesigned() async throws {
    let certificates = try TestCertificates.shared()
    let openssl = try #require(TestEnvironment.findInPath("openssl"))
    func verify(_ pair: TestCertificates.Pair) async throws -> ProcessResult {
      try await runProcess(
        openssl, arguments: ["verify", "-CAfile", certificates.ca.certificate.path, pair.certificate.path],
        timeout: .seconds(30))
    }
    let leaf = try await verify(certificates.leaf)
    #expect(leaf.exit == 0, "\(leaf.transcript)")
    let selfSigned = try await verify(certificates.selfSigned)
    #expect(selfSigned.exit != 0)
    let expired = try await verify(certificates.expired)
    #expect(expired.exit != 0)
    #expect((expired.stdout + expired.stderr).contains("expired"))

    let names = try TestCertificates.openssl(
      ["x509", "-in", certificates.leaf.certificate.path, "-noout", "-ext", "subjectAltName"])
    #expect(names.contains("DNS:localhost"))
    #expect(names.contains("IP Address:127.0.0.1"))
    #expect(names.contains("IP Address:0:0:0:0:0:0:0:1"))

    let pin = try TestCertificates.sha256Fingerprint(of: certificates.leaf.certificate)
    #expect(pin.hasPrefix("sha256:") && pin.count == "sha256:".count + 64)
    #expect(try TestCertificates.shared().directory == certificates.directory, "generated once per run")
  }

  @Test(arguments: ["PLAIN", "LOGIN"])
  func aiosmtpdDeliversOverStartTLSWithAuth(mechanism: String) async throws {
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["alice:s3cret"])
    defer { server.stop() }
    let result = try await sendWithSmtplib(
      to: server, tls: "starttls", extra: ["--user", "alice", "--password", "s3cret", "--auth", mechanism])
    #expect(result.exit == 0, "\(result.transcript)")

    let delivered = try server.deliveredMessages()
    try #require(delivered.count == 1)
    #expect(delivered[0].text == Self.message, "dot-unstuffed bytes equal what was sent")
    #expect(delivered[0].sha256 == Crypto.hex(Crypto.digest(.sha256, Array(Self.message.utf8))))
    #expect(delivered[0].envelope.mailFrom == "a@example.test")
    #expect(delivered[0].envelope.rcptTos == ["b@example.test", "c@example.test"])
    #expect(delivered[0].envelope.authUser == "alice")
    #expect(delivered[0].envelope.tls)
  }

  @Test func aiosmtpdDeliversOverImplicitTLS() async throws {
    let server = try ServerProcess.aiosmtpd(mode: .implicit, auth: ["alice:s3cret"])
    defer { server.stop() }
    let result = try await sendWithSmtplib(
      to: server, tls: "implicit", extra: ["--user", "alice", "--password", "s3cret"])
    #expect(result.exit == 0, "\(result.transcript)")
    let delivered = try server.deliveredMessages()
    #expect(delivered.count == 1)
    #expect(delivered.first?.envelope.tls == true)
    #expect(delivered.first?.envelope.authUser == "alice")
  }

  @Test func aiosmtpdAllowsPlaintextAuthOnIPv6LoopbackWhenTold() async throws {
    let server = try ServerProcess.aiosmtpd(mode: .plain, auth: ["bob:pw"], authRequireTLS: false, host: "::1")
    defer { server.stop() }
    #expect(server.address == "[::1]:\(server.port)")
    let result = try await sendWithSmtplib(to: server, tls: "none", extra: ["--user", "bob", "--password", "pw"])
    #expect(result.exit == 0, "\(result.transcript)")
    let delivered = try server.deliveredMessages()
    #expect(delivered.count == 1)
    #expect(delivered.first?.envelope.tls == false)
    #expect(delivered.first?.envelope.authUser == "bob")
  }

  @Test func aiosmtpdRefusesAWrongPassword() async throws {
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["alice:s3cret"])
    defer { server.stop() }
    let result = try await sendWithSmtplib(
      to: server, tls: "starttls", extra: ["--user", "alice", "--password", "wrong"])
    #expect(result.exit == 77, "\(result.transcript)")
    #expect(try server.deliveredMessages().isEmpty)
  }

  /// XOAUTH2 lines are KB long: the server must read them whole (a `501` about the value, not a
  /// `500 Command line too long`).
  @Test func aiosmtpdReadsKilobyteAuthLines() async throws {
    let server = try ServerProcess.aiosmtpd(mode: .plain, auth: ["alice:s3cret"], authRequireTLS: false)
    defer { server.stop() }
    let probe = try LoopbackProbe(host: server.host, port: server.port)
    #expect(probe.receiveReply().hasPrefix("220 "))
    try probe.send("EHLO probe.test\r\n")
    #expect(probe.receiveReply().contains("AUTH LOGIN PLAIN"))
    try probe.send("AUTH PLAIN " + String(repeating: "A", count: 6000) + "\r\n")
    let reply = probe.receiveReply()
    #expect(reply.hasPrefix("501 "), "\(reply)")
  }

  @Test func aiosmtpdCanHideStartTLS() async throws {
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["alice:s3cret"], advertiseStartTLS: false)
    defer { server.stop() }
    let probe = try LoopbackProbe(host: server.host, port: server.port)
    #expect(probe.receiveReply().hasPrefix("220 "))
    try probe.send("EHLO probe.test\r\n")
    let capabilities = probe.receiveReply()
    #expect(capabilities.hasPrefix("250-"))
    #expect(!capabilities.contains("STARTTLS"))
    #expect(!capabilities.contains("AUTH"), "AUTH needs TLS, which this server cannot start")
  }

  @Test(arguments: FaultScenario.allCases)
  func faultScenarioBehavesAsScripted(scenario: FaultScenario) async throws {
    let server = try ServerProcess.fault(scenario)
    defer { server.stop() }
    let probe = try LoopbackProbe(host: server.host, port: server.port)
    switch scenario {
    case .injectAfterStartTLS:
      #expect(probe.receiveReply().hasPrefix("220 "))
      try probe.send("EHLO probe.test\r\n")
      #expect(probe.receiveReply().contains("250-STARTTLS\r\n"))
      try probe.send("STARTTLS\r\n")
      let both = probe.receive(timeout: .seconds(5)) { $0.count >= 28 }
      #expect(String(decoding: both.bytes, as: UTF8.self) == "220 go ahead\r\n250 injected\r\n")
    case .noStartTLS:
      #expect(probe.receiveReply().hasPrefix("220 "))
      try probe.send("EHLO probe.test\r\n")
      let capabilities = probe.receiveReply()
      #expect(capabilities.contains("AUTH PLAIN LOGIN"))
      #expect(!capabilities.contains("STARTTLS"))
    case .greeting554:
      #expect(probe.receiveReply().hasPrefix("554 "))
    case .silent:
      let nothing = probe.receive(timeout: .milliseconds(500))
      #expect(nothing.bytes.isEmpty && !nothing.closed)
    case .dribble:
      let first = probe.receive(timeout: .seconds(1))
      #expect(first.bytes == Array("2".utf8), "one byte now, the next only 2 s later")
    case .longLine:
      let line = probe.receive(timeout: .seconds(10)) { $0.count >= 65536 }
      #expect(line.bytes.count == 65536)
      #expect(!line.bytes.contains(UInt8(ascii: "\n")))
    case .garbage:
      let bytes = probe.receive(timeout: .seconds(5)) { $0.count >= 4 }.bytes
      #expect(bytes.starts(with: [0x00, 0xff]))
    case .badContinuation:
      #expect(probe.receiveReply().hasPrefix("220 "))
      try probe.send("EHLO probe.test\r\n")
      #expect(probe.receiveReply() == "250-a\r\n251 b\r\n")
    case .tooManyRecipientsAfter2:
      #expect(probe.receiveReply().hasPrefix("220 "))
      for (command, expected) in [
        ("EHLO probe.test", "250"), ("MAIL FROM:<a@example.test>", "250"), ("RCPT TO:<r1@example.test>", "250"),
        ("RCPT TO:<r2@example.test>", "250"), ("RCPT TO:<r3@example.test>", "452 4.5.3"), ("DATA", "354"),
        ("Subject: x\r\n\r\nbody\r\n.", "250"),
      ] {
        try probe.send(command + "\r\n")
        let reply = probe.receiveReply()
        #expect(reply.hasPrefix(expected), "\(command) -> \(reply)")
      }
      #expect(
        server.transactions() == [
          FaultTransaction(number: 1, from: "a@example.test", recipients: ["r1@example.test", "r2@example.test"],
            size: 20)
        ])
    case .closeAfterDot:
      #expect(probe.receiveReply().hasPrefix("220 "))
      for command in ["EHLO probe.test", "MAIL FROM:<a@example.test>", "RCPT TO:<b@example.test>", "DATA"] {
        try probe.send(command + "\r\n")
        _ = probe.receiveReply()
      }
      try probe.send("Subject: x\r\n\r\nbody\r\n.\r\n")
      let after = probe.receive(timeout: .seconds(5))
      #expect(after.bytes.isEmpty && after.closed)
    case .accept, .quota554:
      #expect(probe.receiveReply().hasPrefix("220 "))
      var last = ""
      for command in ["EHLO probe.test", "MAIL FROM:<a@example.test>", "RCPT TO:<b@example.test>", "DATA"] {
        try probe.send(command + "\r\n")
        last = probe.receiveReply()
      }
      #expect(last.hasPrefix("354"))
      try probe.send("Subject: x\r\n\r\nbody\r\n.\r\n")
      let reply = probe.receiveReply()
      if scenario == .accept {
        #expect(reply.hasPrefix("250 "))
        let arrivals = server.arrivals()
        #expect(arrivals.count == 1 && arrivals.first?.recipients == ["b@example.test"])
        #expect(abs((arrivals.first?.time ?? 0) - Date().timeIntervalSince1970) < 10)
      } else {
        #expect(reply.hasPrefix("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException"))
        #expect(server.transactions().isEmpty)
      }
    case .throttleFirst, .throttleAlways:
      for connection in 1...2 {
        let client = connection == 1 ? probe : try LoopbackProbe(host: server.host, port: server.port)
        #expect(client.receiveReply().hasPrefix("220 "))
        try client.send("EHLO probe.test\r\n")
        _ = client.receiveReply()
        try client.send("MAIL FROM:<a@example.test>\r\n")
        let reply = client.receiveReply()
        let throttled = connection == 1 || scenario == .throttleAlways
        #expect(reply.hasPrefix(throttled ? "421 4.7.0 Try again later" : "250 "), "connection \(connection)")
      }
    }
    #expect(try await server.waitForLog { $0 == "S: connected" })
  }

  @Test func faultLogShowsEveryClientLineInOrder() async throws {
    let server = try ServerProcess.fault(.noStartTLS)
    defer { server.stop() }
    do {
      let probe = try LoopbackProbe(host: server.host, port: server.port)
      _ = probe.receiveReply()
      try probe.send("EHLO probe.test\r\nNOOP\r\n")
      _ = probe.receive(timeout: .seconds(5)) { String(decoding: $0, as: UTF8.self).hasSuffix("250 2.0.0 ok\r\n") }
      try probe.send("QUIT\r\n")
      _ = probe.receiveReply()
    }
    #expect(try await server.waitForAllConnectionsClosed())
    #expect(server.clientLines() == ["EHLO probe.test", "NOOP", "QUIT"])
  }

  @Test func stoppedServerIsGoneAndItsPortClosed() async throws {
    let server = try ServerProcess.fault(.silent)
    #expect(server.isRunning)
    server.stop()
    #expect(!server.isRunning)
    #expect(server.exitStatus == 0, "a clean exit on SIGTERM, not SIGKILL after a timeout")
    #expect(throws: HarnessError.self) { try LoopbackProbe(host: server.host, port: server.port) }
    server.stop()  // twice is harmless
    let closed = try closedLoopbackPort()
    #expect(throws: HarnessError.self) { try LoopbackProbe(host: "127.0.0.1", port: closed) }
  }

  /// A child must start with no signal blocked, as from a shell (see `launchWithCleanSignalMask`).
  @Test func childrenStartWithNoSignalBlocked() async throws {
    let result = try await runProcess(
      URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "grep '^SigBlk' /proc/self/status"], timeout: .seconds(10))
    #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "SigBlk:\t0000000000000000")
  }

  @Test func runnerKillsAChildThatOutlivesItsTimeout() async throws {
    let sleep = try #require(TestEnvironment.findInPath("sleep"))
    let result = try await runProcess(sleep, arguments: ["30"], timeout: .milliseconds(300))
    #expect(result.timedOut)
    #expect(result.exit == 128 + SIGKILL)
    #expect(result.elapsedSeconds < 5)
  }

  @Test func mscSendBinaryRuns() async throws {
    let result = try await runMscSend(args: ["--help"], timeout: .seconds(20))
    #expect(!result.timedOut)
    #expect(result.exit == 0, "\(result.transcript)")
    #expect(!(result.stdout + result.stderr).isEmpty)
  }

  /// Sends `message` from a@example.test to b@ and c@example.test with `Tests/Servers/smtplib_client.py`.
  private func sendWithSmtplib(to server: ServerProcess, tls: String, extra: [String]) async throws -> ProcessResult {
    let python = try TestEnvironment.pythonWithAiosmtpd()
    let client = TestEnvironment.serversDirectory.appendingPathComponent("smtplib_client.py")
    let arguments = [
      client.path, "--host", server.host, "--port", String(server.port), "--tls", tls,
      "--ca-file", try TestCertificates.shared().ca.certificate.path,
      "--from", "a@example.test", "--to", "b@example.test", "--to", "c@example.test",
    ] + extra
    return try await runProcess(
      python, arguments: arguments, environment: TestEnvironment.pythonEnvironment, stdin: Data(Self.message.utf8),
      timeout: .seconds(30))
  }
}

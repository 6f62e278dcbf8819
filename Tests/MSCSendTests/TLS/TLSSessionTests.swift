import Foundation
import Testing
@testable import MSCSend

/// TLS against a real, independent TLS server (Python `ssl`) on loopback, with certificates made
/// by the `openssl` CLI. Serialized: each test starts its own server process.
@Suite("TLS session", .serialized)
struct TLSSessionTests {
  let pki: TestPKI

  init() throws { pki = try TestPKI.shared() }

  private func connect(
    _ server: TLSTestServer, host: String = "127.0.0.1", options: TLSOptions
  ) throws(TransportError) -> SocketTransport {
    try SocketTransport.connect(host: host, port: server.port, tls: options, implicitTLS: true, connectTimeout: 3)
  }

  /// Writes a line and expects it echoed back through TLS.
  private func expectEcho(_ transport: SocketTransport) throws {
    let line = Array("EHLO client.example\r\n".utf8)
    try transport.write(line, deadline: .after(seconds: 2))
    var received: [UInt8] = []
    let deadline = Deadline.after(seconds: 2)
    while received.count < line.count {
      let chunk = try transport.read(maxCount: 4096, deadline: deadline)
      if chunk.isEmpty { break }
      received += chunk
    }
    #expect(received == line)
  }

  private func expectTLSError(
    _ expected: (TLSError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
  ) {
    do {
      try body()
      Issue.record("expected a TLS error, the handshake succeeded", sourceLocation: sourceLocation)
    } catch {
      guard case .tls(let tlsError) = error as? TransportError else {
        Issue.record("expected a TLS error, got \(error)", sourceLocation: sourceLocation)
        return
      }
      #expect(expected(tlsError), "\(tlsError)", sourceLocation: sourceLocation)
    }
  }

  @Test func verifiesAgainstCAFileByHostName() throws {
    let server = try TLSTestServer(identity: pki.good)
    defer { server.stop() }
    let transport = try connect(server, options: TLSOptions(serverName: "localhost", caFile: pki.caFile))
    defer { transport.close() }
    let info = try #require(transport.tlsInfo)
    #expect(transport.isEncrypted)
    #expect(info.verified)
    #expect(info.protocolVersion == "TLSv1.3")
    #expect(!info.cipher.isEmpty && info.cipher != "unknown")
    #expect(info.peerSubject == "CN=localhost")
    #expect(info.peerIssuer == "CN=msc-send test CA")
    #expect(info.subjectAlternativeNames == ["DNS:localhost", "IP:127.0.0.1", "IP:::1"])
    #expect(info.fingerprintSHA256 == TLSSession.normalizedFingerprint(pki.goodFingerprintCLI))
    let notAfter = try #require(info.notAfter)
    let now = Date().timeIntervalSince1970
    #expect(notAfter > now + 29 * 86_400 && notAfter < now + 31 * 86_400)
    try expectEcho(transport)
  }

  @Test func verifiesIPv4LiteralAgainstIPSubjectAlternativeName() throws {
    let server = try TLSTestServer(identity: pki.good)
    defer { server.stop() }
    let transport = try connect(server, options: TLSOptions(serverName: "127.0.0.1", caFile: pki.caFile))
    defer { transport.close() }
    #expect(transport.tlsInfo?.verified == true)
    try expectEcho(transport)
  }

  @Test(.enabled(if: LoopbackListener.ipv6Available, "no IPv6 loopback here"))
  func verifiesIPv6LiteralAgainstIPSubjectAlternativeName() throws {
    let server = try TLSTestServer(identity: pki.good, host: "::1")
    defer { server.stop() }
    let transport = try connect(server, host: "::1", options: TLSOptions(serverName: "::1", caFile: pki.caFile))
    defer { transport.close() }
    #expect(transport.tlsInfo?.verified == true)
    #expect(transport.peerDescription == "::1 [::1]:\(server.port)")
    try expectEcho(transport)
  }

  @Test func ipLiteralMissingFromCertificateFails() throws {
    let server = try TLSTestServer(identity: pki.wrongName)
    defer { server.stop() }
    expectTLSError({ if case .verificationFailed(let text) = $0 { text.contains("127.0.0.1") } else { false } }) {
      _ = try connect(server, options: TLSOptions(serverName: "127.0.0.1", caFile: pki.caFile))
    }
  }

  @Test func selfSignedFailsAgainstSystemStore() throws {
    let server = try TLSTestServer(identity: pki.selfSigned)
    defer { server.stop() }
    expectTLSError({ if case .verificationFailed(let text) = $0 { text.contains("self-signed") } else { false } }) {
      _ = try connect(server, options: TLSOptions(serverName: "localhost"))
    }
  }

  @Test func wrongNameFails() throws {
    let server = try TLSTestServer(identity: pki.wrongName)
    defer { server.stop() }
    expectTLSError({
      if case .verificationFailed(let text) = $0 { text.contains("hostname mismatch") && text.contains("localhost") }
      else { false }
    }) {
      _ = try connect(server, options: TLSOptions(serverName: "localhost", caFile: pki.caFile))
    }
  }

  @Test func expiredCertificateFails() throws {
    let server = try TLSTestServer(identity: pki.expired)
    defer { server.stop() }
    expectTLSError({ if case .verificationFailed(let text) = $0 { text.contains("expired") } else { false } }) {
      _ = try connect(server, options: TLSOptions(serverName: "localhost", caFile: pki.caFile))
    }
  }

  @Test func matchingPinSucceeds() throws {
    let server = try TLSTestServer(identity: pki.good)
    defer { server.stop() }
    // The CLI's "AB:CD:..." form pins as well as lower-case hex.
    let options = TLSOptions(serverName: "localhost", caFile: pki.caFile, pinnedSHA256: pki.goodFingerprintCLI)
    let transport = try connect(server, options: options)
    defer { transport.close() }
    #expect(transport.tlsInfo?.verified == true)
    try expectEcho(transport)
  }

  @Test func pinAloneTrustsSelfSignedWhenVerificationIsOff() throws {
    let server = try TLSTestServer(identity: pki.selfSigned)
    defer { server.stop() }
    let pin = TLSSession.normalizedFingerprint(pki.selfSignedFingerprintCLI)
    let transport = try connect(server, options: TLSOptions(serverName: "localhost", verify: false, pinnedSHA256: pin))
    defer { transport.close() }
    #expect(transport.tlsInfo?.verified == false)
    #expect(transport.tlsInfo?.fingerprintSHA256 == pin)
  }

  @Test func mismatchedPinFailsEvenWhenChainVerifies() throws {
    let server = try TLSTestServer(identity: pki.good)
    defer { server.stop() }
    let wrongPin = String(repeating: "0", count: 64)
    let actual = TLSSession.normalizedFingerprint(pki.goodFingerprintCLI)
    expectTLSError({ $0 == .fingerprintMismatch(expected: wrongPin, actual: actual) }) {
      _ = try connect(
        server, options: TLSOptions(serverName: "localhost", caFile: pki.caFile, pinnedSHA256: wrongPin))
    }
  }

  @Test func verificationOffStillEncryptsAndSaysUnverified() throws {
    let server = try TLSTestServer(identity: pki.selfSigned)
    defer { server.stop() }
    let transport = try connect(server, options: TLSOptions(serverName: "localhost", verify: false))
    defer { transport.close() }
    #expect(transport.isEncrypted)
    #expect(transport.tlsInfo?.verified == false)
    #expect(transport.tlsInfo?.peerSubject == "CN=localhost")
    try expectEcho(transport)
  }

  @Test func tls11OnlyServerIsRefused() throws {
    let server = try TLSTestServer(identity: pki.good, mode: .tls11)
    defer { server.stop() }
    expectTLSError({ if case .handshakeFailed(let text) = $0 { text.contains("protocol") } else { false } }) {
      _ = try connect(server, options: TLSOptions(serverName: "localhost", caFile: pki.caFile))
    }
  }

  @Test func startTLSUpgradesInPlace() throws {
    let server = try TLSTestServer(identity: pki.good, mode: .starttls)
    defer { server.stop() }
    let transport = try SocketTransport.connect(
      host: "127.0.0.1", port: server.port, tls: TLSOptions(serverName: "localhost", caFile: pki.caFile),
      implicitTLS: false, connectTimeout: 3)
    defer { transport.close() }
    #expect(!transport.isEncrypted)
    #expect(try readLine(transport) == "220 ready\r\n")
    try transport.write(Array("STARTTLS\r\n".utf8), deadline: .after(seconds: 2))
    #expect(try readLine(transport) == "220 go ahead\r\n")
    let info = try transport.startTLS(deadline: .after(seconds: 3))
    #expect(info.verified)
    #expect(transport.isEncrypted)
    #expect(transport.tlsInfo == info)
    try expectEcho(transport)
  }

  @Test func readTimesOutInsideTLS() throws {
    let server = try TLSTestServer(identity: pki.good)
    defer { server.stop() }
    let transport = try connect(server, options: TLSOptions(serverName: "localhost", caFile: pki.caFile))
    defer { transport.close() }
    let start = Deadline.now()
    #expect(throws: TransportError.timeout) { try transport.read(maxCount: 100, deadline: .after(seconds: 0.3)) }
    let elapsed = secondsSince(start)
    #expect(elapsed >= 0.25 && elapsed < 1.5, "took \(elapsed) s")
  }

  @Test func closeWithoutCloseNotifyIsEndOfStream() throws {
    let server = try TLSTestServer(identity: pki.good, mode: .tlsThenClose)
    defer { server.stop() }
    let transport = try connect(server, options: TLSOptions(serverName: "localhost", caFile: pki.caFile))
    defer { transport.close() }
    #expect(try transport.read(maxCount: 100, deadline: .after(seconds: 2)) == [])
  }

  @Test func writeAfterServerLeftThrowsClosed() throws {
    let server = try TLSTestServer(identity: pki.good, mode: .tlsThenClose)
    defer { server.stop() }
    let transport = try connect(server, options: TLSOptions(serverName: "localhost", caFile: pki.caFile))
    defer { transport.close() }
    #expect(try transport.read(maxCount: 100, deadline: .after(seconds: 2)) == [])
    // The first records may still be accepted locally; the peer's RST fails a later one. SIGPIPE
    // is ignored, or this test would kill the test process.
    var outcome: TransportError?
    for _ in 0..<200 where outcome == nil {
      do {
        try transport.write(Array(repeating: 0x41, count: 1024), deadline: .after(seconds: 1))
        usleep(1_000)
      } catch {
        outcome = error
      }
    }
    #expect(outcome == .closed)
  }

  @Test func implicitTLSAgainstAPlaintextGreetingFailsTheHandshake() throws {
    let server = try TLSTestServer(identity: pki.good, mode: .starttls)
    defer { server.stop() }
    expectTLSError({
      if case .handshakeFailed(let text) = $0 { text.contains("wrong version number") } else { false }
    }) {
      _ = try connect(server, options: TLSOptions(serverName: "localhost", caFile: pki.caFile))
    }
  }

  @Test func missingCAFileIsASetupErrorNamingThePath() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    let path = pki.directory + "/does-not-exist.pem"
    expectTLSError({ if case .setup(let text) = $0 { text.contains(path) } else { false } }) {
      _ = try SocketTransport.connect(
        host: "127.0.0.1", port: listener.port, tls: TLSOptions(serverName: "localhost", caFile: path),
        implicitTLS: true, connectTimeout: 2)
    }
  }

  @Test func caFileWithoutCertificatesIsASetupError() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    let path = pki.directory + "/not-a-certificate.pem"
    try "hello\n".write(toFile: path, atomically: true, encoding: .utf8)
    expectTLSError({ if case .setup(let text) = $0 { text.contains(path) } else { false } }) {
      _ = try SocketTransport.connect(
        host: "127.0.0.1", port: listener.port, tls: TLSOptions(serverName: "localhost", caFile: path),
        implicitTLS: true, connectTimeout: 2)
    }
  }

  /// Reads until CRLF (test helper; the SMTP layer has the real line reader).
  private func readLine(_ transport: SocketTransport) throws -> String {
    var line: [UInt8] = []
    let deadline = Deadline.after(seconds: 2)
    while line.last != UInt8(ascii: "\n") && line.count < 1000 {
      let byte = try transport.read(maxCount: 1, deadline: deadline)
      if byte.isEmpty { break }
      line += byte
    }
    return String(decoding: line, as: UTF8.self)
  }
}

import Foundation
import Glibc
import Testing
@testable import MSCSend

/// TCP behaviour of `SocketTransport` against listeners the test drives itself (127.0.0.1 and
/// ::1 only). Serialized: the suite opens sockets and measures timeouts.
@Suite("Socket transport", .serialized)
struct SocketTransportTests {
  private func expectConnectError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
  ) -> TransportError? {
    do {
      try body()
      Issue.record("expected an error", sourceLocation: sourceLocation)
      return nil
    } catch {
      guard let error = error as? TransportError else {
        Issue.record("expected a TransportError, got \(error)", sourceLocation: sourceLocation)
        return nil
      }
      return error
    }
  }

  @Test func refusedPortReportsEveryAttempt() throws {
    let bound = try LoopbackListener(listening: false)
    defer { bound.close() }
    let error = expectConnectError {
      _ = try SocketTransport.connect(
        host: "127.0.0.1", port: bound.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    }
    #expect(error == .connect(host: "127.0.0.1", port: bound.port, attempts: ["127.0.0.1: Connection refused"]))
  }

  @Test func unresolvableHostIsAResolveError() {
    let error = expectConnectError {
      _ = try SocketTransport.connect(
        host: "no-such-host.invalid", port: 25, tls: nil, implicitTLS: false, connectTimeout: 3)
    }
    guard case .resolve(let host, let reason) = error else {
      Issue.record("expected .resolve, got \(String(describing: error))")
      return
    }
    #expect(host == "no-such-host.invalid")
    #expect(!reason.isEmpty)
  }

  @Test func connectTimeoutIsHonoured() throws {
    // A full accept queue (backlog 0 and one connection waiting) makes Linux drop further SYNs,
    // which looks like an unreachable host without leaving loopback.
    let listener = try LoopbackListener(backlog: 0)
    defer { listener.close() }
    let first = try SocketTransport.connect(
      host: "127.0.0.1", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    defer { first.close() }
    let start = Deadline.now()
    let error = expectConnectError {
      _ = try SocketTransport.connect(
        host: "127.0.0.1", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 0.4)
    }
    let elapsed = secondsSince(start)
    #expect(error == .connect(host: "127.0.0.1", port: listener.port, attempts: ["127.0.0.1: timed out"]))
    #expect(elapsed >= 0.35 && elapsed < 1.5, "took \(elapsed) s")
  }

  @Test func ipv4LoopbackConnection() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    let transport = try SocketTransport.connect(
      host: "127.0.0.1", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    defer { transport.close() }
    let server = try listener.accept()
    defer { close(server) }
    #expect(transport.peerIsLoopback)
    #expect(!transport.isEncrypted)
    #expect(transport.peerDescription == "127.0.0.1 [127.0.0.1]:\(listener.port)")
    #expect(transport.connectedAddress == "127.0.0.1")
    #expect(transport.failedAttempts.isEmpty)
    #expect(transport.connectDuration >= 0 && transport.connectDuration < 2)

    writeAll(server, "220 hello\r\n")
    #expect(try transport.read(maxCount: 100, deadline: .after(seconds: 2)) == Array("220 hello\r\n".utf8))
    try transport.write(Array("QUIT\r\n".utf8), deadline: .after(seconds: 2))
    var buffer = [UInt8](repeating: 0, count: 100)
    #expect(waitReadable(server, timeout: 2))
    let count = recv(server, &buffer, buffer.count, 0)
    #expect(Array(buffer.prefix(max(0, count))) == Array("QUIT\r\n".utf8))
  }

  @Test(.enabled(if: LoopbackListener.ipv6Available, "no IPv6 loopback here"))
  func ipv6LoopbackConnection() throws {
    let listener = try LoopbackListener(host: "::1")
    defer { listener.close() }
    let transport = try SocketTransport.connect(
      host: "::1", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    defer { transport.close() }
    #expect(transport.peerIsLoopback)
    #expect(transport.peerAddress.family == AF_INET6)
    #expect(transport.peerDescription == "::1 [::1]:\(listener.port)")
  }

  @Test func hostNameResolvesToLoopbackByAddress() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    // "localhost" may resolve to ::1 first, where nothing listens: that attempt is recorded and
    // the IPv4 address is tried next.
    let transport = try SocketTransport.connect(
      host: "localhost", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    defer { transport.close() }
    #expect(transport.peerIsLoopback)
    #expect(transport.peerDescription == "localhost [127.0.0.1]:\(listener.port)")
    #expect(transport.failedAttempts.allSatisfy { $0.hasPrefix("::1: ") })
  }

  @Test func readTimesOutWhenServerStaysSilent() throws {
    let listener = try LoopbackListener()  // never accepts, never writes
    defer { listener.close() }
    let transport = try SocketTransport.connect(
      host: "127.0.0.1", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    defer { transport.close() }
    let start = Deadline.now()
    #expect(throws: TransportError.timeout) { try transport.read(maxCount: 100, deadline: .after(seconds: 0.3)) }
    let elapsed = secondsSince(start)
    #expect(elapsed >= 0.25 && elapsed < 1.5, "took \(elapsed) s")
  }

  @Test func readReturnsEmptyAtEndOfStream() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    let transport = try SocketTransport.connect(
      host: "127.0.0.1", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    defer { transport.close() }
    close(try listener.accept())
    #expect(try transport.read(maxCount: 100, deadline: .after(seconds: 2)) == [])
  }

  @Test func writeToAGonePeerThrowsClosed() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    let transport = try SocketTransport.connect(
      host: "127.0.0.1", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    defer { transport.close() }
    close(try listener.accept())
    // The first write may still be accepted locally; the peer's RST then fails the next one.
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

  @Test func largeWriteArrivesComplete() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    let transport = try SocketTransport.connect(
      host: "127.0.0.1", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    defer { transport.close() }
    let server = try listener.accept()
    // Several socket buffers' worth: send(2) must come back partial and EAGAIN along the way.
    let payload = Crypto.randomBytes(8 << 20)
    let drained = DrainedBytes()
    let done = DispatchSemaphore(value: 0)
    Thread {
      drained.drain(fd: server)
      close(server)
      done.signal()
    }.start()
    try transport.write(payload, deadline: .after(seconds: 5))
    transport.close()
    #expect(done.wait(timeout: .now() + 5) == .success)
    #expect(drained.digest == Crypto.digest(.sha256, payload))
  }

  @Test func startTLSRefusesPlaintextAlreadyWaiting() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    let transport = try SocketTransport.connect(
      host: "127.0.0.1", port: listener.port, tls: TLSOptions(serverName: "localhost"), implicitTLS: false,
      connectTimeout: 2)
    defer { transport.close() }
    let server = try listener.accept()
    defer { close(server) }
    // What an attacker injects behind the server's "220 ready": a reply the client would read as
    // if it had come through TLS (CVE-2021-38371).
    writeAll(server, "250-injected\r\n")
    #expect(waitReadable(transport.fd, timeout: 2))
    #expect(throws: TransportError.plaintextBeforeHandshake) {
      _ = try transport.startTLS(deadline: .after(seconds: 2))
    }
    // Nothing may continue in plaintext after a failed upgrade.
    #expect(!transport.isEncrypted)
    #expect(throws: TransportError.closed) { try transport.write(Array("AUTH\r\n".utf8), deadline: .after(seconds: 1)) }
  }

  @Test func closeIsIdempotent() throws {
    let listener = try LoopbackListener()
    defer { listener.close() }
    let transport = try SocketTransport.connect(
      host: "127.0.0.1", port: listener.port, tls: nil, implicitTLS: false, connectTimeout: 2)
    transport.close()
    transport.close()
    #expect(throws: TransportError.closed) { try transport.read(maxCount: 1, deadline: .after(seconds: 1)) }
    #expect(throws: TransportError.closed) { _ = try transport.startTLS(deadline: .after(seconds: 1)) }
  }

  @Test(arguments: [
    ("127.0.0.1", true), ("127.255.3.4", true), ("128.0.0.1", false), ("10.0.0.1", false),
    ("::1", true), ("::2", false), ("::", false), ("::ffff:127.0.0.1", true), ("::ffff:10.0.0.1", false),
    ("fe80::1", false), ("2001:db8::127", false),
  ])
  func loopbackIsDecidedByAddress(address: String, loopback: Bool) throws {
    let parsed = try #require(SocketAddress(numericHost: address, port: 25))
    #expect(parsed.isLoopback == loopback)
  }

  @Test func addressDescriptions() throws {
    #expect(SocketAddress(numericHost: "192.0.2.1", port: 587)?.description == "192.0.2.1:587")
    #expect(SocketAddress(numericHost: "2001:db8::1", port: 465)?.description == "[2001:db8::1]:465")
    #expect(SocketAddress(numericHost: "smtp.example.com", port: 25) == nil)
  }
}

/// Reads a socket to its end on another thread and keeps the sha256 of what came.
private final class DrainedBytes: @unchecked Sendable {
  private let lock = NSLock()
  private var bytes: [UInt8] = []

  func drain(fd: Int32) {
    var buffer = [UInt8](repeating: 0, count: 65536)
    var collected: [UInt8] = []
    while waitReadable(fd, timeout: 5) {
      let count = recv(fd, &buffer, buffer.count, 0)
      if count <= 0 { break }
      collected += buffer.prefix(count)
    }
    lock.withLock { bytes = collected }
  }

  var digest: [UInt8] { lock.withLock { Crypto.digest(.sha256, bytes) } }
}

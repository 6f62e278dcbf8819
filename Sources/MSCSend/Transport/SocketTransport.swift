import Glibc

/// A TCP connection to an SMTP server, optionally inside TLS: the real `Transport`. The Transport
/// folder owns sockets, name resolution and timeouts; TLS itself lives in `TLS/` (`TLSSession`).
///
/// The socket is non-blocking from start to end; every wait is a poll(2) bounded by the caller's
/// deadline, so a silent server costs a timeout, never a hang (RFC 5321 section 4.5.3.2).
public final class SocketTransport: Transport {
  /// The host as the caller gave it (name or address literal).
  public let host: String
  public let port: UInt16
  /// The address the connection went to.
  public let peerAddress: SocketAddress
  /// `peerAddress` in numeric form without port ("192.0.2.1", "2001:db8::1"), for `check`.
  public var connectedAddress: String { peerAddress.numericHost }
  /// Seconds from the start of `connect` until TCP was established (before any TLS).
  public let connectDuration: Double
  /// "address: reason" for every address that failed before `peerAddress` answered.
  public let failedAttempts: [String]
  /// The TLS session's facts once TLS is active.
  public private(set) var tlsInfo: TLSSessionInfo?

  /// -1 once closed. Internal so that tests can wait on it.
  private(set) var fd: Int32
  private var tls: TLSSession?
  private let tlsOptions: TLSOptions

  private init(
    fd: Int32, host: String, port: UInt16, peerAddress: SocketAddress, connectDuration: Double,
    failedAttempts: [String], tlsOptions: TLSOptions
  ) {
    self.fd = fd
    self.host = host
    self.port = port
    self.peerAddress = peerAddress
    self.connectDuration = connectDuration
    self.failedAttempts = failedAttempts
    self.tlsOptions = tlsOptions
  }

  deinit { close() }

  /// Connects to `host` (a name, or an address literal without brackets) on `port`, trying every
  /// address getaddrinfo returns, IPv6 and IPv4, in its order. `connectTimeout` bounds the whole
  /// call: resolution, every TCP attempt and, with `implicitTLS`, the handshake (RFC 8314).
  ///
  /// `tls` is used for implicit TLS and for a later `startTLS`; without it, TLS verifies the
  /// certificate against `host` with the system trust store.
  public static func connect(
    host: String, port: UInt16, tls: TLSOptions?, implicitTLS: Bool, connectTimeout: Double
  ) throws(TransportError) -> SocketTransport {
    ignoreSIGPIPE()
    let started = Deadline.now()
    let deadline = Deadline.after(seconds: connectTimeout)
    let addresses = try AddressResolver.resolve(host: host, port: port, deadline: deadline)

    var failures: [String] = []
    for (index, address) in addresses.enumerated() {
      // Share what is left among the addresses still to try, so one black-holed address cannot
      // use up the time of the others; time an address leaves unused passes on to the next.
      let now = Deadline.now().nanoseconds
      guard deadline.nanoseconds > now else {
        failures.append("\(address.numericHost): not tried, connect timeout used up")
        continue
      }
      let share = (deadline.nanoseconds - now) / UInt64(addresses.count - index)
      let attemptDeadline = Deadline(nanoseconds: now + share)
      switch attempt(address, deadline: attemptDeadline) {
      case .failure(let reason):
        failures.append("\(address.numericHost): \(reason.text)")
      case .success(let fd):
        let elapsed = Double(Deadline.now().nanoseconds - started.nanoseconds) / 1e9
        let transport = SocketTransport(
          fd: fd, host: host, port: port, peerAddress: address, connectDuration: elapsed,
          failedAttempts: failures, tlsOptions: tls ?? TLSOptions(serverName: host))
        if implicitTLS {
          // No plaintext check here: nothing was negotiated in plaintext, and a server that greets
          // in plaintext (a STARTTLS port) fails the handshake with a clearer reason.
          _ = try transport.upgrade(deadline: deadline, refusePendingPlaintext: false)
        }
        return transport
      }
    }
    throw .connect(host: host, port: port, attempts: failures)
  }

  private struct AttemptFailure: Error {
    let text: String
  }

  /// One non-blocking connect(2), waited for with poll(2) until `deadline`.
  private static func attempt(_ address: SocketAddress, deadline: Deadline) -> Result<Int32, AttemptFailure> {
    let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
      | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_TCP))
    guard fd >= 0 else { return .failure(AttemptFailure(text: "socket: \(SocketWait.errorText(errno))")) }
    var connected = false
    defer { if !connected { Glibc.close(fd) } }

    if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) != 0 {
      let code = errno
      // An interrupted connect goes on in the background, like one in progress.
      guard code == EINPROGRESS || code == EINTR else {
        return .failure(AttemptFailure(text: SocketWait.errorText(code)))
      }
      do {
        try SocketWait.wait(fd: fd, for: .writable, deadline: deadline)
      } catch .timeout {
        return .failure(AttemptFailure(text: "timed out"))
      } catch {
        return .failure(AttemptFailure(text: "\(error)"))
      }
      var pending: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 else {
        return .failure(AttemptFailure(text: SocketWait.errorText(errno)))
      }
      guard pending == 0 else { return .failure(AttemptFailure(text: SocketWait.errorText(pending))) }
    }
    // SMTP writes whole commands and pipelined batches; waiting for ACKs only adds latency.
    var on: Int32 = 1
    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    connected = true
    return .success(fd)
  }

  /// Ignores SIGPIPE for the whole process, once. Plain writes use MSG_NOSIGNAL, but OpenSSL
  /// writes with write(2), and a server that has gone away would otherwise kill the process
  /// instead of producing an error. `connect` calls it; a CLI may call it first thing.
  public static func ignoreSIGPIPE() {
    _ = sigpipeIgnored
  }

  private static let sigpipeIgnored: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return true
  }()

  // MARK: Transport

  /// The local end's numeric address (getsockname), for an EHLO address literal.
  public var localAddress: String? {
    guard fd >= 0 else { return nil }
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let result = withUnsafeMutablePointer(to: &storage) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard result == 0 else { return nil }
    return withUnsafePointer(to: &storage) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(pointer: $0, length: length) }
    }?.numericHost
  }

  public var isEncrypted: Bool { tls != nil }

  public var peerIsLoopback: Bool { peerAddress.isLoopback }

  /// "smtp.example.com [192.0.2.1]:587".
  public var peerDescription: String { "\(host) [\(peerAddress.numericHost)]:\(port)" }

  public func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError) {
    guard fd >= 0 else { throw .closed }
    if let tls { return try tls.write(bytes, deadline: deadline) }
    var offset = 0
    while offset < bytes.count {
      let sent = bytes.withUnsafeBytes { raw -> Int in
        guard let base = raw.baseAddress else { return 0 }
        return send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
      }
      if sent > 0 {
        offset += sent
        continue
      }
      let code = errno
      switch code {
      case EINTR:
        continue
      case EAGAIN, EWOULDBLOCK:
        try SocketWait.wait(fd: fd, for: .writable, deadline: deadline)
      case EPIPE, ECONNRESET:
        throw .closed
      default:
        throw .io("send: \(SocketWait.errorText(code))")
      }
    }
  }

  public func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8] {
    guard fd >= 0 else { throw .closed }
    if let tls { return try tls.read(maxCount: maxCount, deadline: deadline) }
    var buffer = [UInt8](repeating: 0, count: max(1, min(maxCount, 1 << 20)))
    while true {
      let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if received >= 0 { return Array(buffer.prefix(received)) }
      let code = errno
      switch code {
      case EINTR:
        continue
      case EAGAIN, EWOULDBLOCK:
        try SocketWait.wait(fd: fd, for: .readable, deadline: deadline)
      case ECONNRESET:
        throw .closed
      default:
        throw .io("recv: \(SocketWait.errorText(code))")
      }
    }
  }

  /// Upgrades in place. Before the ClientHello the socket must hold no unread byte: anything the
  /// server sent after its `220` was sent in plaintext and would be taken for a TLS-protected
  /// reply (STARTTLS response injection, CVE-2021-38371; msmtp refuses the same way). On any
  /// failure the connection is closed, so nothing can continue in plaintext by mistake.
  public func startTLS(deadline: Deadline) throws(TransportError) -> TLSSessionInfo {
    try upgrade(deadline: deadline, refusePendingPlaintext: true)
  }

  private func upgrade(deadline: Deadline, refusePendingPlaintext: Bool) throws(TransportError) -> TLSSessionInfo {
    guard fd >= 0 else { throw .closed }
    guard tls == nil else { throw .tls(.setup("TLS is already active on this connection")) }
    do {
      if refusePendingPlaintext { try ensureNoPendingPlaintext() }
      let session = try TLSSession.handshake(fd: fd, options: tlsOptions, deadline: deadline)
      tls = session
      tlsInfo = session.info
      return session.info
    } catch {
      close()
      throw error
    }
  }

  private func ensureNoPendingPlaintext() throws(TransportError) {
    var byte: UInt8 = 0
    while true {
      let peeked = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
      if peeked > 0 { throw .plaintextBeforeHandshake }
      if peeked == 0 { throw .closed }
      let code = errno
      if code == EINTR { continue }
      if code == EAGAIN || code == EWOULDBLOCK { return }
      if code == ECONNRESET { throw .closed }
      throw .io("recv: \(SocketWait.errorText(code))")
    }
  }

  /// Sends TLS close_notify when TLS is up (best effort), then closes the socket. Idempotent.
  public func close() {
    tls?.close()
    tls = nil
    guard fd >= 0 else { return }
    Glibc.close(fd)
    fd = -1
  }
}

// MARK: - Server side (msc-send sink)

extension SocketTransport {
  /// Wraps a connection accepted by `SocketListener`: `fd` is non-blocking and close-on-exec, and
  /// the transport owns it from now on.
  static func accepted(fd: Int32, peer: SocketAddress) -> SocketTransport {
    var on: Int32 = 1
    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    return SocketTransport(
      fd: fd, host: peer.numericHost, port: peer.port, peerAddress: peer, connectDuration: 0,
      failedAttempts: [], tlsOptions: TLSOptions(serverName: peer.numericHost))
  }

  /// The server side of STARTTLS (RFC 3207 section 4), after the 220: the caller has dropped
  /// every byte it had read in plaintext. On failure the connection is closed.
  func acceptTLS(context: TLSServerContext, deadline: Deadline) throws(TransportError) -> TLSSessionInfo {
    guard fd >= 0 else { throw .closed }
    guard tls == nil else { throw .tls(.setup("TLS is already active on this connection")) }
    do {
      let session = try context.accept(fd: fd, deadline: deadline)
      tls = session
      tlsInfo = session.info
      return session.info
    } catch {
      close()
      throw error
    }
  }

  /// Shuts both directions down without closing the descriptor, so that a thread waiting on it
  /// wakes up at once (the sink stopping). The owner still calls `close()`; the caller makes
  /// sure that has not happened yet.
  func shutDownConnection() {
    guard fd >= 0 else { return }
    _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
  }
}

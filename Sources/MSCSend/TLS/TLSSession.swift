import COpenSSL
import Glibc

/// TLS on a connected, non-blocking TCP socket (OpenSSL). Used for implicit TLS (RFC 8314) and
/// after STARTTLS (RFC 3207); `SocketTransport` owns the socket, this type owns the `SSL`.
///
/// OpenSSL writes to the socket with plain write(2), which raises SIGPIPE when the peer has gone;
/// `SocketTransport.ignoreSIGPIPE()` must have run first (`SocketTransport.connect` does that).
final class TLSSession {
  /// What the handshake settled.
  let info: TLSSessionInfo
  private let fd: Int32
  /// Owned; freed exactly once, by `close()` or deinit.
  private var ssl: OpaquePointer?
  /// After a fatal error OpenSSL forbids SSL_shutdown.
  private var failed = false

  /// Takes ownership of `ssl`, whose handshake on `fd` is complete (client side here, server side
  /// in `TLSServerContext`).
  init(fd: Int32, ssl: OpaquePointer, info: TLSSessionInfo) {
    self.fd = fd
    self.ssl = ssl
    self.info = info
  }

  deinit { close() }

  /// Runs the client handshake on `fd`, verifies the peer as `options` asks, and returns the
  /// session. On failure nothing is left allocated and the socket is left to the caller.
  static func handshake(fd: Int32, options: TLSOptions, deadline: Deadline) throws(TransportError) -> TLSSession {
    let serverName = ServerName(options.serverName)
    if options.verifiesChain && serverName.bare.isEmpty {
      throw .tls(.setup("no server name to verify the certificate against"))
    }
    guard !serverName.bare.utf8.contains(0) else { throw .tls(.setup("invalid server name")) }

    let context: OpaquePointer
    do { context = try TLSContext.make(options: options) } catch { throw .tls(error) }
    let created = SSL_new(context)
    SSL_CTX_free(context)  // the SSL holds its own reference
    guard let ssl = created else {
      throw .tls(.setup("cannot create TLS session: \(TLSContext.drainErrorQueue())"))
    }
    var handedOver = false
    defer { if !handedOver { SSL_free(ssl) } }

    guard SSL_set_fd(ssl, fd) == 1 else {
      throw .tls(.setup("cannot attach TLS to the socket: \(TLSContext.drainErrorQueue())"))
    }
    if !serverName.isIPLiteral && !serverName.bare.isEmpty {
      // SNI carries host names only, never address literals (RFC 6066 section 3).
      guard msc_SSL_set_tlsext_host_name(ssl, serverName.bare) == 1 else {
        throw .tls(.setup("cannot set SNI \(serverName.bare): \(TLSContext.drainErrorQueue())"))
      }
    }
    if options.verifiesChain {
      // OpenSSL 3 parses an address literal here and then checks the IP SANs; names are checked
      // against DNS SANs, a wildcard only as a whole left-most label (RFC 9525 section 6.3).
      SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
      guard SSL_set1_host(ssl, serverName.bare) == 1 else {
        throw .tls(.setup("cannot set the name to verify (\(serverName.bare)): \(TLSContext.drainErrorQueue())"))
      }
    }

    try runHandshake(ssl: ssl, fd: fd, options: options, serverName: serverName.bare, deadline: deadline)

    guard let certificate = SSL_get1_peer_certificate(ssl) else {
      throw .tls(.handshakeFailed("the server sent no certificate"))
    }
    defer { X509_free(certificate) }
    let peer: PeerCertificate
    do { peer = try PeerCertificate(certificate: certificate) } catch { throw .tls(error) }

    let chainVerified = options.verifiesChain && SSL_get_verify_result(ssl) == Int(X509_V_OK)
    if options.verifiesChain && !chainVerified {
      throw .tls(.verificationFailed(verificationReason(ssl: ssl, serverName: serverName.bare)))
    }
    if let pinned = options.pinnedSHA256 {
      let expected = normalizedFingerprint(pinned)
      guard expected == peer.fingerprintSHA256 else {
        throw .tls(.fingerprintMismatch(expected: expected, actual: peer.fingerprintSHA256))
      }
    }
    // A matching pin is verification (stronger than a chain: it names the one certificate).
    let verified = chainVerified || (options.verify && options.pinnedSHA256 != nil)

    let info = TLSSessionInfo(
      protocolVersion: cString(SSL_get_version(ssl)) ?? "unknown",
      cipher: cString(SSL_CIPHER_get_name(SSL_get_current_cipher(ssl))) ?? "unknown",
      peerSubject: peer.subject, peerIssuer: peer.issuer,
      subjectAlternativeNames: peer.subjectAlternativeNames, notAfter: peer.notAfter,
      fingerprintSHA256: peer.fingerprintSHA256, verified: verified)
    handedOver = true
    return TLSSession(fd: fd, ssl: ssl, info: info)
  }

  /// SSL_connect until done, waiting on the socket as OpenSSL asks.
  private static func runHandshake(
    ssl: OpaquePointer, fd: Int32, options: TLSOptions, serverName: String, deadline: Deadline
  ) throws(TransportError) {
    let outcome = try retrying(ssl: ssl, fd: fd, deadline: deadline) { SSL_connect(ssl) }
    guard outcome.failed else { return }
    // A trust failure aborts the handshake with an alert; report it as such (exit 77), not as
    // a generic handshake failure.
    if options.verifiesChain && SSL_get_verify_result(ssl) != Int(X509_V_OK) {
      ERR_clear_error()
      throw .tls(.verificationFailed(verificationReason(ssl: ssl, serverName: serverName)))
    }
    let reason =
      TLSContext.drainErrorQueueIfAny()
      ?? (outcome.savedErrno == 0 ? "the server closed the connection" : SocketWait.errorText(outcome.savedErrno))
    throw .tls(.handshakeFailed("TLS handshake with \(serverName): \(reason)"))
  }

  /// The end of an OpenSSL call run by `retrying`.
  struct CallOutcome {
    let result: Int32
    /// SSL_get_error's code; SSL_ERROR_NONE on success.
    let code: Int32
    let savedErrno: Int32
    var failed: Bool { result <= 0 }
  }

  /// Runs a non-blocking OpenSSL call (handshake, read, write) until it succeeds or fails with
  /// something other than WANT_READ/WANT_WRITE, waiting on the socket as OpenSSL asks, within
  /// `deadline`. The one place that loops on OpenSSL's retry codes.
  static func retrying(ssl: OpaquePointer, fd: Int32, deadline: Deadline, _ call: () -> Int32)
    throws(TransportError) -> CallOutcome
  {
    while true {
      ERR_clear_error()
      let result = call()
      if result > 0 { return CallOutcome(result: result, code: SSL_ERROR_NONE, savedErrno: 0) }
      let code = SSL_get_error(ssl, result)
      let savedErrno = errno
      switch code {
      case SSL_ERROR_WANT_READ: try SocketWait.wait(fd: fd, for: .readable, deadline: deadline)
      case SSL_ERROR_WANT_WRITE: try SocketWait.wait(fd: fd, for: .writable, deadline: deadline)
      default: return CallOutcome(result: result, code: code, savedErrno: savedErrno)
      }
    }
  }

  /// Reads at least one and at most `maxCount` decrypted bytes; `[]` at end of stream (the
  /// peer's close_notify, or a TCP close without it: SMTP replies delimit themselves).
  func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8] {
    guard let ssl else { throw .closed }
    var buffer = [UInt8](repeating: 0, count: max(1, min(maxCount, 1 << 20)))
    let outcome = try Self.retrying(ssl: ssl, fd: fd, deadline: deadline) {
      buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
    }
    if !outcome.failed { return Array(buffer.prefix(Int(outcome.result))) }
    if outcome.code == SSL_ERROR_ZERO_RETURN { return [] }
    if let error = fatal(code: outcome.code, errno: outcome.savedErrno) { throw error }
    return []
  }

  /// Writes every byte of `bytes`, record by record.
  func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError) {
    guard let ssl else { throw .closed }
    var offset = 0
    while offset < bytes.count {
      let outcome = try Self.retrying(ssl: ssl, fd: fd, deadline: deadline) {
        bytes.withUnsafeBytes { raw -> Int32 in
          guard let base = raw.baseAddress else { return 0 }
          return SSL_write(ssl, base + offset, Int32(clamping: raw.count - offset))
        }
      }
      if !outcome.failed {
        offset += Int(outcome.result)
        continue
      }
      if outcome.code == SSL_ERROR_ZERO_RETURN { throw .closed }
      throw fatal(code: outcome.code, errno: outcome.savedErrno) ?? .closed
    }
  }

  /// The error for a fatal SSL_read/SSL_write result; nil for a bare TCP end of stream (a system
  /// call error with errno 0 and no OpenSSL reason). The session is unusable afterwards.
  private func fatal(code: Int32, errno savedErrno: Int32) -> TransportError? {
    failed = true
    let queue = TLSContext.drainErrorQueueIfAny()
    if code == SSL_ERROR_SYSCALL {
      if savedErrno == EPIPE || savedErrno == ECONNRESET { return .closed }
      if savedErrno != 0 { return .io(SocketWait.errorText(savedErrno)) }
      guard let queue else { return nil }
      return .tls(.handshakeFailed("TLS record layer: \(queue)"))
    }
    return .tls(.handshakeFailed("TLS record layer: \(queue ?? "error \(code)")"))
  }

  /// Sends close_notify if the session is healthy (best effort, no waiting: the socket is about
  /// to be closed anyway) and frees the session. Idempotent.
  func close() {
    guard let ssl else { return }
    if !failed {
      ERR_clear_error()
      _ = SSL_shutdown(ssl)
    }
    ERR_clear_error()
    SSL_free(ssl)
    self.ssl = nil
  }

  /// OpenSSL's verification reason, with the name we checked against.
  private static func verificationReason(ssl: OpaquePointer, serverName: String) -> String {
    let result = SSL_get_verify_result(ssl)
    let reason = cString(X509_verify_cert_error_string(result)) ?? "verification error \(result)"
    return "\(reason) (server name \(serverName))"
  }

  /// Lower-case hex without separators, so "AB:CD:..." from `openssl x509 -fingerprint` also pins.
  static func normalizedFingerprint(_ text: String) -> String {
    String(text.lowercased().unicodeScalars.filter { $0 != ":" && $0 != " " })
  }

  static func cString(_ pointer: UnsafePointer<CChar>?) -> String? {
    guard let pointer else { return nil }
    return String(cString: pointer)
  }
}

/// The name a certificate is checked against, with brackets and an IPv6 zone removed, and
/// whether it is an address literal (verified against IP SANs, no SNI).
struct ServerName {
  let bare: String
  let isIPLiteral: Bool

  init(_ name: String) {
    var bare = name
    if bare.hasPrefix("[") && bare.hasSuffix("]") && bare.count >= 2 { bare = String(bare.dropFirst().dropLast()) }
    var scratch = [UInt8](repeating: 0, count: 16)
    if inet_pton(AF_INET, bare, &scratch) == 1 {
      isIPLiteral = true
    } else {
      let withoutZone = bare.split(separator: "%", maxSplits: 1).first.map(String.init) ?? bare
      if bare.contains(":") && inet_pton(AF_INET6, withoutZone, &scratch) == 1 {
        bare = withoutZone
        isIPLiteral = true
      } else {
        isIPLiteral = false
      }
    }
    self.bare = bare
  }
}

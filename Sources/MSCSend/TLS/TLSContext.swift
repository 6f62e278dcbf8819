import COpenSSL
import Glibc

/// Builds the OpenSSL client context for one connection. The TLS folder owns every OpenSSL call;
/// the rest of the code sees `TLSOptions` in and `TLSSessionInfo` or `TLSError` out.
enum TLSContext {
  /// A fresh `SSL_CTX` for `options`; the caller frees it (after `SSL_new`, which keeps its own
  /// reference). TLS 1.2 is the floor (RFC 8996 deprecates 1.0 and 1.1; RFC 8314 section 4.1),
  /// compression is off (CRIME), renegotiation is refused.
  static func make(options: TLSOptions) throws(TLSError) -> OpaquePointer {
    ERR_clear_error()
    guard let context = SSL_CTX_new(TLS_client_method()) else {
      throw .setup("cannot create TLS context: \(drainErrorQueue())")
    }
    var ready = false
    defer { if !ready { SSL_CTX_free(context) } }

    guard msc_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
      throw .setup("cannot require TLS 1.2: \(drainErrorQueue())")
    }
    _ = SSL_CTX_set_options(
      context,
      msc_SSL_OP_NO_COMPRESSION() | msc_SSL_OP_NO_RENEGOTIATION() | msc_SSL_OP_IGNORE_UNEXPECTED_EOF())
    // Non-blocking writes: accept a partial write, and a retried write whose buffer moved.
    _ = msc_SSL_CTX_set_mode(
      context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE) | Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))

    if options.verifiesChain {
      // A missing system store is not fatal on its own: `caFile` may be the only anchor.
      _ = SSL_CTX_set_default_verify_paths(context)
      ERR_clear_error()
    }
    if let caFile = options.caFile {
      try loadTrustAnchors(context: context, path: caFile)
    }
    SSL_CTX_set_verify(context, options.verifiesChain ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
    ready = true
    return context
  }

  /// Adds the PEM certificates in `path` as trust anchors. A missing or unusable file is a setup
  /// error naming the path: silently verifying against the system store alone would turn a typo
  /// in the configuration into a confusing verification failure later.
  private static func loadTrustAnchors(context: OpaquePointer, path: String) throws(TLSError) {
    guard !path.isEmpty, !path.utf8.contains(0) else { throw .setup("CA file: invalid path \"\(path)\"") }
    guard access(path, R_OK) == 0 else {
      throw .setup("CA file \(path): \(SocketWait.errorText(errno))")
    }
    ERR_clear_error()
    guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
      throw .setup("CA file \(path): no usable PEM certificate (\(drainErrorQueue()))")
    }
  }

  /// Empties OpenSSL's per-thread error queue into one line (oldest first), so the next call
  /// starts clean and the error carries every reason OpenSSL gave.
  static func drainErrorQueue() -> String {
    drainErrorQueueIfAny() ?? "no OpenSSL reason given"
  }

  /// As `drainErrorQueue()`, nil when the queue held nothing.
  static func drainErrorQueueIfAny() -> String? {
    var reasons: [String] = []
    var buffer = [CChar](repeating: 0, count: 256)
    while true {
      let code = ERR_get_error()
      if code == 0 { break }
      // Keep a hostile peer from growing the message without bound; the first reasons matter.
      guard reasons.count < 8 else { continue }
      ERR_error_string_n(code, &buffer, buffer.count)
      reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
  }
}

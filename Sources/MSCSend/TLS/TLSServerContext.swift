import COpenSSL
import Glibc

/// The server side of TLS, for `msc-send sink`: a certificate and key loaded once into an OpenSSL
/// server context, and the handshake (`SSL_accept`) on an accepted, non-blocking socket after the
/// sink has answered STARTTLS with 220 (RFC 3207 section 4). Same floor as the client: TLS 1.2
/// (RFC 8996), no compression, no renegotiation.
///
/// One context serves every connection: OpenSSL allows concurrent `SSL_new` on a context that is
/// no longer being configured, which is why the type is `Sendable` once `init` has returned.
public final class TLSServerContext: @unchecked Sendable {
  /// Owned; freed in deinit. Each `SSL` made from it holds its own reference.
  private let context: OpaquePointer

  /// Loads `certificateFile` (PEM: the leaf first, then any intermediates) and `keyFile` (PEM,
  /// unencrypted) and checks that they belong together. Errors name the file.
  public init(certificateFile: String, keyFile: String) throws(TLSError) {
    for path in [certificateFile, keyFile] {
      guard !path.isEmpty, !path.utf8.contains(0) else { throw .setup("invalid path \"\(path)\"") }
      guard access(path, R_OK) == 0 else { throw .setup("\(path): \(SocketWait.errorText(errno))") }
    }
    ERR_clear_error()
    guard let context = SSL_CTX_new(TLS_server_method()) else {
      throw .setup("cannot create TLS server context: \(TLSContext.drainErrorQueue())")
    }
    var ready = false
    defer { if !ready { SSL_CTX_free(context) } }

    guard msc_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
      throw .setup("cannot require TLS 1.2: \(TLSContext.drainErrorQueue())")
    }
    _ = SSL_CTX_set_options(
      context,
      msc_SSL_OP_NO_COMPRESSION() | msc_SSL_OP_NO_RENEGOTIATION() | msc_SSL_OP_IGNORE_UNEXPECTED_EOF())
    _ = msc_SSL_CTX_set_mode(
      context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE) | Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
    // A capture tool asks no client certificate.
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)

    guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
      throw .setup("certificate file \(certificateFile): no usable PEM certificate (\(TLSContext.drainErrorQueue()))")
    }
    guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
      let reason = TLSContext.drainErrorQueue()
      if reason.contains("mismatch") {
        throw .setup("key file \(keyFile) does not match \(certificateFile) (\(reason))")
      }
      throw .setup("key file \(keyFile): no usable unencrypted PEM key (\(reason))")
    }
    guard SSL_CTX_check_private_key(context) == 1 else {
      throw .setup("key file \(keyFile) does not match \(certificateFile) (\(TLSContext.drainErrorQueue()))")
    }
    ERR_clear_error()
    ready = true
    self.context = context
  }

  deinit { SSL_CTX_free(context) }

  /// Runs the server handshake on `fd` until `deadline`. The caller has already discarded every
  /// byte it read in plaintext after STARTTLS (the server-side twin of CVE-2011-0411): whatever
  /// is still in the socket now must be the ClientHello. On failure nothing is left allocated
  /// and the socket is left to the caller.
  func accept(fd: Int32, deadline: Deadline) throws(TransportError) -> TLSSession {
    ERR_clear_error()
    guard let ssl = SSL_new(context) else {
      throw .tls(.setup("cannot create TLS session: \(TLSContext.drainErrorQueue())"))
    }
    var handedOver = false
    defer { if !handedOver { SSL_free(ssl) } }
    guard SSL_set_fd(ssl, fd) == 1 else {
      throw .tls(.setup("cannot attach TLS to the socket: \(TLSContext.drainErrorQueue())"))
    }
    let outcome = try TLSSession.retrying(ssl: ssl, fd: fd, deadline: deadline) { SSL_accept(ssl) }
    if outcome.failed {
      let reason =
        TLSContext.drainErrorQueueIfAny()
        ?? (outcome.savedErrno == 0 ? "the client closed the connection" : SocketWait.errorText(outcome.savedErrno))
      throw .tls(.handshakeFailed("TLS handshake with the client: \(reason)"))
    }
    let info = TLSSessionInfo(
      protocolVersion: TLSSession.cString(SSL_get_version(ssl)) ?? "unknown",
      cipher: TLSSession.cString(SSL_CIPHER_get_name(SSL_get_current_cipher(ssl))) ?? "unknown",
      verified: false)
    handedOver = true
    return TLSSession(fd: fd, ssl: ssl, info: info)
  }
}

/// The byte stream an SMTP session runs on. `SocketTransport` is the real one (TCP, optionally TLS);
/// tests use a scripted one. Nothing but the SMTP line reader and writer calls these methods.
public protocol Transport: AnyObject {
  /// Writes every byte or throws.
  func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError)
  /// Reads at least one byte and at most `maxCount`; returns an empty array at end of stream.
  /// Throws `.timeout` when the deadline passes first.
  func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8]
  /// Upgrades the connection to TLS in place (STARTTLS, RFC 3207). The caller guarantees that no
  /// plaintext is buffered above this layer; this layer guarantees none is buffered below it.
  func startTLS(deadline: Deadline) throws(TransportError) -> TLSSessionInfo
  /// Whether bytes now travel inside TLS.
  var isEncrypted: Bool { get }
  /// The connected peer is in 127.0.0.0/8 or is ::1 (by address, never by name).
  var peerIsLoopback: Bool { get }
  /// "host [address]:port", for messages.
  var peerDescription: String { get }
  /// The local end's numeric address, for an EHLO address literal.
  var localAddress: String? { get }
  func close()
}

extension Transport {
  public var localAddress: String? { nil }
}

/// What went wrong below SMTP. Carries our conclusion; the SMTP layer adds the phase.
public enum TransportError: Error, Sendable, Equatable {
  /// getaddrinfo failed for the host.
  case resolve(host: String, reason: String)
  /// No address accepted a connection; `attempts` lists "address: reason" per address tried.
  case connect(host: String, port: UInt16, attempts: [String])
  /// The deadline passed.
  case timeout
  /// The peer closed the connection.
  case closed
  /// A read or write failed (errno text).
  case io(String)
  /// TLS failed: handshake, verification or pinning.
  case tls(TLSError)
  /// Plaintext bytes were waiting before the TLS handshake began (STARTTLS response injection,
  /// CVE-2021-38371): the session must be aborted.
  case plaintextBeforeHandshake
}

/// TLS failures, kept apart so that verification problems map to exit 77 and others to 75/76.
public enum TLSError: Error, Sendable, Equatable {
  /// The certificate chain or host name did not verify (OpenSSL's reason text).
  case verificationFailed(String)
  /// The leaf certificate's sha256 did not match the pinned fingerprint.
  case fingerprintMismatch(expected: String, actual: String)
  /// Handshake or record-layer failure that is not about trust (OpenSSL's error queue text).
  case handshakeFailed(String)
  /// Local setup failure (bad CA file, context creation).
  case setup(String)
}

/// What the TLS handshake settled, for `-v`, `check` and the transcript.
public struct TLSSessionInfo: Sendable, Equatable {
  public var protocolVersion: String
  public var cipher: String
  public var peerSubject: String
  public var peerIssuer: String
  public var subjectAlternativeNames: [String]
  /// Certificate expiry as seconds since 1970 (UTC), when known.
  public var notAfter: Double?
  /// sha256 of the leaf certificate (DER), lower-case hex.
  public var fingerprintSHA256: String
  /// Whether chain and host name verified (false only when verification was turned off).
  public var verified: Bool

  public init(
    protocolVersion: String, cipher: String, peerSubject: String = "", peerIssuer: String = "",
    subjectAlternativeNames: [String] = [], notAfter: Double? = nil, fingerprintSHA256: String = "",
    verified: Bool
  ) {
    self.protocolVersion = protocolVersion
    self.cipher = cipher
    self.peerSubject = peerSubject
    self.peerIssuer = peerIssuer
    self.subjectAlternativeNames = subjectAlternativeNames
    self.notAfter = notAfter
    self.fingerprintSHA256 = fingerprintSHA256
    self.verified = verified
  }
}

/// How a TLS connection is set up. Verification is on unless `verify` is explicitly false, in
/// which case every run prints a warning (the CLI does that).
public struct TLSOptions: Sendable, Equatable {
  /// Name to verify the certificate against and to send as SNI. An IP literal (brackets stripped)
  /// is verified against the certificate's IP SANs and sends no SNI (RFC 6066 section 3).
  public var serverName: String
  /// Verify chain and host name (system store, plus `caFile` when given).
  public var verify: Bool
  /// Extra trust anchors (PEM).
  public var caFile: String?
  /// Pinned sha256 of the leaf certificate's DER, lower-case hex without colons. When set, the
  /// pin *replaces* chain and name verification (as msmtp's `tls_fingerprint` does): it names the
  /// one certificate to accept, which is stronger than any CA, and lets a self-signed server be
  /// trusted without turning verification off. A mismatch always fails.
  public var pinnedSHA256: String?

  /// Whether OpenSSL checks the chain and the name (verification on, no pin).
  public var verifiesChain: Bool { verify && pinnedSHA256 == nil }

  public init(serverName: String, verify: Bool = true, caFile: String? = nil, pinnedSHA256: String? = nil) {
    self.serverName = serverName
    self.verify = verify
    self.caFile = caFile
    self.pinnedSHA256 = pinnedSHA256
  }
}

/// How TLS is used on an SMTP connection. A required upgrade never falls back silently.
public enum TLSMode: String, Sendable, Equatable, CaseIterable {
  /// Plain connect, then STARTTLS (RFC 3207). If the server does not offer it, the session fails.
  case starttls
  /// TLS from the first byte (RFC 8314), usually port 465.
  case implicit
  /// No TLS at all: passwords and mail travel in clear. Only when explicitly written; the CLI
  /// warns unless the peer is a loopback address.
  case none
}

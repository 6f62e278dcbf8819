import Foundation

/// What the caller knows about the account. Tokens are obtained by the caller (a command or an
/// environment variable now, the OAuth flow later).
public enum Credentials: Sendable, Equatable {
  case password(user: String, password: String)
  case bearerToken(user: String, token: String)

  public var user: String {
    switch self {
    case .password(let user, _), .bearerToken(let user, _): user
    }
  }
}

/// SASL mechanisms for SMTP AUTH (RFC 4954).
public enum AuthMechanism: String, Sendable, Equatable, CaseIterable {
  case plain = "PLAIN"
  case login = "LOGIN"
  case cramMD5 = "CRAM-MD5"
  case xoauth2 = "XOAUTH2"
  case oauthBearer = "OAUTHBEARER"

  public init?(name: String) { self.init(rawValue: name.uppercased()) }

  /// Preference when choosing among those offered, strongest first. With a password,
  /// CRAM-MD5 keeps the password off the wire even inside TLS; PLAIN (one round trip) beats
  /// LOGIN. With a token, OAUTHBEARER (RFC 7628, the standard) beats Google's XOAUTH2.
  static func preferenceOrder(for credentials: Credentials) -> [AuthMechanism] {
    switch credentials {
    case .password: [.cramMD5, .plain, .login]
    case .bearerToken: [.oauthBearer, .xoauth2]
    }
  }

  /// Whether this mechanism can use these credentials.
  func accepts(_ credentials: Credentials) -> Bool {
    switch (self, credentials) {
    case (.plain, .password), (.login, .password), (.cramMD5, .password): true
    case (.xoauth2, .bearerToken), (.oauthBearer, .bearerToken): true
    default: false
    }
  }

  /// Picks the mechanism: the caller's override when given (it must be offered), else the
  /// strongest offered one that fits the credentials.
  static func choose(offered: [String], credentials: Credentials, override: AuthMechanism?) -> AuthMechanism? {
    if let override { return offered.contains(override.rawValue) && override.accepts(credentials) ? override : nil }
    return preferenceOrder(for: credentials).first { offered.contains($0.rawValue) }
  }
}

/// The client side of each SASL exchange, as pure functions of the server's challenges so that
/// known-answer tests can check them exactly.
enum SASL {
  static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
  static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

  /// RFC 4616: `authzid NUL authcid NUL passwd`, with an empty authzid.
  static func plainInitialResponse(user: String, password: String) -> String {
    base64("\u{0}\(user)\u{0}\(password)")
  }

  /// RFC 2195: `user SP hex(HMAC-MD5(password, challenge))`, base64-encoded.
  static func cramMD5Response(user: String, password: String, challengeBase64: String) -> String? {
    guard let challenge = Data(base64Encoded: challengeBase64) else { return nil }
    let digest = Crypto.hmac(.md5, key: Array(password.utf8), message: Array(challenge))
    return base64("\(user) \(Crypto.hex(digest))")
  }

  /// Google's XOAUTH2: `user=U ^A auth=Bearer T ^A ^A`.
  static func xoauth2InitialResponse(user: String, token: String) -> String {
    base64("user=\(user)\u{1}auth=Bearer \(token)\u{1}\u{1}")
  }

  /// RFC 7628 section 3.1: GS2 header with the authzid, then host, port and auth key/values.
  static func oauthBearerInitialResponse(user: String, token: String, host: String, port: UInt16) -> String {
    let authzid = user.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
    return base64("n,a=\(authzid),\u{1}host=\(host)\u{1}port=\(port)\u{1}auth=Bearer \(token)\u{1}\u{1}")
  }
}

import Glibc

/// The server side of a channel: where to connect, how TLS is set up, and where the secret comes
/// from. TLS rules follow DOMAIN.md section 4: nothing goes in clear unless written, and
/// credentials never go in clear except to a loopback address.
extension ChannelReader {
  static let secretKeys = ["password", "password_env", "password_command", "token_env", "token_command"]

  /// Where the secret comes from, and which key said so (for messages).
  struct SecretChoice {
    var source: SecretSource
    var isToken: Bool
    var key: String
    var keyPosition: SourcePosition
  }

  mutating func readEndpoint(
    server: ChannelDefaults.Server, variant: ChannelDefaults.Variant, identities: [IdentityPattern],
    scope: CredentialScope
  ) throws(ConfigError) -> ChannelEndpoint {
    let host = try readHost(default: server.host, variant: variant)
    let port = try readPort()
    let tls = try readTLSMode()
    // Port 465 is implicit TLS (RFC 8314 section 3.3) and implicit TLS lives on 465: writing one
    // of the two is enough.
    let tlsMode = tls?.value ?? (port == 465 ? .implicit : server.tlsMode)
    var endpoint = ChannelEndpoint(
      host: host, port: port ?? (tls?.value == .implicit ? 465 : server.port), tlsMode: tlsMode)
    endpoint.caFile = try table.string("ca_file").map { ConfigLoader.expandTilde($0.value, environment: environment) }
    endpoint.fingerprint = try readFingerprint()
    endpoint.tlsVerify = try table.boolean("tls_verify")?.value ?? true
    let secret = try readSecret()
    try checkTLS(endpoint, tls: tls, secret: secret)

    endpoint.username =
      try table.string("username")?.value ?? server.username ?? Self.singleAddress(identities, scope: scope)
    if let secret, endpoint.username == nil {
      throw table.error(
        at: secret.keyPosition, "\(table.path): \(secret.key) is set but there is no username",
        hint: "write username = \"...\" (the account the server knows you by)")
    }
    endpoint.secret = secret?.source
    endpoint.secretIsToken = secret?.isToken ?? false
    endpoint.mechanism = try readMechanism(secret: secret, tokenDefault: server.tokenMechanism)
    if let ehlo = try table.string("ehlo") {
      guard !ehlo.value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) else {
        throw table.error(at: ehlo.position, "\(table.keyPath("ehlo")): \"\(ehlo.value)\" is not a host name")
      }
      endpoint.helloName = ehlo.value
    }
    if let timeout = try table.number("timeout") {
      guard timeout.value > 0, timeout.value.isFinite else {
        throw table.error(
          at: timeout.position, "\(table.keyPath("timeout")): expected a positive number of seconds")
      }
      endpoint.timeout = timeout.value
    }
    return endpoint
  }

  private func readHost(default host: String?, variant: ChannelDefaults.Variant) throws(ConfigError) -> String {
    guard let written = try table.string("host") else {
      guard let host else {
        let example = variant == .customSMTP ? ", or preset = \"sendgrid\" or \"sparkpost\"" : ""
        throw table.error(
          at: table.table.position, "\(table.path): host is missing; \(variant.configSpelling) has no default server",
          hint: "write host = \"mail.example.com\"\(example)")
      }
      return host
    }
    let text = written.value
    if text.unicodeScalars.contains(where: {
      $0.properties.isWhitespace || $0.value < 0x20 || "/@".unicodeScalars.contains($0)
    }) {
      throw table.error(at: written.position, "\(table.keyPath("host")): \"\(text)\" is not a host name or address")
    }
    // One colon is "host:port"; IPv6 literals have at least two.
    if text.filter({ $0 == ":" }).count == 1 {
      throw table.error(
        at: written.position, "\(table.keyPath("host")): \"\(text)\" includes a port",
        hint: "write the port on its own: port = \(text.split(separator: ":").last ?? "587")")
    }
    return text
  }

  private func readPort() throws(ConfigError) -> UInt16? {
    guard let port = try table.integer("port") else { return nil }
    guard (1...65_535).contains(port.value) else {
      throw table.error(
        at: port.position, "\(table.keyPath("port")): expected a port between 1 and 65535, found \(port.value)",
        hint: "submission is 587 (STARTTLS) or 465 (implicit TLS)")
    }
    return UInt16(port.value)
  }

  private func readTLSMode() throws(ConfigError) -> ConfigTable.Located<TLSMode>? {
    guard let written = try table.string("tls") else { return nil }
    guard let mode = TLSMode(rawValue: written.value) else {
      let names = TLSMode.allCases.map(\.rawValue)
      throw table.error(
        at: written.position,
        "\(table.keyPath("tls")): unknown TLS mode \"\(written.value)\"; expected starttls, implicit or none",
        hint: Suggestion.nearest(to: written.value, in: names).map { "did you mean \"\($0)\"?" })
    }
    return ConfigTable.Located(value: mode, position: written.position, keyPosition: written.keyPosition)
  }

  /// `sha256:` and 64 hex digits, colons allowed between them (the form `openssl x509
  /// -fingerprint` prints); stored lower case without colons, as `TLSOptions` expects.
  private func readFingerprint() throws(ConfigError) -> String? {
    guard let written = try table.string("fingerprint") else { return nil }
    let lower = written.value.lowercased()
    let digits = lower.hasPrefix("sha256:") ? lower.dropFirst(7).filter { $0 != ":" } : ""
    guard digits.count == 64, digits.allSatisfy(\.isHexDigit) else {
      throw table.error(
        at: written.position,
        "\(table.keyPath("fingerprint")): expected \"sha256:\" and 64 hex digits (colons allowed)",
        hint: "openssl x509 -in cert.pem -noout -fingerprint -sha256 prints it")
    }
    return String(digits)
  }

  /// TLS settings that contradict each other are errors; insecure ones that were asked for are
  /// warnings, printed on every use.
  private mutating func checkTLS(_ endpoint: ChannelEndpoint, tls: ConfigTable.Located<TLSMode>?, secret: SecretChoice?)
    throws(ConfigError)
  {
    if endpoint.tlsMode == .none, let tls {
      if let key = table.table.entries.first(where: { ["ca_file", "fingerprint", "tls_verify"].contains($0.key) }) {
        throw table.error(
          at: key.keyPosition,
          "\(table.keyPath(key.key)): has no effect with tls = \"none\", which makes no TLS connection")
      }
      if !Self.isLoopback(endpoint.host) {
        if let secret {
          throw table.error(
            at: tls.position,
            "\(table.keyPath("tls")): \"none\" with \(secret.key): credentials never travel without TLS except to a "
              + "loopback address",
            hint: "use tls = \"starttls\" (port 587) or tls = \"implicit\" (port 465)")
        }
        warnings.append(
          warning(
            at: tls.position, "\(table.path): tls = \"none\" to \(endpoint.host): mail travels in clear on the network")
        )
      }
    }
    if !endpoint.tlsVerify, let verify = table.table["tls_verify"] {
      let consequence =
        endpoint.fingerprint == nil
        ? "anyone on the network path can read the password and the mail"
        : "only the pinned fingerprint protects the connection"
      warnings.append(
        warning(
          at: verify.position, "\(table.path): tls_verify = false: the certificate is not verified; \(consequence)"))
    }
  }

  /// The loopback names and literals; a plaintext session to anything else crosses a network.
  static func isLoopback(_ host: String) -> Bool {
    let lower = host.lowercased()
    if lower == "localhost" || lower == "::1" || lower == "[::1]" { return true }
    var address = in_addr()
    return inet_pton(AF_INET, lower, &address) == 1 && UInt32(bigEndian: address.s_addr) >> 24 == 127
  }

  /// The secret source; exactly one may be given, so that nobody wonders which one wins.
  private func readSecret() throws(ConfigError) -> SecretChoice? {
    var choice: SecretChoice?
    for entry in table.table.entries where Self.secretKeys.contains(entry.key) {
      if let first = choice {
        throw table.error(
          at: entry.keyPosition,
          "\(table.path): \(first.key) and \(entry.key) are both set; a channel takes its secret from one source",
          hint: "keep one of \(Self.secretKeys.joined(separator: ", "))")
      }
      guard let value = try table.string(entry.key) else { continue }
      let source: SecretSource
      switch entry.key {
      case "password":
        // Anyone who can read the file can send as the user (DESIGN.md section 2).
        guard fileIsPrivate else {
          throw table.error(
            at: value.position,
            "\(table.keyPath("password")): a literal password in a file that group or others can access",
            hint: "chmod 600 \(table.file), or use password_env or password_command")
        }
        source = .literal(value.value)
      case "password_env", "token_env":
        guard Self.isEnvironmentName(value.value) else {
          // The value is not echoed: it may be the secret itself, written in the wrong key.
          throw table.error(
            at: value.position,
            "\(table.keyPath(entry.key)): not an environment variable name (letters, digits and _, not starting "
              + "with a digit)",
            hint: "write the variable's name, such as \"RELAY_PASSWORD\", never the secret itself")
        }
        source = .environment(value.value)
      default:
        source = .command(value.value)
      }
      choice = SecretChoice(
        source: source, isToken: entry.key.hasPrefix("token_"), key: entry.key, keyPosition: entry.keyPosition)
    }
    return choice
  }

  static func isEnvironmentName(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
    return name.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
    }
  }

  /// `auth` must fit the secret: token mechanisms need a token source, password mechanisms a
  /// password source. Without `auth`, a token gets the kind's token mechanism (XOAUTH2 for
  /// Google and Microsoft) and a password the strongest the server offers.
  private func readMechanism(secret: SecretChoice?, tokenDefault: AuthMechanism?) throws(ConfigError)
    -> AuthMechanism?
  {
    guard let written = try table.string("auth") else { return secret?.isToken == true ? tokenDefault : nil }
    guard let mechanism = AuthMechanism(name: written.value) else {
      let names = AuthMechanism.allCases.map { $0.rawValue.lowercased() }
      throw table.error(
        at: written.position,
        "\(table.keyPath("auth")): unknown mechanism \"\(written.value)\"; expected one of "
          + names.joined(separator: ", "),
        hint: Suggestion.nearest(to: written.value.lowercased(), in: names).map { "did you mean \"\($0)\"?" })
    }
    let name = mechanism.rawValue.lowercased()
    let wantsToken = mechanism.accepts(.bearerToken(user: "", token: ""))
    if wantsToken, secret?.isToken != true {
      let found = secret.map { ", not \($0.key)" } ?? ""
      throw table.error(
        at: written.position,
        "\(table.keyPath("auth")): \(name) needs an OAuth2 access token: set token_env or "
          + "token_command\(found)",
        hint: "sign-in from msc-send (msc-send auth login) is not available yet; until then token_command can run a "
          + "helper that prints a fresh access token")
    }
    if !wantsToken {
      guard let secret else {
        throw table.error(
          at: written.position,
          "\(table.keyPath("auth")): \(name) needs a password: set password_env or password_command")
      }
      if secret.isToken {
        throw table.error(
          at: written.position,
          "\(table.keyPath("auth")): \(name) sends a password, but the secret is a token "
            + "(\(secret.key))",
          hint: "use auth = \"xoauth2\" or \"oauthbearer\" with a token, or a password source")
      }
    }
    return mechanism
  }

  /// Address-scoped credentials belong to the one address the channel carries, which is also the
  /// user name Gmail and Office 365 expect.
  private static func singleAddress(_ identities: [IdentityPattern], scope: CredentialScope) -> String? {
    guard scope == .address, identities.count == 1, case .address(let address) = identities[0] else { return nil }
    return address
  }
}

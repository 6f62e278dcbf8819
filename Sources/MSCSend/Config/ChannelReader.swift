/// Reads one `[channels.NAME]` table into a `ChannelConfig`. The kind comes first because it
/// decides which keys apply and what the defaults are; then the identities, the server and its
/// secret; last the rules that span several keys (address-scoped credentials, `auth` against the
/// secret). Warnings are collected as `file:line:col: message` lines.
struct ChannelReader {
  let name: String
  let table: ConfigTable
  let fileIsPrivate: Bool
  let environment: [String: String]
  var warnings: [String] = []

  init(name: String, table: ConfigTable, fileIsPrivate: Bool, environment: [String: String]) {
    self.name = name
    self.table = table
    self.fileIsPrivate = fileIsPrivate
    self.environment = environment
  }

  /// Keys of the channels issue, then the documented keys later issues interpret (DESIGN.md section 2).
  static let keys =
    [
      "kind", "host", "port", "tls", "ca_file", "fingerprint", "tls_verify", "identities", "scope", "enabled", "onprem",
      "preset", "profile", "username", "password", "password_env", "password_command", "token_env", "token_command",
      "auth", "ehlo", "max_message_size", "timeout", "path", "dkim_selector",
    ] + deferredTableKeys + deferredStringKeys
  static let deferredTableKeys = ["limits", "oauth", "imap"]
  static let deferredStringKeys = ["fallback"]
  /// Keys that only make sense for a channel that talks SMTP.
  static let serverKeys = [
    "host", "port", "tls", "ca_file", "fingerprint", "tls_verify", "username", "password", "password_env",
    "password_command", "token_env", "token_command", "auth", "ehlo", "timeout",
  ]
  static let kindList = ChannelKind.allCases.map(\.rawValue).joined(separator: ", ")

  mutating func read() throws(ConfigError) -> ChannelConfig {
    try table.checkKeys(Self.keys)
    let kind = try readKind()
    let enabled = try readEnabled(kind: kind)
    if kind == .legacy, enabled {
      warnings.append(
        warning(
          at: table.table["kind"]?.position,
          "\(table.path): legacy channel: the shared servers have no DKIM/SPF alignment with your domain, "
            + "so more of its mail is filtered as spam"))
    }
    let onPremises = try readOnPremises(kind: kind)
    let preset = try readPreset(kind: kind)
    let identities = try readIdentities()
    let defaults = ChannelDefaults.forChannel(
      kind: kind, preset: preset, onPremises: onPremises, identities: identities.map(\.pattern))
    let scope = try readScope(kind: kind, default: defaults.scope)
    // Before the server: a shared mailbox is the mistake to name, not the missing username it causes.
    try checkScope(scope, kind: kind, identities: identities)
    var channel = ChannelConfig(
      name: name, kind: kind, identities: identities.map(\.pattern), scope: scope, enabled: enabled,
      onPremises: onPremises, preset: preset, profile: try readProfile(default: defaults.profile),
      position: table.table.position)
    if let server = defaults.server {
      if let path = table.table.entry("path") {
        throw table.error(at: path.keyPosition, "\(table.keyPath("path")): applies only to kind = \"file\"")
      }
      channel.endpoint = try readEndpoint(
        server: server, variant: ChannelDefaults.Variant(kind: kind, preset: preset, onPremises: onPremises),
        identities: identities.map(\.pattern), scope: scope)
    } else {
      if let key = table.table.entries.first(where: { Self.serverKeys.contains($0.key) }) {
        throw table.error(
          at: key.keyPosition,
          "\(table.keyPath(key.key)): does not apply to kind = \"\(kind.rawValue)\", which writes messages to a "
            + "directory and has no server")
      }
      channel.outboxDirectory =
        try table.string("path").map { ConfigLoader.expandTilde($0.value, environment: environment) }
        ?? ConfigLoader.defaultOutboxDirectory(environment: environment)
    }
    channel.maxMessageSize = try readPositive("max_message_size", unit: "bytes").map { Int($0.value) }
    channel.deferred = try readDeferred()
    channel.dkimSelectors = try readDKIMSelectors(identities: identities.map(\.pattern))
    try readThrottle(into: &channel)
    return channel
  }

  // MARK: - Kind

  private mutating func readKind() throws(ConfigError) -> ChannelKind {
    guard let written = try table.string("kind") else {
      throw table.error(
        at: table.table.position, "\(table.path): no kind given; expected one of \(Self.kindList)",
        hint: "for example kind = \"gmail\" for a Google mailbox, kind = \"smtp\" for a relay")
    }
    if written.value.lowercased() == "marketo" {
      // DOMAIN.md section 1, from the seeds' "Marketo servers" paragraph.
      throw table.error(
        at: written.position,
        "\(table.keyPath("kind")): \"marketo\" is refused: Marketo's marketing servers are not a sales delivery "
          + "channel (they are built for bulk marketing mail; Gmail and Exchange do better for one-to-one sales mail)",
        hint: "use a gmail or exchange channel for one-to-one mail, or an smtp relay for volume")
    }
    guard let kind = ChannelKind(rawValue: written.value) else {
      let names = ChannelKind.allCases.map(\.rawValue)
      throw table.error(
        at: written.position,
        "\(table.keyPath("kind")): unknown kind \"\(written.value)\"; expected one of \(Self.kindList)",
        hint: Suggestion.nearest(to: written.value, in: names).map { "did you mean \"\($0)\"?" })
    }
    return kind
  }

  /// Any channel can be switched off; a legacy channel must be switched on explicitly, because
  /// its lower deliverability is a choice the user should make knowingly (DOMAIN.md section 1).
  private func readEnabled(kind: ChannelKind) throws(ConfigError) -> Bool {
    if let enabled = try table.boolean("enabled") { return enabled.value }
    if kind == .legacy {
      throw table.error(
        at: table.table["kind"]?.position,
        "\(table.path): a legacy channel sends through the shared MSC servers, which have no DKIM/SPF alignment with "
          + "your domain, so deliverability is lower; set enabled = true to accept that",
        hint: "better: connect a gmail or exchange mailbox, or your own relay (kind = \"smtp\")")
    }
    return true
  }

  /// Exchange on-premises differs from Exchange Online in server, limits and bounce tracking; no
  /// other kind has such a variant, so `onprem` elsewhere is a mistake.
  private func readOnPremises(kind: ChannelKind) throws(ConfigError) -> Bool {
    guard let flag = try table.boolean("onprem") else { return false }
    guard kind == .exchange else {
      throw table.error(at: flag.keyPosition, "\(table.keyPath("onprem")): applies only to kind = \"exchange\"")
    }
    return flag.value
  }

  private func readPreset(kind: ChannelKind) throws(ConfigError) -> SMTPPreset? {
    guard let written = try table.string("preset") else { return nil }
    guard kind == .smtp else {
      throw table.error(at: written.keyPosition, "\(table.keyPath("preset")): applies only to kind = \"smtp\"")
    }
    guard let preset = SMTPPreset(rawValue: written.value) else {
      let names = SMTPPreset.allCases.map(\.rawValue)
      throw table.error(
        at: written.position,
        "\(table.keyPath("preset")): unknown preset \"\(written.value)\"; expected \(names.joined(separator: " or "))",
        hint: "for another relay leave preset out and write host, port and username")
    }
    return preset
  }

  // MARK: - Identities and scope

  struct Identity {
    var pattern: IdentityPattern
    var position: SourcePosition
  }

  private func readIdentities() throws(ConfigError) -> [Identity] {
    let hint = "write identities = [\"alice@example.com\"] (patterns: \"*@example.com\", \"*@*.example.com\", \"*\")"
    guard let array = try table.stringArray("identities") else { return [] }
    var identities: [Identity] = []
    for node in array.value {
      guard case .string(let text) = node.value else { continue }
      let plain = !text.unicodeScalars.contains {
        $0.properties.isWhitespace || $0.value < 0x20 || "<>".unicodeScalars.contains($0)
      }
      guard plain, let pattern = IdentityPattern(text) else {
        throw table.error(
          at: node.position,
          "\(table.keyPath("identities")): \"\(text)\" is not an identity; expected an address, \"*@domain\", "
            + "\"*@*.domain\" or \"*\"",
          hint: hint)
      }
      if let first = identities.first(where: { $0.pattern == pattern }) {
        throw table.error(
          at: node.position,
          "\(table.keyPath("identities")): \"\(pattern)\" is listed twice (first at \(first.position))")
      }
      identities.append(Identity(pattern: pattern, position: node.position))
    }
    return identities
  }

  private mutating func readScope(kind: ChannelKind, default scope: CredentialScope) throws(ConfigError)
    -> CredentialScope
  {
    guard let written = try table.string("scope") else { return scope }
    guard let parsed = CredentialScope(rawValue: written.value) else {
      throw table.error(
        at: written.position,
        "\(table.keyPath("scope")): unknown scope \"\(written.value)\"; expected address or domain")
    }
    if parsed == .domain, kind == .gmail || kind == .exchange {
      warnings.append(
        warning(
          at: written.position,
          "\(table.keyPath("scope")): \(kind.rawValue) sends only as the signed-in mailbox and the aliases it may "
            + "send as; mail from other addresses is rewritten or refused"))
    }
    return parsed
  }

  /// Office 365 and Gmail credentials are the user's own address and password (or token): only
  /// that mailbox can send through them, and a team must never share them (seed "Setting up an
  /// SMTP server"). So an address-scoped channel carries exactly one address.
  private func checkScope(_ scope: CredentialScope, kind: ChannelKind, identities: [Identity]) throws(ConfigError) {
    guard scope == .address else { return }
    let why =
      "the credentials of this \(kind.rawValue) channel belong to one mailbox (scope = \"address\") and are "
      + "never shared"
    let hint =
      "Gmail and Office 365 sign in as one mailbox, so only its own address may send with those credentials: give "
      + "each mailbox its own channel (relays with scope = \"domain\" may carry many addresses)"
    if let pattern = identities.first(where: { if case .address = $0.pattern { false } else { true } }) {
      throw table.error(
        at: pattern.position, "\(table.keyPath("identities")): \"\(pattern.pattern)\" is a pattern, but \(why)",
        hint: hint)
    }
    if identities.count > 1 {
      throw table.error(
        at: identities[1].position, "\(table.keyPath("identities")): \(identities.count) addresses, but \(why)",
        hint: hint)
    }
  }

  private func readProfile(default profile: String) throws(ConfigError) -> String {
    guard let written = try table.string("profile") else { return profile }
    guard ChannelDefaults.profiles.contains(written.value) else {
      throw table.error(
        at: written.position,
        "\(table.keyPath("profile")): unknown profile \"\(written.value)\"; expected one of "
          + ChannelDefaults.profiles.joined(separator: ", "),
        hint: Suggestion.nearest(to: written.value, in: ChannelDefaults.profiles).map { "did you mean \"\($0)\"?" })
    }
    return written.value
  }

  // MARK: - Shared helpers

  func readPositive(_ key: String, unit: String) throws(ConfigError) -> ConfigTable.Located<Int64>? {
    guard let number = try table.integer(key) else { return nil }
    guard number.value > 0 else {
      throw table.error(
        at: number.position, "\(table.keyPath(key)): expected a positive number of \(unit), found \(number.value)")
    }
    return number
  }

  /// Keys later issues interpret: only their type is checked now, so that a typo'd table still
  /// fails today rather than on the day its issue lands.
  private func readDeferred() throws(ConfigError) -> [String: TOMLNode] {
    var deferred: [String: TOMLNode] = [:]
    for key in Self.deferredTableKeys where table.has(key) {
      _ = try table.table(key)
      deferred[key] = table.table[key]
    }
    for key in Self.deferredStringKeys where table.has(key) {
      _ = try table.string(key)
      deferred[key] = table.table[key]
    }
    return deferred
  }

  /// `limits` over the profile's, and `fallback` (checked against the other channels by the
  /// loader). A `file` channel sends nothing, so no provider limits or quota apply to it.
  private func readThrottle(into channel: inout ChannelConfig) throws(ConfigError) {
    let profile = ThrottleProfiles.named(channel.profile).map(ChannelLimits.init(profile:)) ?? .none
    channel.limits = channel.kind == .file ? .none : profile
    if let limits = try table.table("limits") {
      guard channel.kind != .file else {
        throw table.error(
          at: limits.keyPosition,
          "\(table.keyPath("limits")): a file channel sends nothing, so it has no provider limits")
      }
      channel.limits = try ChannelLimits.read(limits.value, over: profile)
    }
    if let fallback = try table.string("fallback") {
      guard channel.kind != .file else {
        throw table.error(
          at: fallback.keyPosition, "\(table.keyPath("fallback")): a file channel has no quota to run out of")
      }
      guard fallback.value != name else {
        throw table.error(at: fallback.position, "\(table.keyPath("fallback")): a channel cannot be its own fallback")
      }
      channel.fallback = fallback.value
    }
  }

  func warning(at position: SourcePosition?, _ message: String) -> String {
    ConfigError(file: table.file, position: position, message: message).description
  }
}

/// The configuration after loading and validation: what channels exist and how they behave.
/// `ConfigLoader` builds it from TOML (DESIGN.md section 2); with no file at all it is the
/// embedded default (one `file` channel, `outbox`).
public struct Configuration: Sendable {
  public var defaults: Defaults
  /// Channels in the order the file defines them.
  public var channels: [ChannelConfig]
  /// The file it came from; nil for the embedded default.
  public var file: String?
  /// Warnings found while loading (e.g. a legacy channel), printed on every use.
  public var warnings: [String]

  public init(defaults: Defaults = Defaults(), channels: [ChannelConfig], file: String?, warnings: [String] = []) {
    self.defaults = defaults
    self.channels = channels
    self.file = file
    self.warnings = warnings
  }

  public var isEmbeddedDefault: Bool { file == nil }

  public func channel(named name: String) -> ChannelConfig? { channels.first { $0.name == name } }

  /// Where the queue keeps message bytes: `spool/` next to the ledger.
  public func spool(environment: [String: String]) -> Spool {
    Spool(directory: Spool.directory(forLedger: ledgerPath(environment: environment)))
  }

  /// The retry policy from `[defaults] max_age` and `uncertain_retries`.
  public var retryPolicy: RetryPolicy {
    RetryPolicy(maxAge: defaults.maxAge ?? 5 * 86_400, uncertainRetries: defaults.uncertainRetries ?? 1)
  }

  /// The throttle ledger's file: `[defaults] ledger`, else the XDG state location.
  public func ledgerPath(environment: [String: String]) -> String {
    defaults.ledger ?? ConfigLoader.defaultLedgerPath(environment: environment)
  }

  public struct Defaults: Sendable, Equatable {
    /// Sender when `--from` is not given.
    public var from: String?
    /// Channel when no identity matches.
    public var channel: String?
    /// `[defaults] ledger`, tilde expanded; nil means `$XDG_STATE_HOME/msc-send/ledger.sqlite3`.
    public var ledger: String?
    /// `[defaults] log`: where the delivery log goes; nil means off.
    public var log: DeliveryLogTarget?
    /// `[defaults] max_age`: seconds a queued message may wait before it fails (default 5 days).
    public var maxAge: Double?
    /// `[defaults] uncertain_retries`: retries after an uncertain outcome (default 1).
    public var uncertainRetries: Int?
    /// Documented keys that later parts interpret (`ledger`, `log`, `max_age`): accepted and
    /// type-checked now, kept with their positions so that their own errors can still name line:col.
    public var deferred: [String: TOMLNode]
    public init(from: String? = nil, channel: String? = nil, deferred: [String: TOMLNode] = [:]) {
      self.from = from
      self.channel = channel
      self.deferred = deferred
    }
  }
}

/// The kinds of delivery channel (DOMAIN.md section 1).
public enum ChannelKind: String, Sendable, Equatable, CaseIterable {
  /// The user's own Google mailbox.
  case gmail
  /// Exchange Online, or on-premises with `onprem = true`.
  case exchange
  /// A relay (SendGrid, SparkPost, the company's own server).
  case smtp
  /// The old shared servers: no DKIM/SPF alignment; only with `enabled = true`.
  case legacy
  /// Writes each message as an `.eml` file; no network.
  case file
}

/// Whether credentials belong to one address (Office 365, Gmail: never shared) or may serve a
/// whole domain (relays).
public enum CredentialScope: String, Sendable, Equatable {
  case address
  case domain
}

/// Relay presets for `kind = "smtp"` (DOMAIN.md section 4).
public enum SMTPPreset: String, Sendable, Equatable, CaseIterable {
  case sendgrid
  case sparkpost
}

/// One `From` pattern a channel carries: an exact address, `*@domain`, `*@*.domain` (any
/// subdomain) or `*` (anything).
public enum IdentityPattern: Sendable, Equatable, Hashable, CustomStringConvertible {
  case address(String)
  case domain(String)
  case subdomains(String)
  case any

  /// Parses a pattern; nil when it is none of the four forms.
  public init?(_ text: String) {
    let lower = text.lowercased()
    if lower == "*" {
      self = .any
    } else if lower.hasPrefix("*@*."), lower.count > 4, !lower.dropFirst(4).contains(where: { $0 == "*" || $0 == "@" }) {
      self = .subdomains(String(lower.dropFirst(4)))
    } else if lower.hasPrefix("*@"), lower.count > 2, !lower.dropFirst(2).contains(where: { $0 == "*" || $0 == "@" }) {
      self = .domain(String(lower.dropFirst(2)))
    } else if !lower.contains("*"), let at = lower.lastIndex(of: "@"), at != lower.startIndex,
      lower.index(after: at) != lower.endIndex
    {
      self = .address(lower)
    } else {
      return nil
    }
  }

  /// Whether `address` (any case) matches.
  public func matches(_ address: String) -> Bool {
    let lower = address.lowercased()
    guard let at = lower.lastIndex(of: "@") else { return false }
    let domain = lower[lower.index(after: at)...]
    switch self {
    case .address(let exact): return lower == exact
    case .domain(let name): return domain == name
    case .subdomains(let name): return domain.hasSuffix("." + name)
    case .any: return true
    }
  }

  /// Higher is more specific: an exact address beats a domain, a domain its subdomain wildcard,
  /// and longer domains beat shorter ones.
  public var specificity: Int {
    switch self {
    case .address: 3_000
    case .domain(let name): 2_000 + name.count
    case .subdomains(let name): 1_000 + name.count
    case .any: 0
    }
  }

  public var description: String {
    switch self {
    case .address(let address): address
    case .domain(let name): "*@\(name)"
    case .subdomains(let name): "*@*.\(name)"
    case .any: "*"
    }
  }
}

/// One configured channel, with the kind's defaults already applied.
public struct ChannelConfig: Sendable, Equatable {
  public var name: String
  public var kind: ChannelKind
  public var identities: [IdentityPattern]
  public var scope: CredentialScope
  /// `legacy` requires `enabled = true`; any channel can be switched off with `enabled = false`.
  public var enabled: Bool
  /// `exchange` only: on-premises (no bounce tracking, IT sets the limits).
  public var onPremises: Bool
  public var preset: SMTPPreset?
  /// Throttle profile name (DOMAIN.md section 2).
  public var profile: String
  /// The profile's limits with the channel's `limits` laid over them.
  public var limits: ChannelLimits
  /// `fallback`: the channel that takes over mail this one cannot take for quota reasons.
  public var fallback: String?
  /// SMTP endpoint for network kinds; nil for `file`.
  public var endpoint: ChannelEndpoint?
  /// `file` kind: the directory messages are written to.
  public var outboxDirectory: String?
  public var maxMessageSize: Int?
  /// `dkim_selector`, for `check`'s DKIM lookup.
  public var dkimSelectors: DKIMSelectors?
  /// Where `[channels.NAME]` was written, for messages.
  public var position: SourcePosition?
  /// Documented keys that later parts interpret (`limits`, `fallback`, `oauth`, `imap`,
  /// `dkim_selector`): type-checked now, kept raw with their positions.
  public var deferred: [String: TOMLNode]

  public init(
    name: String, kind: ChannelKind, identities: [IdentityPattern] = [], scope: CredentialScope = .domain,
    enabled: Bool = true, onPremises: Bool = false, preset: SMTPPreset? = nil, profile: String,
    endpoint: ChannelEndpoint? = nil, outboxDirectory: String? = nil, maxMessageSize: Int? = nil,
    position: SourcePosition? = nil, deferred: [String: TOMLNode] = [:], limits: ChannelLimits = .none,
    fallback: String? = nil
  ) {
    self.name = name
    self.kind = kind
    self.identities = identities
    self.scope = scope
    self.enabled = enabled
    self.onPremises = onPremises
    self.preset = preset
    self.profile = profile
    self.endpoint = endpoint
    self.outboxDirectory = outboxDirectory
    self.maxMessageSize = maxMessageSize
    self.position = position
    self.deferred = deferred
    self.limits = limits
    self.fallback = fallback
  }
}

/// The network side of a channel: everything `SMTPEndpoint` needs, with the secret still a
/// source (read only when the channel is used).
public struct ChannelEndpoint: Sendable, Equatable {
  public var host: String
  public var port: UInt16
  public var tlsMode: TLSMode
  public var caFile: String?
  /// sha256 hex (lower case, no colons).
  public var fingerprint: String?
  public var tlsVerify: Bool
  public var username: String?
  public var secret: SecretSource?
  /// The secret is an OAuth2 access token (`token_env`, `token_command`), not a password.
  public var secretIsToken: Bool
  /// `auth = "..."`: the mechanism to use; nil means the strongest offered.
  public var mechanism: AuthMechanism?
  public var helloName: String?
  public var timeout: Double?

  public init(
    host: String, port: UInt16, tlsMode: TLSMode, caFile: String? = nil, fingerprint: String? = nil,
    tlsVerify: Bool = true, username: String? = nil, secret: SecretSource? = nil, secretIsToken: Bool = false,
    mechanism: AuthMechanism? = nil, helloName: String? = nil, timeout: Double? = nil
  ) {
    self.host = host
    self.port = port
    self.tlsMode = tlsMode
    self.caFile = caFile
    self.fingerprint = fingerprint
    self.tlsVerify = tlsVerify
    self.username = username
    self.secret = secret
    self.secretIsToken = secretIsToken
    self.mechanism = mechanism
    self.helloName = helloName
    self.timeout = timeout
  }

  /// "starttls", "implicit TLS" or "none (plaintext)".
  public var tlsDescription: String {
    switch tlsMode {
    case .starttls: "starttls"
    case .implicit: "implicit TLS"
    case .none: "none (plaintext)"
    }
  }
}

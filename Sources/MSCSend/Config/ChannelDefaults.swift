/// What a channel gets for every key it leaves out, by kind (DOMAIN.md sections 1, 2 and 4).
/// Kept as one table so that the provider facts sit in one place, and only as defaults: providers
/// change host names, ports and limits without notice, so every value can be overridden per channel.
public struct ChannelDefaults: Sendable, Equatable {
  /// The server side; nil for kinds that do not talk SMTP (`file`).
  public var server: Server?
  public var scope: CredentialScope
  /// Throttle profile (DOMAIN.md section 2).
  public var profile: String

  public struct Server: Sendable, Equatable {
    /// nil: there is no well-known server for this variant, so `host` must be written.
    public var host: String?
    public var port: UInt16
    public var tlsMode: TLSMode
    /// Relays that authenticate with a fixed user name and the API key as password.
    public var username: String?
    /// Mechanism when the secret is an OAuth2 token and `auth` is not written; nil lets the
    /// session pick the strongest the server offers.
    public var tokenMechanism: AuthMechanism?
  }

  /// The variants that differ in their defaults: a kind, refined by `preset` or `onprem`.
  public enum Variant: String, Sendable, CaseIterable {
    case gmail
    case exchangeOnline
    case exchangeOnPremises
    case sendgrid
    case sparkpost
    case customSMTP
    case legacy
    case file

    public init(kind: ChannelKind, preset: SMTPPreset?, onPremises: Bool) {
      switch kind {
      case .gmail: self = .gmail
      case .exchange: self = onPremises ? .exchangeOnPremises : .exchangeOnline
      case .smtp:
        switch preset {
        case .sendgrid: self = .sendgrid
        case .sparkpost: self = .sparkpost
        case nil: self = .customSMTP
        }
      case .legacy: self = .legacy
      case .file: self = .file
      }
    }

    /// How the variant is written in the config, for "... needs host" messages.
    public var configSpelling: String {
      switch self {
      case .gmail: "kind = \"gmail\""
      case .exchangeOnline: "kind = \"exchange\""
      case .exchangeOnPremises: "kind = \"exchange\" with onprem = true"
      case .sendgrid: "kind = \"smtp\" with preset = \"sendgrid\""
      case .sparkpost: "kind = \"smtp\" with preset = \"sparkpost\""
      case .customSMTP: "kind = \"smtp\" without a preset"
      case .legacy: "kind = \"legacy\""
      case .file: "kind = \"file\""
      }
    }
  }

  /// The table. A switch rather than a dictionary so that the compiler checks every variant has
  /// a row. Submission is on 587 with STARTTLS everywhere (RFC 6409, RFC 3207): every provider
  /// here offers it, and a written `port = 465` switches to implicit TLS (see `ChannelReader`).
  public static func of(_ variant: Variant) -> ChannelDefaults {
    switch variant {
    case .gmail:
      ChannelDefaults(
        server: Server(host: "smtp.gmail.com", port: 587, tlsMode: .starttls, tokenMechanism: .xoauth2),
        scope: .address, profile: "google-workspace")
    case .exchangeOnline:
      ChannelDefaults(
        server: Server(host: "smtp.office365.com", port: 587, tlsMode: .starttls, tokenMechanism: .xoauth2),
        scope: .address, profile: "exchange-online")
    case .exchangeOnPremises:
      ChannelDefaults(
        server: Server(host: nil, port: 587, tlsMode: .starttls), scope: .address, profile: "exchange-onprem")
    case .sendgrid:
      ChannelDefaults(
        server: Server(host: "smtp.sendgrid.net", port: 587, tlsMode: .starttls, username: "apikey"),
        scope: .domain, profile: "sendgrid")
    case .sparkpost:
      ChannelDefaults(
        server: Server(host: "smtp.sparkpostmail.com", port: 587, tlsMode: .starttls, username: "SMTP_Injection"),
        scope: .domain, profile: "sparkpost")
    case .customSMTP:
      // A relay of one's own has limits of its own; "custom" means we add none.
      ChannelDefaults(server: Server(host: nil, port: 587, tlsMode: .starttls), scope: .domain, profile: "custom")
    case .legacy:
      ChannelDefaults(server: Server(host: nil, port: 587, tlsMode: .starttls), scope: .domain, profile: "legacy")
    case .file:
      ChannelDefaults(server: nil, scope: .domain, profile: "none")
    }
  }

  /// The defaults for one channel. Gmail's limits depend on the account type, which shows in the
  /// addresses: consumer accounts (@gmail.com, @googlemail.com) have far lower daily limits than
  /// Google Workspace.
  public static func forChannel(
    kind: ChannelKind, preset: SMTPPreset?, onPremises: Bool, identities: [IdentityPattern]
  ) -> ChannelDefaults {
    let variant = Variant(kind: kind, preset: preset, onPremises: onPremises)
    var defaults = of(variant)
    if variant == .gmail, !identities.isEmpty, identities.allSatisfy(isConsumerGoogle) {
      defaults.profile = "gmail-consumer"
    }
    return defaults
  }

  private static func isConsumerGoogle(_ pattern: IdentityPattern) -> Bool {
    switch pattern {
    case .address(let address): address.hasSuffix("@gmail.com") || address.hasSuffix("@googlemail.com")
    case .domain(let domain): domain == "gmail.com" || domain == "googlemail.com"
    case .subdomains, .any: false
    }
  }

  /// Throttle profiles a channel may name (DOMAIN.md section 2); "custom" and "none" add no limits.
  public static let profiles = [
    "exchange-online", "google-workspace", "gmail-consumer", "google-smtp-relay", "sendgrid", "sparkpost",
    "exchange-onprem", "legacy", "msc-batch", "custom", "none",
  ]
}

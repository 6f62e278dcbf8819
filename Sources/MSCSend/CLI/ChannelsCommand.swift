import Foundation

/// `msc-send channels [--json]`: what is configured, per channel: kind, endpoint, TLS, auth,
/// where the credentials come from (never the secret), limits, identities.
enum ChannelsCommand {
  static let options: [OptionSpec] = [
    .value("--config", valueName: "FILE", help: "config file"),
    .flag("--json", help: "print the channels as JSON on stdout"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage = "usage: msc-send channels [--config FILE] [--json]"

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let parsed: ParsedArguments
    switch CommandParsing.parse(
      arguments, options: options, usage: usage, summary: "Lists the configured delivery channels.", context: context)
    {
    case .parsed(let result): parsed = result
    case .exit(let code): return code
    }
    guard let configuration = ConfigSupport.load(explicit: parsed.value("--config"), context: context) else { return .config }
    let profiles = ThrottleProfiles.all()
    if parsed.has("--json") {
      let channels = configuration.channels.map { describe($0, profile: profiles[$0.profile], configuration: configuration) }
      context.printJSON([
        "config": configuration.file ?? "(embedded default)", "channels": channels,
        "default_channel": configuration.defaults.channel ?? NSNull(), "default_from": configuration.defaults.from ?? NSNull(),
        "warnings": configuration.warnings,
      ])
      return .ok
    }
    var text = "config: \(configuration.file ?? "none found, the embedded default is in use")\n"
    for channel in configuration.channels {
      let fields = describe(channel, profile: profiles[channel.profile], configuration: configuration)
      text += "\n\(channel.name)  (\(channel.kind.rawValue)\(channel.enabled ? "" : ", disabled")"
        + "\(configuration.defaults.channel == channel.name ? ", default" : ""))\n"
      let keys = ["endpoint", "tls", "auth", "credentials", "profile", "limits", "fallback", "identities", "outbox", "notes"]
      for key in keys {
        guard let value = fields[key] else { continue }
        let rendered = (value as? [String])?.joined(separator: key == "notes" ? "; " : ", ") ?? "\(value)"
        if rendered.isEmpty { continue }
        text += "  \(key.padding(toLength: 12, withPad: " ", startingAt: 0))\(rendered)\n"
      }
    }
    for warning in configuration.warnings { text += "\nwarning: \(warning)" }
    context.console.out(text + (configuration.warnings.isEmpty ? "" : "\n"))
    return .ok
  }

  /// "exchange, smtp.office365.com:587 starttls" or "file, /path".
  static func summary(of channel: ChannelConfig) -> String {
    if let endpoint = channel.endpoint {
      return "\(channel.kind.rawValue), \(endpoint.host):\(endpoint.port) \(endpoint.tlsDescription)"
    }
    return "\(channel.kind.rawValue), \(channel.outboxDirectory ?? "outbox")"
  }

  static func describe(_ channel: ChannelConfig, profile: ThrottleProfile?, configuration: Configuration) -> [String: Any] {
    var fields: [String: Any] = [
      "name": channel.name, "kind": channel.kind.rawValue, "enabled": channel.enabled,
      "identities": channel.identities.map(\.description), "profile": channel.profile,
      "limits": channel.limits.summary,
    ]
    if let fallback = channel.fallback { fields["fallback"] = fallback }
    var notes: [String] = []
    if let endpoint = channel.endpoint {
      fields["endpoint"] = "\(endpoint.host):\(endpoint.port)"
      fields["tls"] = endpoint.tlsDescription + (endpoint.tlsVerify ? "" : ", verification OFF")
        + (endpoint.fingerprint.map { ", pinned sha256:\($0.prefix(16))..." } ?? "")
        + (endpoint.caFile.map { ", CA file \($0)" } ?? "")
      let mechanism = endpoint.mechanism?.rawValue ?? "strongest offered"
      if let user = endpoint.username {
        fields["auth"] = "\(mechanism) as \(user)"
        fields["credentials"] = (endpoint.secret.map { "\($0)" } ?? "none") + ", scope \(channel.scope.rawValue)"
      } else {
        fields["auth"] = "none"
      }
    } else {
      fields["outbox"] = channel.outboxDirectory ?? ConfigPaths.defaultOutbox(environment: [:])
      notes.append("writes .eml files; sends nothing")
    }
    switch channel.kind {
    case .legacy: notes.append("shared servers without DKIM/SPF alignment: lower deliverability")
    case .exchange where channel.onPremises: notes.append("on-premises: no bounce tracking")
    case .smtp: notes.append("bounces are reported by the relay (webhooks), not the inbox")
    default: break
    }
    if channel.scope == .address { notes.append("credentials belong to this address alone and are never shared") }
    fields["notes"] = notes
    return fields
  }
}

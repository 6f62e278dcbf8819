/// The seeds' rules for each kind of channel (DOMAIN.md section 1), as checklist lines: a legacy
/// channel has no DKIM/SPF alignment, Exchange on-premises has no bounce tracking, and
/// address-scoped credentials belong to one mailbox (its user name should be that address).
enum ChannelRules {
  static func items(for channel: ChannelConfig) -> [CheckItem] {
    var items = [rules(channel)]
    if !channel.enabled {
      items.append(
        .warn(
          .enabled, "enabled = false: send and the router never use this channel",
          hint: "set enabled = true in [channels.\(channel.name)] to use it", code: .unavailable))
    }
    return items
  }

  private static func rules(_ channel: ChannelConfig) -> CheckItem {
    var notes: [String] = []
    var warnings: [String] = []
    var hint: String?
    switch channel.kind {
    case .legacy:
      warnings.append("legacy shared servers: no DKIM/SPF alignment with your domain, lower deliverability")
      hint = "connect a gmail or exchange mailbox, or your own relay (kind = \"smtp\")"
    case .exchange where channel.onPremises:
      warnings.append("Exchange on-premises: bounce tracking is not supported")
    case .exchange, .gmail:
      notes.append("bounces come back to the mailbox's inbox")
    case .smtp:
      notes.append("bounces are reported by the relay (webhooks), not the inbox")
    case .file:
      notes.append("writes .eml files; sends nothing")
    }
    if channel.kind != .file {
      switch channel.scope {
      case .address:
        let identity = channel.identities.first.map(\.description) ?? "its one address"
        notes.append("credentials belong to \(identity) alone (scope = address), never shared")
        if let user = channel.endpoint?.username, case .address(let address)? = channel.identities.first,
          user.lowercased() != address, user.contains("@")
        {
          warnings.append("username \(user) is not the identity \(address): the mailbox sends only as itself")
          hint = hint ?? "set username = \"\(address)\", or identities = [\"\(user.lowercased())\"]"
        }
      case .domain:
        notes.append("credentials may serve the whole domain (scope = domain)")
      }
    }
    if warnings.isEmpty { return .ok(.rules, notes.joined(separator: "; ")) }
    return .warn(.rules, (warnings + notes).joined(separator: "; "), hint: hint, code: .unavailable)
  }
}

/// Picks the channel for a sender and explains the choice (DESIGN.md section 3): `--channel` >
/// the most specific identity match for the From address > `[defaults] channel` > an error
/// listing the candidates.
public enum Router {
  public static func route(from sender: String, configuration: Configuration, explicitChannel: String? = nil)
    throws(RouteError) -> RouteDecision
  {
    let sender = sender.lowercased()
    if let name = explicitChannel {
      guard let channel = configuration.channel(named: name) else {
        throw .unknownChannel(name: name, known: configuration.channels.map(\.name))
      }
      try checkUsable(channel, for: sender)
      let passed = configuration.channels.filter { $0.name != name }.map {
        PassedOver(channel: $0.name, reason: "--channel \(name) was given")
      }
      return RouteDecision(channel: channel, rule: .explicit, passedOver: passed)
    }

    var candidates: [(channel: ChannelConfig, pattern: IdentityPattern)] = []
    var passed: [PassedOver] = []
    for channel in configuration.channels {
      let best = channel.identities.filter { $0.matches(sender) }.max { $0.specificity < $1.specificity }
      guard let best else {
        let list = channel.identities.isEmpty ? "none" : channel.identities.map(\.description).joined(separator: ", ")
        passed.append(PassedOver(channel: channel.name, reason: "identities (\(list)) do not match \(sender)"))
        continue
      }
      guard channel.enabled else {
        passed.append(PassedOver(channel: channel.name, reason: "matches \(best) but is disabled (enabled = false)"))
        continue
      }
      candidates.append((channel, best))
    }
    // The most specific match wins; among equals, the channel defined first.
    if let top = candidates.map(\.pattern.specificity).max(),
      let chosen = candidates.first(where: { $0.pattern.specificity == top })
    {
      for other in candidates where other.channel.name != chosen.channel.name {
        let reason = other.pattern.specificity == chosen.pattern.specificity
          ? "matches \(other.pattern) as specifically as \(chosen.channel.name), which is defined first"
          : "matches \(other.pattern), less specific than \(chosen.pattern)"
        passed.append(PassedOver(channel: other.channel.name, reason: reason))
      }
      return RouteDecision(
        channel: chosen.channel, rule: .identity(chosen.pattern), passedOver: order(passed, configuration))
    }

    if let name = configuration.defaults.channel, let channel = configuration.channel(named: name) {
      try checkUsable(channel, for: sender)
      return RouteDecision(
        channel: channel, rule: .defaultChannel,
        passedOver: order(passed.filter { $0.channel != name }, configuration))
    }
    throw .noChannel(sender: sender, passedOver: order(passed, configuration))
  }

  /// A channel chosen by name must be enabled, and address-scoped credentials may only send as
  /// the channel's own address (seed rule: Office 365 credentials are per address, never shared).
  /// The channel named by `primary`'s `fallback`, if it may carry mail from `sender` (address-scoped
  /// credentials never send as another address, even to rescue a message); the error says why not.
  static func fallback(of primary: ChannelConfig, in configuration: Configuration, sender: String)
    -> Result<ChannelConfig, RouteError>?
  {
    guard let name = primary.fallback, let other = configuration.channel(named: name) else { return nil }
    do throws(RouteError) {
      try checkUsable(other, for: sender.lowercased())
      return .success(other)
    } catch {
      return .failure(error)
    }
  }

  static func checkUsable(_ channel: ChannelConfig, for sender: String) throws(RouteError) {
    guard channel.enabled else { throw .disabled(channel: channel.name) }
    if channel.scope == .address, !channel.identities.contains(where: { $0.matches(sender) }) {
      throw .addressScoped(
        channel: channel.name, kind: channel.kind, sender: sender, identities: channel.identities.map(\.description))
    }
  }

  private static func order(_ passed: [PassedOver], _ configuration: Configuration) -> [PassedOver] {
    let rank = Dictionary(uniqueKeysWithValues: configuration.channels.enumerated().map { ($1.name, $0) })
    return passed.sorted { (rank[$0.channel] ?? 0) < (rank[$1.channel] ?? 0) }
  }
}

/// The router's answer: the channel, the rule that chose it, and why each other channel was not.
public struct RouteDecision: Sendable, Equatable {
  public var channel: ChannelConfig
  public var rule: RouteRule
  public var passedOver: [PassedOver]

  /// One line saying why this channel, e.g. `identity alice@acme.test matches the From address`.
  public var explanation: String {
    switch rule {
    case .explicit: "--channel \(channel.name) was given"
    case .identity(let pattern):
      pattern == .any ? "identity * matches any From address" : "identity \(pattern) is the most specific match for the From address"
    case .defaultChannel: "no identity matches; [defaults] channel = \"\(channel.name)\""
    case .commandLine: "--server was given: an ad-hoc channel from the command line"
    }
  }
}

public enum RouteRule: Sendable, Equatable {
  case explicit
  case identity(IdentityPattern)
  case defaultChannel
  case commandLine

  public var name: String {
    switch self {
    case .explicit: "explicit"
    case .identity: "identity"
    case .defaultChannel: "default"
    case .commandLine: "command-line"
    }
  }
}

public struct PassedOver: Sendable, Equatable {
  public var channel: String
  public var reason: String
}

public enum RouteError: Error, Sendable, Equatable, CustomStringConvertible {
  case unknownChannel(name: String, known: [String])
  case disabled(channel: String)
  case addressScoped(channel: String, kind: ChannelKind, sender: String, identities: [String])
  case noChannel(sender: String, passedOver: [PassedOver])

  public var description: String {
    switch self {
    case .unknownChannel(let name, let known):
      "no channel named \"\(name)\"; configured: \(known.isEmpty ? "none" : known.joined(separator: ", "))"
    case .disabled(let channel):
      "channel \(channel) is disabled (enabled = false)"
    case .addressScoped(let channel, let kind, let sender, let identities):
      "channel \(channel) cannot send as \(sender): its \(kind.rawValue) credentials belong to "
        + "\(identities.joined(separator: ", ")) alone (scope = \"address\"; mailbox credentials are never shared)"
    case .noChannel(let sender, let passedOver):
      "no channel carries mail from \(sender)"
        + (passedOver.isEmpty ? "" : "; candidates: " + passedOver.map { "\($0.channel): \($0.reason)" }.joined(separator: "; "))
    }
  }

  /// Usage for a name that does not exist; unavailable for the rest (DESIGN.md section 5).
  public var exitCode: ExitCode {
    if case .unknownChannel = self { return .usage }
    return .unavailable
  }

  public var hint: String? {
    switch self {
    case .unknownChannel(let name, let known):
      Suggestion.nearest(to: name, in: known).map { "did you mean --channel \($0)?" } ?? "list them with `msc-send channels`"
    case .disabled: "set enabled = true in the channel, or pick another with --channel"
    case .addressScoped: "give that mailbox its own channel, or send from an address this channel carries"
    case .noChannel: "add the address to a channel's identities, or set [defaults] channel"
    }
  }
}

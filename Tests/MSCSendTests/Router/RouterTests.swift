import Testing
@testable import MSCSend

@Suite struct RouterTests {
  static func channel(
    _ name: String, _ kind: ChannelKind, _ identities: [String], scope: CredentialScope = .domain, enabled: Bool = true
  ) -> ChannelConfig {
    ChannelConfig(
      name: name, kind: kind, identities: identities.compactMap(IdentityPattern.init), scope: scope, enabled: enabled,
      profile: "custom", endpoint: ChannelEndpoint(host: "\(name).test", port: 587, tlsMode: .starttls))
  }

  static let configuration = Configuration(
    defaults: .init(from: nil, channel: "fallback"),
    channels: [
      channel("company", .smtp, ["*@acme.test"]),
      channel("work", .exchange, ["alice@acme.test"], scope: .address),
      channel("news", .smtp, ["*@news.acme.test"]),
      channel("subs", .smtp, ["*@*.acme.test"]),
      channel("company2", .smtp, ["*@acme.test"]),
      channel("old", .legacy, ["*@legacy.test"], enabled: false),
      channel("fallback", .smtp, []),
    ], file: "test.toml")

  struct Case: Sendable, CustomTestStringConvertible {
    let from: String
    let explicit: String?
    let channel: String
    let rule: RouteRule
    var testDescription: String { "\(from) \(explicit ?? "") -> \(channel)" }
  }

  static let cases: [Case] = [
    Case(from: "alice@acme.test", explicit: nil, channel: "work", rule: .identity(.address("alice@acme.test"))),
    Case(from: "ALICE@Acme.Test", explicit: nil, channel: "work", rule: .identity(.address("alice@acme.test"))),
    Case(from: "bob@acme.test", explicit: nil, channel: "company", rule: .identity(.domain("acme.test"))),
    Case(from: "x@news.acme.test", explicit: nil, channel: "news", rule: .identity(.domain("news.acme.test"))),
    Case(from: "x@eu.acme.test", explicit: nil, channel: "subs", rule: .identity(.subdomains("acme.test"))),
    Case(from: "x@other.test", explicit: nil, channel: "fallback", rule: .defaultChannel),
    Case(from: "x@legacy.test", explicit: nil, channel: "fallback", rule: .defaultChannel),
    Case(from: "bob@acme.test", explicit: "news", channel: "news", rule: .explicit),
    Case(from: "alice@acme.test", explicit: "work", channel: "work", rule: .explicit),
  ]

  @Test(arguments: cases)
  func precedence(_ testCase: Case) throws {
    let decision = try Router.route(from: testCase.from, configuration: Self.configuration, explicitChannel: testCase.explicit)
    #expect(decision.channel.name == testCase.channel)
    #expect(decision.rule == testCase.rule)
  }

  @Test func explainsEveryChannelPassedOver() throws {
    let decision = try Router.route(from: "alice@acme.test", configuration: Self.configuration)
    #expect(decision.explanation == "identity alice@acme.test is the most specific match for the From address")
    #expect(decision.passedOver == [
      PassedOver(channel: "company", reason: "matches *@acme.test, less specific than alice@acme.test"),
      PassedOver(channel: "news", reason: "identities (*@news.acme.test) do not match alice@acme.test"),
      PassedOver(channel: "subs", reason: "identities (*@*.acme.test) do not match alice@acme.test"),
      PassedOver(channel: "company2", reason: "matches *@acme.test, less specific than alice@acme.test"),
      PassedOver(channel: "old", reason: "identities (*@legacy.test) do not match alice@acme.test"),
      PassedOver(channel: "fallback", reason: "identities (none) do not match alice@acme.test"),
    ])
  }

  @Test func tieGoesToTheChannelDefinedFirstAndSaysSo() throws {
    let decision = try Router.route(from: "bob@acme.test", configuration: Self.configuration)
    #expect(decision.channel.name == "company")
    #expect(decision.passedOver.contains(
      PassedOver(channel: "company2", reason: "matches *@acme.test as specifically as company, which is defined first")))
  }

  @Test func disabledChannelIsPassedOverWithItsReason() throws {
    let decision = try Router.route(from: "x@legacy.test", configuration: Self.configuration)
    #expect(decision.passedOver.contains(PassedOver(channel: "old", reason: "matches *@legacy.test but is disabled (enabled = false)")))
    #expect(throws: RouteError.disabled(channel: "old")) {
      try Router.route(from: "x@legacy.test", configuration: Self.configuration, explicitChannel: "old")
    }
  }

  @Test func addressScopedCredentialsNeverServeAnotherSender() {
    #expect(throws: RouteError.addressScoped(channel: "work", kind: .exchange, sender: "bob@acme.test", identities: ["alice@acme.test"])) {
      try Router.route(from: "bob@acme.test", configuration: Self.configuration, explicitChannel: "work")
    }
    let error = RouteError.addressScoped(channel: "work", kind: .exchange, sender: "bob@acme.test", identities: ["alice@acme.test"])
    #expect(error.description == "channel work cannot send as bob@acme.test: its exchange credentials belong to "
      + "alice@acme.test alone (scope = \"address\"; mailbox credentials are never shared)")
    #expect(error.exitCode == .unavailable)
  }

  @Test func unknownChannelSuggestsTheNearest() {
    let error = RouteError.unknownChannel(name: "wrok", known: Self.configuration.channels.map(\.name))
    #expect(throws: error) { try Router.route(from: "a@acme.test", configuration: Self.configuration, explicitChannel: "wrok") }
    #expect(error.hint == "did you mean --channel work?")
    #expect(error.exitCode == .usage)
  }

  @Test func noMatchAndNoDefaultListsTheCandidates() {
    var configuration = Self.configuration
    configuration.defaults.channel = nil
    do {
      _ = try Router.route(from: "x@other.test", configuration: configuration)
      Issue.record("routing should fail")
    } catch {
      #expect(error.exitCode == .unavailable)
      #expect(error.description.hasPrefix("no channel carries mail from x@other.test; candidates: company: identities (*@acme.test) do not match x@other.test;"))
    }
  }

  @Test(arguments: [
    ("alice@acme.test", IdentityPattern.address("alice@acme.test")), ("*@acme.test", .domain("acme.test")),
    ("*@*.acme.test", .subdomains("acme.test")), ("*", .any), ("*@ACME.test", .domain("acme.test")),
  ])
  func identityPatternsParse(_ text: String, _ expected: IdentityPattern) {
    #expect(IdentityPattern(text) == expected)
  }

  @Test(arguments: ["", "@acme.test", "alice@", "a*@acme.test", "*@", "*@*", "*@a@b", "alice"])
  func invalidIdentityPatternsAreRefused(_ text: String) {
    #expect(IdentityPattern(text) == nil)
  }
}

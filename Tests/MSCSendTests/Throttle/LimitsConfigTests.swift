import Testing

@testable import MSCSend

private func load(_ document: String) throws(ConfigError) -> Configuration {
  try ConfigLoader.parse(
    data: Array(document.utf8), file: "c.toml", fileIsPrivate: true, environment: ["HOME": "/home/u"])
}

private func failure(_ document: String) -> ConfigError? {
  do {
    _ = try load(document)
    return nil
  } catch {
    return error
  }
}

/// `limits`, `fallback` and `[defaults] ledger`: how they combine with the profile, and every
/// mistake with its exact `file:line:col` message.
@Suite struct LimitsConfigTests {
  @Test func limitsOverrideTheProfileKeyByKey() throws {
    let configuration = try load(
      """
      [channels.work]
      kind = "exchange"
      identities = ["ann@acme.test"]
      [channels.work.limits]
      messages = ["10/3s", "2000/24h"]
      recipients_per_message = 50
      batch = { size = 25, every = "45s" }
      backoff = "5s"
      """)
    let limits = try #require(configuration.channel(named: "work")).limits
    #expect(limits.messages == [window("10/3s"), window("2000/24h")])
    #expect(limits.recipients == [window("10000/24h")], "kept from exchange-online")
    #expect(limits.connections == 3, "kept from exchange-online")
    #expect(limits.recipientsPerMessage == 50)
    #expect(limits.batch == BatchLimit(size: 25, every: 45, everyText: "45s"))
    #expect(limits.backoff == 5)
    #expect(
      limits.summary
        == "10/3s + 2000/24h messages, 10000/24h recipients, batches of 25 every 45s, 50 recipients per message, "
        + "3 connections"
    )
  }

  @Test func aSingleWindowMayBeAStringAndAnEmptyListRemovesTheProfiles() throws {
    let configuration = try load(
      """
      [channels.g]
      kind = "gmail"
      identities = ["ann@gmail.com"]
      limits = { messages = [], recipients = "40/30s", connections = 1, messages_per_connection = 20 }
      """)
    let limits = try #require(configuration.channels.first).limits
    #expect(limits.messages.isEmpty)
    #expect(limits.recipients == [window("40/30s")])
    #expect(limits.messagesPerConnection == 20)
  }

  @Test func relaysWithoutLimitsAndFileChannelsAreNotCounted() throws {
    let configuration = try load(
      "[channels.relay]\nkind = \"smtp\"\nhost = \"h.test\"\n[channels.out]\nkind = \"file\"")
    #expect(configuration.channels.allSatisfy { !$0.limits.isCounted })
    #expect(configuration.channel(named: "relay")?.limits.summary == "no limits")
  }

  @Test func fallbackAndLedgerAreRead() throws {
    let configuration = try load(
      """
      [defaults]
      ledger = "~/state/ledger.sqlite3"
      [channels.work]
      kind = "exchange"
      identities = ["ann@acme.test"]
      fallback = "relay"
      [channels.relay]
      kind = "smtp"
      preset = "sendgrid"
      """)
    #expect(configuration.channel(named: "work")?.fallback == "relay")
    #expect(configuration.defaults.ledger == "/home/u/state/ledger.sqlite3")
    #expect(configuration.ledgerPath(environment: [:]) == "/home/u/state/ledger.sqlite3")
    let plain = try load("[channels.a]\nkind = \"file\"")
    #expect(plain.ledgerPath(environment: ["HOME": "/h"]) == "/h/.local/state/msc-send/ledger.sqlite3")
    #expect(plain.ledgerPath(environment: ["HOME": "/h", "XDG_STATE_HOME": "/s"]) == "/s/msc-send/ledger.sqlite3")
  }

  static let errors: [(document: String, expected: String)] = [
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { messages = \"30 per minute\" }",
      #"c.toml:4:23: channels.a.limits.messages: "30 per minute" is not a window of positive count and duration"#
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { messages = [\"30/1m\", \"0/24h\"] }",
      #"c.toml:4:33: channels.a.limits.messages: "0/24h" is not a window of positive count and duration"#
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { recipients = 10000 }",
      #"c.toml:4:25: channels.a.limits.recipients: expected a window such as "30/1m" or a list of them, "#
        + "found an integer"
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { messages = [30] }",
      "c.toml:4:24: channels.a.limits.messages: expected a string, found an integer"
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { recipients_per_message = 0 }",
      "c.toml:4:37: channels.a.limits.recipients_per_message: expected a positive count, found 0"
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { conections = 3 }",
      #"c.toml:4:12: unknown key "conections" in [channels.a.limits]; did you mean "connections"?"#
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { batch = { size = 25 } }",
      "c.toml:4:20: channels.a.limits.batch: needs both size and every"
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { batch = { size = 25, every = \"45 seconds\" } }",
      #"c.toml:4:41: channels.a.limits.batch.every: "45 seconds" is not a positive duration"#
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { batch = 25 }",
      "c.toml:4:20: channels.a.limits.batch: expected a table, found an integer"
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\n[channels.a.limits]\nbackoff = \"0s\"",
      #"c.toml:5:11: channels.a.limits.backoff: "0s" is not a positive duration"#
    ),
    (
      "[channels.a]\nkind = \"file\"\nlimits = { messages = \"30/1m\" }",
      "c.toml:3:1: channels.a.limits: a file channel sends nothing, so it has no provider limits"
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nfallback = \"relya\"\n[channels.relay]\nkind = \"file\"",
      #"c.toml:4:12: channels.a.fallback: no channel is named "relya""#
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nfallback = \"a\"",
      "c.toml:4:12: channels.a.fallback: a channel cannot be its own fallback"
    ),
    (
      "[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nfallback = \"b\"\n[channels.b]\nkind = \"file\"\nenabled = false",
      "c.toml:4:12: channels.a.fallback: channel b is disabled (enabled = false)"
    ),
    (
      "[channels.a]\nkind = \"file\"\nfallback = \"b\"\n[channels.b]\nkind = \"file\"",
      "c.toml:3:1: channels.a.fallback: a file channel has no quota to run out of"
    ),
    (
      "[defaults]\nledger = \"state/ledger.sqlite3\"\n[channels.a]\nkind = \"file\"",
      #"c.toml:2:10: defaults.ledger: "state/ledger.sqlite3" is relative"#
    ),
    (
      "[defaults]\nledger = \"postgres://db/msc\"\n[channels.a]\nkind = \"file\"",
      "c.toml:2:10: defaults.ledger: only a SQLite file path is supported, not a URL"
    ),
  ]

  @Test(arguments: errors)
  func mistakesAreConfigErrorsAtTheirPosition(document: String, expected: String) {
    #expect(failure(document)?.description == expected)
  }

  @Test func aBadWindowExplainsTheForm() {
    let error = failure("[channels.a]\nkind = \"smtp\"\nhost = \"h\"\nlimits = { messages = \"30/minute\" }")
    #expect(error?.hint == ChannelLimits.windowHint)
  }
}

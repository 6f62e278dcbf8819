import Testing

@testable import MSCSend

/// `dkim_selector`: one selector for the channel, or a table per identity domain; mistakes are
/// configuration errors at `file:line:col`.
@Suite struct DKIMSelectorConfigTests {
  private func load(_ body: String, identities: String = #"["*@acme.test", "bob@news.acme.test"]"#) throws(ConfigError)
    -> ChannelConfig?
  {
    let document = "[channels.relay]\nkind = \"smtp\"\nhost = \"mail.acme.test\"\nidentities = \(identities)\n\(body)"
    return try ConfigLoader.parse(
      data: Array(document.utf8), file: "c.toml", fileIsPrivate: true, environment: ["HOME": "/home/u"]
    ).channel(named: "relay")
  }

  @Test func oneSelectorForEveryDomain() throws {
    let channel = try #require(try load(#"dkim_selector = "s1""#))
    #expect(channel.dkimSelectors == .all("s1"))
    #expect(channel.dkimSelectors?.selector(for: "news.acme.test") == "s1")
  }

  @Test func selectorsPerDomain() throws {
    let channel = try #require(try load(#"dkim_selector = { "acme.test" = "s1", "News.Acme.Test" = "mta-2024.eu" }"#))
    #expect(channel.dkimSelectors == .perDomain(["acme.test": "s1", "news.acme.test": "mta-2024.eu"]))
    #expect(channel.dkimSelectors?.selector(for: "NEWS.acme.test") == "mta-2024.eu")
    #expect(channel.dkimSelectors?.selector(for: "other.test") == nil)
    #expect(try load("").map(\.dkimSelectors) == .some(nil))
  }

  static let errors: [(String, String)] = [
    (
      #"dkim_selector = "bad selector""#,
      #"c.toml:5:17: channels.relay.dkim_selector: "bad selector" is not a DKIM selector"#
    ),
    (#"dkim_selector = """#, "c.toml:5:17: channels.relay.dkim_selector: must not be empty"),
    (
      "dkim_selector = 7",
      "c.toml:5:17: channels.relay.dkim_selector: expected a string or a table of selectors per domain"
    ),
    (
      #"dkim_selector = { "other.test" = "s1" }"#,
      #"c.toml:5:19: channels.relay.dkim_selector: "other.test" is not a domain this channel sends for"#
    ),
    (#"dkim_selector = { "acme" = "s1" }"#, #"c.toml:5:19: channels.relay.dkim_selector: "acme" is not a domain name"#),
    (
      #"dkim_selector = { "acme.test" = 1 }"#,
      "c.toml:5:33: channels.relay.dkim_selector.\"acme.test\": expected a string, found an integer"
    ),
    (
      #"dkim_selector = { "acme.test" = "-s1" }"#,
      #"c.toml:5:33: channels.relay.dkim_selector: "-s1" is not a DKIM selector"#
    ),
  ]

  @Test(arguments: errors.map(\.0))
  func mistakesArePositionedConfigErrors(_ line: String) throws {
    let expected = try #require(Self.errors.first { $0.0 == line }?.1)
    do throws(ConfigError) {
      _ = try load(line)
      Issue.record("expected an error for \(line)")
    } catch {
      #expect(error.description.hasPrefix(expected), "\(error.description)")
    }
  }

  @Test func addressIdentitiesCoverTheirDomain() throws {
    let channel = try load(#"dkim_selector = { "acme.test" = "s1" }"#, identities: #"["ann@acme.test"]"#)
    #expect(channel?.dkimSelectors == .perDomain(["acme.test": "s1"]))
  }
}

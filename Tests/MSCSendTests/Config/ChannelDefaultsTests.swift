import Testing

@testable import MSCSend

private let home = ["HOME": "/home/u"]

private func load(_ document: String, environment: [String: String] = home) throws -> Configuration {
  try ConfigLoader.parse(data: Array(document.utf8), file: "c.toml", fileIsPrivate: true, environment: environment)
}

private func channel(_ body: String) throws -> ChannelConfig {
  let channels = try load("[channels.c]\n" + body).channels
  return try #require(channels.first)
}

/// What one channel table turns into when it leaves everything else to its kind's defaults.
private struct DefaultsCase: Sendable, CustomTestStringConvertible {
  var body: String
  var host: String
  var port: UInt16
  var tls: TLSMode = .starttls
  var username: String?
  var scope: CredentialScope
  var profile: String
  var mechanism: AuthMechanism?
  var testDescription: String { body.replacingOccurrences(of: "\n", with: "; ") }
}

private let defaultsCases: [DefaultsCase] = [
  DefaultsCase(
    body: "kind = \"gmail\"\nidentities = [\"Ann@gmail.com\"]", host: "smtp.gmail.com", port: 587,
    username: "ann@gmail.com", scope: .address, profile: "gmail-consumer"),
  DefaultsCase(
    body: "kind = \"gmail\"\nidentities = [\"ann@acme.test\"]\ntoken_env = \"TOKEN\"", host: "smtp.gmail.com",
    port: 587,
    username: "ann@acme.test", scope: .address, profile: "google-workspace", mechanism: .xoauth2),
  DefaultsCase(
    body: "kind = \"gmail\"", host: "smtp.gmail.com", port: 587, scope: .address, profile: "google-workspace"),
  DefaultsCase(
    body: "kind = \"exchange\"\nidentities = [\"ann@acme.test\"]\ntoken_command = \"get-token\"",
    host: "smtp.office365.com", port: 587, username: "ann@acme.test", scope: .address, profile: "exchange-online",
    mechanism: .xoauth2),
  DefaultsCase(
    body: "kind = \"exchange\"\nonprem = true\nhost = \"mail.acme.test\"\npassword_env = \"P\"\nusername = \"ann\"",
    host: "mail.acme.test", port: 587, username: "ann", scope: .address, profile: "exchange-onprem"),
  DefaultsCase(
    body: "kind = \"smtp\"\npreset = \"sendgrid\"\nidentities = [\"*@news.acme.test\"]\npassword_env = \"KEY\"",
    host: "smtp.sendgrid.net", port: 587, username: "apikey", scope: .domain, profile: "sendgrid"),
  DefaultsCase(
    body: "kind = \"smtp\"\npreset = \"sparkpost\"", host: "smtp.sparkpostmail.com", port: 587,
    username: "SMTP_Injection", scope: .domain, profile: "sparkpost"),
  DefaultsCase(
    body: "kind = \"smtp\"\nhost = \"mail.acme.test\"\nidentities = [\"*@acme.test\"]", host: "mail.acme.test",
    port: 587,
    scope: .domain, profile: "custom"),
  DefaultsCase(
    body: "kind = \"smtp\"\nhost = \"mail.acme.test\"\nport = 465", host: "mail.acme.test", port: 465, tls: .implicit,
    scope: .domain, profile: "custom"),
  DefaultsCase(
    body: "kind = \"smtp\"\nhost = \"mail.acme.test\"\ntls = \"implicit\"", host: "mail.acme.test", port: 465,
    tls: .implicit, scope: .domain, profile: "custom"),
  DefaultsCase(
    body: "kind = \"smtp\"\nhost = \"mail.acme.test\"\nport = 465\ntls = \"starttls\"", host: "mail.acme.test",
    port: 465, scope: .domain, profile: "custom"),
  DefaultsCase(
    body: "kind = \"legacy\"\nenabled = true\nhost = \"msc.test\"", host: "msc.test", port: 587, scope: .domain,
    profile: "legacy"),
]

@Test(arguments: defaultsCases)
private func kindDefaults(_ example: DefaultsCase) throws {
  let channel = try channel(example.body)
  let endpoint = try #require(channel.endpoint)
  #expect(endpoint.host == example.host)
  #expect(endpoint.port == example.port)
  #expect(endpoint.tlsMode == example.tls)
  #expect(endpoint.username == example.username)
  #expect(endpoint.mechanism == example.mechanism)
  #expect(endpoint.tlsVerify)
  #expect(channel.scope == example.scope)
  #expect(channel.profile == example.profile)
  #expect(channel.enabled)
}

@Test func everyKeyOverridesTheKindDefaults() throws {
  let channel = try channel(
    """
    kind = "exchange"
    identities = ["ann@acme.test"]
    host = "mail.acme.test"
    port = 2525
    tls = "implicit"
    username = "ACME\\\\ann"
    password_command = "pass show acme"
    auth = "login"
    profile = "custom"
    ca_file = "~/ca.pem"
    fingerprint = "SHA256:\(Array(repeating: "AB", count: 32).joined(separator: ":"))"
    ehlo = "client.acme.test"
    timeout = 12.5
    max_message_size = 1_000_000
    """)
  let endpoint = try #require(channel.endpoint)
  #expect(endpoint.host == "mail.acme.test")
  #expect(endpoint.port == 2525)
  #expect(endpoint.tlsMode == .implicit)
  #expect(endpoint.username == "ACME\\ann")
  #expect(endpoint.secret == .command("pass show acme"))
  #expect(!endpoint.secretIsToken)
  #expect(endpoint.mechanism == .login)
  #expect(endpoint.caFile == "/home/u/ca.pem")
  #expect(endpoint.fingerprint == String(repeating: "ab", count: 32))
  #expect(endpoint.helloName == "client.acme.test")
  #expect(endpoint.timeout == 12.5)
  #expect(channel.profile == "custom")
  #expect(channel.maxMessageSize == 1_000_000)
  #expect(channel.scope == .address)
}

@Test func identitiesParseIntoPatternsInOrder() throws {
  let channel = try channel(
    """
    kind = "smtp"
    host = "mail.acme.test"
    identities = ["Ann@Acme.test", "*@acme.test", "*@*.acme.test", "*"]
    """)
  #expect(channel.identities == [.address("ann@acme.test"), .domain("acme.test"), .subdomains("acme.test"), .any])
}

@Test func fileChannelsWriteToTheOutboxDirectory() throws {
  let defaulted = try channel("kind = \"file\"")
  #expect(defaulted.endpoint == nil)
  #expect(defaulted.profile == "none")
  #expect(defaulted.outboxDirectory == "/home/u/.local/share/msc-send/outbox")
  #expect(try channel("kind = \"file\"\npath = \"~/mail/out\"").outboxDirectory == "/home/u/mail/out")
  #expect(try channel("kind = \"file\"\npath = \"/var/spool/out\"").outboxDirectory == "/var/spool/out")
}

@Test func laterKeysAreKeptWithTheirPositions() throws {
  let configuration = try load(
    """
    [defaults]
    ledger = "~/.local/state/msc-send/ledger.sqlite3"
    max_age = "72h"
    [channels.work]
    kind = "exchange"
    identities = ["ann@acme.test"]
    limits = { messages = "30/1m" }
    fallback = "relay"
    dkim_selector = { "acme.test" = "s1" }
    [channels.relay]
    kind = "smtp"
    preset = "sendgrid"
    """)
  #expect(configuration.defaults.deferred["ledger"]?.value == .string("~/.local/state/msc-send/ledger.sqlite3"))
  #expect(configuration.defaults.deferred["max_age"]?.position == SourcePosition(line: 3, column: 11))
  let work = try #require(configuration.channel(named: "work"))
  #expect(Set(work.deferred.keys) == ["limits", "fallback"])
  #expect(work.dkimSelectors == .perDomain(["acme.test": "s1"]))
  #expect(work.deferred["fallback"]?.value == .string("relay"))
  #expect(work.position == SourcePosition(line: 4, column: 1))
}

@Test func defaultsAreRead() throws {
  let configuration = try load(
    "[defaults]\nfrom = \"Ann <ann@acme.test>\"\nchannel = \"out\"\n[channels.out]\nkind = \"file\"")
  #expect(configuration.defaults.from == "Ann <ann@acme.test>")
  #expect(configuration.defaults.channel == "out")
  #expect(configuration.file == "c.toml")
  #expect(!configuration.isEmbeddedDefault)
}

/// Insecure settings that were asked for load, with a warning on every use.
private let warningCases: [(body: String, warnings: [String])] = [
  (
    "kind = \"legacy\"\nenabled = true\nhost = \"msc.test\"",
    [
      "c.toml:2:8: channels.c: legacy channel: the shared servers have no DKIM/SPF alignment with your domain, so "
        + "more of its mail is filtered as spam"
    ]
  ),
  (
    "kind = \"smtp\"\nhost = \"mail.acme.test\"\ntls_verify = false",
    [
      "c.toml:4:14: channels.c: tls_verify = false: the certificate is not verified; anyone on the network path can "
        + "read the password and the mail"
    ]
  ),
  (
    "kind = \"smtp\"\nhost = \"mail.acme.test\"\ntls_verify = false\n"
      + "fingerprint = \"sha256:\(String(repeating: "0", count: 64))\"",
    [
      "c.toml:4:14: channels.c: tls_verify = false: the certificate is not verified; only the pinned fingerprint "
        + "protects the connection"
    ]
  ),
  (
    "kind = \"smtp\"\nhost = \"mail.acme.test\"\ntls = \"none\"",
    [#"c.toml:4:7: channels.c: tls = "none" to mail.acme.test: mail travels in clear on the network"#]
  ),
  ("kind = \"smtp\"\nhost = \"localhost\"\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"", []),
  ("kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\ntls = \"none\"", []),
  ("kind = \"smtp\"\nhost = \"::1\"\ntls = \"none\"", []),
  (
    "kind = \"gmail\"\nscope = \"domain\"\nidentities = [\"*@acme.test\"]",
    [
      "c.toml:3:9: channels.c.scope: gmail sends only as the signed-in mailbox and the aliases it may send as; mail "
        + "from other addresses is rewritten or refused"
    ]
  ),
  ("kind = \"smtp\"\nhost = \"mail.acme.test\"", []),
]

@Test(arguments: warningCases)
func warnings(body: String, warnings: [String]) throws {
  #expect(try load("[channels.c]\n" + body).warnings == warnings)
}

@Test func embeddedDefaultIsOneFileChannelForEverySender() {
  let configuration = ConfigLoader.embeddedDefault(environment: home)
  #expect(configuration.isEmbeddedDefault)
  #expect(configuration.channels.count == 1)
  let outbox = configuration.channels[0]
  #expect(outbox.name == "outbox")
  #expect(outbox.kind == .file)
  #expect(outbox.identities == [.any])
  #expect(outbox.profile == "none")
  #expect(outbox.endpoint == nil)
  #expect(outbox.outboxDirectory == "/home/u/.local/share/msc-send/outbox")
  let xdg = ConfigLoader.embeddedDefault(environment: ["HOME": "/home/u", "XDG_DATA_HOME": "/data"])
  #expect(xdg.channels[0].outboxDirectory == "/data/msc-send/outbox")
  // The XDG spec says relative paths in these variables are to be ignored.
  let relative = ConfigLoader.embeddedDefault(environment: ["HOME": "/home/u/", "XDG_DATA_HOME": "data"])
  #expect(relative.channels[0].outboxDirectory == "/home/u/.local/share/msc-send/outbox")
}

@Test func tildeExpandsOnlyAtTheStart() {
  #expect(ConfigLoader.expandTilde("~", environment: home) == "/home/u")
  #expect(ConfigLoader.expandTilde("~/a/b", environment: home) == "/home/u/a/b")
  #expect(ConfigLoader.expandTilde("~bob/a", environment: home) == "~bob/a")
  #expect(ConfigLoader.expandTilde("/a/~/b", environment: home) == "/a/~/b")
}

@Test func theQueueDefaultsAreRead() throws {
  let configuration = try load(
    """
    [defaults]
    ledger = "~/state/ledger.sqlite3"
    log = "~/mail.log"
    max_age = "36h"
    uncertain_retries = 0
    [channels.out]
    kind = "file"
    """)
  #expect(configuration.defaults.log == .file("/home/u/mail.log"))
  #expect(configuration.retryPolicy == RetryPolicy(maxAge: 36 * 3600, uncertainRetries: 0))
  #expect(configuration.spool(environment: home).directory == "/home/u/state/spool")
  #expect(try load("[defaults]\nlog = \"syslog\"\n[channels.out]\nkind = \"file\"").defaults.log == .syslog)
  #expect(try load("[defaults]\nlog = \"off\"\n[channels.out]\nkind = \"file\"").defaults.log == .off)
  let unset = try load("[channels.out]\nkind = \"file\"")
  #expect(unset.defaults.log == nil)
  #expect(unset.retryPolicy == RetryPolicy(maxAge: 5 * 86_400, uncertainRetries: 1))
}

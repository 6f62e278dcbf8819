import Testing

@testable import MSCSend

/// Each case: a document, the exact `file:line:col: message` it must fail with, and the hint when
/// one is part of the contract. Positions point at the offending key (unknown or misplaced keys)
/// or value (wrong values), or at the channel's header when something is missing.
private let errorCases: [(document: String, expected: String, hint: String?)] = [
  // TOML syntax passes through unchanged.
  ("[channels.a\nkind = \"file\"", #"c.toml:1:12: expected "]" to close the table header, found a newline"#, nil),
  // Unknown keys, with the nearest known key.
  ("chanels = 1", #"c.toml:1:1: unknown key "chanels" at the top level; did you mean "channels"?"#, nil),
  ("[defaults]\nfrm = \"a@b.test\"", #"c.toml:2:1: unknown key "frm" in [defaults]; did you mean "from"?"#, nil),
  (
    "[channels.a]\nkind = \"smtp\"\nidentites = []",
    #"c.toml:3:1: unknown key "identites" in [channels.a]; did you mean "identities"?"#, nil
  ),
  (
    "[channels.a]\nkind = \"file\"\nzzzzzzzz = 1", #"c.toml:3:1: unknown key "zzzzzzzz" in [channels.a]"#,
    "known keys: " + ChannelReader.keys.joined(separator: ", ")
  ),
  // Wrong types.
  ("[channels.a]\nkind = \"smtp\"\nhost = 25", "c.toml:3:8: channels.a.host: expected a string, found an integer", nil),
  ("defaults = 1", "c.toml:1:12: defaults: expected a table, found an integer", nil),
  (
    "[[channels]]\nkind = \"file\"", "c.toml:1:1: channels: expected a table, found an array",
    "write each channel as a table: [channels.NAME]"
  ),
  (
    "[channels]\na = 1", "c.toml:2:5: channels.a: expected a table, found an integer",
    "write each channel as a table: [channels.NAME]"
  ),
  (
    "[channels.a]\nkind = \"file\"\nenabled = \"yes\"",
    "c.toml:3:11: channels.a.enabled: expected a boolean (true or false), found a string", nil
  ),
  (
    "[channels.a]\nkind = \"file\"\nidentities = \"a@b.test\"",
    "c.toml:3:14: channels.a.identities: expected an array of strings, found a string", nil
  ),
  (
    "[channels.a]\nkind = \"file\"\nidentities = [\"a@b.test\", 3]",
    "c.toml:3:27: channels.a.identities: expected a string, found an integer", nil
  ),
  ("[channels.a]\nkind = \"smtp\"\nhost = \"\"", "c.toml:3:8: channels.a.host: must not be empty", nil),
  (
    "[channels.a]\nkind = \"file\"\nlimits = \"30/1m\"",
    "c.toml:3:10: channels.a.limits: expected a table, found a string",
    nil
  ),
  (
    "[channels.a]\nkind = \"file\"\nfallback = [\"b\"]",
    "c.toml:3:12: channels.a.fallback: expected a string, found an array", nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\ntimeout = \"30s\"",
    "c.toml:4:11: channels.a.timeout: expected a number, found a string", nil
  ),
  // Channels and kinds.
  (
    "[defaults]\nfrom = \"a@b.test\"", "c.toml:1:1: no channels are defined",
    "add a [channels.NAME] table with a kind (gmail, exchange, smtp, legacy or file); see Examples/"
  ),
  (
    "[channels.\"a.b\"]\nkind = \"file\"",
    #"c.toml:1:11: channel name "a.b" may contain only letters, digits, "-" and "_""#,
    nil
  ),
  (
    "[channels.a]\nhost = \"h.test\"",
    "c.toml:1:1: channels.a: no kind given; expected one of gmail, exchange, smtp, legacy, file",
    nil
  ),
  (
    "[channels.a]\nkind = \"gmial\"",
    #"c.toml:2:8: channels.a.kind: unknown kind "gmial"; expected one of gmail, exchange, smtp, legacy, file"#,
    #"did you mean "gmail"?"#
  ),
  (
    "[channels.a]\nkind = \"marketo\"",
    #"c.toml:2:8: channels.a.kind: "marketo" is refused: Marketo's marketing servers are not a sales delivery channel "#
      + "(they are built for bulk marketing mail; Gmail and Exchange do better for one-to-one sales mail)",
    "use a gmail or exchange channel for one-to-one mail, or an smtp relay for volume"
  ),
  (
    "[channels.old]\nkind = \"legacy\"\nhost = \"msc.test\"",
    "c.toml:2:8: channels.old: a legacy channel sends through the shared MSC servers, which have no DKIM/SPF alignment "
      + "with your domain, so deliverability is lower; set enabled = true to accept that",
    #"better: connect a gmail or exchange mailbox, or your own relay (kind = "smtp")"#
  ),
  (
    "[channels.a]\nkind = \"gmail\"\npreset = \"sendgrid\"",
    #"c.toml:3:1: channels.a.preset: applies only to kind = "smtp""#,
    nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\npreset = \"mailgun\"",
    #"c.toml:3:10: channels.a.preset: unknown preset "mailgun"; expected sendgrid or sparkpost"#,
    "for another relay leave preset out and write host, port and username"
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nonprem = true\nhost = \"h.test\"",
    #"c.toml:3:1: channels.a.onprem: applies only to kind = "exchange""#, nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\npath = \"/tmp\"",
    #"c.toml:4:1: channels.a.path: applies only to kind = "file""#, nil
  ),
  (
    "[channels.a]\nkind = \"file\"\nhost = \"h.test\"",
    #"c.toml:3:1: channels.a.host: does not apply to kind = "file", which writes messages to a directory and has no "#
      + "server", nil
  ),
  (
    "[channels.a]\nkind = \"gmail\"\nprofile = \"gmail\"",
    #"c.toml:3:11: channels.a.profile: unknown profile "gmail"; expected one of "#
      + ChannelDefaults.profiles.joined(separator: ", "), nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nscope = \"team\"",
    #"c.toml:4:9: channels.a.scope: unknown scope "team"; expected address or domain"#, nil
  ),
  // Missing host where the kind has no default server.
  (
    "[channels.a]\nkind = \"smtp\"",
    #"c.toml:1:1: channels.a: host is missing; kind = "smtp" without a preset has no default server"#,
    #"write host = "mail.example.com", or preset = "sendgrid" or "sparkpost""#
  ),
  (
    "[channels.a]\nkind = \"legacy\"\nenabled = true",
    #"c.toml:1:1: channels.a: host is missing; kind = "legacy" has no default server"#,
    #"write host = "mail.example.com""#
  ),
  (
    "[channels.a]\nkind = \"exchange\"\nonprem = true",
    #"c.toml:1:1: channels.a: host is missing; kind = "exchange" with onprem = true has no default server"#, nil
  ),
  // Server values.
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"mail.test:587\"",
    #"c.toml:3:8: channels.a.host: "mail.test:587" includes a port"#, "write the port on its own: port = 587"
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"mail test\"",
    #"c.toml:3:8: channels.a.host: "mail test" is not a host name or address"#, nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nport = 70000",
    "c.toml:4:8: channels.a.port: expected a port between 1 and 65535, found 70000",
    "submission is 587 (STARTTLS) or 465 (implicit TLS)"
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nport = 0",
    "c.toml:4:8: channels.a.port: expected a port between 1 and 65535, found 0", nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\ntls = \"startls\"",
    #"c.toml:4:7: channels.a.tls: unknown TLS mode "startls"; expected starttls, implicit or none"#,
    #"did you mean "starttls"?"#
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\ntls = \"none\"\nca_file = \"/ca.pem\"",
    #"c.toml:5:1: channels.a.ca_file: has no effect with tls = "none", which makes no TLS connection"#, nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"",
    #"c.toml:4:7: channels.a.tls: "none" with password_env: credentials never travel without TLS except to a "#
      + "loopback address", #"use tls = "starttls" (port 587) or tls = "implicit" (port 465)"#
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nfingerprint = \"sha256:abcd\"",
    #"c.toml:4:15: channels.a.fingerprint: expected "sha256:" and 64 hex digits (colons allowed)"#,
    "openssl x509 -in cert.pem -noout -fingerprint -sha256 prints it"
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nfingerprint = \"md5:" + String(repeating: "a", count: 64) + "\"",
    #"c.toml:4:15: channels.a.fingerprint: expected "sha256:" and 64 hex digits (colons allowed)"#, nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nehlo = \"my host\"",
    #"c.toml:4:8: channels.a.ehlo: "my host" is not a host name"#, nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\ntimeout = 0",
    "c.toml:4:11: channels.a.timeout: expected a positive number of seconds", nil
  ),
  (
    "[channels.a]\nkind = \"file\"\nmax_message_size = 0",
    "c.toml:3:20: channels.a.max_message_size: expected a positive number of bytes, found 0", nil
  ),
  // Identities and credential scope.
  (
    "[channels.a]\nkind = \"file\"\nidentities = [\"alice\"]",
    #"c.toml:3:15: channels.a.identities: "alice" is not an identity; expected an address, "*@domain", "*@*.domain" "#
      + #"or "*""#, #"write identities = ["alice@example.com"] (patterns: "*@example.com", "*@*.example.com", "*")"#
  ),
  (
    "[channels.a]\nkind = \"file\"\nidentities = [\"a@b.test\", \"*@\"]",
    #"c.toml:3:27: channels.a.identities: "*@" is not an identity; expected an address, "*@domain", "*@*.domain" "#
      + #"or "*""#, nil
  ),
  (
    "[channels.a]\nkind = \"file\"\nidentities = [\"Alice Smith <a@b.test>\"]",
    #"c.toml:3:15: channels.a.identities: "Alice Smith <a@b.test>" is not an identity; expected an address, "#
      + #""*@domain", "*@*.domain" or "*""#, nil
  ),
  (
    "[channels.a]\nkind = \"file\"\nidentities = [\"a@b.test\", \"A@B.test\"]",
    #"c.toml:3:27: channels.a.identities: "a@b.test" is listed twice (first at 3:15)"#, nil
  ),
  (
    "[channels.team]\nkind = \"gmail\"\nidentities = [\"*@acme.test\"]",
    #"c.toml:3:15: channels.team.identities: "*@acme.test" is a pattern, but the credentials of this gmail channel "#
      + #"belong to one mailbox (scope = "address") and are never shared"#,
    "Gmail and Office 365 sign in as one mailbox, so only its own address may send with those credentials: give "
      + #"each mailbox its own channel (relays with scope = "domain" may carry many addresses)"#
  ),
  (
    "[channels.team]\nkind = \"gmail\"\nidentities = [\"*@acme.test\"]\ntoken_env = \"T\"",
    #"c.toml:3:15: channels.team.identities: "*@acme.test" is a pattern, but the credentials of this gmail channel "#
      + #"belong to one mailbox (scope = "address") and are never shared"#, nil
  ),
  (
    "[channels.team]\nkind = \"exchange\"\nidentities = [\"a@acme.test\", \"b@acme.test\"]",
    #"c.toml:3:30: channels.team.identities: 2 addresses, but the credentials of this exchange channel belong to one "#
      + #"mailbox (scope = "address") and are never shared"#, nil
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nscope = \"address\"\nidentities = [\"*\"]",
    #"c.toml:5:15: channels.a.identities: "*" is a pattern, but the credentials of this smtp channel belong to one "#
      + #"mailbox (scope = "address") and are never shared"#, nil
  ),
  // Secrets.
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nusername = \"u\"\npassword = \"hunter2\"",
    "c.toml:5:12: channels.a.password: a literal password in a file that group or others can access",
    "chmod 600 c.toml, or use password_env or password_command"
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nusername = \"u\"\npassword_env = \"P\"\n"
      + "password_command = \"x\"",
    "c.toml:6:1: channels.a: password_env and password_command are both set; a channel takes its secret from "
      + "one source",
    "keep one of password, password_env, password_command, token_env, token_command"
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nusername = \"u\"\npassword_env = \"my secret\"",
    #"c.toml:5:16: channels.a.password_env: not an environment variable name (letters, digits and _, not starting "#
      + "with a digit)", #"write the variable's name, such as "RELAY_PASSWORD", never the secret itself"#
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\npassword_env = \"P\"",
    "c.toml:4:1: channels.a: password_env is set but there is no username",
    #"write username = "..." (the account the server knows you by)"#
  ),
  (
    "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nauth = \"plian\"",
    #"c.toml:4:8: channels.a.auth: unknown mechanism "plian"; expected one of plain, login, cram-md5, xoauth2, "#
      + "oauthbearer", #"did you mean "plain"?"#
  ),
  (
    "[channels.w]\nkind = \"exchange\"\nidentities = [\"a@acme.test\"]\nauth = \"xoauth2\"",
    "c.toml:4:8: channels.w.auth: xoauth2 needs an OAuth2 access token: set token_env or token_command",
    "sign-in from msc-send (msc-send auth login) is not available yet; until then token_command can run a helper "
      + "that prints a fresh access token"
  ),
  (
    "[channels.w]\nkind = \"exchange\"\nidentities = [\"a@acme.test\"]\nauth = \"XOAUTH2\"\npassword_env = \"P\"",
    "c.toml:4:8: channels.w.auth: xoauth2 needs an OAuth2 access token: set token_env or token_command, not "
      + "password_env", nil
  ),
  (
    "[channels.w]\nkind = \"gmail\"\nidentities = [\"a@acme.test\"]\nauth = \"login\"\ntoken_env = \"T\"",
    "c.toml:4:8: channels.w.auth: login sends a password, but the secret is a token (token_env)",
    #"use auth = "xoauth2" or "oauthbearer" with a token, or a password source"#
  ),
  (
    "[channels.w]\nkind = \"smtp\"\nhost = \"h.test\"\nauth = \"login\"",
    "c.toml:4:8: channels.w.auth: login needs a password: set password_env or password_command", nil
  ),
  // [defaults]
  (
    "[defaults]\nchannel = \"wrk\"\n[channels.work]\nkind = \"file\"\n[channels.relay]\nkind = \"file\"",
    #"c.toml:2:11: defaults.channel: no channel is named "wrk""#, #"did you mean "work"? channels: work, relay"#
  ),
  (
    "[defaults]\nfrom = \"alice\"\n[channels.a]\nkind = \"file\"",
    #"c.toml:2:8: defaults.from: "alice" is not an email address"#,
    #"write it as "alice@example.com" or "Alice <alice@example.com>""#
  ),
  (
    "[defaults]\nfrom = \"a@b@c.test\"\n[channels.a]\nkind = \"file\"",
    #"c.toml:2:8: defaults.from: "a@b@c.test" is not an email address"#, nil
  ),
  (
    "[defaults]\nfrom = \"a@b.test\\r\\nBcc: x@y.test\"\n[channels.a]\nkind = \"file\"",
    "c.toml:2:8: defaults.from: \"a@b.test\r\nBcc: x@y.test\" is not an email address", nil
  ),
  (
    "[defaults]\nledger = 3\n[channels.a]\nkind = \"file\"",
    "c.toml:2:10: defaults.ledger: expected a string, found an integer", nil
  ),
  (
    "[defaults]\nlog = \"mail.log\"\n[channels.a]\nkind = \"file\"",
    "c.toml:2:7: defaults.log: \"mail.log\" is neither a path nor syslog or off",
    "write an absolute path or one starting with ~/ (cron runs in other folders), \"syslog\" or \"off\""
  ),
  (
    "[defaults]\nmax_age = \"5 days\"\n[channels.a]\nkind = \"file\"",
    "c.toml:2:11: defaults.max_age: \"5 days\" is not a positive duration",
    "durations are a whole number and a unit: 12h, 5d"
  ),
  (
    "[defaults]\nuncertain_retries = 11\n[channels.a]\nkind = \"file\"",
    "c.toml:2:21: defaults.uncertain_retries: expected 0 to 10, found 11", nil
  ),
]

private func configError(_ document: String, fileIsPrivate: Bool = false) -> ConfigError? {
  do {
    _ = try ConfigLoader.parse(
      data: Array(document.utf8), file: "c.toml", fileIsPrivate: fileIsPrivate, environment: ["HOME": "/home/u"])
    return nil
  } catch {
    return error
  }
}

@Test(arguments: errorCases)
func configErrorMessageAndPosition(document: String, expected: String, hint: String?) {
  let error = configError(document)
  #expect(error?.description == expected)
  if let hint { #expect(error?.hint == hint) }
}

@Test func aPrivateFileMayHoldAPasswordLiteral() throws {
  let document = "[channels.a]\nkind = \"smtp\"\nhost = \"h.test\"\nusername = \"u\"\npassword = \"hunter2\""
  #expect(configError(document, fileIsPrivate: true) == nil)
  let configuration = try ConfigLoader.parse(
    data: Array(document.utf8), file: "c.toml", fileIsPrivate: true, environment: [:])
  #expect(configuration.channels[0].endpoint?.secret == .literal("hunter2"))
}

@Test func theSameAddressInTwoChannelsIsAllowed() {
  let document = """
    [channels.mine]
    kind = "gmail"
    identities = ["a@acme.test"]
    [channels.relay]
    kind = "smtp"
    preset = "sparkpost"
    identities = ["a@acme.test", "*@acme.test"]
    """
  #expect(configError(document) == nil)
}

@Test func aLegacyChannelSwitchedOffNeedsNoConsent() throws {
  let configuration = try ConfigLoader.parse(
    data: Array("[channels.old]\nkind = \"legacy\"\nenabled = false\nhost = \"h.test\"".utf8), file: "c.toml",
    fileIsPrivate: true, environment: [:])
  #expect(configuration.channels[0].enabled == false)
  #expect(configuration.warnings.isEmpty)
}

@Test func errorsWithoutPositionNameOnlyTheFile() {
  let error = ConfigError(file: "/etc/x.toml", position: nil, message: "not a regular file")
  #expect(error.description == "/etc/x.toml: not a regular file")
}

/// The `send` flags, checked for shape (values are checked later: addresses and header values by
/// the composer, files when they are read, secrets when they are needed).
struct SendRequest {
  var delivery: DeliveryOptions
  var from: String?
  var fromName: String?
  var to: [String]
  var cc: [String]
  var bcc: [String]
  var replyTo: [String]
  var subject: String
  var body: BodySource
  var htmlFile: String?
  /// `--attach` values as given: `PATH` or `PATH;type=TYPE/SUBTYPE`.
  var attachments: [String]
  /// `--header` values as given: `Name: value`.
  var headers: [String]

  enum BodySource: Equatable {
    case text(String)
    case file(String)
    case standardInput
  }

  init(_ arguments: ParsedArguments) throws(UsageError) {
    from = arguments.value("--from")
    fromName = arguments.value("--from-name")
    to = arguments.all("--to")
    cc = arguments.all("--cc")
    bcc = arguments.all("--bcc")
    replyTo = arguments.all("--reply-to")
    guard !(to.isEmpty && cc.isEmpty && bcc.isEmpty) else {
      throw UsageError("at least one recipient is required (--to, --cc or --bcc)")
    }
    subject = arguments.value("--subject") ?? ""
    switch (arguments.value("--body"), arguments.value("--body-file")) {
    case (.some, .some): throw UsageError("--body and --body-file exclude each other")
    case (.some(let text), nil): body = .text(text)
    case (nil, .some(let path)): body = .file(path)
    case (nil, nil): body = .standardInput
    }
    htmlFile = arguments.value("--html-file")
    attachments = arguments.all("--attach")
    headers = arguments.all("--header")
    delivery = DeliveryOptions(
      adHocEndpoint: nil, channel: arguments.value("--channel"), configFile: arguments.value("--config"),
      json: arguments.has("--json"), verbose: arguments.has("--verbose"), quiet: arguments.has("--quiet"))
    delivery.maxWait = try Self.maxWait(arguments)
    delivery.queueOnly = arguments.has("--queue")

    let serverOnly = ["--tls", "--user", "--password-env", "--password-command", "--token-env", "--token-command",
      "--auth", "--ca-file", "--fingerprint", "--no-verify", "--ehlo", "--timeout"].filter { arguments.has($0) }
    guard let serverText = arguments.value("--server") else {
      if !serverOnly.isEmpty {
        let verb = serverOnly.count == 1 ? "needs" : "need"
        throw UsageError("\(serverOnly.joined(separator: ", ")) \(verb) --server (a configured channel has its own settings)")
      }
      return
    }
    if let channel = delivery.channel {
      throw UsageError("--server and --channel exclude each other (\(channel) has its own server)")
    }
    if delivery.queueOnly {
      throw UsageError(
        "--queue needs a configured channel: an ad-hoc --server is sent at once, never queued",
        hint: "add the server as a channel in the config file to queue mail for it")
    }
    delivery.adHocEndpoint = try Self.adHocEndpoint(serverText, arguments)
  }

  /// The engine issue's flags as a channel endpoint.
  private static func adHocEndpoint(_ serverText: String, _ arguments: ParsedArguments) throws(UsageError)
    -> ChannelEndpoint
  {
    var server = try ServerAddress.parse(serverText)
    let tlsMode: TLSMode
    if let mode = arguments.value("--tls") {
      guard let parsed = TLSMode(rawValue: mode.lowercased()) else {
        throw UsageError("invalid --tls \"\(mode)\": expected starttls, implicit or none")
      }
      tlsMode = parsed
    } else {
      tlsMode = SMTPEndpoint.defaultTLSMode(forPort: server.port ?? 587)
    }
    if server.port == nil { server.port = SMTPEndpoint.defaultPort(for: tlsMode) }
    let user: String?
    let secret: SecretSource?
    let secretIsToken: Bool
    var mechanism: AuthMechanism?

    let secretOptions = ["--password-env", "--password-command", "--token-env", "--token-command"]
      .filter { arguments.has($0) }
    guard secretOptions.count <= 1 else {
      throw UsageError("\(secretOptions.joined(separator: " and ")) exclude each other: give one")
    }
    user = arguments.value("--user")
    secretIsToken = secretOptions.first?.hasPrefix("--token") ?? false
    switch secretOptions.first {
    case "--password-env": secret = .environment(arguments.value("--password-env") ?? "")
    case "--token-env": secret = .environment(arguments.value("--token-env") ?? "")
    case "--password-command": secret = .command(arguments.value("--password-command") ?? "")
    case "--token-command": secret = .command(arguments.value("--token-command") ?? "")
    default: secret = nil
    }
    if secret != nil && user == nil {
      throw UsageError("\(secretOptions[0]) needs --user")
    }
    if user != nil && secret == nil {
      throw UsageError("--user needs a secret", hint: "give --password-env VAR or --password-command CMD (or --token-env/--token-command)")
    }
    if let name = arguments.value("--auth") {
      guard let parsed = AuthMechanism(name: name) else {
        throw UsageError("unknown --auth \"\(name)\": expected one of "
          + AuthMechanism.allCases.map(\.rawValue).joined(separator: ", "))
      }
      guard secret != nil else { throw UsageError("--auth needs --user and a password or token") }
      let fits = parsed.accepts(secretIsToken ? .bearerToken(user: "", token: "") : .password(user: "", password: ""))
      guard fits else {
        throw UsageError("--auth \(parsed.rawValue) needs " + (secretIsToken ? "a password, not a token" : "a token (--token-env or --token-command)"))
      }
      mechanism = parsed
    }

    let caFile = arguments.value("--ca-file")
    var pinnedSHA256: String?
    if let pin = arguments.value("--fingerprint") {
      pinnedSHA256 = try Self.parseFingerprint(pin)
    }
    let verify = !arguments.has("--no-verify")
    let helloName = arguments.value("--ehlo")
    if let name = helloName, name.isEmpty || name.contains(where: { $0.isWhitespace || $0.isNewline }) {
      throw UsageError("invalid --ehlo \"\(name)\": a host name or address literal without spaces")
    }
    var timeout: Double?
    if let text = arguments.value("--timeout") {
      guard let seconds = Double(text), seconds > 0, seconds <= 3600 else {
        throw UsageError("invalid --timeout \"\(text)\": expected seconds between 1 and 3600")
      }
      timeout = seconds
    }
    if tlsMode == .none && (caFile != nil || pinnedSHA256 != nil || !verify) {
      throw UsageError("--ca-file, --fingerprint and --no-verify need TLS, but --tls none was given")
    }
    return ChannelEndpoint(
      host: server.host, port: server.port ?? SMTPEndpoint.defaultPort(for: tlsMode), tlsMode: tlsMode, caFile: caFile,
      fingerprint: pinnedSHA256, tlsVerify: verify, username: user, secret: secret, secretIsToken: secretIsToken,
      mechanism: mechanism, helloName: helloName, timeout: timeout)
  }

  /// `--max-wait 2m` / `--max-wait 90` (seconds), or `--no-wait`. A day at most: longer waits
  /// belong to a queue, not to a process holding a terminal or a cron slot.
  static func maxWait(_ arguments: ParsedArguments) throws(UsageError) -> Double {
    if arguments.has("--no-wait") {
      guard !arguments.has("--max-wait") else { throw UsageError("--no-wait and --max-wait exclude each other") }
      return 0
    }
    guard let text = arguments.value("--max-wait") else { return ThrottledDelivery.Options.defaultMaxWait }
    guard let seconds = DurationText.parse(text, allowingBareSeconds: true), seconds <= 86_400 else {
      throw UsageError("invalid --max-wait \"\(text)\": expected seconds or a duration up to 24h, such as 90, 45s, 2m")
    }
    return seconds
  }

  /// `sha256:HEX` (colons allowed between bytes) to 64 lower-case hex digits.
  static func parseFingerprint(_ text: String) throws(UsageError) -> String {
    var value = text.lowercased()
    if value.hasPrefix("sha256:") { value.removeFirst(7) } else if value.contains(":") && value.count < 64 {
      throw UsageError("unsupported --fingerprint \"\(text)\": only sha256:HEX")
    }
    value.removeAll { $0 == ":" }
    guard value.count == 64, value.allSatisfy(\.isHexDigit) else {
      throw UsageError("invalid --fingerprint \"\(text)\": expected sha256: and 64 hex digits",
        hint: "openssl x509 -in cert.pem -noout -fingerprint -sha256")
    }
    return value
  }
}

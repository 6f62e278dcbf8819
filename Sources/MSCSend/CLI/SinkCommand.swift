import Foundation

/// `msc-send sink`: a local capture SMTP server for trying channels out. It accepts every
/// message, stores it in a Maildir when asked, prints one line per message, and relays nothing.
enum SinkCommand {
  static let options: [OptionSpec] = [
    .value("--listen", valueName: "ADDRESS:PORT", help: "where to listen (default 127.0.0.1:2525; [::1]:PORT; 0: any)"),
    .value("--maildir", valueName: "DIR", help: "also store each message in the Maildir DIR (tmp/, new/, cur/ made)"),
    .value("--tls-cert", valueName: "FILE", help: "certificate chain (PEM) for STARTTLS; needs --tls-key"),
    .value("--tls-key", valueName: "FILE", help: "private key (PEM, unencrypted) for --tls-cert"),
    .value("--max-messages", valueName: "N", help: "exit after N messages were captured"),
    .value("--idle-timeout", valueName: "SECONDS", help: "close a silent connection after SECONDS (default 60)"),
    .value("--hostname", valueName: "NAME", help: "name in the greeting and EHLO reply (default localhost)"),
    .flag("--allow-remote", help: "allow listening on a non-loopback address"),
    .flag("--json", help: "print each message as a JSON object (one a line)"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage =
    "usage: msc-send sink [--listen 127.0.0.1:2525] [--maildir DIR] [--tls-cert FILE --tls-key FILE] "
    + "[--max-messages N] [--json]"

  static var help: String {
    """
    \(usage)

    Runs a small SMTP server that captures mail instead of delivering it, for trying channels
    locally (point a channel at it with tls = "none", or "starttls" with --tls-cert). Every
    message is accepted and none is ever relayed. AUTH PLAIN and LOGIN accept any credentials,
    offered after STARTTLS or to a loopback client only.

    For each message one line goes to standard output:
      from=<a@example.com> to=<b@example.org>,<c@example.org> size=1234 subject="Hi" file=PATH
    (file= only with --maildir; with --json one JSON object a line instead). The Maildir file
    holds the message exactly as the client sent it. The listening address goes to standard
    error: "msc-send sink: listening on 127.0.0.1:2525". Ctrl-C or SIGTERM stops it (exit 0).

    Options:
    \(ArgumentParser.helpText(for: options))

    Exit codes: 0 stopped; 64 usage; 69 cannot listen; 74 cannot create the Maildir;
    78 unusable certificate or key.

    """
  }

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let request: Request
    do throws(UsageError) {
      let parsed = try ArgumentParser.parse(arguments, options: options, allowsPositionals: false)
      if parsed.has("--help") {
        context.console.out(help)
        return .ok
      }
      request = try Request(parsed)
    } catch {
      context.error(error.message, hint: error.hint ?? usage)
      return .usage
    }
    return serve(request, context: context)
  }

  /// The checked flags.
  struct Request {
    var configuration: SinkServer.Configuration
    /// Certificate and key files, when STARTTLS is to be offered.
    var tlsFiles: (certificate: String, key: String)?
    var json: Bool

    init(_ parsed: ParsedArguments) throws(UsageError) {
      configuration = try SinkCommand.makeConfiguration(parsed)
      switch (parsed.value("--tls-cert"), parsed.value("--tls-key")) {
      case (.some(let certificate), .some(let key)): tlsFiles = (certificate, key)
      case (.some, nil): throw UsageError("--tls-cert needs --tls-key")
      case (nil, .some): throw UsageError("--tls-key needs --tls-cert")
      case (nil, nil): tlsFiles = nil
      }
      json = parsed.has("--json")
    }
  }

  /// Where and how to listen, from the flags (the TLS files are read in `serve`).
  static func makeConfiguration(_ parsed: ParsedArguments) throws(UsageError) -> SinkServer.Configuration {
    let address = try parseListen(parsed.value("--listen") ?? "127.0.0.1:2525")
    if !address.isLoopback && !parsed.has("--allow-remote") {
      throw UsageError(
        "refusing to listen on \(address): not a loopback address",
        hint: "the sink is a capture tool for local trials; add --allow-remote to listen there anyway")
    }
    var configuration = SinkServer.Configuration(listenAddress: address)
    configuration.maildir = parsed.value("--maildir")
    if configuration.maildir?.isEmpty == true { throw UsageError("--maildir needs a directory") }
    if let text = parsed.value("--max-messages") {
      guard let count = Int(text), count > 0 else {
        throw UsageError("invalid --max-messages \"\(text)\": expected a whole number above 0")
      }
      configuration.maxMessages = count
    }
    if let text = parsed.value("--idle-timeout") {
      guard let seconds = Double(text), seconds >= 1, seconds <= 3600 else {
        throw UsageError("invalid --idle-timeout \"\(text)\": expected seconds between 1 and 3600")
      }
      configuration.idleTimeout = seconds
    }
    if let name = parsed.value("--hostname") {
      guard HostIdentity.isValidHostName(name) || name == "localhost" else {
        throw UsageError("invalid --hostname \"\(name)\": letters, digits, '-' and '.' only")
      }
      configuration.hostname = name
    }
    return configuration
  }

  /// `127.0.0.1:2525`, `[::1]:2525`, `[::1]`, `127.0.0.1`, `localhost:2525` or a bare port. The
  /// host must be an address literal (or `localhost`, taken as 127.0.0.1): the sink never
  /// resolves names, so what it binds is what the user sees.
  static func parseListen(_ text: String) throws(UsageError) -> SocketAddress {
    let invalid = UsageError(
      "invalid --listen \"\(text)\"", hint: "expected ADDRESS:PORT, e.g. 127.0.0.1:2525 or [::1]:2525 (port 0: any)")
    var host = text
    var portText: String?
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]") else { throw invalid }
      host = String(text[text.index(after: text.startIndex)..<close])
      let rest = text[text.index(after: close)...]
      if !rest.isEmpty {
        guard rest.hasPrefix(":") else { throw invalid }
        portText = String(rest.dropFirst())
      }
    } else if text.allSatisfy(\.isASCIIDigit) {
      host = "127.0.0.1"
      portText = text
    } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
      host = String(text[..<colon])
      portText = String(text[text.index(after: colon)...])
    }
    var port: UInt16 = 2525
    if let portText {
      guard let parsed = UInt16(portText) else { throw invalid }
      port = parsed
    }
    if host.lowercased() == "localhost" { host = "127.0.0.1" }
    guard !host.isEmpty, let address = SocketAddress(numericHost: host, port: port) else { throw invalid }
    return address
  }

  /// Binds, announces the address, serves until stopped. SIGINT and SIGTERM are routed to the
  /// server before the address is printed, so a script may signal as soon as it has read it.
  private static func serve(_ request: Request, context: CLIContext) -> ExitCode {
    var configuration = request.configuration
    if let files = request.tlsFiles {
      do {
        configuration.tls = try TLSServerContext(certificateFile: files.certificate, keyFile: files.key)
      } catch {
        context.error("cannot use the TLS certificate: \(Self.describe(error))")
        return .config
      }
    }
    let console = context.console
    let json = request.json
    let server: SinkServer
    do {
      server = try SinkServer(
        configuration: configuration,
        report: { record in console.out((json ? record.jsonLine : record.textLine) + "\n") },
        diagnostic: { message in console.err("msc-send sink: \(message)\n") })
    } catch {
      context.error(error.description)
      return error.kind == .maildir ? .ioError : .unavailable
    }
    let previous = SinkSignals.install(wakeDescriptor: server.interruptDescriptor)
    console.err("msc-send sink: listening on \(server.address)\n")
    server.run()
    SinkSignals.uninstall(previous)
    let count = server.capturedCount
    console.err("msc-send sink: stopped after \(count) message\(count == 1 ? "" : "s")\n")
    return .ok
  }

  private static func describe(_ error: TLSError) -> String {
    switch error {
    case .setup(let text), .handshakeFailed(let text), .verificationFailed(let text): text
    case .fingerprintMismatch(let expected, let actual): "fingerprint \(actual), expected \(expected)"
    }
  }
}

import Foundation

/// `msc-send send`: compose a plain-text message and submit it.
enum SendCommand {
  static let options: [OptionSpec] = [
    .value("--channel", valueName: "NAME", help: "use this configured channel instead of routing by --from"),
    .value("--config", valueName: "FILE", help: "config file (default: $MSC_SEND_CONFIG, then $XDG_CONFIG_HOME/msc-send/config.toml)"),
    .value("--server", valueName: "HOST[:PORT]", help: "ad-hoc SMTP server instead of a channel; 465 implicit TLS, else STARTTLS"),
    .value("--tls", valueName: "MODE", help: "starttls | implicit | none (none sends everything in clear)"),
    .value("--user", valueName: "USER", help: "account to authenticate as"),
    .value("--password-env", valueName: "VAR", help: "read the password from environment variable VAR"),
    .value("--password-command", valueName: "CMD", help: "run CMD with sh -c; its first output line is the password"),
    .value("--token-env", valueName: "VAR", help: "OAuth2 access token from VAR (XOAUTH2/OAUTHBEARER)"),
    .value("--token-command", valueName: "CMD", help: "run CMD for an OAuth2 access token"),
    .value("--auth", valueName: "MECH", help: "PLAIN | LOGIN | CRAM-MD5 | XOAUTH2 | OAUTHBEARER (default: strongest offered)"),
    .value("--from", valueName: "ADDRESS", help: "sender, e.g. \"Alice <alice@example.com>\" (default: [defaults] from)"),
    .value("--to", valueName: "ADDRESS", repeatable: true, help: "recipient (repeatable)"),
    .value("--subject", valueName: "TEXT", help: "subject line (any language)"),
    .value("--body", valueName: "TEXT", help: "message text"),
    .value("--body-file", valueName: "FILE", help: "message text from FILE (default: standard input)"),
    .value("--ca-file", valueName: "FILE", help: "also trust the CA certificates in FILE (PEM)"),
    .value("--fingerprint", valueName: "sha256:HEX", help: "pin the server certificate's SHA-256 fingerprint"),
    .flag("--no-verify", help: "do not verify the server certificate (insecure; warns on every run)"),
    .value("--ehlo", valueName: "NAME", help: "name to greet with (default: this host's FQDN)"),
    .value("--timeout", valueName: "SECONDS", help: "bound every network step (default: RFC 5321 values)"),
    .value("--max-wait", valueName: "DURATION", help: "wait this long for a throttle slot (90, 45s, 2m; default 2m)"),
    .flag("--no-wait", help: "exit 75 at once when the channel has no free slot"),
    .flag("--json", help: "print the result as JSON on stdout"),
    .flag("-v", "--verbose", help: "print the SMTP transcript on stderr (credentials redacted)"),
    .flag("-q", "--quiet", help: "print nothing on success"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage = "usage: msc-send send [--from ADDRESS] --to ADDRESS [--to ...] [--subject S] [--body TEXT] [options]"

  static var help: String {
    """
    \(usage)

    Composes a plain-text message and hands it to the channel the router picks for the From
    address (see `msc-send route`), or to --channel NAME, or to an ad-hoc --server. Without
    --body or --body-file the text is read from standard input. With no config file at all the
    embedded channel `outbox` writes the message as an .eml file.

    Options:
    \(ArgumentParser.helpText(for: options))

    A configured channel's limits (see `msc-send quota`) are shared by every msc-send process of
    the user through the ledger: when no slot is free, send waits up to --max-wait (a countdown
    on a terminal, nothing in cron), else exits 75 saying when the next slot frees.

    Exit codes: 0 sent; 64 usage; 65 bad address or refused recipients/message; 69 service
    unavailable or channel out of quota; 74 ledger not writable; 75 temporary failure or no free
    slot, try later; 76 protocol violation; 77 authentication or certificate refused; 78
    configuration (e.g. a failing --password-command).

    """
  }

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let parsed: ParsedArguments
    let request: SendRequest
    do throws(UsageError) {
      parsed = try ArgumentParser.parse(arguments, options: options, allowsPositionals: false)
      if parsed.has("--help") {
        context.console.out(help)
        return .ok
      }
      request = try SendRequest(parsed)
    } catch {
      context.error(error.message, hint: error.hint ?? usage)
      return .usage
    }
    return SendExecution(request: request, context: context).run()
  }
}

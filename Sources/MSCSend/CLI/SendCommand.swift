import Foundation

/// `msc-send send`: compose a message (text, HTML, attachments) and submit it.
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
    .value("--from-name", valueName: "NAME", help: "the sender's display name (any language)"),
    .value("--to", valueName: "ADDRESS", repeatable: true, help: "recipient; repeatable, or a comma-separated list"),
    .value("--cc", valueName: "ADDRESS", repeatable: true, help: "copy recipient (repeatable)"),
    .value(
      "--bcc", valueName: "ADDRESS", repeatable: true, help: "blind copy: in the envelope only, never in a header"),
    .value("--reply-to", valueName: "ADDRESS", repeatable: true, help: "where replies should go"),
    .value("--subject", valueName: "TEXT", help: "subject line (any language)"),
    .value("--body", valueName: "TEXT", help: "message text"),
    .value("--body-file", valueName: "FILE", help: "message text from FILE (default: standard input)"),
    .value("--html-file", valueName: "FILE", help: "HTML version of the text (multipart/alternative)"),
    .value(
      "--attach", valueName: "FILE[;type=T/S]", repeatable: true,
      help: "attach FILE (repeatable); type from the extension unless given"),
    .value(
      "--header", valueName: "\"NAME: VALUE\"", repeatable: true,
      help: "extra header field (repeatable), e.g. \"X-Campaign: q3\""),
    .value("--ca-file", valueName: "FILE", help: "also trust the CA certificates in FILE (PEM)"),
    .value("--fingerprint", valueName: "sha256:HEX", help: "pin the server certificate's SHA-256 fingerprint"),
    .flag("--no-verify", help: "do not verify the server certificate (insecure; warns on every run)"),
    .value("--ehlo", valueName: "NAME", help: "name to greet with (default: this host's FQDN)"),
    .value("--timeout", valueName: "SECONDS", help: "bound every network step (default: RFC 5321 values)"),
    .value("--max-wait", valueName: "DURATION", help: "wait this long for a throttle slot (90, 45s, 2m; default 2m)"),
    .flag("--no-wait", help: "queue at once (exit 75) when the channel has no free slot"),
    .flag("--queue", help: "only queue the message; `msc-send flush` sends it (exit 0)"),
    .flag("--json", help: "print the result as JSON on stdout"),
    .flag("-v", "--verbose", help: "print the SMTP transcript on stderr (credentials redacted)"),
    .flag("-q", "--quiet", help: "print nothing on success"),
    .flag("-h", "--help", help: "show this help"),
  ]

  static let usage =
    "usage: msc-send send [--from ADDRESS] --to ADDRESS [--cc/--bcc ...] [--subject S] [--body TEXT] [--attach FILE] [options]"

  static var help: String {
    """
    \(usage)

    Composes a message and hands it to the channel the router picks for the From address (see
    `msc-send route`), or to --channel NAME, or to an ad-hoc --server. Without --body or
    --body-file the text is read from standard input. --html-file adds an HTML version
    (multipart/alternative); each --attach adds a file (multipart/mixed), read and base64-encoded
    while the message is sent, so large files do not fill memory. Names, subjects and file names
    may be in any language (RFC 2047 and RFC 2231 encoding). A line break in any header value is
    refused (exit 65). With no config file at all the embedded channel `outbox` writes the message
    as an .eml file.

    Options:
    \(ArgumentParser.helpText(for: options))

    A configured channel's limits (see `msc-send quota`) are shared by every msc-send process of
    the user through the ledger: when no slot is free, send waits up to --max-wait (a countdown
    on a terminal, nothing in cron). For a configured channel the message is first written to the
    queue (on disk), then tried at once; whatever cannot go now (no slot, out of quota, a
    temporary failure) stays queued, exit 75, and `msc-send flush` (from cron) sends it later.
    An ad-hoc --server is never queued.

    Exit codes: 0 sent (or queued with --queue); 64 usage; 65 bad address, header or text, refused
    recipients/message; 69 service unavailable; 74 a file, the spool or the ledger could not be
    read or written; 75 not delivered yet: queued for `msc-send flush` (or, with --server, try
    later); 76 protocol violation; 77 authentication or certificate refused; 78 configuration
    (e.g. a failing --password-command).

    Sendmail mode: `msc-send -t [-f SENDER] [-F NAME] [-i] [RECIPIENT ...] < message` (or the
    binary invoked as `sendmail`) sends a ready-made message; see `msc-send -t --help`.

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
    return SendExecution(options: request.delivery, context: context).run(needsDefaultSender: request.from == nil) {
      configuration throws(CommandFailure) in
      try SendComposition(request: request, context: context).submission(defaultFrom: configuration?.defaults.from)
    }
  }
}

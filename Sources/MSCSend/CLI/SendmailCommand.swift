/// Sendmail mode: `msc-send -t [-f SENDER] [-F NAME] [-i | -oi] [RECIPIENT ...] < message`, and
/// the same when the binary is invoked as `sendmail` (a symlink), so cron's MAILTO, mailx, PHP's
/// mail() and git send-email deliver through msc-send's channels. The message is read ready-made
/// from standard input and routed by its From (or -f) exactly as `send` routes.
enum SendmailCommand {
  static let usage = "usage: msc-send -t [-f SENDER] [-F NAME] [-i | -oi] [RECIPIENT ...] < message"

  static var help: String {
    """
    \(usage)
           sendmail [same options]          (msc-send invoked through a symlink named sendmail)

    Reads a complete message (header fields, an empty line, the body) from standard input and
    delivers it through the channel the router picks for its sender: -f, else the From field,
    else [defaults] from. Recipients are those given as arguments, plus To, Cc and Bcc with -t.
    The message passes through untouched, except: Bcc fields are removed; Date, Message-ID and
    From are added when missing (From with -F NAME; a From without a domain, like cron's
    `root (Cron Daemon)`, is replaced by the sender); line breaks become CRLF; a body with lines
    over 998 octets is re-encoded as quoted-printable (a multipart one is refused); an 8-bit body
    goes as it is where the server offers 8BITMIME, else re-encoded.

    Options:
      -t              recipients also from the To, Cc and Bcc fields
      -f SENDER       envelope sender (also -fSENDER, -r SENDER); -f '<>' for the null sender
      -F NAME         display name for a From field the message lacks
      -i, -oi         a line with a single "." does not end the message (without it, it does)
      -C FILE         config file (default: $MSC_SEND_CONFIG, then $XDG_CONFIG_HOME/msc-send/config.toml)
      -v              print the SMTP transcript on stderr (credentials redacted)
      -h, --help      show this help
    Accepted and ignored: -bm -oem -oee -oep -oeq -odi -odb -om -B8BITMIME -B7BIT.

    Silent on success, as cron expects. Exit codes as `msc-send send` (sysexits): 64 usage,
    65 bad address or message, 69 unavailable, 74 local I/O, 75 try later, 77 authentication.

    """
  }

  static func run(_ arguments: [String], context: CLIContext) -> ExitCode {
    let parsed: SendmailArguments
    do throws(UsageError) {
      parsed = try SendmailArguments(arguments)
    } catch {
      context.error(error.message, hint: error.hint ?? usage)
      return .usage
    }
    if parsed.help {
      context.console.out(help)
      return .ok
    }
    guard parsed.extractRecipients || !parsed.recipients.isEmpty else {
      context.error("no recipients: give them as arguments, or use -t to take them from To, Cc and Bcc", hint: usage)
      return .usage
    }
    let options = DeliveryOptions(
      adHocEndpoint: nil, channel: nil, configFile: parsed.configFile, json: false, verbose: parsed.verbose,
      quiet: !parsed.verbose)
    return SendExecution(options: options, context: context).run(needsDefaultSender: true) {
      configuration throws(CommandFailure) in
      try submission(parsed, defaultSender: configuration?.defaults.from, context: context)
    }
  }

  private static func submission(
    _ parsed: SendmailArguments, defaultSender: String?, context: CLIContext
  ) throws(CommandFailure) -> Submission {
    if context.standardInputIsTerminal {
      context.console.err("msc-send: reading the message from the terminal; end it with Ctrl-D\n")
    }
    let options = SendmailOptions(
      extractRecipients: parsed.extractRecipients, recipients: parsed.recipients,
      envelopeSender: parsed.envelopeSender, fullName: parsed.fullName, defaultSender: defaultSender)
    let spoolDirectory = context.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    do {
      let message = try RawMessage.read(
        context.readStandardInputChunk, ignoringDots: parsed.ignoreDots, spoolDirectory: spoolDirectory)
      let prepared = try SendmailMessage.prepare(message, options: options, environment: context.composeEnvironment)
      return Submission(
        sender: prepared.sender,
        envelope: Envelope(sender: prepared.envelopeSender, recipients: prepared.recipients),
        content: prepared.content, messageID: prepared.messageID)
    } catch let error as ComposeError {
      throw CommandFailure(error.description, code: error.exitCode)
    } catch let error as MessageSourceError {
      throw CommandFailure(error.description, code: .ioError)
    } catch {
      throw CommandFailure("\(error)", code: .software)
    }
  }
}

import Foundation

/// Turns `send`'s flags into a composed message and its envelope: addresses parsed, text and HTML
/// read, attachments opened (not read: they stream when the message is written), extra headers
/// split. Every value from the command line is checked by the composer, so a CR or LF anywhere
/// is refused (exit 65) before anything is sent.
struct SendComposition {
  let request: SendRequest
  let context: CLIContext

  func submission(defaultFrom: String?) throws(CommandFailure) -> Submission {
    guard let fromText = request.from ?? defaultFrom else {
      throw CommandFailure(
        "no sender: give --from ADDRESS", hint: "or set [defaults] from in the config file", code: .usage)
    }
    var message: OutgoingMessage
    let bcc: [Mailbox]
    do throws(ComposeError) {
      var from = try Mailbox.parse(fromText)
      if let name = request.fromName { from = try Mailbox(displayName: name, address: from.address) }
      message = OutgoingMessage(
        from: from, to: try mailboxes(request.to), cc: try mailboxes(request.cc),
        replyTo: try mailboxes(request.replyTo), subject: request.subject,
        extraHeaders: try request.headers.map(Self.splitHeader))
      bcc = try mailboxes(request.bcc)
    } catch {
      throw CommandFailure(error.description, code: error.exitCode)
    }
    message.body = try readText()
    message.html = try request.htmlFile.map { (path) throws(CommandFailure) in try readHTML(path) }
    message.attachments = try attachments()
    let composed: StreamingMessage
    do throws(ComposeError) {
      composed = try MIMEComposer.compose(message, environment: context.composeEnvironment)
    } catch {
      throw CommandFailure(error.description, code: error.exitCode)
    }
    var recipients: [String] = []
    for mailbox in message.to + message.cc + bcc where !recipients.contains(mailbox.address) {
      recipients.append(mailbox.address)
    }
    return Submission(
      sender: message.from, envelope: Envelope(sender: message.from.address, recipients: recipients),
      content: composed, messageID: composed.messageID)
  }

  /// The text from --body, --body-file or standard input; it must be UTF-8.
  private func readText() throws(CommandFailure) -> String {
    let bytes: [UInt8]
    switch request.body {
    case .text(let text):
      return text
    case .file(let path):
      bytes = try Self.readFile(path, flag: "--body-file")
    case .standardInput:
      if context.standardInputIsTerminal {
        context.console.err("msc-send: reading the message text from the terminal; end it with Ctrl-D\n")
      }
      bytes = context.readStandardInput()
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw CommandFailure(
        "the message text is not valid UTF-8",
        hint: "convert it (iconv -t UTF-8), or send a ready-made message with -t", code: .dataError)
    }
    return text
  }

  private func readHTML(_ path: String) throws(CommandFailure) -> String {
    let bytes = try Self.readFile(path, flag: "--html-file")
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw CommandFailure(
        "--html-file \(path) is not valid UTF-8", hint: "convert it: iconv -t UTF-8", code: .dataError)
    }
    return text
  }

  private static func readFile(_ path: String, flag: String) throws(CommandFailure) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CommandFailure("cannot read \(flag) \(path): no such file or not readable", code: .ioError)
    }
    return Array(data)
  }

  /// Each --attach opened and typed; its bytes are read only when the message is written.
  private func attachments() throws(CommandFailure) -> [MailAttachment] {
    var result: [MailAttachment] = []
    for specification in request.attachments {
      let parsed: (path: String, type: MediaType?)
      do throws(ComposeError) {
        parsed = try MailAttachment.parseSpecification(specification)
      } catch {
        throw CommandFailure(error.description, code: error.exitCode)
      }
      do throws(MessageSourceError) {
        result.append(try MailAttachment.load(path: parsed.path, type: parsed.type))
      } catch {
        throw CommandFailure("--attach: \(error.description)", code: .ioError)
      }
    }
    return result
  }

  private func mailboxes(_ values: [String]) throws(ComposeError) -> [Mailbox] {
    var result: [Mailbox] = []
    for value in values { result += try Mailbox.parseList(value) }
    return result
  }

  /// `Name: value` as `--header` takes it; whitespace after the colon is not part of the value.
  static func splitHeader(_ text: String) throws(ComposeError) -> (String, String) {
    try HeaderEncoding.validateValue(text, header: "--header")
    guard let colon = text.firstIndex(of: ":") else {
      throw ComposeError(.invalidHeader, "--header \(ComposeError.visible(text)) is not \"Name: value\"")
    }
    let name = String(text[..<colon])
    try HeaderEncoding.validateName(name)
    return (name, text[text.index(after: colon)...].trimmingSpaces)
  }
}

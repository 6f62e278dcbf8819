import Foundation

/// The queueing half of `batch`: as `BatchValidator` checks the rows, each good one is routed to
/// its channel and its message (the rendered template with Date, Message-ID and, when the template
/// has none, From in front) appended to the run's one spool segment. Rows whose idempotency key is
/// already queued (a previous run) are skipped. Nothing is queued here: the caller commits the
/// segment (one fsync) and queues every message in one transaction only if the batch is valid.
public final class BatchSpooler {
  public let configuration: Configuration
  public let campaign: String
  public let templateName: String
  let defaultFrom: Mailbox?
  let explicitChannel: String?
  let existingKeys: Set<String>
  /// nil for a dry run: rows are routed and counted, nothing is written.
  let writer: SpoolWriter?
  let compose: ComposeEnvironment

  /// The messages to queue, in row order.
  public private(set) var messages: [NewMessage] = []
  /// Good rows whose key an earlier run queued.
  public private(set) var alreadyQueued = 0
  public private(set) var perChannel: [String: Int] = [:]
  /// A spool write that failed (disk full...): the run must stop, nothing was queued.
  public private(set) var failure: SpoolError?
  private var routes: [String: Result<ChannelConfig, RouteError>] = [:]

  public init(
    configuration: Configuration, campaign: String, templateName: String, defaultFrom: Mailbox?,
    explicitChannel: String?, existingKeys: Set<String>, writer: SpoolWriter?, compose: ComposeEnvironment
  ) {
    self.configuration = configuration
    self.campaign = campaign
    self.templateName = templateName
    self.defaultFrom = defaultFrom
    self.explicitChannel = explicitChannel
    self.existingKeys = existingKeys
    self.writer = writer
    self.compose = compose
  }

  /// What each row's message becomes before it is spooled, made on the validator's threads.
  public var maker: MessageMaker { MessageMaker(defaultFrom: defaultFrom, compose: compose, dryRun: writer == nil) }

  /// `BatchValidator`'s `accept`: nil when the row is taken (or already queued), else why not.
  public func accept(
    _ keyed: BatchValidation.KeyedRow, _ rendered: RenderedMessage, _ made: MessageMaker.Made
  ) -> BatchRowError? {
    guard let from = rendered.from ?? defaultFrom else {
      return BatchRowError(
        .noChannel, row: keyed.row.number, line: keyed.row.line, header: "From",
        "no sender: the template has no From and [defaults] from is not set")
    }
    let channel: ChannelConfig
    switch route(from.address) {
    case .success(let routed): channel = routed
    case .failure(let error):
      return BatchRowError(.noChannel, row: keyed.row.number, line: keyed.row.line, header: "From", error.description)
    }
    if existingKeys.contains(keyed.key) {
      alreadyQueued += 1
      return nil
    }
    perChannel[channel.name, default: 0] += 1
    guard let writer, failure == nil else { return nil }
    let (bytes, messageID) = (made.bytes, made.messageID)
    do throws(SpoolError) {
      let location = try writer.append(bytes: bytes)
      var recipients: [String] = []
      for mailbox in rendered.recipients where !recipients.contains(mailbox.address) {
        recipients.append(mailbox.address)
      }
      messages.append(
        NewMessage(
          messageID: messageID, channel: channel.name, sender: from.address, recipients: recipients, spool: location,
          eightBit: !rendered.requiresSMTPUTF8 && bytes.contains { $0 >= 0x80 }, smtpUTF8: rendered.requiresSMTPUTF8,
          campaign: campaign, template: templateName, idempotencyKey: keyed.key))
    } catch {
      failure = error
    }
    return nil
  }

  private func route(_ sender: String) -> Result<ChannelConfig, RouteError> {
    if let known = routes[sender] { return known }
    let result: Result<ChannelConfig, RouteError>
    do throws(RouteError) {
      result = .success(
        try Router.route(from: sender, configuration: configuration, explicitChannel: explicitChannel).channel)
    } catch {
      result = .failure(error)
    }
    routes[sender] = result
    return result
  }
}

/// Makes a rendered row's message as it goes out: Date, Message-ID (RFC 5322 section 3.6) and
/// From when the template left them out, then the rendered header and body. Pure, so that the
/// validator's threads make the messages of a window at once.
public struct MessageMaker: Sendable {
  public struct Made: Sendable {
    public var bytes: [UInt8]
    public var messageID: String
  }

  let defaultFrom: Mailbox?
  let compose: ComposeEnvironment
  /// A dry run only counts: nothing is made.
  let dryRun: Bool

  public func make(_ rendered: RenderedMessage) -> Made {
    guard !dryRun, let from = rendered.from ?? defaultFrom else { return Made(bytes: [], messageID: "") }
    let date = compose.now()
    var header = ""
    if rendered.field("Date") == nil {
      header += "Date: " + MessageIdentity.date(date, timeZoneOffsetSeconds: compose.timeZoneOffsetSeconds) + "\r\n"
    }
    var messageID = rendered.field("Message-ID") ?? ""
    if messageID.isEmpty {
      let domain = MessageIdentity.messageIDDomain(for: from, hostName: compose.hostName)
      messageID = MessageIdentity.messageID(randomBytes: compose.randomBytes(16), date: date, domain: domain)
      header += "Message-ID: \(messageID)\r\n"
    }
    if rendered.from == nil, let field = try? HeaderEncoding.addressField(name: "From", mailboxes: [from]) {
      header += field
    }
    return Made(bytes: Array(header.utf8) + rendered.renderedBytes(), messageID: messageID)
  }
}

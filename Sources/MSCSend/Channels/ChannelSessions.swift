/// Open SMTP sessions kept across messages, one per channel, for runs that send many (flush,
/// batch). A session is reused for the next message (the session sends RSET itself when a
/// transaction was left open), replaced after the channel's `messages_per_connection` transactions
/// (SparkPost: 100, SendGrid: 5,000) or when it broke, and closed with QUIT at the end. The
/// secret is read once per channel and run, when its first session opens. Used by one thread.
public final class ChannelSessions {
  struct Open {
    var session: SMTPSession
    var transactions: Int
    var destination: String
  }

  let context: ChannelDelivery.Context
  private var sessions: [String: Open] = [:]
  private var endpoints: [String: SMTPEndpoint] = [:]
  /// Sessions opened so far (for tests and reports).
  public private(set) var opened = 0

  public init(context: ChannelDelivery.Context) {
    self.context = context
  }

  deinit { closeAll() }

  /// Sends one transaction of `message` through `channel`, on its open session or a new one.
  public func deliver(_ message: any MessageContent, envelope: Envelope, via channel: ChannelConfig)
    throws(ChannelError) -> ChannelDelivery.Result
  {
    if channel.kind == .file {
      return try FileChannel(channel: channel, environment: context.environment).write(message, envelope: envelope)
    }
    if let limit = channel.maxMessageSize, let size = message.byteCount, size > limit {
      throw .session(SMTPError(phase: .mail, reason: .messageTooLarge(size: size, limit: limit)))
    }
    var open = try session(for: channel)
    do throws(SMTPError) {
      let report = try open.session.send(envelope, content: message)
      open.transactions += max(1, report.transactions)
      keep(open, for: channel)
      return ChannelDelivery.Result(report: report, destination: open.destination, tls: open.session.tlsInfo)
    } catch {
      keep(open, for: channel)
      // A reused session the server closed while idle fails at MAIL before anything was
      // transferred: one fresh connection for the same transaction.
      guard open.transactions > 0, Self.isStale(error) else { throw .session(error) }
      return try deliver(message, envelope: envelope, via: channel)
    }
  }

  static func isStale(_ error: SMTPError) -> Bool {
    guard error.phase == .mail, case .transport(let transport) = error.reason else { return false }
    return transport == .closed
      || {
        if case .io = transport { return true }
        return false
      }()
  }

  /// QUITs every open session.
  public func closeAll() {
    for open in sessions.values { open.session.quit() }
    sessions = [:]
  }

  /// Keeps a session for the next message unless it broke or carried its share.
  private func keep(_ open: Open, for channel: ChannelConfig) {
    let used = channel.limits.messagesPerConnection.map { open.transactions >= $0 } ?? false
    if open.session.isBroken || used {
      open.session.quit()
      sessions[channel.name] = nil
    } else {
      sessions[channel.name] = open
    }
  }

  private func session(for channel: ChannelConfig) throws(ChannelError) -> Open {
    if let open = sessions[channel.name], !open.session.isBroken { return open }
    sessions[channel.name] = nil
    let endpoint = try self.endpoint(for: channel)
    do throws(SMTPError) {
      let session = try SMTPSubmission.open(endpoint, connector: context.connector, transcript: context.transcript)
      opened += 1
      if endpoint.tlsMode == .none && !session.transport.peerIsLoopback {
        context.onPlaintextPeer?(session.transport.peerDescription)
      }
      return Open(session: session, transactions: 0, destination: "\(endpoint.host):\(endpoint.port)")
    } catch {
      throw .session(error)
    }
  }

  private func endpoint(for channel: ChannelConfig) throws(ChannelError) -> SMTPEndpoint {
    if let endpoint = endpoints[channel.name] { return endpoint }
    guard let channelEndpoint = channel.endpoint else {
      throw .configuration("channel \(channel.name) has no server (host) configured")
    }
    do throws(SecretError) {
      let endpoint = try ChannelDelivery.smtpEndpoint(channelEndpoint, environment: context.environment)
      endpoints[channel.name] = endpoint
      return endpoint
    } catch {
      let what = channelEndpoint.secretIsToken ? "token" : "password"
      throw .configuration("channel \(channel.name): cannot read the \(what): \(error.description)")
    }
  }
}

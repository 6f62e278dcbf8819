/// Hands a composed message to a channel: an SMTP session for the network kinds, a file for
/// `file`. One entry point so that `send`, and later `flush` and `batch`, treat every kind alike.
public enum ChannelDelivery {
  public struct Result {
    public var report: DeliveryReport
    /// `host:port` or the file written.
    public var destination: String
    public var tls: TLSSessionInfo?
  }

  public struct Context {
    public var environment: [String: String]
    public var connector: SMTPConnector
    public var transcript: ((TranscriptEvent) -> Void)?
    /// A transport that turned out plaintext to a non-loopback peer (warned about by the CLI).
    public var onPlaintextPeer: ((String) -> Void)?

    public init(
      environment: [String: String], connector: @escaping SMTPConnector = SMTPSubmission.socketConnector,
      transcript: ((TranscriptEvent) -> Void)? = nil, onPlaintextPeer: ((String) -> Void)? = nil
    ) {
      self.environment = environment
      self.connector = connector
      self.transcript = transcript
      self.onPlaintextPeer = onPlaintextPeer
    }
  }

  public static func deliver(
    _ message: any MessageContent, envelope: Envelope, via channel: ChannelConfig, context: Context
  ) throws(ChannelError) -> Result {
    if channel.kind == .file {
      return try FileChannel(channel: channel, environment: context.environment).write(message, envelope: envelope)
    }
    guard let channelEndpoint = channel.endpoint else {
      throw .configuration("channel \(channel.name) has no server (host) configured")
    }
    let endpoint: SMTPEndpoint
    do throws(SecretError) {
      endpoint = try smtpEndpoint(channelEndpoint, environment: context.environment)
    } catch {
      let what = channelEndpoint.secretIsToken ? "token" : "password"
      throw .configuration("channel \(channel.name): cannot read the \(what): \(error.description)")
    }
    if let limit = channel.maxMessageSize, let size = message.byteCount, size > limit {
      throw .session(SMTPError(phase: .mail, reason: .messageTooLarge(size: size, limit: limit)))
    }
    do throws(SMTPError) {
      let session = try SMTPSubmission.open(endpoint, connector: context.connector, transcript: context.transcript)
      if endpoint.tlsMode == .none && !session.transport.peerIsLoopback {
        context.onPlaintextPeer?(session.transport.peerDescription)
      }
      let report = try session.send(envelope, content: message)
      session.quit()
      return Result(report: report, destination: "\(endpoint.host):\(endpoint.port)", tls: session.tlsInfo)
    } catch {
      throw .session(error)
    }
  }

  /// The engine's endpoint for a channel, reading its secret now (never earlier, never cached).
  public static func smtpEndpoint(_ endpoint: ChannelEndpoint, environment: [String: String]) throws(SecretError)
    -> SMTPEndpoint
  {
    var credentials: Credentials?
    if let source = endpoint.secret {
      let secret = try source.resolve(environment: environment)
      let user = endpoint.username ?? ""
      credentials = endpoint.secretIsToken ? .bearerToken(user: user, token: secret) : .password(user: user, password: secret)
    }
    let tls = TLSOptions(
      serverName: endpoint.host, verify: endpoint.tlsVerify, caFile: endpoint.caFile, pinnedSHA256: endpoint.fingerprint)
    return SMTPEndpoint(
      host: endpoint.host, port: endpoint.port, tlsMode: endpoint.tlsMode, tls: tls, helloName: endpoint.helloName,
      timeouts: endpoint.timeout.map { SMTPTimeouts(all: $0) } ?? SMTPTimeouts(), credentials: credentials,
      mechanism: endpoint.mechanism)
  }
}

/// Why a channel could not take the message at all.
public enum ChannelError: Error, CustomStringConvertible {
  /// The SMTP session failed; classify it with `ReplyClassification.classify`.
  case session(SMTPError)
  /// The channel's own settings or secrets are wrong (exit 78).
  case configuration(String)
  /// Writing locally failed (exit 74).
  case io(String)

  public var description: String {
    switch self {
    case .session(let error): error.description
    case .configuration(let text), .io(let text): text
    }
  }

  public var outcome: OutcomeClass {
    switch self {
    case .session(let error): ReplyClassification.classify(error)
    case .configuration: .localConfiguration
    case .io: .localIO
    }
  }
}

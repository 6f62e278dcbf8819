/// Where and how to submit mail: the engine-level description a channel (or ad-hoc CLI flags)
/// turns into a session.
public struct SMTPEndpoint: Sendable, Equatable {
  public var host: String
  public var port: UInt16
  public var tlsMode: TLSMode
  public var tls: TLSOptions
  /// EHLO name; nil means the host's FQDN, else the local address literal (RFC 5321 4.1.4).
  public var helloName: String?
  public var timeouts: SMTPTimeouts
  public var credentials: Credentials?
  /// Override of the mechanism choice (`--auth`, `auth =`).
  public var mechanism: AuthMechanism?

  public init(
    host: String, port: UInt16, tlsMode: TLSMode, tls: TLSOptions? = nil, helloName: String? = nil,
    timeouts: SMTPTimeouts = SMTPTimeouts(), credentials: Credentials? = nil, mechanism: AuthMechanism? = nil
  ) {
    self.host = host
    self.port = port
    self.tlsMode = tlsMode
    self.tls = tls ?? TLSOptions(serverName: host)
    self.helloName = helloName
    self.timeouts = timeouts
    self.credentials = credentials
    self.mechanism = mechanism
  }

  /// The submission port's TLS convention: 465 implicit TLS (RFC 8314), others STARTTLS.
  public static func defaultTLSMode(forPort port: UInt16) -> TLSMode { port == 465 ? .implicit : .starttls }

  public static func defaultPort(for mode: TLSMode) -> UInt16 {
    switch mode {
    case .implicit: 465
    case .starttls: 587
    case .none: 25
    }
  }
}

/// Opens the network connection for an endpoint. The real one is `SocketTransport`; tests pass
/// a scripted one.
public typealias SMTPConnector = @Sendable (SMTPEndpoint) throws(TransportError) -> Transport

public enum SMTPSubmission {
  /// The real connector: TCP (and TLS from the first byte for `.implicit`).
  public static let socketConnector: SMTPConnector = { endpoint throws(TransportError) in
    try SocketTransport.connect(
      host: endpoint.host, port: endpoint.port,
      tls: endpoint.tlsMode == .none ? nil : endpoint.tls,
      implicitTLS: endpoint.tlsMode == .implicit, connectTimeout: endpoint.timeouts.connect)
  }

  /// Connects and brings a session to the point where mail can be sent: greeting, EHLO,
  /// STARTTLS when required (never skipped if the server does not offer it), EHLO again, AUTH
  /// when credentials are given.
  public static func open(
    _ endpoint: SMTPEndpoint, connector: SMTPConnector = socketConnector,
    transcript: ((TranscriptEvent) -> Void)? = nil
  ) throws(SMTPError) -> SMTPSession {
    let transport: Transport
    do {
      transport = try connector(endpoint)
    } catch {
      throw SMTPError(phase: .connect, reason: .transport(error))
    }
    transcript?(.info("connected to \(transport.peerDescription)"))
    let helloName = endpoint.helloName ?? HostIdentity.helloName(localAddress: transport.localAddress)
    let session = SMTPSession(
      transport: transport, helloName: helloName, timeouts: endpoint.timeouts, transcript: transcript)
    do {
      try session.readGreeting()
      try session.hello()
      if endpoint.tlsMode == .starttls { try session.startTLS() }
      if let credentials = endpoint.credentials {
        try session.authenticate(credentials, mechanism: endpoint.mechanism, host: endpoint.host, port: endpoint.port)
      }
    } catch {
      // QUIT politely when the dialogue is still in step; `quit` only closes a broken session.
      session.quit()
      throw error
    }
    return session
  }
}

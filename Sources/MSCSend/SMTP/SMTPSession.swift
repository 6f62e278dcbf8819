/// Timeouts per phase (RFC 5321 section 4.5.3.2). Each bounds a whole reply, never a single read.
/// The RFC's values suit MTAs; a CLI may be shorter, but never infinite.
public struct SMTPTimeouts: Sendable, Equatable {
  public var connect: Double = 30
  public var greeting: Double = 300
  /// EHLO, STARTTLS, AUTH, MAIL, RCPT, RSET.
  public var command: Double = 300
  public var dataInitiation: Double = 120
  /// Each block of the message written.
  public var dataBlock: Double = 180
  /// The reply to the final dot.
  public var finalDot: Double = 600

  public init() {}

  /// Every phase bounded by the same number of seconds (`--timeout`).
  public init(all seconds: Double) {
    connect = seconds
    greeting = seconds
    command = seconds
    dataInitiation = seconds
    dataBlock = seconds
    finalDot = seconds
  }
}

/// One line of the protocol transcript (`-v`, `check`). Credentials never appear in it.
public enum TranscriptEvent: Sendable, Equatable {
  case client(String)
  case server(String)
  case info(String)
}

/// An SMTP client session over one connection (RFC 5321), usable for many messages.
///
/// Call order: `readGreeting`, `hello`, optionally `startTLS` (which says EHLO again) and
/// `authenticate`, then `send` any number of times, then `quit`. Every command goes through
/// `command(_:phase:timeout:expecting:)`, the one place that writes a command and reads its reply.
public final class SMTPSession {
  public private(set) var capabilities = Capabilities()
  public private(set) var tlsInfo: TLSSessionInfo?
  public private(set) var greeting: SMTPReply?

  let transport: Transport
  let helloName: String
  let timeouts: SMTPTimeouts
  let transcript: ((TranscriptEvent) -> Void)?
  private var reader = ReplyReader()
  /// MAIL was accepted and the transaction not finished: RSET before the next one.
  private var transactionOpen = false
  /// After a transport failure or a protocol violation nothing more may be sent.
  private(set) var isBroken = false

  public init(
    transport: Transport, helloName: String, timeouts: SMTPTimeouts = SMTPTimeouts(),
    transcript: ((TranscriptEvent) -> Void)? = nil
  ) {
    self.transport = transport
    self.helloName = helloName
    self.timeouts = timeouts
    self.transcript = transcript
  }

  // MARK: - Verbs

  /// Reads the 220 greeting (RFC 5321 section 4.3.1). A 554 greeting means no service.
  @discardableResult
  public func readGreeting() throws(SMTPError) -> SMTPReply {
    let reply = try readReply(phase: .greeting, timeout: timeouts.greeting)
    greeting = reply
    guard reply.code == 220 else { throw failure(.greeting, reply) }
    return reply
  }

  /// EHLO, falling back to HELO when the server does not know EHLO (RFC 5321 section 4.1.1.1,
  /// 3.2). Replaces the known capabilities.
  @discardableResult
  public func hello() throws(SMTPError) -> Capabilities {
    let reply = try exchange("EHLO \(helloName)", phase: .hello, timeout: timeouts.command)
    if reply.code == 250 {
      capabilities = Capabilities(ehloReply: reply)
      return capabilities
    }
    guard [500, 501, 502, 504, 550].contains(reply.code) else { throw failure(.hello, reply) }
    try command("HELO \(helloName)", phase: .hello, timeout: timeouts.command, expecting: [250])
    capabilities = Capabilities()
    return capabilities
  }

  /// STARTTLS (RFC 3207): after the 220, anything already received is an injection attempt and
  /// aborts the session; TLS starts on a fresh reader, capabilities are forgotten and EHLO is
  /// sent again (section 4.2).
  @discardableResult
  public func startTLS() throws(SMTPError) -> TLSSessionInfo {
    guard capabilities.startTLS else { throw SMTPError(phase: .startTLS, reason: .startTLSNotOffered) }
    try command("STARTTLS", phase: .startTLS, timeout: timeouts.command, expecting: [220])
    guard reader.bufferedByteCount == 0 else {
      abort()
      throw SMTPError(phase: .startTLS, reason: .injectedAfterStartTLS)
    }
    reader.reset()
    capabilities = Capabilities()
    let info: TLSSessionInfo
    do {
      info = try transport.startTLS(deadline: .after(seconds: timeouts.command))
    } catch {
      abort()
      if error == .plaintextBeforeHandshake { throw SMTPError(phase: .startTLS, reason: .injectedAfterStartTLS) }
      throw SMTPError(phase: .startTLS, reason: .transport(error))
    }
    tlsInfo = info
    transcript?(.info("TLS started: \(info.protocolVersion) \(info.cipher)"))
    try hello()
    return info
  }

  // MARK: - Command choke point

  /// Writes one command line and reads its reply; a reply whose code is not in `expecting`
  /// becomes an error carrying the reply. CR or LF in the line is refused here, once for all.
  @discardableResult
  func command(
    _ line: String, phase: SMTPPhase, timeout: Double, expecting: Set<Int>, redactedAs: String? = nil
  ) throws(SMTPError) -> SMTPReply {
    let reply = try exchange(line, phase: phase, timeout: timeout, redactedAs: redactedAs)
    guard expecting.contains(reply.code) else { throw failure(phase, reply) }
    return reply
  }

  /// Writes one line and reads the reply, whatever its code.
  func exchange(_ line: String, phase: SMTPPhase, timeout: Double, redactedAs: String? = nil) throws(SMTPError)
    -> SMTPReply
  {
    try writeLines([line], phase: phase, timeout: timeout, redactedAs: redactedAs.map { [$0] })
    return try readReply(phase: phase, timeout: timeout)
  }

  /// Writes several command lines in one write (PIPELINING, RFC 2920) or one.
  func writeLines(_ lines: [String], phase: SMTPPhase, timeout: Double, redactedAs: [String]? = nil)
    throws(SMTPError)
  {
    guard !isBroken else { throw SMTPError(phase: phase, reason: .transport(.closed)) }
    var bytes: [UInt8] = []
    for (index, line) in lines.enumerated() {
      guard !line.utf8.contains(where: { $0 == 0x0d || $0 == 0x0a }) else {
        throw SMTPError(phase: phase, reason: .lineBreakInCommand)
      }
      bytes += Array(line.utf8) + [0x0d, 0x0a]
      transcript?(.client(redactedAs?[index] ?? line))
    }
    try writeRaw(bytes, phase: phase, timeout: timeout)
  }

  func writeRaw(_ bytes: [UInt8], phase: SMTPPhase, timeout: Double) throws(SMTPError) {
    do {
      try transport.write(bytes, deadline: .after(seconds: timeout))
    } catch {
      abort()
      throw SMTPError(phase: phase, reason: .transport(error))
    }
  }

  /// Reads one whole reply within `timeout` seconds.
  func readReply(phase: SMTPPhase, timeout: Double) throws(SMTPError) -> SMTPReply {
    guard !isBroken else { throw SMTPError(phase: phase, reason: .transport(.closed)) }
    let reply: SMTPReply
    do {
      reply = try reader.readReply(from: transport, deadline: .after(seconds: timeout))
    } catch {
      abort()
      switch error {
      case .transport(let transportError): throw SMTPError(phase: phase, reason: .transport(transportError))
      case .malformed(let line): throw SMTPError(phase: phase, reason: .malformedReply("not a reply line: \"\(line.prefix(80))\""))
      case .lineTooLong(let cap): throw SMTPError(phase: phase, reason: .malformedReply("reply line longer than \(cap) octets"))
      case .tooManyLines(let cap): throw SMTPError(phase: phase, reason: .malformedReply("reply longer than \(cap) lines"))
      case .inconsistentCodes(let first, let then):
        throw SMTPError(phase: phase, reason: .malformedReply("reply changes code from \(first) to \(then)"))
      }
    }
    if let transcript {
      for (index, text) in reply.lines.enumerated() {
        transcript(.server("\(reply.code)\(index == reply.lines.count - 1 ? " " : "-")\(text)"))
      }
    }
    return reply
  }

  /// The error for a reply we did not want: a refusal when it is 4xx/5xx, else unexpected.
  func failure(_ phase: SMTPPhase, _ reply: SMTPReply) -> SMTPError {
    let refused = reply.isTransientFailure || reply.isPermanentFailure
    if reply.code == 421 { abort() }  // RFC 5321 3.8: the server is closing the channel.
    return SMTPError(phase: phase, reason: refused ? .rejected : .unexpectedReply, reply: reply)
  }

  // MARK: - Ending

  /// RSET (RFC 5321 section 4.1.1.5): abandons an open transaction.
  public func reset() throws(SMTPError) {
    try command("RSET", phase: .reset, timeout: timeouts.command, expecting: [250])
    transactionOpen = false
  }

  /// QUIT (section 4.1.1.10), then close. Best effort: the mail is already settled.
  public func quit() {
    if !isBroken {
      _ = try? exchange("QUIT", phase: .quit, timeout: min(timeouts.command, 10))
    }
    abort()
  }

  /// Closes the connection at once; the session cannot be used any more.
  func abort() {
    isBroken = true
    transport.close()
  }

  var hasOpenTransaction: Bool {
    get { transactionOpen }
    set { transactionOpen = newValue }
  }
}

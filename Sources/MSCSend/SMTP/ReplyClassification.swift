/// What a reply (or a failure) means for delivery. One table (`ReplyClassification.rules`) maps
/// every reply to one of these; the throttle, queue and bounce code extend that table, none
/// writes a second one (DOMAIN.md section 3, DESIGN.md section 5).
public enum OutcomeClass: String, Sendable, Equatable, CaseIterable {
  case accepted
  /// The channel's quota is used up: pause the channel, do not fail the recipient.
  case quotaExhausted = "quota"
  /// Rate or connection throttle: close, back off, lower concurrency.
  case rateThrottle = "throttle"
  /// Credentials refused or unusable: a person must act (or an OAuth token be refreshed once).
  case authentication = "auth"
  case recipientPermanent = "recipient-permanent"
  case recipientTransient = "recipient-transient"
  /// The message itself is refused (size, content).
  case messagePermanent = "message-permanent"
  /// The server refuses this sender or channel setup (SendAs denied, unconfigured domain).
  case senderRefused = "sender-refused"
  /// The server refuses service (554 greeting, required STARTTLS missing).
  case serviceUnavailable = "unavailable"
  /// Any other temporary failure: network, timeout, 4xx.
  case transient
  /// The server broke the protocol.
  case protocolViolation = "protocol"
  /// TLS certificate or pin verification failed.
  case tlsVerification = "tls-verification"
  /// Our own configuration is wrong.
  case localConfiguration = "config"
  /// Local I/O failed.
  case localIO = "io"
  /// Delivered or not, unknown (RFC 1047).
  case uncertain

  /// The exit code of this class (DESIGN.md section 5). Quota is 69 until the queue keeps the
  /// message (then 75); that decision belongs to the caller.
  public var exitCode: ExitCode {
    switch self {
    case .accepted: .ok
    case .quotaExhausted, .senderRefused, .serviceUnavailable: .unavailable
    case .rateThrottle, .recipientTransient, .transient, .uncertain: .tempFail
    case .authentication, .tlsVerification: .noPermission
    case .recipientPermanent, .messagePermanent: .dataError
    case .protocolViolation: .protocolError
    case .localConfiguration: .config
    case .localIO: .ioError
    }
  }
}

/// What a class does to the channel as a whole, beyond the recipient (DOMAIN.md section 3,
/// classes 1 and 2): the throttle pauses the channel in the ledger so that every process waits.
public enum ChannelAction: Sendable, Equatable {
  case none
  /// Quota used up: pause until the window rolls; hand over to a `fallback` channel if any.
  case pauseForQuota
  /// Rate or connection throttle: exponential backoff, retried within `--max-wait`.
  case backOff
}

extension OutcomeClass {
  public var channelAction: ChannelAction {
    switch self {
    case .quotaExhausted: .pauseForQuota
    case .rateThrottle: .backOff
    default: .none
    }
  }
}

/// The single reply-classification table.
public enum ReplyClassification {
  /// One row: every condition given must hold; the first matching row wins, so provider texts
  /// (most specific) come first, then enhanced codes, then basic codes per phase.
  public struct Rule: Sendable {
    public var code: Int?
    public var codeClass: Int?
    public var enhanced: EnhancedStatus?
    /// Matches class and subject of the enhanced code (`x.1.*`), when `enhanced` is nil.
    public var enhancedSubject: (statusClass: Int?, subject: Int)?
    public var textContains: String? { didSet { needle = Array((textContains ?? "").utf8) } }
    /// `textContains` as UTF-8, searched in the reply's lower-cased text byte by byte (this runs
    /// for every reply of every message: a Foundation string search here cost more than the rest
    /// of the classification).
    private(set) var needle: [UInt8]
    public var phases: Set<SMTPPhase>?
    public var outcome: OutcomeClass

    init(
      code: Int? = nil, codeClass: Int? = nil, enhanced: String? = nil, enhancedSubject: (Int?, Int)? = nil,
      text: String? = nil, phases: Set<SMTPPhase>? = nil, _ outcome: OutcomeClass
    ) {
      self.code = code
      self.codeClass = codeClass
      self.enhanced = enhanced.flatMap { EnhancedStatus.parse(prefixOf: $0[...])?.0 }
      self.enhancedSubject = enhancedSubject.map { (statusClass: $0.0, subject: $0.1) }
      self.textContains = text?.lowercased()
      self.needle = Array((text?.lowercased() ?? "").utf8)
      self.phases = phases
      self.outcome = outcome
    }

    func matches(_ reply: SMTPReply, phase: SMTPPhase, lowercasedText: [UInt8]) -> Bool {
      if let code, reply.code != code { return false }
      if let codeClass, reply.code / 100 != codeClass { return false }
      if let enhanced, !reply.lineStatuses.contains(enhanced) { return false }
      if let enhancedSubject {
        guard let status = reply.enhancedStatus, status.subject == enhancedSubject.subject,
          enhancedSubject.statusClass.map({ $0 == status.statusClass }) ?? true
        else { return false }
      }
      if textContains != nil, !Self.contains(lowercasedText, needle) { return false }
      if let phases, !phases.contains(phase) { return false }
      return true
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
      guard !needle.isEmpty else { return true }
      guard haystack.count >= needle.count else { return false }
      for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
      }
      return false
    }
  }

  private static let envelope: Set<SMTPPhase> = [.mail, .recipient, .data, .message]

  public static let rules: [Rule] = [
    // 1. Channel quota exhausted (provider texts first: SendGrid's says "Authentication failed").
    Rule(text: "SubmissionQuotaExceeded", .quotaExhausted),
    Rule(text: "RefuseQuota", .quotaExhausted),
    Rule(text: "Daily SMTP relay limit", .quotaExhausted),
    Rule(text: "Maximum credits", .quotaExhausted),
    Rule(text: "Daily user sending limit", .quotaExhausted),
    Rule(enhanced: "5.4.5", .quotaExhausted),
    // 2. Rate and connection throttles.
    Rule(text: "Peak SMTP relay limit", .rateThrottle),
    Rule(code: 432, enhanced: "4.3.2", .rateThrottle),
    // Exchange Online's concurrent-connection limit, sent as the greeting or to any command.
    Rule(code: 421, enhanced: "4.3.2", .rateThrottle),
    Rule(code: 421, enhanced: "4.7.0", .rateThrottle),
    Rule(code: 454, enhanced: "4.7.0", .rateThrottle),
    Rule(code: 450, enhanced: "4.5.127", .rateThrottle),
    Rule(code: 421, enhanced: "4.4.2", .rateThrottle),
    Rule(text: "submission rate", .rateThrottle),
    // 3. Authentication.
    Rule(code: 530, .authentication),
    Rule(code: 534, .authentication),
    Rule(code: 535, .authentication),
    Rule(enhanced: "5.7.30", .authentication),
    Rule(enhanced: "5.7.139", .authentication),
    Rule(enhanced: "5.7.8", .authentication),
    Rule(enhanced: "5.7.9", .authentication),
    Rule(enhanced: "5.7.14", .authentication),
    Rule(code: 454, phases: [.authentication], .transient),
    Rule(codeClass: 5, phases: [.authentication], .authentication),
    // 5. Sender and configuration refusals by the server (before the recipient rules: 5.7.1 with this text).
    Rule(enhanced: "5.7.750", .senderRefused),
    Rule(text: "SendAsDenied", .senderRefused),
    Rule(enhanced: "5.2.252", .senderRefused),
    Rule(text: "Unconfigured Sending Domain", .senderRefused),
    Rule(enhanced: "5.1.7", .senderRefused),
    Rule(enhanced: "5.1.8", .senderRefused),
    // 4. Recipients (452 4.5.3: too many recipients, split the batch).
    Rule(code: 452, enhanced: "4.5.3", .recipientTransient),
    Rule(enhancedSubject: (5, 1), phases: envelope, .recipientPermanent),
    Rule(enhanced: "5.2.1", phases: envelope, .recipientPermanent),
    Rule(enhanced: "5.2.2", phases: [.recipient], .recipientPermanent),
    Rule(enhancedSubject: (4, 2), phases: [.recipient], .recipientTransient),
    // 5. The message itself.
    Rule(enhanced: "5.2.3", .messagePermanent),
    Rule(enhanced: "5.3.4", .messagePermanent),
    Rule(enhancedSubject: (5, 6), .messagePermanent),
    Rule(code: 552, phases: [.data, .message], .messagePermanent),
    // Basic codes by phase.
    Rule(code: 554, phases: [.greeting, .connect, .hello], .serviceUnavailable),
    Rule(codeClass: 5, phases: [.greeting, .connect, .hello, .startTLS], .serviceUnavailable),
    Rule(codeClass: 5, phases: [.mail], .senderRefused),
    Rule(codeClass: 5, phases: [.recipient], .recipientPermanent),
    Rule(codeClass: 5, phases: [.data, .message], .messagePermanent),
    Rule(codeClass: 4, phases: [.recipient], .recipientTransient),
    Rule(codeClass: 4, .transient),
    Rule(codeClass: 2, .accepted),
    Rule(codeClass: 3, .accepted),
  ]

  /// The class of a server reply received during `phase`.
  public static func classify(_ reply: SMTPReply, phase: SMTPPhase) -> OutcomeClass {
    let text = Array(reply.text.lowercased().utf8)
    for rule in rules where rule.matches(reply, phase: phase, lowercasedText: text) { return rule.outcome }
    // A 5xx in a phase no row names (reset, quit): the server refuses us.
    return reply.isPermanentFailure ? .serviceUnavailable : .transient
  }

  /// The class of a session error: a server reply is classified by the table; the rest by what
  /// we concluded.
  public static func classify(_ error: SMTPError) -> OutcomeClass {
    switch error.reason {
    case .rejected, .unexpectedReply:
      // A success code where a refusal or another step was due is a protocol violation.
      guard let reply = error.reply, reply.isTransientFailure || reply.isPermanentFailure else {
        return .protocolViolation
      }
      return classify(reply, phase: error.phase)
    case .transport(let transportError):
      switch transportError {
      case .tls(.verificationFailed), .tls(.fingerprintMismatch): return .tlsVerification
      case .tls(.setup): return .localConfiguration
      case .plaintextBeforeHandshake: return .protocolViolation
      case .tls(.handshakeFailed), .resolve, .connect, .timeout, .closed, .io: return .transient
      }
    case .malformedReply, .injectedAfterStartTLS: return .protocolViolation
    case .startTLSNotOffered, .smtpUTF8Required, .eightBitMIMERequired: return .serviceUnavailable
    case .plaintextAuthentication: return .localConfiguration
    case .lineBreakInCommand: return .messagePermanent
    case .noCommonMechanism: return .authentication
    case .messageTooLarge: return .messagePermanent
    case .deliveryUncertain: return .uncertain
    case .messageSource: return .localIO
    }
  }
}

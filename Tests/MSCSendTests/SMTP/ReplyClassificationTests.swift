import Testing
@testable import MSCSend

@Suite struct ReplyClassificationTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let line: String
    let phase: SMTPPhase
    let expected: OutcomeClass
    var testDescription: String { "\(line) @\(phase.rawValue)" }
  }

  static let cases: [Case] = [
    // DOMAIN.md section 3, class 1: quota.
    Case(line: "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException", phase: .message, expected: .quotaExhausted),
    Case(line: "550 5.4.5 Daily user sending limit exceeded.", phase: .recipient, expected: .quotaExhausted),
    Case(line: "550 5.4.5 Daily SMTP relay limit exceeded for user", phase: .mail, expected: .quotaExhausted),
    Case(line: "550 5.7.520 OutboundSpamException ... RefuseQuota", phase: .message, expected: .quotaExhausted),
    Case(line: "451 Authentication failed: Maximum credits exceeded", phase: .authentication, expected: .quotaExhausted),
    // Class 2: throttles.
    Case(line: "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", phase: .mail, expected: .rateThrottle),
    Case(line: "421 4.7.0 Try again later, closing connection.", phase: .mail, expected: .rateThrottle),
    Case(line: "454 4.7.0 Too many login attempts, please try again later.", phase: .authentication, expected: .rateThrottle),
    Case(line: "450 4.5.127 Too many concurrent connections", phase: .mail, expected: .rateThrottle),
    Case(line: "421 4.4.2 Message submission rate for this client has exceeded the configured limit", phase: .data, expected: .rateThrottle),
    Case(line: "450 4.2.1 Peak SMTP relay limit exceeded for customer", phase: .recipient, expected: .rateThrottle),
    Case(
      line: "421 4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing "
        + "transmission channel",
      phase: .greeting, expected: .rateThrottle),
    // Class 3: authentication.
    Case(line: "530 5.7.0 Must issue a STARTTLS command first.", phase: .mail, expected: .authentication),
    Case(line: "534 5.7.9 Application-specific password required.", phase: .authentication, expected: .authentication),
    Case(line: "534 5.7.14 Please log in via your web browser", phase: .authentication, expected: .authentication),
    Case(line: "535 5.7.3 Authentication unsuccessful", phase: .authentication, expected: .authentication),
    Case(line: "535 5.7.8 Username and Password not accepted.", phase: .authentication, expected: .authentication),
    Case(line: "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled", phase: .authentication, expected: .authentication),
    Case(line: "550 5.7.30 Basic authentication is not supported for Client Submission.", phase: .authentication, expected: .authentication),
    // Class 4: recipients.
    Case(line: "550 5.1.1 The email account that you tried to reach does not exist.", phase: .recipient, expected: .recipientPermanent),
    Case(line: "550 5.1.10 RESOLVER.ADR.RecipientNotFound", phase: .recipient, expected: .recipientPermanent),
    Case(line: "550 5.2.1 The email account that you tried to reach is disabled.", phase: .recipient, expected: .recipientPermanent),
    Case(line: "450 4.2.2 The email account that you tried to reach is over quota.", phase: .recipient, expected: .recipientTransient),
    Case(line: "452 4.5.3 Your message has too many recipients.", phase: .recipient, expected: .recipientTransient),
    Case(line: "550 no such user here", phase: .recipient, expected: .recipientPermanent),
    Case(line: "451 try later", phase: .recipient, expected: .recipientTransient),
    // Class 5: message and sender/config.
    Case(line: "552 5.2.3 Message size exceeds fixed maximum message size", phase: .message, expected: .messagePermanent),
    Case(line: "552 5.3.4 Message too big for system", phase: .message, expected: .messagePermanent),
    Case(line: "550 5.6.0 Message contents not accepted", phase: .message, expected: .messagePermanent),
    Case(line: "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains.", phase: .mail, expected: .senderRefused),
    Case(line: "550 5.7.60 SMTP; Client does not have permissions to send as this sender SendAsDenied", phase: .message, expected: .senderRefused),
    Case(line: "554 5.2.252 SendAsDenied; user@example.com not allowed to send as other@example.com", phase: .message, expected: .senderRefused),
    Case(line: "550 5.7.1 Unconfigured Sending Domain <example.com>", phase: .mail, expected: .senderRefused),
    // Basic codes by phase.
    Case(line: "554 No SMTP service here", phase: .greeting, expected: .serviceUnavailable),
    Case(line: "421 Service not available, closing transmission channel", phase: .greeting, expected: .transient),
    Case(line: "451 4.3.0 Local error in processing", phase: .message, expected: .transient),
    Case(line: "553 sender address rejected", phase: .mail, expected: .senderRefused),
    Case(line: "250 2.0.0 OK", phase: .message, expected: .accepted),
  ]

  private static func reply(_ line: String) -> SMTPReply {
    let code = Int(line.prefix(3))!
    return SMTPReply(code: code, lines: [String(line.dropFirst(4))])
  }

  @Test(arguments: cases)
  func domainTable(_ testCase: Case) {
    #expect(ReplyClassification.classify(Self.reply(testCase.line), phase: testCase.phase) == testCase.expected)
  }

  /// What the throttle does with each class: quota pauses the channel, throttles back off, the
  /// rest concern only their recipient or this attempt.
  @Test func channelActionsFollowTheDomainTable() {
    for outcome in OutcomeClass.allCases {
      let expected: ChannelAction =
        outcome == .quotaExhausted ? .pauseForQuota : outcome == .rateThrottle ? .backOff : .none
      #expect(outcome.channelAction == expected, "\(outcome)")
    }
    let quota = Self.reply("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException")
    #expect(ReplyClassification.classify(quota, phase: .message).channelAction == .pauseForQuota)
    let throttle = Self.reply("421 4.7.0 Try again later")
    #expect(ReplyClassification.classify(throttle, phase: .mail).channelAction == .backOff)
  }

  @Test func exitCodesFollowTheDesignTable() {
    #expect(OutcomeClass.quotaExhausted.exitCode == .unavailable)
    #expect(OutcomeClass.rateThrottle.exitCode == .tempFail)
    #expect(OutcomeClass.authentication.exitCode == .noPermission)
    #expect(OutcomeClass.recipientPermanent.exitCode == .dataError)
    #expect(OutcomeClass.messagePermanent.exitCode == .dataError)
    #expect(OutcomeClass.recipientTransient.exitCode == .tempFail)
    #expect(OutcomeClass.senderRefused.exitCode == .unavailable)
    #expect(OutcomeClass.protocolViolation.exitCode == .protocolError)
    #expect(OutcomeClass.tlsVerification.exitCode == .noPermission)
  }

  @Test func sessionErrorsClassifyByCause() {
    #expect(ReplyClassification.classify(SMTPError(phase: .connect, reason: .transport(.timeout))) == .transient)
    #expect(ReplyClassification.classify(SMTPError(phase: .connect, reason: .transport(.tls(.verificationFailed("x"))))) == .tlsVerification)
    #expect(ReplyClassification.classify(SMTPError(phase: .startTLS, reason: .injectedAfterStartTLS)) == .protocolViolation)
    #expect(ReplyClassification.classify(SMTPError(phase: .hello, reason: .malformedReply("x"))) == .protocolViolation)
    #expect(ReplyClassification.classify(SMTPError(phase: .message, reason: .deliveryUncertain)).exitCode == .tempFail)
    let odd = SMTPError(phase: .data, reason: .unexpectedReply, reply: SMTPReply(code: 250, lines: ["what"]))
    #expect(ReplyClassification.classify(odd) == .protocolViolation)
  }
}

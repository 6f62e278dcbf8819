extension SMTPSession {
  /// Sends one message to every recipient of `envelope`: MAIL, RCPT for each (pipelined when
  /// offered, RFC 2920), DATA. Recipients refused with 452 (too many recipients, RFC 5321
  /// section 4.5.3.1.10) go into a further transaction of the same message, as long as each
  /// transaction gets at least one new recipient accepted.
  ///
  /// Returns per-recipient results; throws only when nothing at all could be done (the session
  /// failed, or the server refused the sender before any transaction succeeded).
  public func send(_ envelope: Envelope, content offered: MessageContent) throws(SMTPError) -> DeliveryReport {
    var content = offered
    if offered.requiresEightBitMIME && !capabilities.eightBitMIME, let sevenBit = offered.sevenBitAlternative {
      transcript?(.info("the server does not offer 8BITMIME: sending the body re-encoded to 7 bits"))
      content = sevenBit
    }
    let parameters = try mailParameters(envelope, content: content)
    var results: [String: RecipientResult] = [:]
    var pending = envelope.recipients
    var transactions = 0
    // Recipients accepted in the transaction under way: if it fails after the final dot they are
    // `uncertain`, not failed.
    var inFlight: Set<String> = []
    while !pending.isEmpty {
      do throws(SMTPError) {
        if hasOpenTransaction { try reset() }
        let outcome = try sendEnvelope(sender: envelope.sender, recipients: pending, parameters: parameters)
        for result in outcome.refused { results[result.address] = result }
        guard !outcome.accepted.isEmpty else {
          for (address, reply) in outcome.deferred {
            results[address] = RecipientResult(address: address, reply: reply, outcome: .recipientTransient)
          }
          if outcome.dataReply?.code == 354 {
            // A server that said 354 to a pipelined DATA with no recipient: an empty message ends
            // it (RFC 2920 section 3.1), which it must refuse; RSET follows either way.
            _ = try exchange(".", phase: .message, timeout: timeouts.finalDot)
          }
          try reset()
          break
        }
        inFlight = Set(outcome.accepted)
        let dataReply = try transferData(content, dataReply: outcome.dataReply)
        inFlight = []
        let dataOutcome = ReplyClassification.classify(dataReply, phase: .message)
        for address in outcome.accepted {
          results[address] = RecipientResult(address: address, reply: dataReply, outcome: dataOutcome)
        }
        transactions += 1
        pending = outcome.deferred.map(\.address)
        if !pending.isEmpty { transcript?(.info("\(pending.count) recipient(s) deferred to a further transaction")) }
      } catch {
        // Nothing delivered yet: the whole send failed, and the caller may retry all of it.
        guard transactions > 0 else { throw error }
        // Earlier transactions were delivered: their results stand (retrying them would send the
        // message twice); every recipient not yet settled takes this error's class.
        let errorClass = ReplyClassification.classify(error)
        for address in pending where results[address] == nil || inFlight.contains(address) {
          let untried = errorClass == .uncertain && !inFlight.contains(address)
          results[address] = RecipientResult(
            address: address, reply: error.reply, outcome: untried ? .recipientTransient : errorClass)
        }
        break
      }
    }
    let ordered = envelope.recipients.compactMap { results[$0] }
    return DeliveryReport(recipients: ordered, transactions: transactions)
  }

  struct EnvelopeOutcome {
    var accepted: [String] = []
    var refused: [RecipientResult] = []
    /// 452 (or 552, which RFC 5321 4.5.3.1.10 says to treat alike): try in another transaction.
    var deferred: [(address: String, reply: SMTPReply)] = []
    /// The reply to DATA when it was pipelined with the envelope.
    var dataReply: SMTPReply?
  }

  /// MAIL FROM and the RCPTs, pipelined when the server offers PIPELINING, and then DATA too: RFC
  /// 2920 section 3.1 allows DATA as the last command of a group, and the server refuses it when
  /// no recipient was accepted. One round trip fewer per message, which is what a batch on one
  /// connection is made of.
  private func sendEnvelope(sender: String, recipients: [String], parameters: String) throws(SMTPError)
    -> EnvelopeOutcome
  {
    let mailLine = "MAIL FROM:<\(sender)>\(parameters)"
    let rcptLines = recipients.map { "RCPT TO:<\($0)>" }
    var outcome = EnvelopeOutcome()
    if capabilities.pipelining {
      try writeLines([mailLine] + rcptLines + ["DATA"], phase: .mail, timeout: timeouts.command)
      let mailReply = try readReply(phase: .mail, timeout: timeouts.command)
      if mailReply.code == 250 { hasOpenTransaction = true }
      // 421: the server closes the channel (RFC 5321 3.8); no RCPT replies will follow.
      if mailReply.code == 421 { throw failure(.mail, mailReply) }
      var rcptReplies: [SMTPReply] = []
      for _ in recipients {
        do throws(SMTPError) {
          rcptReplies.append(try readReply(phase: .recipient, timeout: timeouts.command))
        } catch {
          // A refused MAIL explains the failure better than the closed connection that followed it.
          if mailReply.code != 250 { throw failure(.mail, mailReply) }
          throw error
        }
      }
      let dataReply: SMTPReply
      do throws(SMTPError) {
        dataReply = try readReply(phase: .data, timeout: timeouts.dataInitiation)
      } catch {
        if mailReply.code != 250 { throw failure(.mail, mailReply) }
        throw error
      }
      if dataReply.code == 354 && mailReply.code != 250 {
        // DATA accepted although MAIL was not: end the empty message before giving up.
        _ = try exchange(".", phase: .message, timeout: timeouts.finalDot)
      }
      guard mailReply.code == 250 else { throw failure(.mail, mailReply) }
      for (address, reply) in zip(recipients, rcptReplies) { record(reply, for: address, in: &outcome) }
      outcome.dataReply = dataReply
    } else {
      try command(mailLine, phase: .mail, timeout: timeouts.command, expecting: [250])
      hasOpenTransaction = true
      for (address, line) in zip(recipients, rcptLines) {
        let reply = try exchange(line, phase: .recipient, timeout: timeouts.command)
        record(reply, for: address, in: &outcome)
      }
    }
    return outcome
  }

  private func record(_ reply: SMTPReply, for address: String, in outcome: inout EnvelopeOutcome) {
    switch reply.code {
    case 250, 251: outcome.accepted.append(address)
    case 452, 552 where !outcome.accepted.isEmpty: outcome.deferred.append((address, reply))
    case 452: outcome.deferred.append((address, reply))
    default:
      // Any other positive code (252, a 354 out of step) is not an acceptance: the server broke
      // the protocol, and the recipient must not be reported as delivered.
      let refusal = reply.isTransientFailure || reply.isPermanentFailure
      let outcomeClass = refusal ? ReplyClassification.classify(reply, phase: .recipient) : .protocolViolation
      outcome.refused.append(RecipientResult(address: address, reply: reply, outcome: outcomeClass))
    }
  }

  /// DATA (unless it went pipelined with the envelope: then its reply is given), the dot-stuffed
  /// message in large writes (no write per line: Nagle and delayed ACKs cost ~40 ms a message),
  /// the final dot, and its reply. A failure to read the content aborts
  /// the connection without the final dot so that no partial message is ever delivered.
  private func transferData(_ content: MessageContent, dataReply pipelined: SMTPReply?) throws(SMTPError)
    -> SMTPReply
  {
    let dataReply: SMTPReply
    if let pipelined {
      dataReply = pipelined
    } else {
      dataReply = try exchange("DATA", phase: .data, timeout: timeouts.dataInitiation)
    }
    guard dataReply.code == 354 else {
      // A refusal: the transaction stays open; the next one starts with RSET.
      if dataReply.isTransientFailure || dataReply.isPermanentFailure { return dataReply }
      // A positive reply without 354 means no message was taken: never report it as delivered.
      abort()
      throw SMTPError(phase: .data, reason: .unexpectedReply, reply: dataReply)
    }
    transcript?(.client("<message: \(content.byteCount.map { "\($0) octets" } ?? "streamed")>"))
    var stuffer = DotStuffer()
    var pendingOutput: [UInt8] = []
    pendingOutput.reserveCapacity(80_000)
    var transportFailure: SMTPError?
    do {
      try content.writeChunks { chunk in
        stuffer.process(chunk, into: &pendingOutput)
        if pendingOutput.count >= 65_536 {
          do throws(SMTPError) {
            try writeRaw(pendingOutput, phase: .data, timeout: timeouts.dataBlock)
          } catch {
            transportFailure = error
            throw error
          }
          pendingOutput.removeAll(keepingCapacity: true)
        }
      }
    } catch {
      if let transportFailure { throw transportFailure }
      abort()
      throw SMTPError(phase: .data, reason: .messageSource(String(describing: error)))
    }
    stuffer.finish(into: &pendingOutput)
    try writeRaw(pendingOutput, phase: .data, timeout: timeouts.dataBlock)
    hasOpenTransaction = false
    // After the final dot any failure leaves the outcome unknown (RFC 1047): the server may have
    // taken the message. Only a completion reply settles it.
    let reply: SMTPReply
    do {
      reply = try readReply(phase: .message, timeout: timeouts.finalDot)
    } catch {
      transcript?(.info("no reply to the final dot: \(error)"))
      abort()
      throw SMTPError(phase: .message, reason: .deliveryUncertain)
    }
    guard reply.isPositiveCompletion || reply.isTransientFailure || reply.isPermanentFailure else {
      abort()
      throw SMTPError(phase: .message, reason: .deliveryUncertain, reply: reply)
    }
    return reply
  }


  /// MAIL parameters from the capabilities, after checking that the server can take this
  /// message at all (SIZE, SMTPUTF8, 8BITMIME) so that nothing is half-sent.
  private func mailParameters(_ envelope: Envelope, content: MessageContent) throws(SMTPError) -> String {
    var parameters = ""
    if let size = content.byteCount {
      if let limit = capabilities.maximumSize, size > limit {
        throw SMTPError(phase: .mail, reason: .messageTooLarge(size: size, limit: limit))
      }
      if capabilities.supports("SIZE") { parameters += " SIZE=\(size)" }
    }
    if content.requiresEightBitMIME {
      guard capabilities.eightBitMIME else { throw SMTPError(phase: .mail, reason: .eightBitMIMERequired) }
      parameters += " BODY=8BITMIME"
    }
    if envelope.requiresSMTPUTF8 || content.requiresSMTPUTF8 {
      guard capabilities.smtpUTF8 else { throw SMTPError(phase: .mail, reason: .smtpUTF8Required) }
      parameters += " SMTPUTF8"
    }
    return parameters
  }
}

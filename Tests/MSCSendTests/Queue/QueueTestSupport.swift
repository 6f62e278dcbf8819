import Foundation

@testable import MSCSend

/// A queue on a fresh ledger with a manual clock, its spool next to it, and helpers to put
/// messages in it without a server.
struct QueueFixture {
  let clock: ManualClock
  let queue: MessageQueue
  let spool: Spool
  let process: ProcessIdentity

  init(
    clock: ManualClock = ManualClock(), process: ProcessIdentity = ProcessIdentity(pid: 4242, startTime: 7),
    path: String? = nil, alive: @escaping @Sendable (ProcessIdentity) -> Bool = { _ in true }
  ) throws {
    self.clock = clock
    self.process = process
    let ledgerPath = try path ?? temporaryLedgerPath()
    queue = MessageQueue(ledger: try ThrottleLedger(path: ledgerPath), clock: clock, process: process, isAlive: alive)
    spool = Spool(directory: Spool.directory(forLedger: ledgerPath))
    try spool.prepare()
  }

  /// The same ledger seen by another process.
  func asProcess(_ other: ProcessIdentity, alive: @escaping @Sendable (ProcessIdentity) -> Bool) throws -> QueueFixture
  {
    try QueueFixture(clock: clock, process: other, path: queue.ledger.path, alive: alive)
  }

  /// Spools `bodies` in one segment and queues one message per body.
  @discardableResult
  func enqueue(
    _ recipients: [[String]], campaign: String? = nil, keys: [String]? = nil, leased: Bool = false
  ) throws -> [Int64] {
    let writer = try spool.makeWriter()
    var messages: [NewMessage] = []
    for (index, envelope) in recipients.enumerated() {
      let bytes = Array("Subject: \(index)\r\n\r\nbody \(index)\r\n".utf8)
      let location = try writer.append(bytes: bytes)
      messages.append(
        NewMessage(
          messageID: "<\(index)@acme.test>", channel: "work", sender: "a@acme.test", recipients: envelope,
          spool: location, campaign: campaign, template: campaign.map { _ in "t.eml" }, idempotencyKey: keys?[index]))
    }
    try writer.commit()
    if leased {
      return try messages.map { try queue.enqueue($0, leased: true) }
    }
    return try queue.enqueue(batch: messages).compactMap { $0 }
  }

  func claimAll(campaign: String? = nil) throws -> [QueuedMessage] {
    try queue.claim(
      MessageQueue.ClaimFilter(
        channel: "work", dueBefore: clock.now(), untouchedSince: clock.now(), campaign: campaign), limit: 100)
  }
}

/// Results for `AttemptResult`: every recipient with one class and reply.
func results(_ recipients: [String], _ outcome: OutcomeClass, _ reply: String? = "250 2.0.0 ok")
  -> [String: (outcome: OutcomeClass, reply: String?)]
{
  Dictionary(uniqueKeysWithValues: recipients.map { ($0, (outcome, reply)) })
}

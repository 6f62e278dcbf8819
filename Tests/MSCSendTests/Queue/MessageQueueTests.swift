import Foundation
import Testing

@testable import MSCSend

/// The queue's rows on a real ledger: enqueueing, leases, grouped completions, the changes made
/// by hand, and taking back what a dead process held.
@Suite struct MessageQueueTests {
  @Test func claimsLeaseMessagesToOneProcessOnly() throws {
    let fixture = try QueueFixture()
    let ids = try fixture.enqueue([["a@x.test"], ["b@x.test", "c@x.test"]])
    #expect(ids.count == 2)
    let claimed = try fixture.claimAll()
    #expect(claimed.map(\.id) == ids)
    #expect(claimed.allSatisfy { $0.state == .sending && $0.leaseHolder == fixture.process })
    #expect(claimed[1].pendingRecipients == ["b@x.test", "c@x.test"])
    let other = try fixture.asProcess(ProcessIdentity(pid: 99, startTime: 1)) { _ in true }
    #expect(try other.claimAll().isEmpty, "a leased message is nobody else's")
    try fixture.queue.release([ids[0]])
    #expect(try other.claimAll().map(\.id) == [ids[0]])
  }

  @Test func idempotencyKeysSkipWhatAnEarlierRunQueued() throws {
    let fixture = try QueueFixture()
    let first = try fixture.enqueue([["a@x.test"], ["b@x.test"]], campaign: "q3", keys: ["q3:1", "q3:2"])
    #expect(first.count == 2)
    #expect(try fixture.queue.keys(campaign: "q3") == ["q3:1", "q3:2"])
    let again = try fixture.enqueue([["b@x.test"], ["c@x.test"]], campaign: "q3", keys: ["q3:2", "q3:3"])
    #expect(again.count == 1, "q3:2 is already queued")
    #expect(try fixture.queue.counts(campaign: "q3") == [.queued: 3])
  }

  @Test func completionsAreWrittenOnlyByTheLeaseHolder() throws {
    let fixture = try QueueFixture()
    let id = try #require(try fixture.enqueue([["a@x.test"]], leased: true).first)
    let claimed = try #require(try fixture.queue.message(id: id))
    let done = QueueOutcome.completion(
      for: claimed, result: AttemptResult(results: results(["a@x.test"], .accepted), reachedChannel: true),
      policy: RetryPolicy(), now: fixture.clock.now(), random: 0)
    let stranger = try fixture.asProcess(ProcessIdentity(pid: 99, startTime: 1)) { _ in true }
    try stranger.queue.complete([done])
    #expect(try fixture.queue.message(id: id)?.state == .sending, "not the stranger's lease")
    try fixture.queue.complete([done])
    let sent = try #require(try fixture.queue.message(id: id))
    #expect(sent.state == .sent)
    #expect(sent.attempts == 1)
    #expect(sent.leaseHolder == nil)
    #expect(sent.recipients.map(\.state) == [.sent])
    #expect(sent.recipients.first?.reply == "250 2.0.0 ok")
  }

  @Test func aDeadProcessesLeasesAreTakenBackFromItsJournal() throws {
    let dead = ProcessIdentity(pid: 31_337, startTime: 5)
    let fixture = try QueueFixture(process: dead)
    let ids = try fixture.enqueue([["a@x.test"], ["b@x.test"], ["c@x.test"], ["d@x.test", "e@x.test"]])
    _ = try fixture.claimAll()
    let journal = try AttemptJournal(directory: fixture.spool.journalDirectory, process: dead, worker: 0)
    journal.begin(ids[0], recipients: ["a@x.test"])
    journal.end(ids[0], results: [("a@x.test", .accepted, "250 2.0.0 queued as 1")])
    journal.begin(ids[1], recipients: ["b@x.test"])  // in flight when it died
    journal.begin(ids[3], recipients: ["d@x.test", "e@x.test"])
    journal.end(ids[3], results: [("d@x.test", .accepted, "250 ok"), ("e@x.test", .recipientPermanent, "550 no")])
    // ids[2] was claimed but never tried.

    let heir = try fixture.asProcess(ProcessIdentity(pid: 1, startTime: 1)) { $0 != dead }
    let reclaimed = try heir.queue.reclaimAbandoned(spool: heir.spool, policy: RetryPolicy())
    #expect(reclaimed.released == [ids[2]])
    #expect(Set(reclaimed.completed.map(\.id)) == [ids[0], ids[1], ids[3]])
    let states = try ids.map { try #require(try heir.queue.message(id: $0)) }
    #expect(states[0].state == .sent, "the journal's outcome, as if it had been committed")
    #expect(states[1].state == .deferred, "in flight: uncertain, retried once (RFC 1047)")
    #expect(states[1].uncertainRetries == 1)
    #expect(states[1].possiblyDuplicated)
    #expect(states[1].recipients.first?.reply == MessageQueue.lostInFlight)
    #expect(states[2].state == .queued)
    #expect(states[2].attempts == 0)
    #expect(states[3].state == .sent)
    #expect(states[3].recipients.map(\.state) == [.sent, .failed])
    #expect(AttemptJournal.files(in: fixture.spool.journalDirectory, of: dead).isEmpty, "its journal is gone")
  }

  @Test func aLiveHoldersLeaseIsLeftAloneUntilItExpires() throws {
    let holder = ProcessIdentity(pid: 2024, startTime: 3)
    let fixture = try QueueFixture(process: holder)
    try fixture.enqueue([["a@x.test"]])
    _ = try fixture.claimAll()
    let other = try fixture.asProcess(ProcessIdentity(pid: 1, startTime: 1)) { _ in true }
    #expect(try other.queue.reclaimAbandoned(spool: other.spool, policy: RetryPolicy()) == MessageQueue.Reclaimed())
    fixture.clock.advance(MessageQueue.leaseSeconds + 1)
    let taken = try other.queue.reclaimAbandoned(spool: other.spool, policy: RetryPolicy())
    #expect(taken.released.count == 1, "a holder that stopped renewing is treated as gone")
  }

  @Test func waitingMessagesOlderThanMaxAgeFail() throws {
    let fixture = try QueueFixture()
    let ids = try fixture.enqueue([["a@x.test"]])
    fixture.clock.advance(3601)
    #expect(try fixture.queue.expire(policy: RetryPolicy(maxAge: 7200)).isEmpty)
    fixture.clock.advance(3600)
    let expired = try fixture.queue.expire(policy: RetryPolicy(maxAge: 7200))
    #expect(expired.map(\.message.id) == ids)
    let failed = try #require(try fixture.queue.message(id: ids[0]))
    #expect(failed.state == .failed)
    #expect(failed.lastError == "not delivered within max_age 2h")
  }

  @Test func retryAndDropByHand() throws {
    let fixture = try QueueFixture()
    let ids = try fixture.enqueue([["a@x.test"], ["b@x.test"]])
    let claimed = try fixture.claimAll()
    let refused = QueueOutcome.completion(
      for: claimed[0],
      result: AttemptResult(
        results: results(["a@x.test"], .recipientPermanent, "550 5.1.1 no"), reachedChannel: true),
      policy: RetryPolicy(), now: fixture.clock.now(), random: 0)
    let sent = QueueOutcome.completion(
      for: claimed[1], result: AttemptResult(results: results(["b@x.test"], .accepted), reachedChannel: true),
      policy: RetryPolicy(), now: fixture.clock.now(), random: 0)
    try fixture.queue.complete([refused, sent])
    let retried = try fixture.queue.change(id: ids[0], .retry).get()
    #expect(retried.state == .queued)
    #expect(retried.recipients.map(\.state) == [.pending])
    #expect(throws: MessageQueue.RefusedChange.self) { try fixture.queue.change(id: ids[1], .retry).get() }
    #expect(throws: MessageQueue.RefusedChange.self) { try fixture.queue.change(id: ids[1], .drop).get() }
    let dropped = try fixture.queue.change(id: ids[0], .drop).get()
    #expect(dropped.state == .dropped)
    if case .failure(let missing) = try fixture.queue.change(id: 999, .retry) {
      #expect(missing.notFound)
    } else {
      Issue.record("message 999 does not exist")
    }
    #expect(try fixture.queue.list().isEmpty, "sent and dropped are not listed by default")
    #expect(try fixture.queue.list(.all).count == 2)
  }

  @Test func aSegmentIsRemovedOnceNoMessageNeedsItsBytes() throws {
    let fixture = try QueueFixture()
    let ids = try fixture.enqueue([["a@x.test"], ["b@x.test"]])
    let path = try #require(try fixture.queue.message(id: ids[0])?.spool?.path)
    #expect(FileManager.default.fileExists(atPath: path))
    _ = try fixture.queue.change(id: ids[0], .drop)
    try fixture.queue.releaseSegments([path], spool: fixture.spool, policy: RetryPolicy())
    #expect(FileManager.default.fileExists(atPath: path), "message \(ids[1]) still waits")
    _ = try fixture.queue.change(id: ids[1], .drop)
    try fixture.queue.releaseSegments([path], spool: fixture.spool, policy: RetryPolicy())
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect(try fixture.queue.message(id: ids[1])?.spool == nil)
  }
}

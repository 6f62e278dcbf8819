import Foundation
import Testing

@testable import MSCSend

/// The attempt journal: what a killed process leaves behind, read back exactly.
@Suite struct AttemptJournalTests {
  @Test func replaysFinishedAndInFlightTransactions() throws {
    let directory = try TestEnvironment.makeScratchDirectory("journal").path
    let process = ProcessIdentity(pid: 77, startTime: 12)
    let journal = try AttemptJournal(directory: directory, process: process, worker: 3)
    journal.begin(1, recipients: ["a@x.test", "b c@x.test"])
    journal.end(
      1, results: [("a@x.test", .accepted, "250 2.0.0 ok"), ("b c@x.test", .recipientPermanent, "550 5.1.1 a|b%c")])
    journal.begin(2, recipients: ["d@x.test"])
    let other = try AttemptJournal(
      directory: directory, process: ProcessIdentity(pid: 78, startTime: 12), worker: 0)
    other.begin(9, recipients: ["z@x.test"])

    let records = AttemptJournal.replay(directory: directory, process: process)
    #expect(Set(records.keys) == [1, 2], "only this process's journals")
    #expect(records[1]?.inFlight == [])
    #expect(records[1]?.results["a@x.test"]?.outcome == .accepted)
    #expect(records[1]?.results["b c@x.test"]?.reply == "550 5.1.1 a|b%c", "escaped and back")
    #expect(records[2]?.inFlight == ["d@x.test"])
    #expect(AttemptJournal.owner(ofFile: journal.path) == process)
  }

  @Test func aLineCutShortByTheCrashIsIgnored() throws {
    let directory = try TestEnvironment.makeScratchDirectory("journal").path
    let process = ProcessIdentity(pid: 5, startTime: 6)
    let journal = try AttemptJournal(directory: directory, process: process, worker: 0)
    journal.begin(4, recipients: ["a@x.test"])
    let handle = try #require(FileHandle(forWritingAtPath: journal.path))
    handle.seekToEndOfFile()
    handle.write(Data("E 4 accepted|a@x.test|250 ok".utf8))  // no newline: the write never finished
    try handle.close()
    let records = AttemptJournal.replay(directory: directory, process: process)
    #expect(records[4]?.inFlight == ["a@x.test"], "the transaction stays in flight: uncertain")
    #expect(records[4]?.results.isEmpty == true)
  }

  @Test func escapingRoundTrips() {
    for text in ["", "plain", "with space", "100%|pipe", "tab\there\r\nnewline", "ünïcödé 日本"] {
      #expect(AttemptJournal.unescape(Substring(AttemptJournal.escape(text))) == text)
      #expect(!AttemptJournal.escape(text).contains(" "))
    }
  }
}

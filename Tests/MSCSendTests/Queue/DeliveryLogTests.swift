import Foundation
import Testing

@testable import MSCSend

/// The delivery log's lines: msmtp-like `key=value`, one per recipient per attempt.
@Suite struct DeliveryLogTests {
  private let entry = DeliveryLog.Entry(
    time: 1_795_459_999, channel: "work", messageID: "<m1@acme.test>", campaign: "q3-invite",
    recipient: "bob@example.test", outcome: .accepted, reply: "250 2.0.0 queued as 'A1'")

  @Test func aLineHasEveryFieldQuotedWhereNeeded() {
    #expect(
      DeliveryLog.line(entry, withTime: true)
        == "time=2026-11-23T18:53:19Z channel=work message_id=<m1@acme.test> campaign=q3-invite "
        + #"recipient=bob@example.test outcome=accepted reply='250 2.0.0 queued as \'A1\''"#)
    var bare = entry
    bare.campaign = nil
    bare.reply = nil
    #expect(
      DeliveryLog.line(bare, withTime: false)
        == "channel=work message_id=<m1@acme.test> recipient=bob@example.test outcome=accepted reply=''")
    #expect(DeliveryLog.quoted("a\r\nb") == "'a  b'", "no line break ever reaches the log")
  }

  @Test func aFileLogIsAppendedPrivately() throws {
    let path = try TestEnvironment.makeScratchDirectory("log").appendingPathComponent("delivery.log").path
    let log = DeliveryLog(target: .file(path))
    log.write([entry])
    log.write([entry, entry])
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.split(separator: "\n").count == 3)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
  }

  @Test func anUnwritableLogWarnsOnceAndNeverStopsDelivery() {
    let warnings = Box<[String]>([])
    let log = DeliveryLog(target: .file("/nonexistent-folder/log")) { warnings.value.append($0) }
    log.write([entry])
    log.write([entry])
    #expect(warnings.value.count == 1)
    #expect(warnings.value.first?.hasPrefix("cannot write the delivery log /nonexistent-folder/log") == true)
  }
}

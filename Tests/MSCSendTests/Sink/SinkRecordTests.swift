import Foundation
import Testing

@testable import MSCSend

@Suite struct SinkRecordTests {
  private func record(_ content: String, sender: String = "a@x", file: String? = "/m/new/1") -> SinkRecord {
    SinkRecord(
      message: CapturedMessage(
        sender: sender, recipients: ["b@x", "c@x"], content: Array(content.utf8), helloName: "client",
        authenticatedUser: nil, tls: false),
      identifier: "1", file: file, peer: "127.0.0.1:5000")
  }

  @Test func subjectIsUnfoldedDecodedAndTakenFromTheHeaderOnly() {
    #expect(
      SinkRecord.subject(of: Array("From: a\r\nSUBJECT: Hello\r\n there\r\nTo: b\r\n\r\nbody".utf8)) == "Hello there")
    #expect(SinkRecord.subject(of: Array("subject: =?utf-8?q?H=C3=A9llo?= =?utf-8?b?w6k=?=\n\nx".utf8)) == "Hélloé")
    #expect(SinkRecord.subject(of: Array("From: a\r\n\r\nSubject: in the body\r\n".utf8)) == nil)
    #expect(SinkRecord.subject(of: Array("Subject:\r\n\r\n".utf8)) == "")
    #expect(SinkRecord.subject(of: []) == nil)
  }

  @Test func textLineEscapesWhatTheClientSent() {
    let line = record("Subject: say \"hi\" \\ \u{1b}[31mred\r\n\r\n", sender: "a\u{7f}@x").textLine
    #expect(line == #"from=<a\x7f@x> to=<b@x>,<c@x> size=32 subject="say \"hi\" \\ \x1b[31mred" file=/m/new/1"#)
    #expect(record("x", file: nil).textLine == #"from=<a@x> to=<b@x>,<c@x> size=1 subject="""#)
  }

  @Test func jsonLineCarriesTheEnvelope() throws {
    let line = record("Subject: Hi\r\n\r\nbody\r\n").jsonLine
    #expect(!line.contains("\n"))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    #expect(object["from"] as? String == "a@x")
    #expect(object["to"] as? [String] == ["b@x", "c@x"])
    #expect(object["size"] as? Int == 21)
    #expect(object["subject"] as? String == "Hi")
    #expect(object["file"] as? String == "/m/new/1")
    #expect(object["tls"] as? Bool == false)
    #expect(object["user"] is NSNull)
    #expect(object["helo"] as? String == "client")
    #expect(object["peer"] as? String == "127.0.0.1:5000")
  }
}

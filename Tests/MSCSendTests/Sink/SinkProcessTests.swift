import Foundation
import Glibc
import Testing

@testable import MSCSend

/// The built binary, with Python's smtplib as an independent client.
@Suite("Sink binary", .serialized)
struct SinkProcessTests {
  static let script = """
    import smtplib, ssl, sys
    port, ca = int(sys.argv[1]), sys.argv[2]
    first = b"Subject: first\\r\\n\\r\\n.dot line\\r\\nHello\\r\\n"
    second = "Subject: =?utf-8?q?zw=C3=B6lf?=\\r\\n\\r\\nGr\\u00fc\\u00dfe\\r\\n".encode()
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.sendmail("a@example.com", ["b@example.org"], first)
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.starttls(context=ssl.create_default_context(cafile=ca))
        smtp.login("carol", "anything")
        smtp.sendmail("c@example.com", ["d@example.org", "e@example.org"], second, mail_options=["BODY=8BITMIME"])
    """

  @Test func pythonSmtplibThroughPlainAndSTARTTLSThenExitAfterMaxMessages() throws {
    let python = try #require(TLSTestServer.python, "python3 not found")
    let pki = try TestPKI.shared()
    let directory = try makeTemporaryDirectory("sink-binary")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let sink = try SinkProcess(
      [
        "--maildir", directory + "/Maildir", "--max-messages", "2", "--json", "--tls-cert", pki.good.certificate,
        "--tls-key", pki.good.key,
      ], directory: directory)
    defer { sink.stop() }

    try runTool(python, ["-c", Self.script, String(sink.port), pki.caFile], in: directory, timeout: 20)
    #expect(sink.waitForExit(timeout: 10) == 0)
    #expect(sink.stderr.hasSuffix("msc-send sink: stopped after 2 messages\n"))

    let lines = sink.stdout.split(separator: "\n")
    try #require(lines.count == 2, "\(sink.stdout)")
    let objects = try lines.map { line in
      try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
    #expect(objects.map { $0["from"] as? String } == ["a@example.com", "c@example.com"])
    #expect(objects.map { $0["to"] as? [String] } == [["b@example.org"], ["d@example.org", "e@example.org"]])
    #expect(objects.map { $0["subject"] as? String } == ["first", "zwölf"])
    #expect(objects.map { $0["tls"] as? Bool } == [false, true])
    #expect(objects[1]["user"] as? String == "carol")
    let expected = [
      Array("Subject: first\r\n\r\n.dot line\r\nHello\r\n".utf8),
      Array("Subject: =?utf-8?q?zw=C3=B6lf?=\r\n\r\nGrüße\r\n".utf8),
    ]
    for (object, content) in zip(objects, expected) {
      let file = try #require(object["file"] as? String)
      #expect(file.hasPrefix(directory + "/Maildir/new/"))
      #expect(Array(try Data(contentsOf: URL(fileURLWithPath: file))) == content)
      #expect(object["size"] as? Int == content.count)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/Maildir/tmp").isEmpty)
  }

  @Test(arguments: [SIGTERM, SIGINT])
  func stopsCleanlyOnSignal(_ signal: Int32) throws {
    let directory = try makeTemporaryDirectory("sink-signal")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let sink = try SinkProcess([], directory: directory)
    defer { sink.stop() }
    // A client in the middle of a session does not hold the sink up for long.
    let client = try SocketTransport.connect(
      host: "127.0.0.1", port: sink.port, tls: nil, implicitTLS: false, connectTimeout: 3)
    defer { client.close() }
    _ = try readUntil(client, suffix: "\r\n", timeout: 3)
    kill(sink.process.processIdentifier, signal)
    #expect(sink.waitForExit(timeout: 8) == 0)
    #expect(sink.stderr.hasSuffix("msc-send sink: stopped after 0 messages\n"))
    #expect(sink.stdout.isEmpty)
  }
}

import Foundation
import Testing

@testable import MSCSend

/// The client against Postfix's `smtp-sink`: a second real, independent server, which offers
/// PIPELINING and ENHANCEDSTATUSCODES (aiosmtpd offers neither).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SmtpSinkEndToEndTests {
  @Test func pipelinedDeliveryToSeveralRecipients() async throws {
    let sink = try ServerProcess.smtpSink()
    defer { sink.stop() }
    let recipients = (1...5).map { "r\($0)@example.test" }
    let body = "Line one\n.\n..two dots\nlast line without newline"
    let result = try await runMscSend(
      args: ["send", "--server", "127.0.0.1:\(sink.port)", "--tls", "none", "--from", "Ann <ann@example.test>",
        "--subject", "Grüße aus Göteborg", "--body", body, "--json", "-v", "--timeout", "10"]
        + recipients.flatMap { ["--to", $0] })
    #expect(result.exit == 0, "\(result.stderr)")
    // Pipelined: MAIL and every RCPT in one write, before any reply was read.
    let clientLines = result.stderr.split(separator: "\n").map(String.init)
    let mail = try #require(clientLines.firstIndex { $0.hasPrefix("C: MAIL FROM:") })
    #expect(clientLines[mail + 1..<mail + 6].allSatisfy { $0.hasPrefix("C: RCPT TO:") })

    var dumps: [String] = []
    for _ in 0..<50 where dumps.isEmpty {
      dumps = try sink.sinkDumps()
      if dumps.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
    }
    try #require(dumps.count == 1)
    let dump = dumps[0]
    #expect(dump.contains("X-Mail-Args: <ann@example.test>"))
    for recipient in recipients { #expect(dump.contains("X-Rcpt-Args: <\(recipient)>")) }
    #expect(dump.contains("Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?UTF-8?Q?G=C3=B6teborg?="))
    #expect(HeaderEncoding.decode("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?UTF-8?Q?G=C3=B6teborg?=") == "Grüße aus Göteborg")
    #expect(dump.contains("Line one\n.\n..two dots\nlast line without newline\n"), "dot-stuffing undone exactly")
  }
}

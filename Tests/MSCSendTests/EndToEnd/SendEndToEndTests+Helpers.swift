import Foundation
import Testing

@testable import MSCSend

extension SendEndToEndTests {
  // MARK: Helpers

  /// `msc-send send` with the common flags: as alice (password in `$MSC_SEND_TEST_PASSWORD`) from
  /// alice@example.test, `--timeout 10` unless told, killed after 20 s whatever happens.
  func send(
    to server: ServerProcess, tls: String, password: String = SendEndToEndTests.password,
    recipients: [String] = ["bob@example.test"], subject: String = "End-to-end test",
    body: Body = .text("Hello from the end-to-end tests.\n"), timeoutSeconds: Int = 10, extra: [String] = []
  ) async throws -> ProcessResult {
    var arguments = baseArguments(
      address: server.address, tls: tls, recipients: recipients, subject: subject, timeoutSeconds: timeoutSeconds)
    var stdin: String?
    switch body {
    case .text(let text): arguments += ["--body", text]
    case .file(let url): arguments += ["--body-file", url.path]
    case .stdin(let text): stdin = text
    }
    return try await runMscSend(
      args: arguments + extra, env: [Self.passwordVariable: password], stdin: stdin, timeout: .seconds(20))
  }

  func baseArguments(
    address: String, tls: String, recipients: [String] = ["bob@example.test"],
    subject: String = "End-to-end test", timeoutSeconds: Int = 10
  ) -> [String] {
    [
      "send", "--server", address, "--tls", tls, "--user", Self.user, "--password-env", Self.passwordVariable,
      "--from", Self.sender,
    ] + recipients.flatMap { ["--to", $0] } + ["--subject", subject, "--timeout", String(timeoutSeconds)]
  }

  /// Errors are one line on stderr starting `msc-send: error: ` (a hint line may follow).
  func hasErrorLine(_ result: ProcessResult) -> Bool {
    result.stderr.split(separator: "\n").contains { $0.hasPrefix("msc-send: error: ") }
  }

  /// The `--json` report.
  struct SendReport: Decodable {
    struct Recipient: Decodable {
      let address: String
      let accepted: Bool
      let reply: String
    }
    struct TLS: Decodable {
      let `protocol`: String?
    }
    let messageID: String
    let size: Int
    let sha256: String
    let recipients: [Recipient]
    let server: String?
    let tls: TLS?

    enum CodingKeys: String, CodingKey {
      case messageID = "message_id", size, sha256, recipients, server, tls
    }
  }

  func decodeReport(_ result: ProcessResult) throws -> SendReport {
    do {
      return try JSONDecoder().decode(SendReport.self, from: Data(result.stdout.utf8))
    } catch {
      throw HarnessError("stdout is not the --json report (\(error)):\n\(result.transcript)")
    }
  }

  /// The bytes before the first empty line.
  func headerBlock(of message: [UInt8]) -> [UInt8] {
    let separator: [UInt8] = Array("\r\n\r\n".utf8)
    var index = 0
    while index + separator.count <= message.count {
      if Array(message[index..<(index + separator.count)]) == separator { return Array(message[..<index]) }
      index += 1
    }
    return message
  }

  /// A header's value with folding undone (RFC 5322 section 2.2.3).
  func unfoldedHeader(_ name: String, in header: [UInt8]) -> String? {
    let text = String(decoding: header, as: UTF8.self).replacingOccurrences(of: "\r\n ", with: " ")
      .replacingOccurrences(of: "\r\n\t", with: "\t")
    for line in text.components(separatedBy: "\r\n") where line.lowercased().hasPrefix(name.lowercased() + ":") {
      return String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
    }
    return nil
  }

  /// The Subject as Python's email package decodes it: an independent RFC 2047 decoder.
  func decodeSubjectWithPython(_ message: [UInt8]) async throws -> String {
    let script = """
      import email, email.policy, sys
      message = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
      sys.stdout.buffer.write(str(message["subject"]).encode("utf-8"))
      """
    let result = try await runProcess(
      TestEnvironment.python, arguments: ["-c", script], environment: TestEnvironment.pythonEnvironment,
      stdin: Data(message), timeout: .seconds(30))
    guard result.exit == 0 else { throw HarnessError("python could not decode the subject:\n\(result.transcript)") }
    return result.stdout
  }
}

import Foundation
import Testing

@testable import MSCSend

/// `msc-send send` end to end: the built binary against a real, independent SMTP server (aiosmtpd)
/// and against scripted faults, checking exit codes (DESIGN.md section 5), what the server
/// received, and what the CLI printed. Every run has a short `--timeout` and is killed after 20 s
/// whatever happens, so even a CLI that hangs everywhere keeps `swift test` well under its budget.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SendEndToEndTests {
  static let user = "alice"
  static let password = "s3cret"
  static let passwordVariable = "MSC_SEND_TEST_PASSWORD"
  /// base64("\0alice\0s3cret"): what AUTH PLAIN sends, and what `-v` must never show.
  static let plainCredentials = "AGFsaWNlAHMzY3JldA=="
  static let sender = "alice@example.test"

  enum Body {
    case text(String)
    case file(URL)
    case stdin(String)
  }

  // MARK: Delivery

  @Test(arguments: ["PLAIN", "LOGIN"])
  func startTLSWithAuthDelivers(mechanism: String) async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["\(Self.user):\(Self.password)"])
    defer { server.stop() }
    let body = "Hello Bob,\nthe quarterly numbers are in.\n.\n..a line with leading dots\n"
    let result = try await send(
      to: server, tls: "starttls", recipients: ["bob@example.test", "carol@example.test"], body: .text(body),
      extra: ["--auth", mechanism, "--ca-file", certificates.ca.certificate.path, "--json"])
    #expect(result.exit == ExitCode.ok.rawValue, "\(result.transcript)")

    let delivered = try server.deliveredMessages()
    try #require(delivered.count == 1, "\(result.transcript)")
    let message = delivered[0]
    #expect(message.envelope.mailFrom == Self.sender)
    #expect(message.envelope.rcptTos == ["bob@example.test", "carol@example.test"])
    #expect(message.envelope.authUser == Self.user)
    #expect(message.envelope.tls)
    #expect(message.text.contains("the quarterly numbers are in."))
    #expect(message.text.contains("\r\n.\r\n..a line with leading dots"), "dot-stuffing undone by the server")

    let report = try decodeReport(result)
    #expect(report.sha256 == message.sha256, "the reported hash is of the exact bytes the server stored")
    #expect(report.size == message.bytes.count)
    #expect(report.messageID.hasPrefix("<") && report.messageID.hasSuffix(">"))
    #expect(message.text.contains(report.messageID), "the Message-ID header carries the reported id")
    #expect(report.recipients.map(\.address) == ["bob@example.test", "carol@example.test"])
    #expect(report.recipients.allSatisfy { $0.accepted && $0.reply.hasPrefix("250") })
    #expect(report.tls?.protocol?.hasPrefix("TLSv1.") == true)
    if let reportedServer = report.server {
      #expect(reportedServer.contains(String(server.port)))
    }
  }

  @Test func implicitTLSDelivers() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(mode: .implicit, auth: ["\(Self.user):\(Self.password)"])
    defer { server.stop() }
    let result = try await send(
      to: server, tls: "implicit", extra: ["--ca-file", certificates.ca.certificate.path, "--json"])
    #expect(result.exit == ExitCode.ok.rawValue, "\(result.transcript)")
    let delivered = try server.deliveredMessages()
    #expect(delivered.count == 1)
    #expect(delivered.first?.envelope.tls == true)
    #expect(delivered.first?.envelope.authUser == Self.user)
    let report = try decodeReport(result)
    #expect(report.sha256 == delivered.first?.sha256)
  }

  @Test func ipv6LoopbackInBrackets() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["\(Self.user):\(Self.password)"], host: "::1")
    defer { server.stop() }
    #expect(server.address.hasPrefix("[::1]:"))
    let result = try await send(to: server, tls: "starttls", extra: ["--ca-file", certificates.ca.certificate.path])
    #expect(result.exit == ExitCode.ok.rawValue, "\(result.transcript)")
    #expect(try server.deliveredMessages().count == 1)
  }

  @Test func bodyFromFileAndFromStdin() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["\(Self.user):\(Self.password)"])
    defer { server.stop() }
    let folder = try TestEnvironment.makeScratchDirectory("body")
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("note.txt")
    try Data("Body from a file.\n".utf8).write(to: file)
    let ca = ["--ca-file", certificates.ca.certificate.path]

    let fromFile = try await send(to: server, tls: "starttls", body: .file(file), extra: ca)
    #expect(fromFile.exit == ExitCode.ok.rawValue, "\(fromFile.transcript)")
    let fromStdin = try await send(to: server, tls: "starttls", body: .stdin("Body from stdin.\n"), extra: ca)
    #expect(fromStdin.exit == ExitCode.ok.rawValue, "\(fromStdin.transcript)")

    let delivered = try server.deliveredMessages()
    try #require(delivered.count == 2)
    #expect(delivered[0].text.contains("Body from a file."))
    #expect(delivered[1].text.contains("Body from stdin."))
  }

  @Test func plaintextToLoopbackWithAuthWorks() async throws {
    let server = try ServerProcess.aiosmtpd(
      mode: .plain, auth: ["\(Self.user):\(Self.password)"], authRequireTLS: false)
    defer { server.stop() }
    let result = try await send(to: server, tls: "none")
    #expect(result.exit == ExitCode.ok.rawValue, "\(result.transcript)")
    let delivered = try server.deliveredMessages()
    #expect(delivered.count == 1)
    #expect(delivered.first?.envelope.tls == false)
    #expect(delivered.first?.envelope.authUser == Self.user)
  }

  /// RFC 5321 section 4.5.3.1.10: recipients refused with 452 go into further transactions.
  @Test func tooManyRecipientsAreSplitOverTransactions() async throws {
    let server = try ServerProcess.fault(.tooManyRecipientsAfter2)
    defer { server.stop() }
    let recipients = (1...5).map { "r\($0)@example.test" }
    let result = try await send(to: server, tls: "none", recipients: recipients, extra: ["--json"])
    #expect(result.exit == ExitCode.ok.rawValue, "\(result.transcript)")
    try await server.waitForAllConnectionsClosed()

    let transactions = server.transactions()
    #expect(transactions.count >= 3, "at most 2 recipients fit in one transaction")
    #expect(transactions.allSatisfy { $0.from == Self.sender && $0.recipients.count <= 2 })
    #expect(transactions.flatMap(\.recipients).sorted() == recipients, "each recipient exactly once")
    #expect(Set(transactions.map(\.size)).count == 1, "the same message every time")
    let report = try decodeReport(result)
    #expect(report.recipients.count == 5)
    #expect(report.recipients.allSatisfy { $0.accepted })
  }

  /// RFC 2047: a non-ASCII Subject goes out as encoded-words; decoded, it is the original text.
  @Test func nonASCIISubjectIsEncoded() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["\(Self.user):\(Self.password)"])
    defer { server.stop() }
    let subject = "Grüße aus Köln – ✓ déjà vu, a long subject that must fold over more than one encoded-word"
    let result = try await send(
      to: server, tls: "starttls", subject: subject, extra: ["--ca-file", certificates.ca.certificate.path])
    #expect(result.exit == ExitCode.ok.rawValue, "\(result.transcript)")
    let message = try #require(try server.deliveredMessages().first)

    let header = headerBlock(of: message.bytes)
    #expect(header.allSatisfy { $0 < 0x80 }, "headers are 7-bit: the subject is encoded, not raw UTF-8")
    let rawSubject = try #require(unfoldedHeader("Subject", in: header))
    #expect(rawSubject.lowercased().contains("=?utf-8?"), "\(rawSubject)")
    #expect(try await decodeSubjectWithPython(message.bytes) == subject)
  }

  // MARK: Refusals and faults

  @Test func missingStartTLSIsUnavailableAndNoAuthIsSent() async throws {
    let server = try ServerProcess.fault(.noStartTLS)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls")
    #expect(result.exit == ExitCode.unavailable.rawValue, "\(result.transcript)")
    #expect(hasErrorLine(result))
    try await server.waitForAllConnectionsClosed()
    let lines = server.clientLines()
    #expect(lines.first?.uppercased().hasPrefix("EHLO") == true, "\(lines)")
    #expect(!lines.contains { $0.uppercased().hasPrefix("AUTH") }, "a password must never go out in clear: \(lines)")
    #expect(!lines.contains { $0.uppercased().hasPrefix("MAIL") }, "\(lines)")
  }

  /// CVE-2011-0411: bytes after STARTTLS's 220 were sent before TLS and must not be believed.
  @Test func bytesInjectedAfterStartTLSAreAProtocolError() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.fault(.injectAfterStartTLS)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls", extra: ["--ca-file", certificates.ca.certificate.path])
    #expect(result.exit == ExitCode.protocolError.rawValue, "\(result.transcript)")
    #expect(hasErrorLine(result))
    try await server.waitForAllConnectionsClosed()
    let lines = server.clientLines()
    let startTLS = try #require(lines.firstIndex { $0.uppercased() == "STARTTLS" }, "\(lines)")
    #expect(lines[(startTLS + 1)...].isEmpty, "nothing more sent after STARTTLS: \(lines)")
  }

  @Test func selfSignedCertificateWithoutCAIsRefused() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(
      mode: .starttls, auth: ["\(Self.user):\(Self.password)"], certificate: certificates.selfSigned)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls")
    #expect(result.exit == ExitCode.noPermission.rawValue, "\(result.transcript)")
    #expect(hasErrorLine(result))
    #expect(try server.deliveredMessages().isEmpty)
  }

  @Test func expiredCertificateIsRefused() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(
      mode: .implicit, auth: ["\(Self.user):\(Self.password)"], certificate: certificates.expired)
    defer { server.stop() }
    let result = try await send(to: server, tls: "implicit", extra: ["--ca-file", certificates.ca.certificate.path])
    #expect(result.exit == ExitCode.noPermission.rawValue, "\(result.transcript)")
    #expect(try server.deliveredMessages().isEmpty)
  }

  @Test func pinnedFingerprintReplacesChainVerification() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(
      mode: .starttls, auth: ["\(Self.user):\(Self.password)"], certificate: certificates.selfSigned)
    defer { server.stop() }
    let rightPin = try TestCertificates.sha256Fingerprint(of: certificates.selfSigned.certificate)
    let wrongPin = try TestCertificates.sha256Fingerprint(of: certificates.leaf.certificate)

    let pinned = try await send(to: server, tls: "starttls", extra: ["--fingerprint", rightPin])
    #expect(pinned.exit == ExitCode.ok.rawValue, "\(pinned.transcript)")
    let mismatched = try await send(to: server, tls: "starttls", extra: ["--fingerprint", wrongPin])
    #expect(mismatched.exit == ExitCode.noPermission.rawValue, "\(mismatched.transcript)")
    #expect(try server.deliveredMessages().count == 1)
  }

  @Test func noVerifyAcceptsAnyCertificateLoudly() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(
      mode: .starttls, auth: ["\(Self.user):\(Self.password)"], certificate: certificates.selfSigned)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls", extra: ["--no-verify"])
    #expect(result.exit == ExitCode.ok.rawValue, "\(result.transcript)")
    #expect(!result.stderr.isEmpty, "--no-verify warns")
    #expect(try server.deliveredMessages().count == 1)
  }

  @Test func wrongPasswordIsRefused() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["\(Self.user):\(Self.password)"])
    defer { server.stop() }
    let result = try await send(
      to: server, tls: "starttls", password: "not-the-password",
      extra: ["--ca-file", certificates.ca.certificate.path])
    #expect(result.exit == ExitCode.noPermission.rawValue, "\(result.transcript)")
    #expect(hasErrorLine(result))
    #expect(!result.stderr.contains("not-the-password"))
    #expect(try server.deliveredMessages().isEmpty)
  }

  @Test func serverDownIsATemporaryFailure() async throws {
    let port = try closedLoopbackPort()
    let result = try await runMscSend(
      args: baseArguments(address: "127.0.0.1:\(port)", tls: "starttls") + ["--body", "x"],
      env: [Self.passwordVariable: Self.password], timeout: .seconds(20))
    #expect(result.exit == ExitCode.tempFail.rawValue, "\(result.transcript)")
    #expect(hasErrorLine(result))
  }

  @Test func greeting554IsUnavailable() async throws {
    let server = try ServerProcess.fault(.greeting554)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls")
    #expect(result.exit == ExitCode.unavailable.rawValue, "\(result.transcript)")
    #expect(hasErrorLine(result))
    #expect(result.stderr.contains("554"), "the server's reply is quoted")
  }

  @Test func silentServerTimesOut() async throws {
    let server = try ServerProcess.fault(.silent)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls", timeoutSeconds: 2)
    #expect(result.exit == ExitCode.tempFail.rawValue, "\(result.transcript)")
    #expect(result.elapsedSeconds < 5, "--timeout 2 took \(result.elapsed)")
    #expect(hasErrorLine(result))
  }

  /// The timeout bounds a whole reply, not each read: one byte every 2 s must not keep us waiting.
  @Test func dribblingGreetingTimesOut() async throws {
    let server = try ServerProcess.fault(.dribble)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls", timeoutSeconds: 3)
    #expect(result.exit == ExitCode.tempFail.rawValue, "\(result.transcript)")
    #expect(result.elapsedSeconds < 6, "--timeout 3 took \(result.elapsed)")
  }

  @Test func overlongReplyLineIsAProtocolError() async throws {
    let server = try ServerProcess.fault(.longLine)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls", timeoutSeconds: 10)
    #expect(result.exit == ExitCode.protocolError.rawValue, "\(result.transcript)")
    #expect(result.elapsedSeconds < 8, "refused on length, not after the timeout")
  }

  @Test func garbageGreetingIsAProtocolError() async throws {
    let server = try ServerProcess.fault(.garbage)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls")
    #expect(result.exit == ExitCode.protocolError.rawValue, "\(result.transcript)")
  }

  @Test func inconsistentMultilineReplyIsAProtocolError() async throws {
    let server = try ServerProcess.fault(.badContinuation)
    defer { server.stop() }
    let result = try await send(to: server, tls: "starttls")
    #expect(result.exit == ExitCode.protocolError.rawValue, "\(result.transcript)")
  }

  @Test func failingPasswordCommandIsAConfigError() async throws {
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["\(Self.user):\(Self.password)"])
    defer { server.stop() }
    let arguments = [
      "send", "--server", server.address, "--tls", "starttls", "--user", Self.user,
      "--password-command", "false", "--from", Self.sender, "--to", "bob@example.test",
      "--subject", "s", "--body", "b", "--timeout", "10",
      "--ca-file", try TestCertificates.shared().ca.certificate.path,
    ]
    let result = try await runMscSend(args: arguments, timeout: .seconds(20))
    #expect(result.exit == ExitCode.config.rawValue, "\(result.transcript)")
    #expect(hasErrorLine(result))
    #expect(try server.deliveredMessages().isEmpty)
  }

  // MARK: Transcript

  @Test func verboseTranscriptHidesCredentials() async throws {
    let certificates = try TestCertificates.shared()
    let server = try ServerProcess.aiosmtpd(mode: .starttls, auth: ["\(Self.user):\(Self.password)"])
    defer { server.stop() }
    let result = try await send(
      to: server, tls: "starttls", extra: ["--auth", "PLAIN", "-v", "--ca-file", certificates.ca.certificate.path])
    #expect(result.exit == ExitCode.ok.rawValue, "\(result.transcript)")
    #expect(result.stderr.contains("STARTTLS"))
    #expect(result.stderr.contains("AUTH PLAIN"))
    #expect(!result.stderr.contains(Self.plainCredentials), "base64 credentials in the transcript")
    #expect(!result.stderr.contains(Self.password))
    #expect(!result.stdout.contains(Self.password))
  }
}

import Foundation
import Testing

@testable import MSCSend

/// Composed and ready-made messages end to end: the built binary sends to aiosmtpd on loopback,
/// and Python's email package (`Tests/Servers/parse_message.py`, policy=default) reads what the
/// server stored, an independent check that every header decodes back to what was given, that
/// attachments are byte-identical and that a blind copy leaves no trace in the message.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct MIMEEndToEndTests {
  /// One message per language of the seeds (DOMAIN.md): its names, subject, file name and text.
  struct Language: Sendable, CustomTestStringConvertible {
    let code: String
    let sender: String
    let recipient: String
    let copy: String
    let replyTo: String
    let subject: String
    let fileName: String
    let text: String
    var testDescription: String { code }
  }

  static let languages = [
    Language(
      code: "ja", sender: "山田 太郎", recipient: "佐藤 花子", copy: "王小明", replyTo: "営業チーム",
      subject: "配信チャネルの概要 — Gmail または Exchange のメール接続（推奨）について、詳しく説明します",
      fileName: "配信チャネルの概要とSMTPサーバーの設定.txt",
      text: """
        # 配信チャネルの概要

        Marketo Sales には、メールを配信するための複数のオプションが用意されています。この記事では、活用できる配信チャネル、それらの選択方法、そのチャネルを選択するタイミングを確認します。

        """),
    Language(
      code: "zh", sender: "王小明", recipient: "陳大文", copy: "山田 太郎", replyTo: "銷售團隊",
      subject: "傳遞通道概述：建議透過Email Connection的Gmail或Exchange", fileName: "傳遞通道概述.txt",
      text: """
        # 傳遞通道概述

        Marketo Sales可為您提供多種傳送電子郵件的選項。 本文將檢閱您可運用的傳送管道、如何選取管道，以及何時選取管道。

        """),
    Language(
      code: "sv", sender: "Åsa Öberg", recipient: "Björn Ängström", copy: "Örjan Ek", replyTo: "Sälj, Norden",
      subject: "Översikt över leveranskanalen – rekommenderas: Gmail eller Exchange via e-postanslutning",
      fileName: "Översikt över leveranskanalen.txt",
      text: """
        Marketo Sales Connect ger dig flera alternativ för att leverera e-postmeddelanden. I den här artikeln beskrivs de leveranskanaler du kan utnyttja, hur du väljer ut dem och när du ska välja ut en av dem.
        .
        From the start: a dot line and a From line survive.

        """),
    Language(
      code: "it", sender: "Niccolò Rossi", recipient: "Lucía Bianchi", copy: "Fabrizio De André",
      replyTo: "Vendite \"Italia\"", subject: "Panoramica del canale di consegna: perché è già così semplice",
      fileName: "Panoramica del canale di consegna.txt",
      text: """
        Marketo Sales offre diverse opzioni per inviare e-mail. Questo articolo esaminerà i canali di consegna che puoi sfruttare, come selezionarli e quando sceglierli tra loro.

        """),
  ]

  static let secret = "blind-copy-7c1e@example.test"

  @Test(arguments: languages)
  func composedMessageDecodesBack(_ language: Language) async throws {
    let server = try ServerProcess.aiosmtpd(mode: .plain)
    defer { server.stop() }
    let folder = try TestEnvironment.makeScratchDirectory("mime")
    defer { try? FileManager.default.removeItem(at: folder) }
    let textFile = folder.appendingPathComponent(language.fileName)
    try Data(language.text.utf8).write(to: textFile)
    let binary = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ $0 >> 9) }
    let binaryFile = folder.appendingPathComponent("q3-\(language.code).pdf")
    try Data(binary).write(to: binaryFile)
    let html = "<html><body><h1>\(language.subject)</h1><p>\(language.text)</p></body></html>\n"
    let htmlFile = folder.appendingPathComponent("body.html")
    try Data(html.utf8).write(to: htmlFile)
    let note = "Nota bene: \(language.sender) — \(language.code)"

    let result = try await runMscSend(args: [
      "send", "--server", server.address, "--tls", "none", "--timeout", "10", "--json",
      "--from", "sender@acme.test", "--from-name", language.sender,
      "--to", "\(Self.quoted(language.recipient)) <to@example.test>",
      "--cc", "\(Self.quoted(language.copy)) <cc@example.test>",
      "--reply-to", "\(Self.quoted(language.replyTo)) <reply@acme.test>", "--bcc", Self.secret,
      "--subject", language.subject, "--body-file", textFile.path, "--html-file", htmlFile.path,
      "--attach", textFile.path, "--attach", binaryFile.path + ";type=application/octet-stream",
      "--header", "X-Note: \(note)",
    ])
    #expect(result.exit == 0, "\(result.transcript)")
    let message = try #require(try server.deliveredMessages().first)
    #expect(message.envelope.rcptTos.sorted() == ["cc@example.test", "to@example.test", Self.secret].sorted())
    #expect(!message.text.contains(Self.secret), "the blind copy is nowhere in the message")
    #expect(!message.text.lowercased().contains("\r\nbcc:"))
    #expect(message.bytes.allSatisfy { $0 < 0x80 }, "a composed message is 7-bit")
    let lines = String(decoding: message.bytes, as: UTF8.self).components(separatedBy: "\r\n")
    #expect(lines.allSatisfy { $0.utf8.count <= 78 })

    let parsed = try await PythonReading.parse(message.bytes)
    #expect(parsed.defects.isEmpty, "\(parsed.defects)")
    #expect(parsed.header("Subject") == language.subject)
    #expect(parsed.header("X-Note") == note)
    #expect(parsed.addresses["from"] == [[language.sender, "sender@acme.test"]])
    #expect(parsed.addresses["to"] == [[language.recipient, "to@example.test"]])
    #expect(parsed.addresses["cc"] == [[language.copy, "cc@example.test"]])
    #expect(parsed.addresses["reply-to"] == [[language.replyTo, "reply@acme.test"]])
    #expect(parsed.addresses["bcc"] == nil)
    let types = parsed.parts.map(\.type)
    #expect(
      types == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/plain",
        "application/octet-stream",
      ])
    #expect(parsed.parts[2].text.map(Self.unixLines) == language.text)
    #expect(parsed.parts[3].text.map(Self.unixLines) == html)
    #expect(parsed.parts[4].filename == language.fileName)
    #expect(parsed.parts[4].charset == "utf-8")
    #expect(parsed.parts[4].sha256 == Crypto.hex(Crypto.digest(.sha256, Array(language.text.utf8))))
    #expect(parsed.parts[5].filename == "q3-\(language.code).pdf")
    #expect(parsed.parts[5].sha256 == Crypto.hex(Crypto.digest(.sha256, binary)), "attachment byte-identical")

    let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
    #expect(report.sha256 == message.sha256)
    #expect(report.size == message.bytes.count)
  }

  /// The binary invoked as `sendmail` (a symlink) with cron's arguments, routed by a config.
  @Test func sendmailSymlinkDeliversThroughTheConfiguredChannel() async throws {
    let server = try ServerProcess.aiosmtpd(mode: .plain)
    defer { server.stop() }
    let (sendmail, config, folder) = try sendmailSetUp(server)
    defer { try? FileManager.default.removeItem(at: folder) }
    let input =
      "From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> backup\nBcc: \(Self.secret)\n"
      + "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\nSäkerhetskopian är klar.\n.\nslut\n"
    let result = try await runMscSend(
      args: ["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "ops@example.test", Self.secret],
      env: ["MSC_SEND_CONFIG": config.path], stdin: input, executable: sendmail)
    #expect(result.exit == 0, "\(result.transcript)")
    #expect(result.stderr.isEmpty, "silent on success, as cron expects: \(result.stderr)")
    let message = try #require(try server.deliveredMessages().first)
    #expect(message.envelope.mailFrom == "cron@acme.test")
    #expect(message.envelope.rcptTos == ["ops@example.test", Self.secret])
    #expect(message.envelope.mailOptions.contains("BODY=8BITMIME"))
    #expect(!message.text.contains(Self.secret))
    #expect(message.text.hasPrefix("From: Cron Daemon <cron@acme.test>\r\nTo: root\r\n"))
    #expect(message.text.hasSuffix("\r\n\r\nSäkerhetskopian är klar.\r\n.\r\nslut\r\n"), "the body as it was, CRLF")
    let parsed = try await PythonReading.parse(message.bytes)
    #expect(parsed.header("Date") != nil)
    #expect(parsed.header("Message-ID")?.hasSuffix("@acme.test>") == true)
  }

  /// RFC 6152: a server without 8BITMIME gets the body re-encoded, and it decodes back.
  @Test func withoutEightBitMIMETheBodyIsReencoded() async throws {
    let server = try ServerProcess.aiosmtpd(mode: .plain, eightBitMIME: false)
    defer { server.stop() }
    let (sendmail, config, folder) = try sendmailSetUp(server)
    defer { try? FileManager.default.removeItem(at: folder) }
    let body = "Perché è già così.\n" + String(repeating: "lunga riga ", count: 120) + "\n"
    let input = "From: Niccolò <niccolo@acme.test>\nTo: lucia@example.test\nSubject: =?UTF-8?Q?Perch=C3=A9?=\n\n" + body
    let result = try await runMscSend(
      args: ["-t", "-v"], env: ["MSC_SEND_CONFIG": config.path], stdin: input, executable: sendmail)
    #expect(result.exit == 0, "\(result.transcript)")
    let message = try #require(try server.deliveredMessages().first)
    #expect(message.bytes.allSatisfy { $0 < 0x80 })
    #expect(!message.envelope.mailOptions.contains("BODY=8BITMIME"))
    let parsed = try await PythonReading.parse(message.bytes)
    #expect(parsed.header("Subject") == "Perché")
    #expect(parsed.addresses["from"] == [["Niccolò", "niccolo@acme.test"]], "8-bit header text re-encoded too")
    #expect(parsed.parts.first?.text.map(Self.unixLines) == body)
    #expect(result.stderr.contains("the server does not offer 8BITMIME"))
  }

  /// A body over 1 MiB is spooled to disk while it is read; lines over 998 octets are re-encoded on
  /// the way out (aiosmtpd refuses lines over 1000 octets, so a slip would fail the send).
  @Test func largeReadyMadeMessageIsSpooledAndReencoded() async throws {
    let server = try ServerProcess.aiosmtpd(mode: .plain)
    defer { server.stop() }
    let (sendmail, config, folder) = try sendmailSetUp(server)
    defer { try? FileManager.default.removeItem(at: folder) }
    let line = String(repeating: "0123456789", count: 150)
    let body = (0..<2_000).map { "\($0) \(line)\n" }.joined()
    let input = "From: big@acme.test\nTo: archive@example.test\nSubject: spooled\n\n" + body
    let result = try await runMscSend(
      args: ["-t", "-oi"], env: ["MSC_SEND_CONFIG": config.path, "TMPDIR": folder.path], stdin: input,
      executable: sendmail)
    #expect(result.exit == 0, "\(result.transcript)")
    let message = try #require(try server.deliveredMessages().first)
    #expect(message.bytes.count > 3_000_000)
    let parsed = try await PythonReading.parse(message.bytes)
    #expect(parsed.defects.isEmpty)
    #expect(parsed.parts.first?.text.map(Self.unixLines) == body)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasPrefix("msc-send-body") }
    #expect(leftovers.isEmpty, "the spool file is unlinked at once")
  }

  @Test func nonASCIIAddressNeedsSMTPUTF8() async throws {
    let without = try ServerProcess.aiosmtpd(mode: .plain)
    defer { without.stop() }
    let refused = try await runMscSend(args: [
      "send", "--server", without.address, "--tls", "none", "--timeout", "10", "--from", "josé@bücher.example",
      "--to", "bob@example.test", "--body", "x",
    ])
    #expect(refused.exit == ExitCode.unavailable.rawValue, "\(refused.transcript)")
    #expect(refused.stderr.contains("SMTPUTF8"))
    #expect(try without.deliveredMessages().isEmpty)

    let with = try ServerProcess.aiosmtpd(mode: .plain, smtpUTF8: true)
    defer { with.stop() }
    let sent = try await runMscSend(args: [
      "send", "--server", with.address, "--tls", "none", "--timeout", "10", "--from", "josé@bücher.example",
      "--to", "用户@例子.广告", "--subject", "你好", "--body", "x",
    ])
    #expect(sent.exit == 0, "\(sent.transcript)")
    let message = try #require(try with.deliveredMessages().first)
    #expect(message.envelope.mailOptions.contains("SMTPUTF8"))
    #expect(message.envelope.rcptTos == ["用户@例子.广告"])
    let parsed = try await PythonReading.parse(message.bytes)
    #expect(parsed.addresses["to"] == [["", "用户@例子.广告"]])
    #expect(parsed.header("Subject") == "你好")
  }

  // MARK: Helpers

  /// A `sendmail` symlink to the binary and a config routing `*@acme.test` to `server`.
  private func sendmailSetUp(_ server: ServerProcess) throws -> (sendmail: URL, config: URL, folder: URL) {
    let folder = try TestEnvironment.makeScratchDirectory("sendmail")
    let sendmail = folder.appendingPathComponent("sendmail")
    try FileManager.default.createSymbolicLink(at: sendmail, withDestinationURL: try mscSendBinary())
    let config = folder.appendingPathComponent("config.toml")
    try Data(
      """
      [defaults]
      from = "cron@acme.test"

      [channels.relay]
      kind = "smtp"
      host = "127.0.0.1"
      port = \(server.port)
      tls = "none"
      timeout = 10
      identities = ["*@acme.test"]
      """.utf8
    ).write(to: config)
    return (sendmail, config, folder)
  }

  private static func quoted(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  private static func unixLines(_ text: String) -> String { text.replacingOccurrences(of: "\r\n", with: "\n") }

  struct Report: Decodable {
    let size: Int
    let sha256: String
  }
}

/// What `Tests/Servers/parse_message.py` makes of a message.
struct PythonReading: Decodable {
  struct Part: Decodable {
    let type: String
    let filename: String?
    let charset: String?
    let sha256: String?
    let text: String?
  }

  let headers: [[String]]
  let addresses: [String: [[String]]]
  let parts: [Part]
  let defects: [String]

  func header(_ name: String) -> String? {
    headers.first { $0.first?.lowercased() == name.lowercased() }?.last
  }

  static func parse(_ message: [UInt8]) async throws -> PythonReading {
    let script = TestEnvironment.serversDirectory.appendingPathComponent("parse_message.py").path
    let result = try await runProcess(
      TestEnvironment.python, arguments: [script], environment: TestEnvironment.pythonEnvironment,
      stdin: Data(message), timeout: .seconds(30))
    guard result.exit == 0 else { throw HarnessError("parse_message.py failed:\n\(result.transcript)") }
    do {
      return try JSONDecoder().decode(PythonReading.self, from: Data(result.stdout.utf8))
    } catch {
      throw HarnessError("parse_message.py printed no JSON (\(error)):\n\(result.transcript)")
    }
  }
}

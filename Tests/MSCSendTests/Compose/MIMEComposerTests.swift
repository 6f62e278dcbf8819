import Foundation
import Testing

@testable import MSCSend

/// A fixed clock (Mon, 23 Nov 2026 17:19:03 UTC, +01:00), counting random bytes, a fixed host.
func goldenEnvironment() -> ComposeEnvironment {
  ComposeEnvironment(
    now: { Date(timeIntervalSince1970: 1_795_454_343) }, timeZoneOffsetSeconds: 3_600,
    randomBytes: { count in (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) } }, hostName: "mail.host.example")
}

/// Files for attachment tests in a fresh folder, removed by `remove()`.
struct ScratchFiles {
  let folder: URL

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("msc-send-mime-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  func file(_ name: String, _ bytes: [UInt8]) throws -> String {
    let url = folder.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
  }

  func attachment(_ name: String, _ bytes: [UInt8], type: MediaType? = nil) throws -> MailAttachment {
    try MailAttachment.load(path: try file(name, bytes), type: type)
  }

  func remove() { try? FileManager.default.removeItem(at: folder) }
}

/// Every byte value, in an order that is not the identity.
let binarySample: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 17) }

@Suite struct MIMEComposerTests {
  private func international(html: String? = nil, attachments: [MailAttachment] = []) throws -> OutgoingMessage {
    OutgoingMessage(
      from: try Mailbox.parse("Åsa Öberg <asa@acme.test>"),
      to: try Mailbox.parseList("山田 太郎 <yamada@example.jp>, 王小明 <wang@example.cn>"),
      cc: [try Mailbox.parse("Niccolò Rossi <niccolo@example.it>")],
      replyTo: [try Mailbox.parse("\"Sales, Nordic\" <nordic@acme.test>")],
      subject: "Översikt över leveranskanalen / 配信チャネルの概要 / 傳遞通道概述 / Panoramica del canale di consegna",
      body: "Hej!\nHär är översikten.\n\n-- \nÅsa\n", html: html, attachments: attachments,
      extraHeaders: [("X-Campaign", "q3-invite")])
  }

  private func bytes(_ message: OutgoingMessage) throws -> [UInt8] {
    try MIMEComposer.compose(message, environment: goldenEnvironment()).bytes()
  }

  @Test func textOnlyIsOneTextPart() throws {
    let message = try international()
    let composed = try MIMEComposer.compose(message, environment: goldenEnvironment())
    try GoldenFile.check("text-only.eml", try composed.bytes())
    #expect(try composed.bytes() == PlainTextComposer.compose(message, environment: goldenEnvironment()).bytes)
  }

  @Test func htmlMakesMultipartAlternative() throws {
    let html =
      "<html><body><p>Hej!</p><p>H&auml;r &auml;r <b>översikten</b>.</p>"
      + String(repeating: "<span>lång rad</span>", count: 10) + "</body></html>\n"
    try GoldenFile.check("alternative.eml", try bytes(try international(html: html)))
  }

  @Test func attachmentsMakeMultipartMixed() throws {
    let files = try ScratchFiles()
    defer { files.remove() }
    let attachments = [
      try files.attachment("q3-report.pdf", binarySample),
      try files.attachment("Översikt.csv", Array("kanal;gräns\ngmail;2000\n".utf8)),
    ]
    try GoldenFile.check("mixed.eml", try bytes(try international(attachments: attachments)))
  }

  @Test func everythingTogetherWithLongFileNames() throws {
    let files = try ScratchFiles()
    defer { files.remove() }
    let attachments = [
      try files.attachment("配信チャネルの概要とSMTPサーバーの設定についての詳しい説明資料.pdf", Array(binarySample.prefix(57))),
      try files.attachment(
        "Panoramica del canale di consegna - versione completa con tutte le note del team vendite.txt",
        Array("Consigliato: Gmail o Exchange.\n".utf8)),
      try files.attachment("data.bin", [0xFF, 0x00, 0x0D, 0x0A], type: try MediaType.parse("Application/X-Custom")),
    ]
    let html = "<p>配信チャネルの概要</p>\n"
    try GoldenFile.check("alternative-mixed.eml", try bytes(try international(html: html, attachments: attachments)))
  }

  /// `byteCount` is announced before any file is read (SIZE): it must be exactly what is written.
  @Test(arguments: [0, 1, 2, 3, 56, 57, 58, 114, 1_000, 65_549, 65_550, 65_551, 200_001])
  func byteCountIsExact(size: Int) throws {
    let files = try ScratchFiles()
    defer { files.remove() }
    let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let message = try international(html: "<p>x</p>", attachments: [try files.attachment("a.bin", content)])
    let composed = try MIMEComposer.compose(message, environment: goldenEnvironment())
    var written: [UInt8] = []
    var largestChunk = 0
    try composed.writeChunks { chunk in
      written += chunk
      largestChunk = max(largestChunk, chunk.count)
    }
    #expect(composed.byteCount == written.count)
    #expect(largestChunk < 160_000, "chunks stay small whatever the file size")
    #expect(!composed.requiresEightBitMIME)
    #expect(written.allSatisfy { $0 < 0x80 })
    #expect(QuotedPrintableTests.hasOnlyCRLFLineBreaks(written))
    let lines = String(decoding: written, as: UTF8.self).components(separatedBy: "\r\n")
    #expect(lines.allSatisfy { $0.utf8.count <= 78 })
    let base64 = lines.drop { !$0.hasPrefix("Content-Disposition: attachment") }.dropFirst(3)
      .prefix { !$0.isEmpty }.joined()
    #expect(Data(base64Encoded: base64).map(Array.init) == content)
  }

  @Test func fileChangedAfterComposingAbortsTheWrite() throws {
    let files = try ScratchFiles()
    defer { files.remove() }
    let attachment = try files.attachment("grows.txt", Array("short\n".utf8))
    let composed = try MIMEComposer.compose(
      try international(attachments: [attachment]), environment: goldenEnvironment())
    _ = try files.file("grows.txt", Array("longer now\n".utf8))
    #expect(throws: MessageSourceError.changed(attachment.file.path, expected: 6)) { try composed.bytes() }
    _ = try files.file("grows.txt", Array("tiny".utf8))
    #expect(throws: MessageSourceError.changed(attachment.file.path, expected: 6)) { try composed.bytes() }
  }

  @Test func boundariesAreDistinctAndNeverInsideParts() throws {
    let files = try ScratchFiles()
    defer { files.remove() }
    // The fixed random source gives the same bytes every time: the kind keeps the boundaries apart.
    var message = try international(html: "<p>x</p>", attachments: [try files.attachment("a.txt", [0x61])])
    message.body = "a line that looks like ours: --=_mixed_ and --=_alt_\n"
    let text = String(decoding: try bytes(message), as: UTF8.self)
    let boundaries = text.components(separatedBy: "boundary=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
    #expect(boundaries.count == 2)
    #expect(Set(boundaries).count == 2)
    #expect(boundaries.allSatisfy { $0.count >= 30 && $0.count <= 70 })
    #expect(text.contains("looks like ours: --=3D_mixed_"), "text with our boundary prefix goes quoted-printable")
  }

  @Test(arguments: [
    ("Content-Disposition", "header Content-Disposition is written by the composer and cannot also be an extra header"),
    ("MIME-Version", "header MIME-Version is written by the composer and cannot also be an extra header"),
  ])
  func contentFieldsCannotBeExtraHeaders(_ name: String, _ message: String) throws {
    var outgoing = try international()
    outgoing.extraHeaders = [(name, "x")]
    #expect(throws: ComposeError(.reservedHeader, message)) { try bytes(outgoing) }
  }

  @Test func controlCharactersInAFileNameAreRefused() throws {
    let files = try ScratchFiles()
    defer { files.remove() }
    var attachment = try files.attachment("ok.txt", [0x61])
    attachment.fileName = "evil\r\nBcc: x@example.com.txt"
    #expect(
      throws: ComposeError(
        .headerInjection,
        #"attachment file name "evil\r\nBcc: x@example.com.txt" contains a line break (CR or LF): refused"#)
    ) { try bytes(try international(attachments: [attachment])) }
  }

  @Test func utf8AddressInReplyToNeedsSMTPUTF8ButNotEightBitMIME() throws {
    var message = try international()
    message.replyTo = [try Mailbox.parse("josé@bücher.example")]
    let composed = try MIMEComposer.compose(message, environment: goldenEnvironment())
    #expect(composed.requiresSMTPUTF8)
    #expect(!composed.requiresEightBitMIME)
  }
}

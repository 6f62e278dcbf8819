import Foundation
import Testing

@testable import MSCSend

@Suite struct MIMEParametersTests {
  private func field(_ value: String, _ parameters: [MIMEParameter]) throws -> String {
    try MIMEParameters.field(name: "Content-Disposition", value: value, parameters: parameters)
  }

  @Test func shortASCIIFileNameIsQuotedOnOneLine() throws {
    #expect(
      try field("attachment", [MIMEParameter("filename", "q3.pdf", alwaysQuoted: true)])
        == "Content-Disposition: attachment; filename=\"q3.pdf\"\r\n")
    #expect(
      try field("attachment", [MIMEParameter("filename", #"say "hi"\.txt"#, alwaysQuoted: true)])
        == #"Content-Disposition: attachment; filename="say \"hi\"\\.txt""# + "\r\n")
  }

  @Test func tokensStayUnquotedUnlessAsked() throws {
    let text = try MIMEParameters.field(
      name: "Content-Type", value: "text/plain", parameters: [MIMEParameter("charset", "utf-8")])
    #expect(text == "Content-Type: text/plain; charset=utf-8\r\n")
  }

  /// RFC 2231 section 4: charset, empty language, percent-encoded UTF-8.
  @Test func nonASCIIFileNameUsesRFC2231() throws {
    #expect(
      try field("attachment", [MIMEParameter("filename", "Översikt.csv", alwaysQuoted: true)])
        == "Content-Disposition: attachment; filename*=utf-8''%C3%96versikt.csv\r\n")
  }

  /// RFC 2231 section 3: continuations, each line within 78 columns, split between characters.
  @Test func longNonASCIIFileNameIsContinuedBetweenCharacters() throws {
    let name = "配信チャネルの概要とSMTPサーバーの設定についての詳しい説明資料.pdf"
    let text = try field("attachment", [MIMEParameter("filename", name, alwaysQuoted: true)])
    let lines = text.components(separatedBy: "\r\n").dropLast()
    #expect(lines.count > 2)
    #expect(lines.allSatisfy { $0.utf8.count <= 78 })
    #expect(lines.dropFirst().first?.hasPrefix(" filename*0*=utf-8''%E9%85%8D") == true)
    var bytes: [UInt8] = []
    for (index, line) in lines.dropFirst().enumerated() {
      let prefix = " filename*\(index)*=" + (index == 0 ? "utf-8''" : "")
      #expect(line.hasPrefix(prefix), "\(line)")
      let encoded = String(line.dropFirst(prefix.count)).trimmingCharacters(in: CharacterSet(charactersIn: ";"))
      let segment = try #require(encoded.removingPercentEncoding.map { Array($0.utf8) }, "\(encoded)")
      #expect(String(validating: segment, as: UTF8.self) != nil, "each segment is whole characters")
      bytes += segment
    }
    #expect(String(decoding: bytes, as: UTF8.self) == name)
  }

  @Test func longASCIIFileNameUsesQuotedContinuations() throws {
    let name = String(repeating: "quarterly-report-", count: 6) + "final.pdf"
    let text = try field("attachment", [MIMEParameter("filename", name, alwaysQuoted: true)])
    let lines = text.components(separatedBy: "\r\n").dropLast()
    #expect(lines.allSatisfy { $0.utf8.count <= 78 })
    #expect(lines[1].hasPrefix(" filename*0=\""))
    #expect(lines[2].hasPrefix(" filename*1=\""))
    let joined = lines.dropFirst().map { line in
      line.split(separator: "=", maxSplits: 1)[1].trimmingCharacters(in: CharacterSet(charactersIn: "\";"))
    }.joined()
    #expect(joined == name)
  }

  @Test(arguments: ["type=x", "text/plain\r\nBcc: a@b.c"])
  func controlCharactersAreRefused(_ value: String) throws {
    #expect(throws: ComposeError.self) {
      try MIMEParameters.field(
        name: "Content-Type", value: "text/plain", parameters: [MIMEParameter("name", value + "\n")])
    }
  }

  @Test(arguments: [
    ("report.PDF", "application/pdf"), ("photo.jpeg", "image/jpeg"), ("a.JPG", "image/jpeg"), ("x.png", "image/png"),
    ("t.txt", "text/plain"), ("d.csv", "text/csv"), ("p.html", "text/html"), ("z.zip", "application/zip"),
    ("j.json", "application/json"), ("x.xml", "application/xml"), ("w.doc", "application/msword"),
    ("w.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("s.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("p.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("c.ics", "text/calendar"), ("m.eml", "application/octet-stream"), ("noext", "application/octet-stream"),
    (".hidden", "application/octet-stream"), ("a.unknownext", "application/octet-stream"),
  ])
  func mediaTypeFromExtension(_ name: String, _ expected: String) {
    #expect(MediaType.forFileName(name).description == expected)
  }

  @Test func attachSpecificationTakesATrailingType() throws {
    let plain = try MailAttachment.parseSpecification("dir;with;semicolons/file.bin")
    #expect(plain.path == "dir;with;semicolons/file.bin" && plain.type == nil)
    let typed = try MailAttachment.parseSpecification("notes.dat;type=Text/Plain")
    #expect(typed.path == "notes.dat" && typed.type?.description == "text/plain")
    #expect(throws: ComposeError.self) { try MailAttachment.parseSpecification("a.bin;type=nonsense") }
    #expect(throws: ComposeError.self) { try MailAttachment.parseSpecification("a.bin;type=multipart/mixed") }
    #expect(throws: ComposeError.self) { try MailAttachment.parseSpecification("a.bin;type=text/plain\r\nX: y") }
    #expect(throws: ComposeError.self) { try MailAttachment.parseSpecification(";type=text/plain") }
  }

  @Test func textAttachmentsGetTheirCharset() throws {
    let files = try ScratchFiles()
    defer { files.remove() }
    #expect(try files.attachment("a.txt", Array("plain".utf8)).charset == "us-ascii")
    #expect(try files.attachment("b.txt", Array("配信".utf8)).charset == "utf-8")
    #expect(try files.attachment("c.txt", [0x61, 0xE9, 0x62]).charset == nil, "Latin-1 is not guessed")
    #expect(try files.attachment("d.txt", [0xE3, 0x81]).charset == nil, "a cut-off sequence is not UTF-8")
    #expect(try files.attachment("e.bin", Array("配信".utf8)).charset == nil, "only text types get a charset")
  }

  @Test(
    arguments: [
      ([0xC0, 0x80], false), ([0xED, 0xA0, 0x80], false), ([0xF4, 0x90, 0x80, 0x80], false), ([0xF5], false),
      ([0xE0, 0x9F, 0x80], false), ([0xF0, 0x9F, 0x98, 0x80], true), ([0xEF, 0xBB, 0xBF], true), ([0x7F], true),
    ] as [([UInt8], Bool)])
  func utf8ValidatorFollowsRFC3629(_ bytes: [UInt8], _ valid: Bool) {
    var validator = UTF8Validator()
    for byte in bytes { validator.scan([byte]) }
    #expect(validator.isValid == valid)
    #expect(validator.isValid == (String(validating: bytes, as: UTF8.self) != nil))
  }

  @Test func missingOrNonRegularFilesAreSourceErrors() throws {
    #expect(throws: MessageSourceError.self) { try AttachmentFile.open("/nonexistent/msc-send/file") }
    #expect(throws: MessageSourceError("cannot read /tmp: not a regular file")) { try AttachmentFile.open("/tmp") }
  }

  @Test func base64LengthFormulaMatchesTheEncoder() {
    for size in [0, 1, 2, 3, 4, 56, 57, 58, 113, 114, 115, 1_000, 4_321] {
      let bytes = [UInt8](repeating: 0xA5, count: size)
      #expect(Base64LineEncoder.encodedLength(of: size) == Base64LineEncoder.encode(bytes).count, "size \(size)")
    }
  }
}

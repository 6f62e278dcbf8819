import Foundation
import Glibc
import Testing

@testable import MSCSend

@Suite struct MaildirWriterTests {
  private func temporaryDirectory() -> String {
    NSTemporaryDirectory() + "msc-send-maildir-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }

  @Test func writesIntoNewThroughTmpByteForByte() throws {
    let root = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let writer = try MaildirWriter(directory: root + "/deep/box")
    let content: [UInt8] = Array("Subject: x\r\n\r\n\u{0}\u{ff}binary\r\n".utf8) + [0x80, 0x0d]
    let path = try writer.deliver(content, identifier: "100.M1P2Q1")
    #expect(path.hasPrefix(root + "/deep/box/new/100.M1P2Q1."))
    #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
    for sub in ["tmp", "cur"] {
      #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/deep/box/\(sub)").isEmpty)
    }
    var info = stat()
    #expect(stat(path, &info) == 0)
    #expect(info.st_mode & 0o777 == 0o600)
    #expect(stat(root + "/deep/box/new", &info) == 0)
    #expect(info.st_mode & 0o777 == 0o700)
    // A name already taken is an error, never an overwrite, and leaves nothing in tmp/.
    #expect(throws: MaildirWriter.WriteError.self) { try writer.deliver([1], identifier: "100.M1P2Q1") }
    #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == content)
    #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/deep/box/tmp").isEmpty)
    let second = try writer.deliver([1], identifier: "100.M1P2Q2")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: "\(root)/deep/box/new").sorted()
        == [path, second].map { ($0 as NSString).lastPathComponent }.sorted())
  }

  @Test func refusesAPathThatIsAFile() throws {
    let root = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: root) }
    #expect(FileManager.default.createFile(atPath: root, contents: Data()))
    #expect(throws: MaildirWriter.WriteError.self) { try MaildirWriter(directory: root + "/box") }
  }
}

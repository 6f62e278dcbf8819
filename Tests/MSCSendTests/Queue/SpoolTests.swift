import Foundation
import Testing

@testable import MSCSend

/// Spool segments: written once and durably, read back exactly, never left half-written.
@Suite struct SpoolTests {
  @Test func aSegmentHoldsManyMessagesReadBackExactly() throws {
    let directory = try TestEnvironment.makeScratchDirectory("spool").path
    let spool = Spool(directory: directory + "/spool")
    let writer = try spool.makeWriter()
    let big = [UInt8](repeating: UInt8(ascii: "x"), count: 300_000) + Array("\r\n".utf8)
    let first = try writer.append(bytes: Array("Subject: one\r\n\r\nbody\r\n".utf8))
    let second = try writer.append(InMemoryMessage(big))
    #expect(!FileManager.default.fileExists(atPath: writer.path), "nothing under the final name before commit")
    let path = try writer.commit()
    #expect(first == SpoolLocation(path: path, offset: 0, size: 22))
    #expect(second.offset == 22 && second.size == big.count)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
    let reader = SpoolReader()
    var read: [UInt8] = []
    try SpooledMessage(second, eightBit: false, smtpUTF8: false, reader: reader).writeChunks { read += $0 }
    #expect(read == big)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: directory + "/spool").filter { $0.hasSuffix(".tmp") }
        .isEmpty)
  }

  @Test func anAbandonedSegmentLeavesNothing() throws {
    let directory = try TestEnvironment.makeScratchDirectory("spool").path
    let spool = Spool(directory: directory + "/spool")
    do {
      let writer = try spool.makeWriter()
      _ = try writer.append(bytes: Array("x".utf8))
    }
    let left = try FileManager.default.contentsOfDirectory(atPath: directory + "/spool").filter { $0 != "attempts" }
    #expect(left.isEmpty, "\(left)")
  }

  @Test func anEightBitSpooledMessageOffersItsSevenBitForm() throws {
    let directory = try TestEnvironment.makeScratchDirectory("spool").path
    let spool = Spool(directory: directory + "/spool")
    let writer = try spool.makeWriter()
    let bytes = Array("From: a@acme.test\r\nSubject: hi\r\n\r\nGrüße aus Köln\r\n".utf8)
    let location = try writer.append(bytes: bytes)
    try writer.commit()
    let message = SpooledMessage(location, eightBit: true, smtpUTF8: false, reader: SpoolReader())
    let sevenBit = try #require(message.sevenBitAlternative)
    var encoded: [UInt8] = []
    try sevenBit.writeChunks { encoded += $0 }
    let text = String(decoding: encoded, as: UTF8.self)
    #expect(encoded.allSatisfy { $0 < 0x80 })
    #expect(text.contains("Content-Transfer-Encoding: quoted-printable"))
    #expect(text.contains("Gr=C3=BC=C3=9Fe aus K=C3=B6ln"))
  }
}

import Testing

@testable import MSCSend

@Suite struct MeasuredContentTests {
  @Test func incrementalDigestEqualsOneShot() {
    let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    let digest = Crypto.IncrementalDigest(.sha256)
    var start = 0
    for size in [1, 7, 64, 1_000, 65_536] where start < bytes.count {
      digest.update(Array(bytes[start..<min(start + size, bytes.count)]))
      start += size
    }
    digest.update(Array(bytes[start...]))
    #expect(digest.finish() == Crypto.digest(.sha256, bytes))
    #expect(
      Crypto.hex(Crypto.IncrementalDigest(.sha256).finish())
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  @Test func measuresTheLastCompletePass() throws {
    let message = InMemoryMessage(Array((0..<150_000).map { UInt8(truncatingIfNeeded: $0) }))
    let measured = MeasuredContent(message)
    #expect(measured.measurement.size == nil)
    var received: [UInt8] = []
    try measured.writeChunks { received += $0 }
    #expect(measured.measurement.size == 150_000)
    #expect(measured.measurement.sha256 == Crypto.digest(.sha256, received))
    #expect(measured.byteCount == 150_000)
  }

  @Test func anAbortedPassIsNotRecorded() {
    let measured = MeasuredContent(InMemoryMessage(Array(repeating: 0x41, count: 200_000)))
    struct Stop: Error {}
    #expect(throws: Stop.self) { try measured.writeChunks { _ in throw Stop() } }
    #expect(measured.measurement.sha256 == nil)
  }
}

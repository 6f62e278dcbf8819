import Testing

@testable import MSCSend

/// Dot-unstuffing and the end of data (RFC 5321 section 4.5.2), whatever the read boundaries.
@Suite struct DataReceiverTests {
  /// Feeds `stream` in pieces of `chunkSize` until the end-of-data line; returns the receiver and
  /// how many octets it consumed.
  private func receive(_ stream: [UInt8], chunkSize: Int, maxSize: Int = 1 << 20) -> (DataReceiver, Int?) {
    var receiver = DataReceiver(maxSize: maxSize)
    var offset = 0
    while offset < stream.count {
      let end = min(offset + chunkSize, stream.count)
      let (consumed, finished) = receiver.consume(stream[offset..<end])
      if finished { return (receiver, offset + consumed) }
      #expect(consumed == end - offset)
      offset = end
    }
    return (receiver, nil)
  }

  /// The same result for every way of splitting the stream into reads.
  private func expectUnstuffed(
    _ wire: String, content: String, consumed: Int?, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let stream = Array(wire.utf8)
    for chunkSize in [1, 2, 3, 5, 7, stream.count] {
      let (receiver, used) = receive(stream, chunkSize: max(1, chunkSize))
      #expect(
        String(decoding: receiver.content, as: UTF8.self) == content, "chunk \(chunkSize)",
        sourceLocation: sourceLocation)
      #expect(receiver.size == receiver.content.count, sourceLocation: sourceLocation)
      #expect(used == consumed, "chunk \(chunkSize)", sourceLocation: sourceLocation)
    }
  }

  @Test func removesTheStuffedDotAndStopsAtTheEnd() {
    expectUnstuffed("a\r\n..b\r\n.c\r\n...\r\n.\r\nQUIT\r\n", content: "a\r\n.b\r\nc\r\n..\r\n", consumed: 20)
  }

  @Test func anEmptyMessageEndsAtOnce() {
    expectUnstuffed(".\r\nNOOP\r\n", content: "", consumed: 3)
  }

  @Test func keepsLineEndsAsSentAndNeverEndsAfterABareLineFeed() {
    // A bare LF before the dot (and a dot before a bare LF) is not the end of data: taking it
    // for one is what SMTP smuggling exploits.
    expectUnstuffed("a\n.\r\nb\r\n.\n.\r\n", content: "a\n\r\nb\r\n\n\r\n", consumed: nil)
    expectUnstuffed("a\n.\r\nb\r\n.\n\r\n.\r\n", content: "a\n\r\nb\r\n\n\r\n", consumed: 15)
  }

  @Test func aDotThenCROnlyIsContent() {
    expectUnstuffed("x\r\n.\rx\r\n.\r\n", content: "x\r\n\rx\r\n", consumed: 11)
  }

  @Test func incompleteDataIsConsumedWhole() {
    expectUnstuffed("a\r\n.", content: "a\r\n", consumed: nil)
    expectUnstuffed("a\r\n.\r", content: "a\r\n", consumed: nil)
  }

  @Test func flagsLinesOverOneThousandOctets() {
    let fits = String(repeating: "a", count: 998) + "\r\n"
    let long = String(repeating: "b", count: 999) + "\r\n"
    let (ok, _) = receive(Array((fits + "." + fits + ".\r\n").utf8), chunkSize: 100)
    #expect(!ok.hasOverlongLine)
    for chunkSize in [1, 100, 5000] {
      let (flagged, used) = receive(Array((long + ".\r\n").utf8), chunkSize: chunkSize)
      #expect(flagged.hasOverlongLine)
      #expect(used == long.utf8.count + 3)
    }
  }

  @Test func dropsContentBeyondTheLimitButCountsIt() {
    let (receiver, used) = receive(Array("0123456789\r\n0123456789\r\n.\r\n".utf8), chunkSize: 4, maxSize: 20)
    #expect(receiver.exceedsMaxSize)
    #expect(receiver.content.isEmpty)
    #expect(receiver.size == 24)
    #expect(used == 27)
  }
}

import Testing
@testable import MSCSend

@Suite struct ReplyReaderTests {
  private func read(_ script: [String], chunkSize: Int = 16_384) throws(ReplyReadError) -> SMTPReply {
    let transport = ScriptedTransport(script, chunkSize: chunkSize)
    var reader = ReplyReader()
    return try reader.readReply(from: transport, deadline: .after(seconds: 5))
  }

  @Test(arguments: [1, 2, 3, 7, 16_384])
  func multiLineReplySplitAcrossAnyNumberOfReads(chunkSize: Int) throws {
    let reply = try read(["S: 250-mx.example.com Hello", "S: 250-PIPELINING", "S: 250 SIZE 1000"], chunkSize: chunkSize)
    #expect(reply.code == 250)
    #expect(reply.lines == ["mx.example.com Hello", "PIPELINING", "SIZE 1000"])
  }

  @Test func enhancedStatusParsedFromEveryLine() throws {
    let reply = try read(["S: 550-5.1.1 The email account that you tried to reach does not exist.", "S: 550 5.1.1 https://support"])
    #expect(reply.enhancedStatus == EnhancedStatus(5, 1, 1))
    #expect(reply.lineStatuses == [EnhancedStatus(5, 1, 1), EnhancedStatus(5, 1, 1)])
    // An enhanced code of another class than the reply is not one (RFC 3463 section 2).
    let mismatched = try read(["S: 250 5.1.1 odd"])
    #expect(mismatched.enhancedStatus == nil)
    let long = try read(["S: 450 4.5.127 Too many concurrent connections"])
    #expect(long.enhancedStatus == EnhancedStatus(4, 5, 127))
  }

  @Test func bareCodeWithoutTextIsAReply() throws {
    let reply = try read(["S: 250"])
    #expect(reply.code == 250 && reply.lines == [""])
  }

  @Test func wrongCodeOnContinuationIsRefused() {
    #expect(throws: ReplyReadError.inconsistentCodes(first: 250, then: 251)) {
      try read(["S: 250-a", "S: 251 b"])
    }
  }

  @Test(arguments: ["garbage here", "25", "2500 x", "650 no such class", "abc def", "250_x"])
  func malformedLinesAreRefused(line: String) {
    #expect(throws: ReplyReadError.self) { try read(["S: \(line)"]) }
  }

  @Test func sixtyFourKibibyteLineIsRefusedWithoutBufferingIt() {
    let long = "250 " + String(repeating: "x", count: 65_536)
    #expect(throws: ReplyReadError.lineTooLong(ReplyReader.defaultMaxLineLength)) {
      try read(["S+ \(long)"], chunkSize: 1024)
    }
  }

  @Test func replyLineCountIsCapped() {
    let lines = (0..<200).map { "S: 250-line \($0)" } + ["S: 250 end"]
    #expect(throws: ReplyReadError.tooManyLines(ReplyReader.defaultMaxLines)) { try read(lines) }
  }

  @Test func endOfStreamInsideReplyIsClosed() {
    #expect(throws: ReplyReadError.transport(.closed)) { try read(["S+ 250-partial\r\n250 no end"]) }
  }

  @Test func controlCharactersInServerTextAreNeutralised() throws {
    let reply = try read(["S+ 550 bad\u{1b}[31mred\r\n"])
    #expect(reply.text == "bad?[31mred")
  }

  @Test func wholeReplyIsBoundedByOneDeadline() {
    // A server dribbling a byte every 0.2 s must not hold the client past the deadline.
    final class Dribbler: Transport {
      func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError) {}
      func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8] {
        let pause = Deadline.after(seconds: 0.2)
        if deadline < pause { while !deadline.hasPassed {}; throw .timeout }
        while !pause.hasPassed {}
        return [UInt8(ascii: "2")]
      }
      func startTLS(deadline: Deadline) throws(TransportError) -> TLSSessionInfo { throw .closed }
      var isEncrypted: Bool { false }
      var peerIsLoopback: Bool { true }
      var peerDescription: String { "dribbler" }
      func close() {}
    }
    var reader = ReplyReader()
    let started = Deadline.now()
    #expect(throws: ReplyReadError.transport(.timeout)) {
      try reader.readReply(from: Dribbler(), deadline: .after(seconds: 1))
    }
    let elapsed = Double(Deadline.now().nanoseconds - started.nanoseconds) / 1e9
    #expect(elapsed < 1.5)
  }
}

import Testing

@testable import MSCSend

/// DNS messages on literal wire bytes (RFC 1035 section 4): queries we build, responses we parse,
/// and hostile responses that must be refused without a crash or a hang.
@Suite struct DNSMessageTests {
  /// "\x04acme\x04test\x00".
  static let acmeTest: [UInt8] = [4, 0x61, 0x63, 0x6d, 0x65, 4, 0x74, 0x65, 0x73, 0x74, 0]

  @Test func queryIsOneQuestionWithRecursionDesired() throws {
    let query = try DNSQuery.encode(id: 0x1234, name: "acme.test.", type: .txt)
    #expect(query == [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0] + Self.acmeTest + [0, 16, 0, 1])
  }

  @Test(arguments: ["", ".", "a..test", String(repeating: "a", count: 64) + ".test", "sp ace.test", "tab\t.test"])
  func invalidNamesAreRefusedBeforeSending(_ name: String) {
    #expect(throws: DNSError.self) { try DNSQuery.encode(id: 1, name: name, type: .a) }
  }

  @Test func nameLongerThan255OctetsIsRefused() {
    let long = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")
    #expect(throws: DNSError.self) { try DNSQuery.encode(id: 1, name: long, type: .a) }
  }

  /// dnsmasq's answer to `acme.test MX` (captured), with an additional A record for the exchange.
  @Test func parsesMXWithCompressedOwner() throws {
    let wire: [UInt8] =
      [0x12, 0x34, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 1] + Self.acmeTest + [0, 15, 0, 1]
      + [0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 0, 0, 0, 0x12, 0, 10, 4, 0x6d, 0x61, 0x69, 0x6c] + Self.acmeTest
      + [0xc0, 0x29, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1]
    let response = try DNSResponseParser.parse(wire)
    #expect(response.id == 0x1234)
    #expect(!response.truncated)
    #expect(response.responseCode == 0)
    #expect(response.questionName == "acme.test")
    #expect(response.questionType == .mx)
    #expect(
      response.answers == [
        DNSRecord(name: "acme.test", type: .mx, data: .mailExchange(preference: 10, exchange: "mail.acme.test"))
      ])
  }

  @Test func txtCharacterStringsAreJoinedWithoutSeparator() throws {
    let wire = Self.response(
      answers: [Self.record(type: 16, data: [7] + Array("v=spf1 ".utf8) + [4] + Array("-all".utf8))])
    let record = try #require(try DNSResponseParser.parse(wire).answers.first)
    #expect(record.data == .text([Array("v=spf1 ".utf8), Array("-all".utf8)]))
    #expect(record.joinedText == "v=spf1 -all")
  }

  @Test func namesAreLowerCasedAndOddBytesEscaped() throws {
    // "A.B\x01" as one label with a dot and a control byte inside, then "test".
    let owner: [UInt8] = [4, 0x41, 0x2e, 0x42, 0x01, 4, 0x54, 0x45, 0x53, 0x54, 0]
    let wire = Self.response(answers: [owner + [0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1]])
    let record = try #require(try DNSResponseParser.parse(wire).answers.first)
    #expect(record.name == "a\\046b\\001.test")
    #expect(record.data == .address([192, 0, 2, 1]))
  }

  @Test func truncatedResponseKeepsOnlyTheHeader() throws {
    // TC set, answer count 1, but the message stops after the question (dnsmasq's long TXT).
    let wire: [UInt8] = [0, 7, 0x87, 0x80, 0, 1, 0, 1, 0, 0, 0, 0] + Self.acmeTest + [0, 16, 0, 1]
    let response = try DNSResponseParser.parse(wire)
    #expect(response.truncated)
    #expect(response.answers.isEmpty)
    #expect(DNSResponseParser.isTruncated(wire))
  }

  @Test func nxdomainIsAnAnswerCode() throws {
    let wire: [UInt8] = [0, 7, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0] + Self.acmeTest + [0, 16, 0, 1]
    #expect(try DNSResponseParser.parse(wire).responseCode == DNSResponseCode.nameError.rawValue)
  }

  // MARK: Hostile packets

  static let hostile: [(String, [UInt8])] = [
    ("empty", []),
    ("header only, cut short", [0, 1, 0x81]),
    ("a query, not a response", [0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0] + acmeTest + [0, 1, 0, 1]),
    (
      "two questions", [0, 1, 0x81, 0x80, 0, 2, 0, 0, 0, 0, 0, 0] + acmeTest + [0, 1, 0, 1] + acmeTest + [0, 1, 0, 1]
    ),
    ("pointer to itself", [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]),
    ("pointer forwards", [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x10, 0, 1, 0, 1, 0]),
    ("label past the end", [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 9, 0x61, 0x62]),
    ("reserved label type", [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0]),
    ("answer count beyond the bytes", response(answers: []).enumerated().map { $0.offset == 7 ? 200 : $0.element }),
    ("A record of 5 octets", response(answers: [record(type: 1, data: [1, 2, 3, 4, 5])])),
    ("AAAA record of 4 octets", response(answers: [record(type: 28, data: [1, 2, 3, 4])])),
    ("RDLENGTH past the end", response(answers: [[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]])),
    ("TXT string past its record", response(answers: [record(type: 16, data: [9, 0x61, 0x62])])),
    ("MX name past its record", response(answers: [record(type: 15, data: [0, 10, 4, 0x6d, 0x61])])),
    ("CNAME longer than its RDLENGTH", response(answers: [record(type: 5, data: [1, 0x61]) + [0]])),
  ]

  @Test(arguments: hostile.map(\.0))
  func hostileResponsesAreRefused(_ name: String) throws {
    let wire = try #require(Self.hostile.first { $0.0 == name }?.1)
    #expect(throws: DNSError.self) { try DNSResponseParser.parse(wire) }
  }

  /// Backward pointers, each to the previous one: a short chain decodes, one longer than any
  /// honest name needs is cut off.
  @Test(arguments: [(10, true), (100, false)])
  func pointerChainsAreBounded(length: Int, decodes: Bool) throws {
    var wire: [UInt8] = [1, 0x61, 0]
    var previous = 0
    for _ in 0..<length {
      let here = wire.count
      wire += [0xc0 | UInt8(previous >> 8), UInt8(previous & 0xff)]
      previous = here
    }
    var reader = DNSWireReader(wire)
    _ = try reader.take(previous)
    if decodes {
      #expect(try reader.name() == "a")
    } else {
      #expect(throws: DNSError.self) { try reader.name() }
    }
  }

  /// Mutations of a valid response (every single byte set to every value at a few positions, and
  /// random bytes) either parse or throw: never a trap, never a hang.
  @Test func mutatedAndRandomPacketsNeverCrash() {
    let base = Self.response(
      answers: [Self.record(type: 16, data: [3, 0x61, 0x62, 0x63]), Self.record(type: 5, data: [0xc0, 0x0c])])
    var generator = SystemRandomNumberGenerator()
    var parsed = 0
    for index in base.indices {
      for value in [0, 1, 0x3f, 0x40, 0x7f, 0xc0, 0xff] as [UInt8] {
        var mutated = base
        mutated[index] = value
        if (try? DNSResponseParser.parse(mutated)) != nil { parsed += 1 }
      }
    }
    for _ in 0..<2_000 {
      let count = Int.random(in: 0...80, using: &generator)
      let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
      _ = try? DNSResponseParser.parse(bytes)
    }
    #expect(parsed > 0, "some mutations are still valid responses")
  }

  @Test func onlyAnAnswerToThisQueryIsTaken() throws {
    let query = try DNSQuery.encode(id: 0xbeef, name: "Acme.Test", type: .txt)
    var answer = query
    answer[2] = 0x81
    answer[3] = 0x80
    #expect(DNSExchange.answers(answer, query: query))
    var lowered = answer
    lowered[13] = UInt8(ascii: "a")  // case differs: still the same question (RFC 4343)
    #expect(DNSExchange.answers(lowered, query: query))
    var otherID = answer
    otherID[1] = 0xee
    #expect(!DNSExchange.answers(otherID, query: query))
    var otherType = answer
    otherType[otherType.count - 3] = 1
    #expect(!DNSExchange.answers(otherType, query: query))
    #expect(!DNSExchange.answers(Array(answer.prefix(12)), query: query))
  }

  @Test func cnameChainsAreFollowedInsideTheAnswer() {
    let answers = [
      DNSRecord(name: "alias.test", type: .cname, data: .canonicalName("middle.test")),
      DNSRecord(name: "middle.test", type: .cname, data: .canonicalName("host.test")),
      DNSRecord(name: "host.test", type: .a, data: .address([192, 0, 2, 7])),
    ]
    let (records, end) = DNSClient.chase(answers, from: "ALIAS.test", type: .a)
    #expect(records.map(\.data) == [.address([192, 0, 2, 7])])
    #expect(end == "host.test")
    let (none, stop) = DNSClient.chase(Array(answers.prefix(2)), from: "alias.test", type: .a)
    #expect(none.isEmpty)
    #expect(stop == "host.test", "the chain stops at a name to ask for")
  }

  // MARK: Builders

  /// A NOERROR response to `acme.test A` with the given answer records.
  static func response(answers: [[UInt8]]) -> [UInt8] {
    [0, 1, 0x81, 0x80, 0, 1, 0, UInt8(answers.count), 0, 0, 0, 0] + acmeTest + [0, 1, 0, 1] + answers.flatMap { $0 }
  }

  /// A record owned by the question's name (pointer to offset 12).
  static func record(type: UInt8, data: [UInt8]) -> [UInt8] {
    [0xc0, 0x0c, 0, type, 0, 1, 0, 0, 0x0e, 0x10, UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
  }
}

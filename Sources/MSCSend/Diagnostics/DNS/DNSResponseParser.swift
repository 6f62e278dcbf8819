/// Parses DNS responses (RFC 1035 section 4) with a bounds check on every read: a response is
/// untrusted input, and no packet, however hostile, may crash or hang the parser.
///
/// - Every read checks the remaining length; a short message is an error, not a trap.
/// - A compression pointer (section 4.1.4) must point strictly before the place it was read
///   from, which makes loops impossible; the number of jumps is capped as well.
/// - A name is at most 255 octets on the wire (section 3.1); labels are at most 63.
/// - Each record's RDATA is read within its RDLENGTH, and names inside it must end there too.
/// - Counts are believed only as far as the bytes go: a record needs at least 11 octets.
public enum DNSResponseParser {
  public static func parse(_ bytes: [UInt8]) throws(DNSError) -> DNSResponse {
    var reader = DNSWireReader(bytes)
    let id = try reader.u16()
    let flags = try reader.u16()
    let questionCount = try reader.u16()
    let answerCount = try reader.u16()
    _ = try reader.u16()  // authority
    _ = try reader.u16()  // additional
    guard flags & 0x8000 != 0 else { throw .malformedResponse("not a response (QR is 0)") }
    guard questionCount == 1 else { throw .malformedResponse("\(questionCount) questions, expected 1") }
    let truncated = flags & 0x0200 != 0
    let questionName = try reader.name()
    let questionType = DNSRecordType(rawValue: try reader.u16())
    _ = try reader.u16()  // class
    var answers: [DNSRecord] = []
    // A truncated response may end anywhere; the caller asks again over TCP and needs no records.
    if !truncated {
      for _ in 0..<answerCount {
        answers.append(try record(&reader))
      }
    }
    return DNSResponse(
      id: id, truncated: truncated, responseCode: UInt8(flags & 0x000f), questionName: questionName,
      questionType: questionType, answers: answers)
  }

  private static func record(_ reader: inout DNSWireReader) throws(DNSError) -> DNSRecord {
    let name = try reader.name()
    let type = DNSRecordType(rawValue: try reader.u16())
    _ = try reader.u16()  // class
    let ttl = try reader.u32()
    let length = Int(try reader.u16())
    let start = reader.offset
    guard length <= reader.remaining else { throw .malformedResponse("record data runs past the end of the message") }
    let end = start + length
    let data: DNSRecordData
    switch type {
    case .a, .aaaa:
      let expected = type == .a ? 4 : 16
      guard length == expected else { throw .malformedResponse("\(type) record of \(length) octets") }
      data = .address(try reader.take(length))
    case .mx:
      let preference = try reader.u16()
      let exchange = try reader.name()
      data = .mailExchange(preference: preference, exchange: exchange)
    case .cname:
      data = .canonicalName(try reader.name())
    case .txt:
      var strings: [[UInt8]] = []
      while reader.offset < end {
        let count = Int(try reader.u8())
        guard reader.offset + count <= end else { throw .malformedResponse("TXT string runs past its record") }
        strings.append(try reader.take(count))
      }
      data = .text(strings)
    default:
      data = .other(try reader.take(length))
    }
    guard reader.offset == end else { throw .malformedResponse("\(type) record data does not match its length") }
    return DNSRecord(name: name, type: type, ttl: ttl, data: data)
  }
}

/// A cursor over a message's bytes. Reads throw instead of trapping.
struct DNSWireReader {
  let bytes: [UInt8]
  private(set) var offset = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  var remaining: Int { bytes.count - offset }

  mutating func u8() throws(DNSError) -> UInt8 {
    guard offset < bytes.count else { throw .malformedResponse("message ends early at octet \(offset)") }
    defer { offset += 1 }
    return bytes[offset]
  }

  mutating func u16() throws(DNSError) -> UInt16 {
    let high = try u8()
    let low = try u8()
    return UInt16(high) << 8 | UInt16(low)
  }

  mutating func u32() throws(DNSError) -> UInt32 {
    let high = try u16()
    let low = try u16()
    return UInt32(high) << 16 | UInt32(low)
  }

  mutating func take(_ count: Int) throws(DNSError) -> [UInt8] {
    guard count >= 0, count <= remaining else { throw .malformedResponse("message ends early at octet \(offset)") }
    defer { offset += count }
    return Array(bytes[offset..<offset + count])
  }

  /// The most jumps a name may take: more than any honest message needs (a name has at most
  /// 127 labels), and with backward-only pointers a loop is impossible anyway.
  static let maximumJumps = 64

  /// A domain name at the cursor, decompressed, lower-cased, without the trailing dot ("" for
  /// the root). The cursor ends after the name's first pointer or its terminating zero.
  mutating func name() throws(DNSError) -> String {
    var labels: [String] = []
    var position = offset
    var wireLength = 1
    var jumps = 0
    var resumeAt: Int?
    while true {
      guard position < bytes.count else { throw .malformedResponse("name runs past the end of the message") }
      let length = bytes[position]
      switch length & 0xc0 {
      case 0x00:
        if length == 0 {
          offset = resumeAt ?? position + 1
          return labels.joined(separator: ".")
        }
        let count = Int(length)
        guard position + 1 + count <= bytes.count else { throw .malformedResponse("label runs past the end") }
        wireLength += count + 1
        guard wireLength <= 255 else { throw .malformedResponse("name longer than 255 octets") }
        let label = DNSName.printable(Array(bytes[position + 1...position + count]).map(Self.asciiLowercased))
        labels.append(label.replacingOccurrences(of: ".", with: "\\046"))
        position += 1 + count
      case 0xc0:
        guard position + 1 < bytes.count else { throw .malformedResponse("compression pointer cut short") }
        let target = Int(length & 0x3f) << 8 | Int(bytes[position + 1])
        // Strictly backwards: a pointer to itself or forwards could loop (section 4.1.4 only
        // ever needs "a prior occurrence").
        guard target < position else { throw .malformedResponse("compression pointer does not point backwards") }
        jumps += 1
        guard jumps <= Self.maximumJumps else { throw .malformedResponse("too many compression pointers") }
        if resumeAt == nil { resumeAt = position + 2 }
        position = target
      default:
        throw .malformedResponse("unknown label type 0x\(String(length & 0xc0, radix: 16))")
      }
    }
  }

  private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte
  }
}

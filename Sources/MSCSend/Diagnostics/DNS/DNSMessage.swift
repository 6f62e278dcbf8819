/// The Diagnostics folder owns `msc-send check`: the per-channel checklist (`ChannelCheck`), the
/// sender domain's SPF, DMARC and DKIM records, and the small DNS client they need (this folder,
/// `DNS/`: RFC 1035 messages, UDP with TCP fallback, resolvers from resolv.conf). Connecting to a
/// channel still goes through getaddrinfo (`Transport/`), like every send.

/// A resource record type (RFC 1035 section 3.2.2, RFC 3596 for AAAA). A struct rather than an
/// enum so that a type we do not know still parses (and is skipped).
public struct DNSRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  public static let a = DNSRecordType(rawValue: 1)
  public static let cname = DNSRecordType(rawValue: 5)
  public static let mx = DNSRecordType(rawValue: 15)
  public static let txt = DNSRecordType(rawValue: 16)
  public static let aaaa = DNSRecordType(rawValue: 28)

  public var description: String {
    switch self {
    case .a: "A"
    case .cname: "CNAME"
    case .mx: "MX"
    case .txt: "TXT"
    case .aaaa: "AAAA"
    default: "TYPE\(rawValue)"
    }
  }
}

/// The data of one answer record, for the types the diagnostics use.
public enum DNSRecordData: Sendable, Equatable {
  /// A (4 bytes) or AAAA (16 bytes), network order.
  case address([UInt8])
  /// MX (RFC 1035 section 3.3.9).
  case mailExchange(preference: UInt16, exchange: String)
  /// TXT: its character-strings, each up to 255 octets (RFC 1035 section 3.3.14).
  case text([[UInt8]])
  case canonicalName(String)
  /// Any other type: the raw RDATA.
  case other([UInt8])
}

public struct DNSRecord: Sendable, Equatable {
  /// Lower-case, without the trailing dot.
  public var name: String
  public var type: DNSRecordType
  public var ttl: UInt32
  public var data: DNSRecordData

  public init(name: String, type: DNSRecordType, ttl: UInt32 = 0, data: DNSRecordData) {
    self.name = name
    self.type = type
    self.ttl = ttl
    self.data = data
  }

  /// A TXT record's character-strings joined without separators, as SPF (RFC 7208 section 3.3),
  /// DMARC and DKIM read them. Bytes outside ASCII are kept as UTF-8 replacement characters.
  public var joinedText: String? {
    guard case .text(let strings) = data else { return nil }
    return String(decoding: strings.joined(), as: UTF8.self)
  }
}

/// RCODE values (RFC 1035 section 4.1.1) that change what a lookup means.
public enum DNSResponseCode: UInt8, Sendable {
  case noError = 0
  case formatError = 1
  case serverFailure = 2
  case nameError = 3
  case notImplemented = 4
  case refused = 5
}

/// A parsed response: the header facts a client acts on and the answer section. The authority
/// and additional sections are not needed and are not read.
public struct DNSResponse: Sendable, Equatable {
  public var id: UInt16
  /// TC: the answer did not fit the UDP datagram; ask again over TCP (RFC 7766).
  public var truncated: Bool
  /// The raw RCODE (4 bits).
  public var responseCode: UInt8
  public var questionName: String
  public var questionType: DNSRecordType
  public var answers: [DNSRecord]
}

/// What a lookup found. NXDOMAIN and "no data" are answers, not errors: SPF treats both as void
/// lookups (RFC 7208 section 4.6.4) and DMARC falls back on either.
public enum DNSAnswer: Sendable, Equatable {
  /// Records of the type asked for, after following CNAMEs.
  case records([DNSRecord])
  /// The name exists but has no record of that type (NOERROR, empty answer).
  case noData
  /// NXDOMAIN: the name does not exist.
  case nonexistentDomain

  public var records: [DNSRecord] {
    if case .records(let records) = self { records } else { [] }
  }
}

/// Why a lookup gave no answer at all. SPF maps each of these to temperror.
public enum DNSError: Error, Sendable, Equatable, CustomStringConvertible {
  /// No resolver answered in time.
  case timeout(String)
  /// SERVFAIL, REFUSED or another RCODE from every resolver tried.
  case serverFailure(String)
  /// A response that breaks RFC 1035 (bounds, pointers, counts).
  case malformedResponse(String)
  /// The name cannot be asked for (empty label, label over 63 octets, name over 255).
  case invalidName(String)
  /// The socket failed (no route, refused).
  case network(String)
  /// No resolver is configured.
  case noResolver

  public var description: String {
    switch self {
    case .timeout(let text): "DNS timeout: \(text)"
    case .serverFailure(let text): "DNS server failure: \(text)"
    case .malformedResponse(let text): "malformed DNS response: \(text)"
    case .invalidName(let text): "invalid DNS name: \(text)"
    case .network(let text): "DNS network error: \(text)"
    case .noResolver: "no DNS resolver configured (no nameserver in /etc/resolv.conf; use --resolver IP)"
    }
  }
}

/// Building queries (RFC 1035 section 4.1): one question, RD set, class IN, no EDNS (a response
/// over 512 octets comes back truncated and is asked again over TCP).
public enum DNSQuery {
  /// The wire form of a query for `name` and `type` with `id` (random per query: RFC 5452).
  public static func encode(id: UInt16, name: String, type: DNSRecordType) throws(DNSError) -> [UInt8] {
    var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
    bytes += try encodeName(name)
    bytes += [UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xff), 0, 1]
    return bytes
  }

  /// Labels with their lengths, then the root. A trailing dot is allowed; empty labels are not.
  /// Only printable ASCII other than space: every name we ask for came from a configuration or
  /// a DNS record, and a control character there is a mistake to report, not to send.
  static func encodeName(_ name: String) throws(DNSError) -> [UInt8] {
    var text = Array(name.utf8)
    if text.last == UInt8(ascii: ".") { text.removeLast() }
    guard !text.isEmpty else { throw .invalidName("empty name") }
    var out: [UInt8] = []
    for label in text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
      guard !label.isEmpty else { throw .invalidName("\(name): empty label") }
      guard label.count <= 63 else { throw .invalidName("\(name): a label is longer than 63 octets") }
      guard label.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
        throw .invalidName("\(DNSName.printable(Array(name.utf8))): only printable ASCII is asked for")
      }
      out.append(UInt8(label.count))
      out += label
    }
    out.append(0)
    guard out.count <= 255 else { throw .invalidName("\(name): longer than 255 octets") }
    return out
  }
}

/// Name helpers shared by the parser and the callers.
enum DNSName {
  /// Case-insensitive comparison without trailing dots (RFC 4343).
  static func same(_ lhs: String, _ rhs: String) -> Bool { normalized(lhs) == normalized(rhs) }

  static func normalized(_ name: String) -> String {
    var lower = name.lowercased()
    if lower.hasSuffix(".") { lower.removeLast() }
    return lower
  }

  /// Printable ASCII; other bytes as `\DDD` (RFC 1035 section 5.1), so a hostile label cannot
  /// inject terminal escapes or line breaks into our output.
  static func printable(_ bytes: [UInt8]) -> String {
    var out = ""
    for byte in bytes {
      if byte > 0x20 && byte < 0x7f && byte != UInt8(ascii: "\\") {
        out.unicodeScalars.append(Unicode.Scalar(byte))
      } else {
        let digits = String(byte)
        out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
      }
    }
    return out
  }
}

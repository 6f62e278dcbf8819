import Glibc

/// An IPv4 or IPv6 address as bytes, for SPF's `ip4`, `ip6`, `a` and `mx` matches with CIDR
/// prefixes (RFC 7208 section 5.6) and for the `%{i}` macro.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
  /// 4 bytes (IPv4) or 16 (IPv6), network order.
  public let bytes: [UInt8]

  public init?(bytes: [UInt8]) {
    guard bytes.count == 4 || bytes.count == 16 else { return nil }
    self.bytes = bytes
  }

  /// Parses dotted IPv4 or IPv6 text (no brackets, no zone).
  public init?(_ text: String) {
    guard !text.isEmpty, !text.utf8.contains(0) else { return nil }
    var buffer = [UInt8](repeating: 0, count: 16)
    if !text.contains(":"), inet_pton(AF_INET, text, &buffer) == 1 {
      bytes = Array(buffer.prefix(4))
    } else if text.contains(":"), inet_pton(AF_INET6, text, &buffer) == 1 {
      bytes = buffer
    } else {
      return nil
    }
  }

  public var isIPv4: Bool { bytes.count == 4 }

  /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as the IPv4 address it stands for: SPF
  /// evaluates such a client as IPv4 (RFC 7208 section 5).
  public var unmapped: IPAddress {
    guard bytes.count == 16, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff,
      let v4 = IPAddress(bytes: Array(bytes.suffix(4)))
    else { return self }
    return v4
  }

  /// Whether the first `prefix` bits equal those of `network` (same family only).
  public func isIn(_ network: IPAddress, prefix: Int) -> Bool {
    guard bytes.count == network.bytes.count, prefix >= 0, prefix <= bytes.count * 8 else { return false }
    var remaining = prefix
    for index in bytes.indices where remaining > 0 {
      let bits = min(8, remaining)
      let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
      if bytes[index] & mask != network.bytes[index] & mask { return false }
      remaining -= bits
    }
    return true
  }

  /// `%{i}` (RFC 7208 section 7.3): dotted quad, or 32 dot-separated nibbles for IPv6.
  public var macroForm: String {
    if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
    return bytes.flatMap { [String($0 >> 4, radix: 16), String($0 & 0x0f, radix: 16)] }.joined(separator: ".")
  }

  public var description: String {
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    let family = isIPv4 ? AF_INET : AF_INET6
    guard inet_ntop(family, bytes, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

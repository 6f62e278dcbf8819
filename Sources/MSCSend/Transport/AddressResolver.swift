import Dispatch
import Foundation
import Glibc

/// One resolved or connected socket address, kept as raw `sockaddr` bytes so that the peer checks
/// (loopback, description) work on what the kernel reports, never on a host name.
public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
  /// `AF_INET` or `AF_INET6`.
  public let family: Int32
  /// The raw `sockaddr_in` / `sockaddr_in6` bytes.
  let bytes: [UInt8]

  /// Copies a kernel-provided address; nil for families other than IPv4 and IPv6 or a short length.
  init?(pointer: UnsafePointer<sockaddr>, length: socklen_t) {
    guard Int(length) >= MemoryLayout<sa_family_t>.size else { return nil }
    let family = Int32(pointer.pointee.sa_family)
    let needed: Int
    switch family {
    case AF_INET: needed = MemoryLayout<sockaddr_in>.size
    case AF_INET6: needed = MemoryLayout<sockaddr_in6>.size
    default: return nil
    }
    guard Int(length) >= needed else { return nil }
    self.family = family
    self.bytes = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer), count: needed))
  }

  /// Parses a numeric IPv4 or IPv6 address (no brackets); nil for anything else.
  public init?(numericHost: String, port: UInt16) {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(numericHost, String(port), &hints, &list) == 0, let first = list else { return nil }
    defer { freeaddrinfo(first) }
    guard let address = first.pointee.ai_addr,
      let parsed = SocketAddress(pointer: address, length: first.pointee.ai_addrlen)
    else { return nil }
    self = parsed
  }

  /// The address bytes (4 for IPv4, 16 for IPv6), network order.
  var addressBytes: [UInt8] {
    family == AF_INET
      ? Array(bytes[4..<8])  // sockaddr_in: family(2) port(2) addr(4)
      : Array(bytes[8..<24])  // sockaddr_in6: family(2) port(2) flowinfo(4) addr(16)
  }

  public var port: UInt16 { UInt16(bytes[2]) << 8 | UInt16(bytes[3]) }

  /// Loopback by address: 127.0.0.0/8, ::1, or an IPv4-mapped ::ffff:127.x.y.z. Plaintext AUTH
  /// is tolerated only towards such a peer, so a name like "localhost" must never decide it.
  public var isLoopback: Bool {
    let address = addressBytes
    if family == AF_INET { return address[0] == 127 }
    if address == [UInt8](repeating: 0, count: 15) + [1] { return true }
    let mappedPrefix = [UInt8](repeating: 0, count: 10) + [0xff, 0xff]
    return Array(address[0..<12]) == mappedPrefix && address[12] == 127
  }

  /// Numeric form without brackets or port ("192.0.2.1", "2001:db8::1", "fe80::1%eth0").
  public var numericHost: String {
    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    let result = withSockaddr { address, length in
      getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
    }
    guard result == 0 else { return "?" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// "192.0.2.1:587" or "[2001:db8::1]:587".
  public var description: String {
    family == AF_INET6 ? "[\(numericHost)]:\(port)" : "\(numericHost):\(port)"
  }

  func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    bytes.withUnsafeBytes { raw in
      // Copy into sockaddr_storage so the pointer is suitably aligned for the kernel's structs.
      var storage = sockaddr_storage()
      withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) }
      return withUnsafePointer(to: &storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(raw.count)) }
      }
    }
  }
}

/// Name resolution for SMTP connections: every address of the host, IPv6 and IPv4, in the order
/// getaddrinfo sorts them (RFC 6724), bounded by the caller's deadline.
enum AddressResolver {
  /// Resolves `host` (a name or an address literal without brackets) for a TCP connection to
  /// `port`. getaddrinfo(3) cannot be given a timeout, so a name lookup runs on its own thread and
  /// is abandoned (left to finish in the background) when the deadline passes.
  static func resolve(host: String, port: UInt16, deadline: Deadline) throws(TransportError) -> [SocketAddress] {
    guard !host.isEmpty, !host.utf8.contains(0) else {
      throw .resolve(host: host, reason: "invalid host name")
    }
    if let literal = SocketAddress(numericHost: host, port: port) { return [literal] }

    let lookup = Lookup()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      lookup.store(lookupAll(host: host, port: port))
      done.signal()
    }
    thread.name = "msc-send getaddrinfo"
    thread.start()
    let waitNanoseconds = Int(clamping: UInt64(deadline.remainingMilliseconds) * 1_000_000)
    guard done.wait(timeout: .now() + .nanoseconds(waitNanoseconds)) == .success, let result = lookup.result else {
      throw .timeout
    }
    switch result {
    case .success(let addresses): return addresses
    case .failure(let failure): throw .resolve(host: host, reason: failure.reason)
    }
  }

  /// Hands the answer from the lookup thread to the waiting caller.
  private final class Lookup: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<[SocketAddress], LookupFailure>?
    func store(_ value: Result<[SocketAddress], LookupFailure>) { lock.withLock { stored = value } }
    var result: Result<[SocketAddress], LookupFailure>? { lock.withLock { stored } }
  }

  struct LookupFailure: Error {
    let reason: String
  }

  private static func lookupAll(host: String, port: UInt16) -> Result<[SocketAddress], LookupFailure> {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_protocol = Int32(IPPROTO_TCP)
    hints.ai_flags = AI_NUMERICSERV
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0 else {
      let reason = status == EAI_SYSTEM ? SocketWait.errorText(errno) : String(cString: gai_strerror(status))
      return .failure(LookupFailure(reason: reason))
    }
    defer { if let list { freeaddrinfo(list) } }
    var addresses: [SocketAddress] = []
    var cursor = list
    while let entry = cursor {
      if let address = entry.pointee.ai_addr,
        let parsed = SocketAddress(pointer: address, length: entry.pointee.ai_addrlen),
        !addresses.contains(parsed)
      {
        addresses.append(parsed)
      }
      cursor = entry.pointee.ai_next
    }
    guard !addresses.isEmpty else { return .failure(LookupFailure(reason: "no IPv4 or IPv6 address")) }
    return .success(addresses)
  }
}

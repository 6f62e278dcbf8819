import Foundation

/// A bare TCP client for poking the test servers directly (no SMTP logic, every wait bounded), to
/// prove the harness before msc-send is involved.
final class LoopbackProbe {
  private let fd: Int32

  /// Connects to a numeric loopback address (`127.0.0.1` or `::1`).
  init(host: String, port: Int) throws {
    var hints = addrinfo()
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0, let info = list else {
      throw HarnessError("getaddrinfo \(host): \(String(cString: gai_strerror(status)))")
    }
    defer { freeaddrinfo(list) }
    let socketDescriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
    guard socketDescriptor >= 0 else { throw HarnessError("socket: errno \(errno)") }
    // Loopback connects (or is refused) at once: no need for a non-blocking connect.
    guard connect(socketDescriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
      let code = errno
      close(socketDescriptor)
      throw HarnessError("connect \(host):\(port): errno \(code)")
    }
    fd = socketDescriptor
  }

  deinit { close(fd) }

  func send(_ text: String) throws {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else { throw HarnessError("send: errno \(errno)") }
      bytes = bytes.dropFirst(written)
    }
  }

  /// What arrived before `timeout`, returning early once `enough` says so or the peer closed.
  func receive(
    timeout: Duration, maxBytes: Int = 1 << 20, until enough: ([UInt8]) -> Bool = { _ in false }
  ) -> (bytes: [UInt8], closed: Bool) {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while received.count < maxBytes, !enough(received) {
      let remaining = clock.now.duration(to: deadline)
      guard remaining > .zero else { break }
      var pollDescriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&pollDescriptor, 1, Int32(clamping: max(1, remaining.inMilliseconds)))
      if ready < 0 && errno == EINTR { continue }
      guard ready > 0 else { continue }
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, maxBytes - received.count)) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { return (received, true) }
      received += chunk[..<count]
    }
    return (received, false)
  }

  /// Receives until the bytes end with CRLF and the last line is a final reply line (`NNN ` or `NNN`).
  func receiveReply(timeout: Duration = .seconds(5)) -> String {
    let result = receive(timeout: timeout) { bytes in
      let text = String(decoding: bytes, as: UTF8.self)
      guard text.hasSuffix("\r\n") else { return false }
      let last = text.dropLast(2).split(separator: "\r\n", omittingEmptySubsequences: false).last ?? ""
      return last.count >= 3 && (last.count == 3 || last[last.index(last.startIndex, offsetBy: 3)] == " ")
    }
    return String(decoding: result.bytes, as: UTF8.self)
  }
}

/// A loopback TCP port nothing listens on ("server down"): bound to learn a free number, then closed
/// without ever listening, so connecting to it is refused.
func closedLoopbackPort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = 0
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
      bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
    }
  }
  guard bound else { throw HarnessError("bind 127.0.0.1:0: errno \(errno)") }
  return Int(UInt16(bigEndian: address.sin_port))
}

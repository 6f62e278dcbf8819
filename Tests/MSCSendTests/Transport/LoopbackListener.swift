import Foundation
import Glibc
@testable import MSCSend

/// A listening TCP socket on 127.0.0.1 or ::1 with a kernel-chosen port, driven by the test
/// itself: the kernel completes handshakes into the backlog even when nobody calls accept(2),
/// which gives "a server that accepts but never writes" for free. Tests close it in a `defer`,
/// so that ARC cannot end its life (and reset the pending connection) before the test is done.
final class LoopbackListener {
  let fd: Int32
  let port: UInt16
  let host: String

  struct SetupError: Error, CustomStringConvertible {
    let description: String
  }

  /// Whether ::1 can be bound here (containers sometimes run without IPv6).
  static let ipv6Available: Bool = {
    guard let listener = try? LoopbackListener(host: "::1") else { return false }
    listener.close()
    return true
  }()

  /// `listening: false` binds without listen(2): a port that refuses connections and that no
  /// other process can take while the test runs.
  init(host: String = "127.0.0.1", backlog: Int32 = 8, listening: Bool = true) throws {
    guard let address = SocketAddress(numericHost: host, port: 0) else { throw SetupError(description: "bad host") }
    let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw SetupError(description: "socket: \(String(cString: strerror(errno)))") }
    var ok = address.withSockaddr { bind(fd, $0, $1) } == 0
    if ok && listening { ok = listen(fd, backlog) == 0 }
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    if ok {
      ok = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
      } == 0
    }
    let bound = withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(pointer: $0, length: length) }
    }
    guard ok, let bound else {
      let reason = String(cString: strerror(errno))
      Glibc.close(fd)
      throw SetupError(description: "listen on \(host): \(reason)")
    }
    self.fd = fd
    self.port = bound.port
    self.host = host
  }

  deinit { close() }

  private var closed = false

  func close() {
    guard !closed else { return }
    closed = true
    Glibc.close(fd)
  }

  /// Accepts one connection, waiting at most `timeout` seconds.
  func accept(timeout: Double = 2) throws -> Int32 {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&entry, 1, Int32(timeout * 1000)) == 1 else { throw SetupError(description: "no connection to accept") }
    let client = Glibc.accept(fd, nil, nil)
    guard client >= 0 else { throw SetupError(description: "accept: \(String(cString: strerror(errno)))") }
    return client
  }
}

/// Writes all of `text` to a blocking test-side socket.
func writeAll(_ fd: Int32, _ text: String) {
  let bytes = Array(text.utf8)
  var offset = 0
  while offset < bytes.count {
    let sent = bytes.withUnsafeBytes { raw -> Int in
      guard let base = raw.baseAddress else { return 0 }
      return send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
    }
    if sent <= 0 { return }
    offset += sent
  }
}

/// Whether `fd` becomes readable within `timeout` seconds.
func waitReadable(_ fd: Int32, timeout: Double) -> Bool {
  var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
  return poll(&entry, 1, Int32(timeout * 1000)) == 1
}

/// Seconds since `start`.
func secondsSince(_ start: Deadline) -> Double {
  Double(Deadline.now().nanoseconds - start.nanoseconds) / 1e9
}

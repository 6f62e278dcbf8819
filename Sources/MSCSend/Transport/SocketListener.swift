import Glibc

/// A listening TCP socket (for `msc-send sink`) with a latched interrupt: once `interrupt()` has
/// run, from any thread or from a signal handler, every `accept()` returns nil at once.
///
/// Only `interrupt()` and `interruptDescriptor` may be used from other threads; `accept()` and
/// `close()` belong to the thread that runs the accept loop.
final class SocketListener: @unchecked Sendable {
  /// The bound address, with the port the kernel chose when 0 was asked.
  let address: SocketAddress
  private var fd: Int32
  /// A pipe whose read end becomes readable, and stays so, once interrupted.
  private let wakeRead: Int32
  let interruptDescriptor: Int32

  /// Binds and listens on `address`. SO_REUSEADDR lets a restarted sink take its port back from
  /// connections in TIME_WAIT; an IPv6 address listens on IPv6 only.
  init(address: SocketAddress, backlog: Int32 = 64) throws(TransportError) {
    let fd = socket(
      address.family,
      Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_TCP))
    guard fd >= 0 else { throw .io("socket: \(SocketWait.errorText(errno))") }
    var ready = false
    defer { if !ready { Glibc.close(fd) } }
    var on: Int32 = 1
    let size = socklen_t(MemoryLayout<Int32>.size)
    _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, size)
    if address.family == AF_INET6 { _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, size) }
    guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
      throw .io("cannot listen on \(address): \(SocketWait.errorText(errno))")
    }
    guard listen(fd, backlog) == 0 else { throw .io("listen on \(address): \(SocketWait.errorText(errno))") }
    guard let bound = Self.localAddress(of: fd) else {
      throw .io("getsockname: \(SocketWait.errorText(errno))")
    }
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { throw .io("pipe: \(SocketWait.errorText(errno))") }
    for end in ends {
      // Non-blocking, so that `interrupt()` never waits on a full pipe (one byte is enough).
      _ = fcntl(end, F_SETFD, FD_CLOEXEC)
      _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
    }
    ready = true
    self.fd = fd
    self.address = bound
    self.wakeRead = ends[0]
    self.interruptDescriptor = ends[1]
  }

  deinit {
    close()
    Glibc.close(wakeRead)
    Glibc.close(interruptDescriptor)
  }

  /// Waits for the next connection; nil once interrupted. Transient accept errors (a connection
  /// reset before it was accepted, a descriptor limit) are waited out, never thrown, so that one
  /// bad client cannot stop the sink.
  func accept() -> SocketTransport? {
    while fd >= 0 {
      var entries = [
        pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0), pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
      ]
      let ready = poll(&entries, 2, -1)
      if ready < 0 {
        if errno == EINTR { continue }
        return nil
      }
      if entries[0].revents != 0 { return nil }
      guard entries[1].revents != 0 else { continue }
      var storage = sockaddr_storage()
      var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
      let client = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
      }
      if client < 0 {
        // EMFILE/ENFILE leave the connection pending; pause instead of spinning on it.
        if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM { usleep(100_000) }
        continue
      }
      let peer = withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(pointer: $0, length: length) }
      }
      let flags = fcntl(client, F_GETFL)
      guard let peer, flags >= 0, fcntl(client, F_SETFL, flags | O_NONBLOCK) == 0,
        fcntl(client, F_SETFD, FD_CLOEXEC) == 0
      else {
        Glibc.close(client)
        continue
      }
      return SocketTransport.accepted(fd: client, peer: peer)
    }
    return nil
  }

  /// Latches the interrupt: one write(2), safe from any thread and from a signal handler.
  func interrupt() {
    var byte: UInt8 = 1
    _ = Glibc.write(interruptDescriptor, &byte, 1)
  }

  /// Closes the listening socket. Idempotent; owner thread only. The wake pipe lives as long as
  /// the listener, so `interrupt()` stays harmless; a signal handler that writes to
  /// `interruptDescriptor` must be removed before the listener goes.
  func close() {
    guard fd >= 0 else { return }
    Glibc.close(fd)
    fd = -1
  }

  private static func localAddress(of fd: Int32) -> SocketAddress? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let result = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard result == 0 else { return nil }
    return withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(pointer: $0, length: length) }
    }
  }
}

import Glibc

/// Waiting on a non-blocking socket. Every wait is bounded by a `Deadline`, so no read, write,
/// connect or TLS handshake can hang forever (RFC 5321 section 4.5.3.2 asks for timeouts on
/// every phase; a CLI run from cron must always come back).
enum SocketWait {
  enum Direction {
    case readable, writable

    var events: Int16 { self == .readable ? Int16(POLLIN) : Int16(POLLOUT) }
  }

  /// Returns once `fd` is ready in `direction` (or reports an error or hang-up, which the next
  /// read or write turns into a precise error). Throws `.timeout` when the deadline passes first.
  static func wait(fd: Int32, for direction: Direction, deadline: Deadline) throws(TransportError) {
    while true {
      var entry = pollfd(fd: fd, events: direction.events, revents: 0)
      let result = poll(&entry, 1, deadline.remainingMilliseconds)
      if result > 0 {
        if entry.revents & Int16(POLLNVAL) != 0 { throw .io("poll: socket is not open") }
        return
      }
      if result == 0 { throw .timeout }
      let code = errno
      if code == EINTR {
        if deadline.hasPassed { throw .timeout }
        continue
      }
      throw .io("poll: \(errorText(code))")
    }
  }

  /// strerror text for an errno value.
  static func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
  }
}

import Glibc

/// One query to one server: UDP first, on a non-blocking socket waited for with poll(2) until a
/// deadline; TCP when the UDP answer is truncated (RFC 7766 section 5; RFC 1035 section 4.2.2:
/// two-octet length prefix). Only a datagram that answers *this* query is taken: the socket is
/// connected, so the kernel drops datagrams from other addresses, and the ID and question must
/// match (RFC 5452 section 9.1), else it is ignored and the wait goes on.
enum DNSExchange {
  static func udp(_ query: [UInt8], to server: SocketAddress, deadline: Deadline) throws(DNSError) -> [UInt8] {
    let fd = socket(
      server.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw .network("socket: \(SocketWait.errorText(errno))") }
    defer { close(fd) }
    guard server.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
      throw .network("\(server): \(SocketWait.errorText(errno))")
    }
    let sent = query.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    guard sent == query.count else { throw .network("\(server): send: \(SocketWait.errorText(errno))") }
    var buffer = [UInt8](repeating: 0, count: 65_535)
    while true {
      do {
        try SocketWait.wait(fd: fd, for: .readable, deadline: deadline)
      } catch .timeout {
        throw .timeout("no answer from \(server)")
      } catch {
        throw .network("\(server): \(error)")
      }
      let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if received < 0 {
        let code = errno
        if code == EINTR || code == EAGAIN || code == EWOULDBLOCK { continue }
        // ECONNREFUSED: an ICMP port unreachable came back; nobody serves DNS there.
        throw .network("\(server): \(SocketWait.errorText(code))")
      }
      let datagram = Array(buffer.prefix(received))
      if answers(datagram, query: query) { return datagram }
    }
  }

  /// The same query over TCP, within `deadline`. The connection carries one query.
  static func tcp(_ query: [UInt8], to server: SocketAddress, deadline: Deadline) throws(DNSError) -> [UInt8] {
    let seconds = Double(deadline.remainingMilliseconds) / 1000
    let transport: SocketTransport
    do {
      transport = try SocketTransport.connect(
        host: server.numericHost, port: server.port, tls: nil, implicitTLS: false, connectTimeout: seconds)
    } catch {
      throw error == .timeout ? .timeout("no TCP answer from \(server)") : .network("\(server) (TCP): \(error)")
    }
    defer { transport.close() }
    let length = query.count
    do {
      try transport.write([UInt8(length >> 8), UInt8(length & 0xff)] + query, deadline: deadline)
      let prefix = try readExactly(2, from: transport, deadline: deadline)
      let answerLength = Int(prefix[0]) << 8 | Int(prefix[1])
      let answer = try readExactly(answerLength, from: transport, deadline: deadline)
      guard answers(answer, query: query) else {
        throw DNSError.malformedResponse("the TCP answer from \(server) does not match the query")
      }
      return answer
    } catch let error as DNSError {
      throw error
    } catch let error as TransportError {
      throw error == .timeout ? .timeout("no TCP answer from \(server)") : .network("\(server) (TCP): \(error)")
    } catch {
      throw .network("\(server) (TCP): \(error)")
    }
  }

  private static func readExactly(_ count: Int, from transport: SocketTransport, deadline: Deadline) throws
    -> [UInt8]
  {
    var bytes: [UInt8] = []
    while bytes.count < count {
      let chunk = try transport.read(maxCount: count - bytes.count, deadline: deadline)
      guard !chunk.isEmpty else { throw DNSError.malformedResponse("the TCP connection closed mid-answer") }
      bytes += chunk
    }
    return bytes
  }

  /// Whether `response` is a response to `query`: same ID and the same question (the name
  /// compared without regard to case, RFC 4343).
  static func answers(_ response: [UInt8], query: [UInt8]) -> Bool {
    guard response.count >= 12, query.count >= 12, response[0] == query[0], response[1] == query[1],
      response[2] & 0x80 != 0
    else { return false }
    let questionEnd = query.count
    guard response.count >= questionEnd else { return false }
    // The name without regard to case (RFC 4343), type and class exactly.
    for index in 12..<questionEnd {
      let a = response[index]
      let b = query[index]
      if a == b { continue }
      guard index < questionEnd - 4 else { return false }
      let lowerA = a >= 0x41 && a <= 0x5a ? a + 0x20 : a
      let lowerB = b >= 0x41 && b <= 0x5a ? b + 0x20 : b
      if lowerA != lowerB { return false }
    }
    return true
  }
}

@testable import MSCSend

/// A transport that plays a literal transcript: `S: text` lines are what the server sends,
/// `C: text` lines what the client must send, `TLS` where the TLS handshake happens. The server's
/// next lines are released only once the client has written every `C:` line before them, so a
/// client that reads too early or writes too much is caught. Server text can be delivered in
/// chunks of `chunkSize` bytes to exercise split reads.
final class ScriptedTransport: Transport {
  enum Step: Equatable {
    case server([UInt8])
    case client(String)
    case tls
  }

  private(set) var steps: [Step] = []
  private var index = 0
  private var serverOffset = 0
  private var written: [UInt8] = []
  private var consumed = 0
  let chunkSize: Int
  private(set) var failures: [String] = []
  private(set) var closed = false
  private(set) var encrypted = false
  var loopback: Bool

  init(_ script: [String], chunkSize: Int = 16_384, loopback: Bool = false) {
    self.chunkSize = chunkSize
    self.loopback = loopback
    for line in script {
      if line == "TLS" {
        steps.append(.tls)
      } else if line.hasPrefix("S: ") {
        let bytes = Array(line.dropFirst(3).utf8) + [0x0d, 0x0a]
        // Consecutive server lines form one step, as a server writes them.
        if case .server(let previous)? = steps.last {
          steps[steps.count - 1] = .server(previous + bytes)
        } else {
          steps.append(.server(bytes))
        }
      } else if line.hasPrefix("S+ ") {
        // Raw server bytes without an added CRLF, for hostile-reply tests.
        steps.append(.server(Array(line.dropFirst(3).utf8)))
      } else if line.hasPrefix("C: ") {
        steps.append(.client(String(line.dropFirst(3))))
      } else {
        preconditionFailure("script line must start with S:, S+, C: or be TLS: \(line)")
      }
    }
  }

  /// Every line the client wrote, split at CRLF.
  var clientLines: [String] {
    var text = String(decoding: written, as: UTF8.self)
    if text.hasSuffix("\r\n") { text.removeLast(1) }
    return text.isEmpty ? [] : text.components(separatedBy: "\r\n")
  }

  /// The `C:` lines of the script, in order.
  var expectedClientLines: [String] {
    steps.compactMap { if case .client(let line) = $0 { line } else { nil } }
  }

  /// Whether the whole script was played.
  var isFinished: Bool {
    consumeClientSteps()
    return index == steps.count
  }

  @discardableResult
  private func consumeClientSteps() -> Bool {
    while index < steps.count, case .client(let line) = steps[index] {
      let expected = Array(line.utf8) + [0x0d, 0x0a]
      let available = written.count - consumed
      guard available >= expected.count else { return false }
      guard Array(written[consumed..<consumed + expected.count]) == expected else {
        let got = String(decoding: written[consumed...], as: UTF8.self)
        failures.append("expected client line \"\(line)\", got \"\(got.prefix(120))\"")
        return false
      }
      consumed += expected.count
      index += 1
    }
    return true
  }

  func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError) {
    if closed { throw .closed }
    written += bytes
  }

  func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8] {
    if closed { throw .closed }
    guard consumeClientSteps() else {
      failures.append("client waits for a reply while the script expects it to write")
      throw .timeout
    }
    guard index < steps.count else { return [] }
    guard case .server(let bytes) = steps[index] else {
      failures.append("client reads while the script expects \(steps[index])")
      throw .timeout
    }
    let end = min(bytes.count, serverOffset + min(maxCount, chunkSize))
    let chunk = Array(bytes[serverOffset..<end])
    serverOffset = end
    if serverOffset == bytes.count {
      serverOffset = 0
      index += 1
    }
    return chunk
  }

  func startTLS(deadline: Deadline) throws(TransportError) -> TLSSessionInfo {
    guard consumeClientSteps(), index < steps.count, steps[index] == .tls else {
      failures.append("TLS started where the script does not expect it")
      throw .tls(.handshakeFailed("unexpected"))
    }
    index += 1
    encrypted = true
    return TLSSessionInfo(protocolVersion: "TLSv1.3", cipher: "TEST", verified: true)
  }

  var isEncrypted: Bool { encrypted }
  var peerIsLoopback: Bool { loopback }
  var peerDescription: String { "scripted [192.0.2.1]:25" }
  func close() { closed = true }
}

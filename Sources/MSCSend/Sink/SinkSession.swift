import Foundation

/// The server side of one SMTP connection of `msc-send sink` (RFC 5321), as a state machine with
/// no I/O: octets from the client go in, the octets to answer and what to do next come out. The
/// Sink folder owns the capture server: this session, the DATA receiver, the Maildir writer, the
/// accept loop (`SinkServer`) and the report lines.
///
/// Commands are taken from the buffer in the order they came, so a pipelining client (RFC 2920)
/// gets its replies in order, in one write per batch. After STARTTLS's 220 nothing read in
/// plaintext survives (the server-side twin of CVE-2011-0411); after the handshake the session
/// starts over and waits for a new EHLO (RFC 3207 section 4.2).
struct SinkSession {
  /// What the session knows about its server and its connection.
  struct Settings: Sendable {
    /// Name in the greeting and the EHLO reply.
    var hostname = "localhost"
    /// Advertised with SIZE (RFC 1870) and enforced.
    var maxMessageSize = 52_428_800
    /// RFC 5321 section 4.5.3.1.8 asks servers to take at least 100.
    var maxRecipients = 1000
    /// RFC 4954 section 4: AUTH lines of 12288 octets must be accepted, so every command line may
    /// be that long (RFC 5321's 512 is a minimum to support).
    var maxCommandLength = 12_288
    /// Syntax and sequence errors tolerated before the connection is closed.
    var maxErrors = 20
    /// A certificate is configured: STARTTLS is offered until TLS is up.
    var tlsAvailable = false
    /// AUTH is offered without TLS only to a loopback peer (by address).
    var peerIsLoopback = false
  }

  /// What the connection does after writing `replies`.
  enum Directive: Equatable {
    case proceed
    /// Run the TLS handshake, then call `tlsStarted()`.
    case startTLS
    case close
  }

  struct Output: Equatable {
    var replies: [UInt8] = []
    var directive = Directive.proceed
  }

  enum Phase: Equatable {
    case command
    case data
    case authPlain
    case authLoginUser
    case authLoginPassword(user: String)
  }

  let settings: Settings
  /// Called at the end of each message's data; its answer decides the reply to the final dot.
  let deliver: (CapturedMessage) -> DeliveryOutcome
  // State below is changed only by the verb methods (in this file's extensions).
  var phase = Phase.command
  /// The EHLO or HELO argument; nil until the client has said hello (again, after STARTTLS).
  var helloName: String?
  var isExtended = false
  var tlsActive = false
  var authenticatedUser: String?
  /// Reverse path of the open transaction (empty for the null sender); nil when none is open.
  var sender: String?
  var recipients: [String] = []
  var errorCount = 0
  var dataReceiver: DataReceiver?
  private var buffer: [UInt8] = []
  private var start = 0
  /// A command line went over the cap: its octets are dropped up to the next LF.
  private var discardingLine = false

  init(settings: Settings, deliver: @escaping (CapturedMessage) -> DeliveryOutcome) {
    self.settings = settings
    self.deliver = deliver
  }

  /// RFC 5321 section 4.3.1; says what the server is, so nobody mistakes it for a relay.
  var greeting: [UInt8] {
    Self.reply(220, "\(settings.hostname) ESMTP msc-send sink: captures mail, never relays it")
  }

  static let idleTimeoutReply = reply(421, "4.4.2 Idle timeout, closing connection")
  static let busyReply = reply(421, "4.7.0 Too many connections, try again later")

  /// Takes octets from the client and processes every complete command (or the data) they hold.
  mutating func receive(_ bytes: [UInt8]) -> Output {
    buffer += bytes
    var output = Output()
    while output.directive == .proceed {
      if phase == .data {
        // Taken out while it grows, so that its buffer is never shared and copied.
        guard var receiver = dataReceiver.take() else { break }
        let (consumed, finished) = receiver.consume(buffer[start...])
        start += consumed
        dataReceiver = receiver
        guard finished else { break }
        finishData(into: &output)
        continue
      }
      guard let line = nextLine(into: &output) else { break }
      handle(line: line, into: &output)
      if output.directive == .proceed && errorCount >= settings.maxErrors {
        output.replies += Self.reply(421, "4.7.0 Too many errors, closing connection")
        output.directive = .close
      }
    }
    if output.directive == .startTLS || start == buffer.count {
      buffer = []
      start = 0
    } else if start > 65_536 {
      buffer.removeFirst(start)
      start = 0
    }
    return output
  }

  /// TLS is up: forget everything the client said in plaintext (RFC 3207 section 4.2).
  mutating func tlsStarted() {
    tlsActive = true
    helloName = nil
    isExtended = false
    authenticatedUser = nil
    resetTransaction()
    phase = .command
    buffer = []
    start = 0
  }

  /// Next command or AUTH response line without its line end (CRLF, or a bare LF, which is
  /// tolerated in commands), or nil when no complete line is buffered. An overlong line is
  /// answered here and dropped.
  private mutating func nextLine(into output: inout Output) -> ArraySlice<UInt8>? {
    while true {
      guard let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) else {
        if buffer.count - start > settings.maxCommandLength + 1 {
          discardingLine = true
          start = buffer.count
        }
        return nil
      }
      var end = newline
      if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
      let line = buffer[start..<end]
      start = newline + 1
      if discardingLine || line.count > settings.maxCommandLength {
        discardingLine = false
        // RFC 5321 section 4.5.3.1: "500 Line too long". An AUTH exchange in progress ends too.
        if phase != .command { phase = .command }
        error(500, "5.5.0 Line too long", into: &output)
        continue
      }
      return line
    }
  }

  /// A refusal of a bad command: counted towards `maxErrors`.
  mutating func error(_ code: Int, _ text: String, into output: inout Output) {
    errorCount += 1
    output.replies += Self.reply(code, text)
  }

  mutating func resetTransaction() {
    sender = nil
    recipients = []
    dataReceiver = nil
    if phase == .data { phase = .command }
  }

  /// The reply to the final dot, after the message has been handed to `deliver`.
  private mutating func finishData(into output: inout Output) {
    guard let receiver = dataReceiver, let sender else { return }
    let captured = CapturedMessage(
      sender: sender, recipients: recipients, content: receiver.content, helloName: helloName ?? "",
      authenticatedUser: authenticatedUser, tls: tlsActive)
    resetTransaction()
    phase = .command
    if receiver.exceedsMaxSize {
      output.replies += Self.reply(552, "5.3.4 Message size exceeds fixed maximum message size")
      return
    }
    if receiver.hasOverlongLine {
      output.replies += Self.reply(
        500, "5.5.0 Line too long: over 1000 octets (RFC 5321 section 4.5.3.1.6), message refused")
      return
    }
    switch deliver(captured) {
    case .stored(let identifier):
      output.replies += Self.reply(250, "2.0.0 Ok: captured as \(identifier)")
    case .failed(let reason):
      output.replies += Self.reply(451, "4.3.0 Cannot store the message: \(reason)")
    case .shuttingDown:
      output.replies += Self.reply(421, "4.3.2 The sink is shutting down, message not captured")
      output.directive = .close
    }
  }

  /// A reply of one line or more (RFC 5321 section 4.2.1): `code-text` on every line but the
  /// last, `code text` on the last. Text is ours, never the client's unfiltered.
  static func reply(_ code: Int, _ lines: String...) -> [UInt8] { reply(code, lines: lines) }

  static func reply(_ code: Int, lines: [String]) -> [UInt8] {
    var bytes: [UInt8] = []
    for (index, line) in lines.enumerated() {
      bytes += Array("\(code)\(index == lines.count - 1 ? " " : "-")\(line)\r\n".utf8)
    }
    return bytes
  }
}

/// One message as the client transferred it, with its envelope.
struct CapturedMessage: Sendable, Equatable {
  var sender: String
  var recipients: [String]
  /// After dot-unstuffing, line ends as sent.
  var content: [UInt8]
  var helloName: String
  var authenticatedUser: String?
  var tls: Bool
}

/// What became of a message handed over at the end of DATA.
enum DeliveryOutcome: Equatable {
  /// Captured; the identifier goes into the 250 reply.
  case stored(identifier: String)
  /// Could not be stored (disk full, permissions): 451, the client may retry.
  case failed(String)
  /// `--max-messages` was reached or the sink is stopping: 421 and close.
  case shuttingDown
}

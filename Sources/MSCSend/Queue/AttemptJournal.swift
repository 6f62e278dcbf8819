import Glibc

/// A per-process log of what a delivering process is doing, so that a crash (kill -9, power cut
/// aside) costs at most the one message in flight rather than every outcome not yet committed.
///
/// Outcomes reach the ledger in grouped transactions (one commit per ~100 messages or 250 ms,
/// never one per message). A process killed between two commits would leave messages in `sending`
/// whose fate the ledger does not know: some delivered, one perhaps in flight, the rest never
/// tried. Before each SMTP transaction the process appends `B <id> <recipients>` here, after it
/// `E <id> <results>`: plain `write(2)`s, which a killed process cannot take back (the kernel has
/// them). Whoever takes back the dead process's leases replays its journal:
/// - an `E` line gives the recorded outcome, exactly as if the process had committed it;
/// - a `B` without its `E` is a transaction in flight: delivered or not, unknown (RFC 1047), so its
///   recipients become uncertain and are retried once, reported as possibly duplicated;
/// - a message with no line was never tried: it simply waits again.
///
/// Lines: `B <id> <rcpt>...` and `E <id> <class>|<rcpt>|<reply>...`, fields escaped with `%XX`
/// for `%`, `|`, space, control octets. A line without its final newline was cut short by the
/// crash and is ignored (so an `E` cut short leaves its `B` in flight).
public final class AttemptJournal {
  public let path: String
  private let descriptor: Int32

  /// Opens (creating) the journal of `process`'s worker `worker` in `directory`.
  public init(directory: String, process: ProcessIdentity, worker: Int) throws(SpoolError) {
    path = "\(directory)/\(Self.prefix(process))\(worker).log"
    descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw SpoolError("cannot open the attempt journal \(path): \(String(cString: strerror(errno)))")
    }
  }

  deinit { close(descriptor) }

  static func prefix(_ process: ProcessIdentity) -> String { "\(process.pid)-\(process.startTime)-" }

  /// A transaction of message `id` to `recipients` is about to start.
  public func begin(_ id: Int64, recipients: [String]) {
    append("B \(id) " + recipients.map(Self.escape).joined(separator: " "))
  }

  /// The transaction ended with these per-recipient outcomes.
  public func end(_ id: Int64, results: [(recipient: String, outcome: OutcomeClass, reply: String?)]) {
    let fields = results.map { "\($0.outcome.rawValue)|\(Self.escape($0.recipient))|\(Self.escape($0.reply ?? ""))" }
    append("E \(id) " + fields.joined(separator: " "))
  }

  /// Removes the journal once everything it says is committed to the ledger.
  public func remove() { unlink(path) }

  private func append(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var written = 0
    while written < bytes.count {
      let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      // A journal that cannot be written only makes a crash less exact (the messages of this run
      // would be taken as uncertain): delivery goes on.
      guard count > 0 else { return }
      written += count
    }
  }

  // MARK: Replay

  /// What a dead process's journals say about one message.
  public struct Record: Sendable, Equatable {
    /// Outcomes of finished transactions, by recipient (the last one wins).
    public var results: [String: (outcome: OutcomeClass, reply: String?)] = [:]
    /// Recipients of a transaction that began and never ended.
    public var inFlight: Set<String> = []

    public static func == (lhs: Record, rhs: Record) -> Bool {
      lhs.inFlight == rhs.inFlight && lhs.results.keys == rhs.results.keys
        && lhs.results.allSatisfy {
          rhs.results[$0.key]?.outcome == $0.value.outcome && rhs.results[$0.key]?.reply == $0.value.reply
        }
    }
  }

  /// The journals' files of `process` in `directory`.
  static func files(in directory: String, of process: ProcessIdentity?) -> [String] {
    guard let folder = opendir(directory) else { return [] }
    defer { closedir(folder) }
    var paths: [String] = []
    let prefix = process.map(Self.prefix)
    while let entry = readdir(folder) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      guard name.hasSuffix(".log"), prefix.map({ name.hasPrefix($0) }) ?? true else { continue }
      paths.append(directory + "/" + name)
    }
    return paths.sorted()
  }

  /// The process a journal file belongs to, from its name.
  static func owner(ofFile path: String) -> ProcessIdentity? {
    let name = path.split(separator: "/").last.map(String.init) ?? ""
    let parts = name.split(separator: "-")
    guard parts.count == 3, let pid = Int32(parts[0]), let start = Int64(parts[1]) else { return nil }
    return ProcessIdentity(pid: pid, startTime: start)
  }

  /// Everything `process`'s journals recorded, by message id.
  public static func replay(directory: String, process: ProcessIdentity) -> [Int64: Record] {
    var records: [Int64: Record] = [:]
    for path in files(in: directory, of: process) {
      for line in completeLines(of: path) { apply(line, to: &records) }
    }
    return records
  }

  static func apply(_ line: Substring, to records: inout [Int64: Record]) {
    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
    guard fields.count >= 2, let id = Int64(fields[1]) else { return }
    switch fields[0] {
    case "B":
      records[id, default: Record()].inFlight = Set(fields.dropFirst(2).map(unescape))
    case "E":
      var record = records[id, default: Record()]
      for field in fields.dropFirst(2) {
        let parts = field.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3, let outcome = OutcomeClass(rawValue: String(parts[0])) else { continue }
        let recipient = unescape(parts[1])
        let reply = unescape(parts[2])
        record.results[recipient] = (outcome, reply.isEmpty ? nil : reply)
        record.inFlight.remove(recipient)
      }
      records[id] = record
    default:
      return
    }
  }

  /// The file's lines that end with a newline (a last line cut short by a crash is left out).
  static func completeLines(of path: String) -> [Substring] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return [] }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { break }
      bytes += buffer[..<count]
    }
    guard let last = bytes.lastIndex(of: 0x0a) else { return [] }
    return String(decoding: bytes[...last], as: UTF8.self).split(separator: "\n")
  }

  // MARK: Escaping

  static func escape(_ text: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var bytes: [UInt8] = []
    for byte in text.utf8 {
      if byte <= 0x20 || byte == 0x7f || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "|") {
        bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
      } else {
        bytes.append(byte)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  static func unescape(_ text: Substring) -> String {
    var bytes: [UInt8] = []
    var utf8 = Array(text.utf8)[...]
    while let byte = utf8.popFirst() {
      if byte == UInt8(ascii: "%"), utf8.count >= 2,
        let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
      {
        bytes.append(value)
        utf8 = utf8.dropFirst(2)
      } else {
        bytes.append(byte)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

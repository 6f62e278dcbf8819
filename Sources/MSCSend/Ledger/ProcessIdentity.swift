import Glibc

/// A process as the ledger remembers it: its pid plus the moment it started, because pids are
/// reused and a pid alone would let a stranger keep a dead sender's reservation alive.
public struct ProcessIdentity: Sendable, Hashable {
  public var pid: Int32
  /// Field 22 of `/proc/PID/stat` (clock ticks after boot); 0 where there is no /proc.
  public var startTime: Int64

  public init(pid: Int32, startTime: Int64) {
    self.pid = pid
    self.startTime = startTime
  }

  /// This process.
  public static let current = ProcessIdentity(pid: getpid(), startTime: startTime(of: getpid()) ?? 0)

  /// The start time of `pid`, nil when no such process exists (or it is a zombie: it has exited
  /// and only waits to be reaped, so it will send nothing more).
  static func startTime(of pid: Int32) -> Int64? {
    guard let stat = readSmallFile("/proc/\(pid)/stat") else { return nil }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted
    // after the last ")". Field 3 (state) is the first there, field 22 (starttime) the 20th.
    guard let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count >= 20, fields[0] != "Z", fields[0] != "X" else { return nil }
    return Int64(fields[19])
  }

  /// Whether the process that wrote a reservation still runs. With /proc: the pid exists and
  /// started at the recorded moment. Without it (start time 0): the pid exists.
  public static func isAlive(_ identity: ProcessIdentity) -> Bool {
    if identity.startTime != 0 || procIsMounted {
      return startTime(of: identity.pid) == identity.startTime
    }
    return kill(identity.pid, 0) == 0 || errno == EPERM
  }

  private static let procIsMounted: Bool = access("/proc/self/stat", R_OK) == 0

  private static func readSmallFile(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1024)
    while bytes.count < 16_384 {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { break }
      bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

import Glibc

/// Time as the throttle sees it: wall-clock seconds since 1970, because the ledger is shared by
/// processes that have no other common clock. Injected everywhere so that tests can move time
/// without waiting.
public protocol ThrottleClock: Sendable {
  func now() -> Double
  /// Blocks for `seconds` (a manual clock just advances).
  func sleep(seconds: Double)
}

/// The real clock.
public struct SystemThrottleClock: ThrottleClock {
  public init() {}

  public func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }

  public func sleep(seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    var remaining = timespec()
    // EINTR (a signal) leaves the rest to sleep in `remaining`.
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
  }
}

/// Times for people: "14:03:05 (in 41s)" today, with the date otherwise; ISO 8601 for scripts.
public enum ThrottleTime {
  public static func describe(_ time: Double, now: Double) -> String {
    guard time.isFinite else { return "never (the request exceeds the limit itself)" }
    let sameDay = format(time, "%Y-%m-%d", utc: false) == format(now, "%Y-%m-%d", utc: false)
    let clock = format(time, sameDay ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", utc: false)
    return time <= now ? clock : "\(clock) (in \(DurationText.format(time - now)))"
  }

  /// "2025-01-02T12:00:03Z".
  public static func iso8601(_ time: Double) -> String {
    time.isFinite ? format(time, "%Y-%m-%dT%H:%M:%SZ", utc: true) : "never"
  }

  private static func format(_ time: Double, _ pattern: String, utc: Bool) -> String {
    var seconds = time_t(time.rounded(.down))
    var parts = tm()
    if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
    var buffer = [CChar](repeating: 0, count: 64)
    let count = strftime(&buffer, buffer.count, pattern, &parts)
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

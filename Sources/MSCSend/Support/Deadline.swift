import Glibc

/// A point on the monotonic clock. Timeouts bound a whole operation (a whole SMTP reply, not each
/// read), so every blocking call takes a deadline rather than a duration.
public struct Deadline: Sendable, Comparable {
  /// Nanoseconds on CLOCK_MONOTONIC.
  public let nanoseconds: UInt64

  public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

  public static func now() -> Deadline {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Deadline(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
  }

  /// `seconds` from now; durations are clamped to 0 ... 100 years (a NaN is 0), so a hostile or
  /// mistyped timeout in a config file cannot trap.
  public static func after(seconds: Double) -> Deadline {
    let clamped = seconds > 0 ? min(seconds, 100 * 365 * 86_400) : 0
    let delta = UInt64(clamped * 1_000_000_000)
    return Deadline(nanoseconds: now().nanoseconds &+ delta)
  }

  /// Milliseconds left, for poll(2): 0 when past, capped to Int32.max.
  public var remainingMilliseconds: Int32 {
    let current = Deadline.now().nanoseconds
    guard nanoseconds > current else { return 0 }
    let ms = (nanoseconds - current + 999_999) / 1_000_000
    return Int32(clamping: ms)
  }

  public var hasPassed: Bool { Deadline.now().nanoseconds >= nanoseconds }

  public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

/// Process exit codes after sysexits.h (DESIGN.md section 5). Cron and scripts rely on these numbers.
public enum ExitCode: Int32, Sendable, CaseIterable {
  case ok = 0
  /// EX_USAGE: bad arguments.
  case usage = 64
  /// EX_DATAERR: bad message or address; recipients or message permanently refused.
  case dataError = 65
  /// EX_UNAVAILABLE: no channel, channel disabled, server refuses service, required STARTTLS missing.
  case unavailable = 69
  /// EX_SOFTWARE: internal error (a bug).
  case software = 70
  /// EX_IOERR: local I/O failure.
  case ioError = 74
  /// EX_TEMPFAIL: 4xx, throttled, timeout, network down: not delivered yet.
  case tempFail = 75
  /// EX_PROTOCOL: the server broke the protocol.
  case protocolError = 76
  /// EX_NOPERM: authentication refused; certificate or pin verification failed.
  case noPermission = 77
  /// EX_CONFIG: our own configuration is wrong.
  case config = 78

  /// Rank for combining mixed outcomes: the worst class wins, in the order
  /// 70 > 74 > 78 > 77 > 76 > 69 > 65 > 75 > 0 (DESIGN.md section 5).
  public var severity: Int {
    switch self {
    case .ok: 0
    case .tempFail: 1
    case .dataError: 2
    case .unavailable: 3
    case .protocolError: 4
    case .noPermission: 5
    case .config: 6
    case .ioError: 7
    case .usage: 8
    case .software: 9
    }
  }

  /// The worst of several outcomes.
  public static func worst<S: Sequence>(_ codes: S) -> ExitCode where S.Element == ExitCode {
    codes.max(by: { $0.severity < $1.severity }) ?? .ok
  }
}

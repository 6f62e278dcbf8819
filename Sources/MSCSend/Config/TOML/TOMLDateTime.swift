/// TOML date-times (spec, "Offset Date-Time" to "Local Time"; RFC 3339 section 5.6). Components are
/// kept exactly as written, fractional seconds as their digit string, so nothing is rounded away.

/// A calendar date; validated against the calendar (no February 30th, February 29th only in leap
/// years).
public struct TOMLDate: Sendable, Hashable {
  public var year: Int
  public var month: Int
  public var day: Int

  public init(year: Int, month: Int, day: Int) {
    self.year = year
    self.month = month
    self.day = day
  }
}

/// A time of day. `second` may be 60 (RFC 3339 leap second).
public struct TOMLTime: Sendable, Hashable {
  public var hour: Int
  public var minute: Int
  public var second: Int
  /// The digits after the decimal point exactly as written (`"999999"`, `"5"`), empty if none.
  /// TOML sets no precision limit, so they are kept as text.
  public var fraction: String

  public init(hour: Int, minute: Int, second: Int, fraction: String = "") {
    self.hour = hour
    self.minute = minute
    self.second = second
    self.fraction = fraction
  }

  /// The fraction as nanoseconds; digits past the ninth are truncated, not rounded (the spec asks
  /// implementations that cannot hold the full precision to truncate).
  public var nanosecond: Int {
    let digits = fraction.utf8.prefix(9)
    let value = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    return (digits.count..<9).reduce(value) { result, _ in result * 10 }
  }
}

/// The offset of an offset date-time. `Z` and `+00:00` denote the same instant but are kept apart
/// so the value prints as written.
public enum TOMLTimeOffset: Sendable, Hashable {
  /// `Z` or `z`.
  case utc
  /// `+05:30` is 330, `-07:00` is -420.
  case minutes(Int)

  public var minutesEastOfUTC: Int {
    switch self {
    case .utc: 0
    case .minutes(let minutes): minutes
    }
  }
}

/// One of the four TOML date-time kinds; which parts are present tells them apart, and the
/// `TOMLValue` case says which kind it is.
public struct TOMLDateTime: Sendable, Hashable, CustomStringConvertible {
  public var date: TOMLDate?
  public var time: TOMLTime?
  public var offset: TOMLTimeOffset?

  public init(date: TOMLDate? = nil, time: TOMLTime? = nil, offset: TOMLTimeOffset? = nil) {
    self.date = date
    self.time = time
    self.offset = offset
  }

  /// RFC 3339 form with `T` as separator and the fraction and offset as written.
  public var description: String {
    var parts: [String] = []
    if let date {
      parts.append("\(Self.pad(date.year, 4))-\(Self.pad(date.month, 2))-\(Self.pad(date.day, 2))")
    }
    if let time {
      var text = "\(Self.pad(time.hour, 2)):\(Self.pad(time.minute, 2)):\(Self.pad(time.second, 2))"
      if !time.fraction.isEmpty { text += "." + time.fraction }
      switch offset {
      case nil: break
      case .utc: text += "Z"
      case .minutes(let minutes):
        text += (minutes < 0 ? "-" : "+") + "\(Self.pad(abs(minutes) / 60, 2)):\(Self.pad(abs(minutes) % 60, 2))"
      }
      parts.append(text)
    }
    return parts.joined(separator: "T")
  }

  private static func pad(_ number: Int, _ width: Int) -> String {
    let text = String(number)
    return String(repeating: "0", count: max(0, width - text.count)) + text
  }

  static func isLeapYear(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }
}

extension TOMLScanner {
  /// True if the cursor is at `DDDD-` (a date) or `DD:` (a time), which no number can start with.
  func atDateOrTime() -> Bool {
    isDigit(0) && isDigit(1) && (at(":", offset: 2) || (isDigit(2) && isDigit(3) && at("-", offset: 4)))
  }

  /// Scans a date, a time, or a date and time with optional offset. The date and time may be
  /// separated by `T`, `t` or a single space (spec, "Offset Date-Time"); a space only counts as a
  /// separator when a time follows it, so `d = 1979-05-27 # comment` stays a date.
  mutating func scanDateTime() throws(TOMLError) -> TOMLValue {
    if at(":", offset: 2) { return .localTime(TOMLDateTime(time: try scanTime())) }
    let date = try scanDate()
    let hasTime =
      at("T") || at("t") || (at(" ") && isDigit(1) && isDigit(2) && at(":", offset: 3))
    guard hasTime else { return .localDate(TOMLDateTime(date: date)) }
    advance()
    let time = try scanTime()
    guard let offset = try scanOffset() else { return .localDateTime(TOMLDateTime(date: date, time: time)) }
    return .offsetDateTime(TOMLDateTime(date: date, time: time, offset: offset))
  }

  private mutating func scanDate() throws(TOMLError) -> TOMLDate {
    let start = position
    let year = try scanDigits(4, what: "year")
    try expect("-", in: "date")
    let month = try scanDigits(2, what: "month")
    try expect("-", in: "date")
    let day = try scanDigits(2, what: "day")
    guard (1...12).contains(month) else { throw error("invalid date: month \(month) is not 1 to 12", at: start) }
    guard (1...TOMLDateTime.daysIn(month: month, year: year)).contains(day) else {
      throw error("invalid date: \(year)-\(month < 10 ? "0" : "")\(month) has no day \(day)", at: start)
    }
    return TOMLDate(year: year, month: month, day: day)
  }

  /// `HH:MM:SS` with optional fraction. Seconds are required in TOML 1.0 (1.1 makes them optional).
  private mutating func scanTime() throws(TOMLError) -> TOMLTime {
    let hour = try scanDigits(2, what: "hour", upTo: 23)
    try expect(":", in: "time")
    let minute = try scanDigits(2, what: "minute", upTo: 59)
    guard at(":") else { throw error("time must include seconds (HH:MM:SS), found \(describeCurrent())") }
    advance()
    let second = try scanDigits(2, what: "second", upTo: 60)
    var fraction = ""
    if at(".") {
      advance()
      let first = index
      while isDigit(0) { advance() }
      guard index > first else { throw error("expected digits after the decimal point in a time") }
      fraction = String(decoding: bytes[first..<index], as: UTF8.self)
    }
    return TOMLTime(hour: hour, minute: minute, second: second, fraction: fraction)
  }

  private mutating func scanOffset() throws(TOMLError) -> TOMLTimeOffset? {
    if at("Z") || at("z") {
      advance()
      return .utc
    }
    guard at("+") || at("-") else { return nil }
    let sign = at("-") ? -1 : 1
    advance()
    let hours = try scanDigits(2, what: "offset hour", upTo: 23)
    try expect(":", in: "offset")
    let minutes = try scanDigits(2, what: "offset minute", upTo: 59)
    return .minutes(sign * (hours * 60 + minutes))
  }

  /// `count` digits; with `upTo`, a value above it is an error at the first digit.
  private mutating func scanDigits(_ count: Int, what: String, upTo maximum: Int? = nil) throws(TOMLError) -> Int {
    let start = position
    var value = 0
    for _ in 0..<count {
      guard let byte = peek(), isDigit(0) else {
        throw error("expected \(count) digits for the \(what), found \(describeCurrent())")
      }
      value = value * 10 + Int(byte - UInt8(ascii: "0"))
      advance()
    }
    if let maximum, value > maximum {
      throw error("invalid \(what) \(value): must be at most \(maximum)", at: start)
    }
    return value
  }

  private mutating func expect(_ char: Unicode.Scalar, in what: String) throws(TOMLError) {
    guard at(char) else { throw error("expected \"\(char)\" in \(what), found \(describeCurrent())") }
    advance()
  }

  func isDigit(_ offset: Int) -> Bool {
    guard let byte = peek(offset) else { return false }
    return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }
}

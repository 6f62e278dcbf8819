/// Durations as the config and the command line write them: a whole number and a unit, `45s`,
/// `1m`, `24h`, `7d`, or several such parts in decreasing order (`1h30m`). Plain seconds are not
/// accepted in the config, where "30" next to "30/1m" would be ambiguous; `--max-wait` takes
/// them (`DurationText.parse(_:allowingBareSeconds:)`).
public enum DurationText {
  static let units: [(suffix: Character, seconds: Double)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]

  /// Seconds, or nil when `text` is not a duration. Zero is a duration here; callers that need a
  /// positive one say so in their own message.
  public static func parse(_ text: String, allowingBareSeconds: Bool = false) -> Double? {
    if allowingBareSeconds, let seconds = Double(text), seconds >= 0, seconds.isFinite { return seconds }
    var total = 0.0
    var digits = ""
    var lastUnit = Int.max
    for character in text {
      if character.isASCIIDigit {
        digits.append(character)
        guard digits.count <= 9 else { return nil }
        continue
      }
      guard let unit = units.firstIndex(where: { $0.suffix == character }), !digits.isEmpty, let value = Double(digits)
      else { return nil }
      // Each unit once, largest first: "1m1h" and "1m1m" are mistakes, not durations.
      guard lastUnit == Int.max || unit > lastUnit else { return nil }
      lastUnit = unit
      total += value * units[unit].seconds
      digits = ""
    }
    return digits.isEmpty && lastUnit != Int.max ? total : nil
  }

  /// The shortest way to write `seconds` in these units ("90s" stays "1m30s"); fractions are
  /// rounded up to a whole second, so a countdown never shows 0 while something is still left.
  public static func format(_ seconds: Double) -> String {
    var remaining = Int((max(0, seconds)).rounded(.up))
    if remaining == 0 { return "0s" }
    var text = ""
    for unit in units where remaining >= Int(unit.seconds) {
      let count = remaining / Int(unit.seconds)
      remaining -= count * Int(unit.seconds)
      text += "\(count)\(unit.suffix)"
    }
    return text
  }
}

/// A sliding window, `N/DURATION`: at most `limit` units (messages or recipients) whose time
/// lies within any `seconds`-long stretch. Sliding, not calendar: "10000/24h" counts the last 24
/// hours from every moment, as Exchange Online and Google do.
public struct RateWindow: Sendable, Equatable, CustomStringConvertible {
  public var limit: Int
  public var seconds: Double
  /// The duration as written ("24h" stays "24h", not "1d").
  public var durationText: String

  public init(limit: Int, seconds: Double, durationText: String? = nil) {
    self.limit = limit
    self.seconds = seconds
    self.durationText = durationText ?? DurationText.format(seconds)
  }

  /// Parses "30/1m"; nil when it is not of that form or either side is not positive.
  public init?(_ text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isASCIIDigit), parts[0].count <= 9,
      let limit = Int(parts[0]), limit > 0, let seconds = DurationText.parse(String(parts[1])), seconds > 0
    else { return nil }
    self.init(limit: limit, seconds: seconds, durationText: String(parts[1]))
  }

  /// "30/1m".
  public var description: String { "\(limit)/\(durationText)" }
}

/// MSC's batch mode (`batch = { size = 25, every = "45s" }`). Precisely: a batch opens when a
/// message is reserved while no batch is open; it stays open for `every` seconds and takes up
/// to `size` messages; a message that finds the open batch full waits until it closes and then
/// opens the next. So batches start at least `every` apart and hold at most `size` each, the way
/// MSC hands a user's queue to the provider: a burst, then a pause.
public struct BatchLimit: Sendable, Equatable, CustomStringConvertible {
  public var size: Int
  public var every: Double
  public var everyText: String

  public init(size: Int, every: Double, everyText: String? = nil) {
    self.size = size
    self.every = every
    self.everyText = everyText ?? DurationText.format(every)
  }

  public var description: String { "batches of \(size) every \(everyText)" }
}

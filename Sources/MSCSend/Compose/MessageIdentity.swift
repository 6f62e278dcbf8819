import Foundation

/// The Date and Message-ID fields (RFC 5322 sections 3.3 and 3.6.4), computed from values the
/// caller injects (clock, time-zone offset, random bytes) so tests get exact bytes.
public enum MessageIdentity {
  private static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
  private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  /// RFC 5322 section 3.3 `date-time`, e.g. `Mon, 23 Nov 2026 17:19:03 +0000`: local time at
  /// `timeZoneOffsetSeconds` east of UTC (whole minutes; seconds are dropped), English names
  /// regardless of the locale. The offset must be under 100 hours, as the zone has 4 digits.
  public static func date(_ date: Date, timeZoneOffsetSeconds: Int) -> String {
    let offsetMinutes = timeZoneOffsetSeconds / 60
    precondition(abs(offsetMinutes) < 100 * 60, "time-zone offset out of range")
    let time = civilTime(Int(date.timeIntervalSince1970.rounded(.down)) + offsetMinutes * 60)
    let zone = (offsetMinutes < 0 ? "-" : "+") + twoDigits(abs(offsetMinutes) / 60) + twoDigits(abs(offsetMinutes) % 60)
    return "\(dayNames[time.weekday]), \(time.day) \(monthNames[time.month - 1]) "
      + String(time.year).leftPadded(to: 4)
      + " \(twoDigits(time.hour)):\(twoDigits(time.minute)):\(twoDigits(time.second)) \(zone)"
  }

  /// RFC 5322 section 3.6.4 `msg-id`: `<UTC-timestamp.random@domain>`, e.g.
  /// `<20261123171903.aaaqeayeaudaocajbifqydiob4@acme.test>`. The random part is `randomBytes` in
  /// base32 (16 bytes give 128 bits: unique without coordination); the timestamp helps people
  /// reading logs and makes a collision need the same second too.
  public static func messageID(randomBytes: [UInt8], date: Date, domain: String) -> String {
    let time = civilTime(Int(date.timeIntervalSince1970.rounded(.down)))
    let stamp = String(time.year).leftPadded(to: 4) + twoDigits(time.month) + twoDigits(time.day)
      + twoDigits(time.hour) + twoDigits(time.minute) + twoDigits(time.second)
    return "<" + stamp + "." + base32(randomBytes) + "@" + domain + ">"
  }

  /// The sender's domain, as RFC 5322 section 3.6.4 suggests; when it is not ASCII (it would make
  /// the message need SMTPUTF8 for no reason) the host name, and `localhost` when that is unusable.
  public static func messageIDDomain(for sender: Mailbox, hostName: String) -> String {
    if sender.domain.utf8.allSatisfy({ $0 < 0x80 }) { return sender.domain }
    let isUsable = hostName.utf8.allSatisfy { $0 < 0x80 } && AddressParser.isDotAtom(hostName)
    return isUsable ? hostName : "localhost"
  }

  /// RFC 4648 section 6 base32 in lower case without padding: only letters and digits, so it is
  /// valid in a dot-atom and survives case-insensitive handling.
  public static func base32(_ bytes: [UInt8]) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    var output: [UInt8] = []
    var buffer = 0
    var bits = 0
    for byte in bytes {
      buffer = (buffer << 8 | Int(byte)) & 0xFFFF
      bits += 8
      while bits >= 5 {
        output.append(alphabet[(buffer >> (bits - 5)) & 0x1F])
        bits -= 5
      }
    }
    if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 0x1F]) }
    return String(decoding: output, as: UTF8.self)
  }

  private static func twoDigits(_ value: Int) -> String { String(value).leftPadded(to: 2) }

  /// Proleptic Gregorian calendar fields of `seconds` since 1970-01-01T00:00:00 (days_from_civil
  /// inverted, after Howard Hinnant's public-domain algorithm); weekday 0 is Sunday.
  static func civilTime(
    _ seconds: Int
  ) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    let weekday = ((days % 7) + 11) % 7
    return (year, month, day, secondOfDay / 3_600, secondOfDay % 3_600 / 60, secondOfDay % 60, weekday)
  }
}

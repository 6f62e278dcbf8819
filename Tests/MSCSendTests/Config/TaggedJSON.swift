import Foundation
@testable import MSCSend

/// toml-test's tagged JSON (`{"type": "integer", "value": "42"}` for scalars, objects for tables,
/// arrays for arrays) and its comparison by meaning, as upstream's `json.go` does it.
enum TaggedJSON {
  static func tagged(_ value: TOMLValue) -> Any {
    switch value {
    case .string(let text): scalar("string", text)
    case .integer(let number): scalar("integer", String(number))
    case .float(let number): scalar("float", String(number))
    case .boolean(let flag): scalar("bool", flag ? "true" : "false")
    case .offsetDateTime(let dateTime): scalar("datetime", dateTime.description)
    case .localDateTime(let dateTime): scalar("datetime-local", dateTime.description)
    case .localDate(let dateTime): scalar("date-local", dateTime.description)
    case .localTime(let dateTime): scalar("time-local", dateTime.description)
    case .array(let nodes): nodes.map { tagged($0.value) }
    case .table(let table): tagged(table)
    }
  }

  static func tagged(_ table: TOMLTable) -> [String: Any] {
    var object: [String: Any] = [:]
    for entry in table.entries { object[entry.key] = tagged(entry.node.value) }
    return object
  }

  private static func scalar(_ type: String, _ value: String) -> [String: String] {
    ["type": type, "value": value]
  }

  /// Nil when equal, else a description of the first difference.
  static func difference(expected: Any, actual: Any, path: String = "") -> String? {
    if let expectedScalar = scalarParts(expected), let actualScalar = scalarParts(actual) {
      return compareScalars(expectedScalar, actualScalar, path: path)
    }
    if let expectedObject = expected as? [String: Any], let actualObject = actual as? [String: Any],
      scalarParts(expected) == nil, scalarParts(actual) == nil
    {
      let expectedKeys = Set(expectedObject.keys)
      let actualKeys = Set(actualObject.keys)
      if expectedKeys != actualKeys {
        let place = path.isEmpty ? "root" : path
        return "at \(place): expected keys \(expectedKeys.sorted()), found \(actualKeys.sorted())"
      }
      for key in expectedKeys.sorted() {
        if let found = difference(expected: expectedObject[key]!, actual: actualObject[key]!, path: path + "." + key) {
          return found
        }
      }
      return nil
    }
    if let expectedArray = expected as? [Any], let actualArray = actual as? [Any] {
      guard expectedArray.count == actualArray.count else {
        return "at \(path): expected \(expectedArray.count) elements, found \(actualArray.count)"
      }
      for (index, pair) in zip(expectedArray, actualArray).enumerated() {
        if let found = difference(expected: pair.0, actual: pair.1, path: path + "[\(index)]") { return found }
      }
      return nil
    }
    return "at \(path): expected \(expected), found \(actual)"
  }

  private static func scalarParts(_ value: Any) -> (type: String, value: String)? {
    guard let object = value as? [String: Any], object.count == 2,
      let type = object["type"] as? String, let text = object["value"] as? String
    else { return nil }
    return (type, text)
  }

  private static func compareScalars(
    _ expected: (type: String, value: String), _ actual: (type: String, value: String), path: String
  ) -> String? {
    let mismatch = "at \(path): expected \(expected.type) \(expected.value), found \(actual.type) \(actual.value)"
    guard expected.type == actual.type else { return mismatch }
    switch expected.type {
    case "float":
      guard let left = Double(expected.value), let right = Double(actual.value) else { return mismatch }
      return (left.isNaN && right.isNaN) || left == right ? nil : mismatch
    case "datetime", "datetime-local", "date-local", "time-local":
      guard let left = DateTimeKey(expected.value), let right = DateTimeKey(actual.value) else { return mismatch }
      return left == right ? nil : mismatch
    default:
      return expected.value == actual.value ? nil : mismatch
    }
  }
}

/// An RFC 3339 date-time reduced to what "same point in time" means: offset date-times become
/// seconds since the epoch (UTC), local ones keep their fields. Written independently of the parser
/// under test, so the comparison does not trust the code it checks.
private struct DateTimeKey: Equatable {
  var seconds: Int
  var fraction: String
  var hasDate: Bool
  var hasTime: Bool

  init?(_ text: String) {
    let chars = Array(text.uppercased().replacingOccurrences(of: " ", with: "T"))
    func number(_ range: Range<Int>) -> Int? {
      guard range.upperBound <= chars.count else { return nil }
      return Int(String(chars[range]))
    }
    var rest = chars[...]
    var days = 0
    hasDate = chars.count >= 10 && chars[4] == "-"
    if hasDate {
      guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
      days = Self.daysFromCivil(year, month, day)
      rest = chars.count > 10 ? chars[11...] : []
    }
    hasTime = !rest.isEmpty
    seconds = days * 86_400
    fraction = ""
    guard hasTime else { return }
    let time = Array(rest)
    guard time.count >= 8, let hour = Int(String(time[0..<2])), let minute = Int(String(time[3..<5])),
      let second = Int(String(time[6..<8]))
    else { return nil }
    seconds += hour * 3600 + minute * 60 + second
    var index = 8
    if index < time.count && time[index] == "." {
      index += 1
      while index < time.count, time[index].isNumber {
        fraction.append(time[index])
        index += 1
      }
      while fraction.hasSuffix("0") { fraction.removeLast() }
    }
    let offset = String(time[index...])
    if offset == "Z" { return }
    if offset.isEmpty { return }
    let parts = offset.dropFirst().split(separator: ":")
    guard parts.count == 2, let offsetHours = Int(parts[0]), let offsetMinutes = Int(parts[1]) else { return nil }
    let sign = offset.hasPrefix("-") ? -1 : 1
    seconds -= sign * (offsetHours * 3600 + offsetMinutes * 60)
  }

  /// Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic Gregorian calendar.
  private static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
    let shiftedYear = month <= 2 ? year - 1 : year
    let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
    let yearOfEra = shiftedYear - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }
}

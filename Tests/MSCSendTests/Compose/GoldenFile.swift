import Foundation
import Testing

/// Golden files: expected message bytes committed under `Tests/MSCSendTests/Compose/Golden/`
/// (`-text` in .gitattributes, so the CRLFs stay exact). Run the tests with
/// `MSC_SEND_UPDATE_GOLDEN=1` to rewrite them after a deliberate change, then read the diff.
enum GoldenFile {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Golden", isDirectory: true)

  static func check(_ name: String, _ actual: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = directory.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["MSC_SEND_UPDATE_GOLDEN"] == "1" {
      try Data(actual).write(to: url)
      return
    }
    let expected = try #require(
      FileManager.default.contents(atPath: url.path), "missing golden file \(name); run with MSC_SEND_UPDATE_GOLDEN=1",
      sourceLocation: sourceLocation)
    let expectedText = String(decoding: expected, as: UTF8.self)
    let actualText = String(decoding: actual, as: UTF8.self)
    #expect(
      Array(expected) == actual, "\(name) differs:\n\(firstDifference(expectedText, actualText))",
      sourceLocation: sourceLocation)
  }

  /// The first differing line of each, for a readable failure.
  private static func firstDifference(_ expected: String, _ actual: String) -> String {
    let left = expected.components(separatedBy: "\r\n")
    let right = actual.components(separatedBy: "\r\n")
    for index in 0..<max(left.count, right.count) {
      let a = index < left.count ? left[index] : "<end>"
      let b = index < right.count ? right[index] : "<end>"
      if a != b { return "line \(index + 1):\n  expected: \(a.debugDescription)\n  actual:   \(b.debugDescription)" }
    }
    return "(same lines, different line breaks)"
  }
}

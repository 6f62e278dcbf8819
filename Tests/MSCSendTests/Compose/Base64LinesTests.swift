import Foundation
import Testing
@testable import MSCSend

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Deterministic bytes covering every value.
private let sample: [UInt8] = (0..<1_000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) }

@Suite struct Base64LinesTests {
  @Test(arguments: [
    ("", ""),
    ("f", "Zg==\r\n"),
    ("fo", "Zm8=\r\n"),
    ("foo", "Zm9v\r\n"),
    ("foobar", "Zm9vYmFy\r\n"),
    (String(repeating: "a", count: 57), String(repeating: "YWFh", count: 19) + "\r\n"),
    (String(repeating: "a", count: 58), String(repeating: "YWFh", count: 19) + "\r\nYQ==\r\n"),
  ])
  func encodesBase64LinesExactly(_ input: String, _ expected: String) {
    #expect(text(Base64LineEncoder.encode(Array(input.utf8))) == expected)
  }

  @Test(arguments: [1, 2, 3, 5, 7, 13, 56, 57, 58, 100, 999, 1_000, 4_096])
  func chunkedBase64EqualsOneShotAndFoundation(_ chunkSize: Int) {
    var encoder = Base64LineEncoder()
    var output: [UInt8] = []
    var start = 0
    while start < sample.count {
      output += encoder.encode(sample[start..<min(start + chunkSize, sample.count)])
      start += chunkSize
    }
    output += encoder.finish()
    #expect(output == Base64LineEncoder.encode(sample))
    let foundation = Data(sample).base64EncodedString(
      options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
    #expect(text(output) == foundation + "\r\n")
    let lines = text(output).split(separator: "\r\n")
    #expect(lines.dropLast().allSatisfy { $0.count == 76 })
    #expect(lines.last.map { $0.count <= 76 && $0.count % 4 == 0 } == true)
    #expect(Data(base64Encoded: lines.joined()) == Data(sample))
  }

  @Test func customLineLengthIsHonoured() {
    let output = text(Base64LineEncoder.encode(Array(repeating: 0xFF, count: 10), lineLength: 8))
    #expect(output == "////////\r\n/////w==\r\n")
  }
}

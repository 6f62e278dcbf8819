import Foundation

/// Base64 for MIME bodies (RFC 2045 section 6.8): lines of 76 characters, each ending in CRLF, fed
/// chunk by chunk. Bytes that do not fill a whole line are carried to the next chunk, so the output
/// does not depend on how the input was cut. Foundation provides the base64 alphabet itself.
public struct Base64LineEncoder: Sendable {
  /// RFC 2045 section 6.8: encoded lines are no more than 76 characters.
  public static let defaultLineLength = 76

  private let bytesPerLine: Int
  private var carry: [UInt8] = []

  /// `lineLength` must be a positive multiple of 4, so every full line ends on a group boundary.
  public init(lineLength: Int = defaultLineLength) {
    precondition(lineLength > 0 && lineLength % 4 == 0, "base64 line length must be a multiple of 4")
    bytesPerLine = lineLength / 4 * 3
  }

  /// Encodes the next chunk; returns the lines completed so far.
  public mutating func encode(_ chunk: some Sequence<UInt8>) -> [UInt8] {
    carry += chunk
    var output: [UInt8] = []
    var start = 0
    while carry.count - start >= bytesPerLine {
      output += Self.line(carry[start..<start + bytesPerLine])
      start += bytesPerLine
    }
    carry.removeFirst(start)
    return output
  }

  /// Ends the input: returns the last, shorter line (with padding and CRLF), if any.
  public mutating func finish() -> [UInt8] {
    defer { carry = [] }
    return carry.isEmpty ? [] : Self.line(carry[...])
  }

  /// All of `bytes` encoded in one go.
  public static func encode(_ bytes: some Sequence<UInt8>, lineLength: Int = defaultLineLength) -> [UInt8] {
    var encoder = Base64LineEncoder(lineLength: lineLength)
    return encoder.encode(bytes) + encoder.finish()
  }

  private static func line(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
    Array(Data(bytes).base64EncodedString().utf8) + [.carriageReturn, .lineFeed]
  }
}

import Foundation

/// Base64 for MIME bodies (RFC 2045 section 6.8): lines of 76 characters, each ending in CRLF, fed
/// chunk by chunk. Bytes that do not fill a whole line are carried to the next chunk, so the output
/// does not depend on how the input was cut. Foundation provides the base64 alphabet itself.
public struct Base64LineEncoder: Sendable {
  /// RFC 2045 section 6.8: encoded lines are no more than 76 characters.
  public static let defaultLineLength = 76

  private let bytesPerLine: Int
  private let lineLength: Int
  private var carry: [UInt8] = []

  /// `lineLength` must be a positive multiple of 4, so every full line ends on a group boundary.
  public init(lineLength: Int = defaultLineLength) {
    precondition(lineLength > 0 && lineLength % 4 == 0, "base64 line length must be a multiple of 4")
    self.lineLength = lineLength
    bytesPerLine = lineLength / 4 * 3
  }

  /// Encodes the next chunk; returns the lines completed so far.
  public mutating func encode(_ chunk: some Sequence<UInt8>) -> [UInt8] {
    carry += chunk
    let whole = carry.count / bytesPerLine * bytesPerLine
    guard whole > 0 else { return [] }
    let output = lines(carry[..<whole])
    carry.removeFirst(whole)
    return output
  }

  /// Ends the input: returns the last, shorter line (with padding and CRLF), if any.
  public mutating func finish() -> [UInt8] {
    defer { carry = [] }
    return carry.isEmpty ? [] : lines(carry[...])
  }

  /// All of `bytes` encoded in one go.
  public static func encode(_ bytes: some Sequence<UInt8>, lineLength: Int = defaultLineLength) -> [UInt8] {
    var encoder = Base64LineEncoder(lineLength: lineLength)
    return encoder.encode(bytes) + encoder.finish()
  }

  /// The exact length of the encoding of `byteCount` octets, line breaks included, so a message
  /// can announce its size (RFC 1870 SIZE) before a file is read.
  public static func encodedLength(of byteCount: Int, lineLength: Int = defaultLineLength) -> Int {
    let bytesPerLine = lineLength / 4 * 3
    let fullLines = byteCount / bytesPerLine
    let rest = byteCount % bytesPerLine
    return fullLines * (lineLength + 2) + (rest == 0 ? 0 : (rest + 2) / 3 * 4 + 2)
  }

  /// `bytes` encoded in one call (Foundation's encoder is fast on large blocks), then cut into
  /// lines of `lineLength` characters, each ending in CRLF.
  private func lines(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
    let encoded = Array(Data(bytes).base64EncodedData())
    var output: [UInt8] = []
    output.reserveCapacity(encoded.count + (encoded.count / lineLength + 1) * 2)
    var start = 0
    while start < encoded.count {
      let end = min(start + lineLength, encoded.count)
      output += encoded[start..<end]
      output.append(.carriageReturn)
      output.append(.lineFeed)
      start = end
    }
    return output
  }
}

/// Message content that measures itself on the way out: the size and SHA-256 of the last pass
/// that was written completely, i.e. of the exact bytes the server or the outbox got (for the
/// `--json` report). Hashing as the chunks go by keeps a streamed message out of memory.
public struct MeasuredContent: MessageContent {
  /// What the last complete pass produced; nil until one has.
  public final class Measurement {
    public fileprivate(set) var size: Int?
    public fileprivate(set) var sha256: [UInt8]?

    public init() {}
  }

  public let base: any MessageContent
  public let measurement: Measurement

  public init(_ base: any MessageContent, measurement: Measurement = Measurement()) {
    self.base = base
    self.measurement = measurement
  }

  public var byteCount: Int? { base.byteCount }
  public var requiresEightBitMIME: Bool { base.requiresEightBitMIME }
  public var requiresSMTPUTF8: Bool { base.requiresSMTPUTF8 }

  /// Measured into the same `measurement`: whichever form is sent is the one reported.
  public var sevenBitAlternative: (any MessageContent)? {
    base.sevenBitAlternative.map { MeasuredContent($0, measurement: measurement) }
  }

  public func writeChunks(to sink: ([UInt8]) throws -> Void) throws {
    let digest = Crypto.IncrementalDigest(.sha256)
    var size = 0
    try base.writeChunks { chunk in
      digest.update(chunk)
      size += chunk.count
      try sink(chunk)
    }
    measurement.size = size
    measurement.sha256 = digest.finish()
  }
}

/// How a body travels (RFC 2045 section 6.1), as written in `Content-Transfer-Encoding`.
public enum ContentTransferEncoding: String, Sendable, Equatable {
  /// Short lines of US-ASCII without NUL or lone CR or LF: sent as is (RFC 2045 section 2.7).
  case sevenBit = "7bit"
  /// Mostly readable text with the rest escaped (RFC 2045 section 6.7).
  case quotedPrintable = "quoted-printable"
  /// Anything, at 4/3 of its size (RFC 2045 section 6.8): attachments.
  case base64 = "base64"
}

/// What a text body holds, learned chunk by chunk, to choose its charset and transfer encoding
/// without keeping the body in memory.
public struct TextBodyProfile: Sendable, Equatable {
  /// RFC 5322 section 2.1.1: a line is at most 998 octets, excluding its CRLF.
  public static let maximumLineOctets = 998

  public private(set) var isASCII = true
  public private(set) var containsNUL = false
  private var sawLoneCarriageReturn = false
  private var longestFinishedLine = 0
  private var currentLine = 0
  private var pendingCarriageReturn = false

  public init() {}

  public init(_ bytes: some Sequence<UInt8>) {
    scan(bytes)
  }

  public mutating func scan(_ chunk: some Sequence<UInt8>) {
    // Contiguous bytes (a native string's UTF-8, an array) are scanned through a buffer pointer:
    // the generic iterator costs several times more per byte, once per row of a batch.
    let scanned = chunk.withContiguousStorageIfAvailable { buffer in
      var profile = self
      profile.scanBytes(buffer)
      return profile
    }
    if let scanned {
      self = scanned
    } else {
      scanBytes(chunk)
    }
  }

  private mutating func scanBytes(_ chunk: some Sequence<UInt8>) {
    for byte in chunk {
      if pendingCarriageReturn {
        pendingCarriageReturn = false
        if byte == .lineFeed {
          endLine()
          continue
        }
        sawLoneCarriageReturn = true
        currentLine += 1
      }
      switch byte {
      case .carriageReturn: pendingCarriageReturn = true
      case .lineFeed: endLine()
      default:
        if byte >= 0x80 { isASCII = false }
        if byte == 0 { containsNUL = true }
        currentLine += 1
      }
    }
  }

  private mutating func endLine() {
    longestFinishedLine = max(longestFinishedLine, currentLine)
    currentLine = 0
  }

  /// A CR not followed by LF; CRLF and bare LF are both line breaks.
  public var containsLoneCarriageReturn: Bool { sawLoneCarriageReturn || pendingCarriageReturn }

  /// The longest line in octets, line break excluded.
  public var longestLine: Int { max(longestFinishedLine, currentLine) }

  /// `us-ascii` when every byte is ASCII, else `utf-8` (the body is a Swift string, so valid UTF-8).
  public var charset: String { isASCII ? "us-ascii" : "utf-8" }

  /// 7bit when the body can go as it is once its line breaks are CRLF, else quoted-printable.
  public var transferEncoding: ContentTransferEncoding {
    isASCII && !containsNUL && !containsLoneCarriageReturn && longestLine <= Self.maximumLineOctets
      ? .sevenBit : .quotedPrintable
  }
}

/// Turns bare LF line breaks into CRLF (RFC 5322 section 2.3), chunk by chunk; CRLF stays as is,
/// even when a chunk ends between CR and LF.
public struct LineBreakNormalizer: Sendable {
  private var pendingCarriageReturn = false

  public init() {}

  public mutating func normalize(_ chunk: some Sequence<UInt8>) -> [UInt8] {
    var output: [UInt8] = []
    for byte in chunk {
      if pendingCarriageReturn {
        pendingCarriageReturn = false
        output.append(.carriageReturn)
        if byte == .lineFeed {
          output.append(.lineFeed)
          continue
        }
      }
      switch byte {
      case .carriageReturn: pendingCarriageReturn = true
      case .lineFeed: output += [.carriageReturn, .lineFeed]
      default: output.append(byte)
      }
    }
    return output
  }

  public mutating func finish() -> [UInt8] {
    defer { pendingCarriageReturn = false }
    return pendingCarriageReturn ? [.carriageReturn] : []
  }
}

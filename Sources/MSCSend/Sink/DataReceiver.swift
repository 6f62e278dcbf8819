/// Receives the DATA stream on the server side (RFC 5321 section 4.5.2): removes the dot a
/// client doubled at the start of a line, stops at the end-of-data line, and keeps every other
/// octet as it came (CRLF included), so what is stored is exactly what the client meant to send.
///
/// Works on chunks of any size and holds no input back: a line split across reads, even between
/// the `.` and its CRLF, comes out the same as one read. Memory is bounded by `maxSize`: beyond
/// it the content is dropped and only counted, and the transaction is refused at the end.
struct DataReceiver {
  /// RFC 5321 section 4.5.3.1.6: a text line is at most 1000 octets including the CRLF.
  static let maxLineLength = 1000

  let maxSize: Int
  /// The message so far; empty once `exceedsMaxSize`.
  private(set) var content: [UInt8] = []
  /// Octets of the unstuffed message, counted even beyond `maxSize`.
  private(set) var size = 0
  private(set) var exceedsMaxSize = false
  /// A line longer than `maxLineLength` (counted after unstuffing, CRLF included) was seen.
  private(set) var hasOverlongLine = false

  private enum State {
    /// Nothing of the current line seen yet.
    case lineStart
    /// The line began with `.`: stuffing, or the start of the end-of-data line.
    case dot
    /// `.` then CR: one LF more ends the data.
    case dotCR
    /// Inside a line.
    case inLine
  }

  private var state = State.lineStart
  /// The end of data is `CRLF.CRLF` (section 4.1.1.4), never a dot after a bare LF: a server that
  /// took `LF.CRLF` for the end would let a sender smuggle a second message through a relay
  /// that does not (CVE-2023-51766 and its relatives). The DATA command itself counts as a CRLF.
  private var previousLineEndedWithCRLF = true
  private var lineLength = 0
  private var lastByteWasCR = false

  init(maxSize: Int) {
    self.maxSize = maxSize
  }

  /// Consumes octets from the front of `input` until the end-of-data line has been read or the
  /// input is used up. Returns how many octets were consumed (everything after the end-of-data
  /// line belongs to the next command) and whether the data is complete.
  mutating func consume(_ input: ArraySlice<UInt8>) -> (consumed: Int, finished: Bool) {
    let cr = UInt8(ascii: "\r")
    let lf = UInt8(ascii: "\n")
    var index = input.startIndex
    while index < input.endIndex {
      let byte = input[index]
      switch state {
      case .lineStart:
        if byte == UInt8(ascii: ".") {
          state = .dot
          index += 1
        } else {
          state = .inLine
        }
      case .dot:
        if byte == cr {
          state = .dotCR
          index += 1
        } else {
          state = .inLine  // the dot was stuffing: drop it, the line goes on with this octet
        }
      case .dotCR:
        if byte == lf && previousLineEndedWithCRLF {
          index += 1
          return (index - input.startIndex, true)
        }
        // `.` CR then something else: the dot was stuffing, the CR is content.
        append(CollectionOfOne(cr))
        lastByteWasCR = true
        state = .inLine
      case .inLine:
        let newline = input[index...].firstIndex(of: lf)
        let end = newline.map { $0 + 1 } ?? input.endIndex
        append(input[index..<end])
        if let newline {
          previousLineEndedWithCRLF = newline > index ? input[newline - 1] == cr : lastByteWasCR
          if lineLength > Self.maxLineLength { hasOverlongLine = true }
          lineLength = 0
          lastByteWasCR = false
          state = .lineStart
        } else {
          lastByteWasCR = input[end - 1] == cr
          if lineLength > Self.maxLineLength { hasOverlongLine = true }
        }
        index = end
      }
    }
    return (input.count, false)
  }

  private mutating func append<C: Collection<UInt8>>(_ bytes: C) {
    size += bytes.count
    lineLength += bytes.count
    guard !exceedsMaxSize else { return }
    if size > maxSize {
      exceedsMaxSize = true
      content = []
    } else {
      content.append(contentsOf: bytes)
    }
  }
}

import Foundation

/// A file attached to a composed message: sent as base64 (RFC 2045 section 6.8) in a part with
/// `Content-Disposition: attachment` (RFC 2183) naming the file.
public struct MailAttachment: Sendable, Equatable {
  public var file: AttachmentFile
  /// The name the recipient sees: the path's last component unless given.
  public var fileName: String
  public var mediaType: MediaType
  /// For `text/*` files: `us-ascii` or `utf-8` when the content is that, else nil (unknown).
  public var charset: String?

  public init(file: AttachmentFile, fileName: String, mediaType: MediaType, charset: String? = nil) {
    self.file = file
    self.fileName = fileName
    self.mediaType = mediaType
    self.charset = charset
  }

  /// Splits an `--attach` value, `PATH` or `PATH;type=TYPE/SUBTYPE`, into the path and the type
  /// given. Only a trailing `;type=` is special, so other semicolons stay part of the path.
  public static func parseSpecification(
    _ specification: String
  ) throws(ComposeError) -> (path: String, type: MediaType?) {
    try HeaderEncoding.validateValue(specification, header: "--attach")
    guard let marker = specification.range(of: ";type=", options: .backwards) else {
      return (specification, nil)
    }
    let path = String(specification[..<marker.lowerBound])
    guard !path.isEmpty else {
      throw ComposeError(.invalidHeader, "--attach \(ComposeError.visible(specification)) names no file")
    }
    return (path, try MediaType.parse(String(specification[marker.upperBound...])))
  }

  /// Opens `path` (checking it is a readable regular file), takes the type from `type` or the
  /// file name's extension, and for text types reads the file once to tell its charset.
  public static func load(path: String, type: MediaType?) throws(MessageSourceError) -> MailAttachment {
    let file = try AttachmentFile.open(path)
    let fileName = path.split(separator: "/").last.map(String.init) ?? path
    let mediaType = type ?? MediaType.forFileName(fileName)
    var charset: String?
    if mediaType.isText {
      var validator = UTF8Validator()
      do {
        try file.readChunks { validator.scan($0) }
      } catch let error as MessageSourceError {
        throw error
      } catch {
        throw MessageSourceError("cannot read \(path): \(error)")
      }
      charset = validator.isValid ? (validator.isASCII ? "us-ascii" : "utf-8") : nil
    }
    return MailAttachment(file: file, fileName: fileName, mediaType: mediaType, charset: charset)
  }
}

/// Checks UTF-8 well-formedness (RFC 3629 section 4) chunk by chunk: no overlong forms, no
/// surrogates, nothing above U+10FFFF, no sequence cut short at the end.
struct UTF8Validator {
  private(set) var isASCII = true
  private var sawInvalid = false
  /// Continuation bytes still expected, and the allowed range of the next one.
  private var pending = 0
  private var nextLow: UInt8 = 0x80
  private var nextHigh: UInt8 = 0xBF

  var isValid: Bool { !sawInvalid && pending == 0 }

  mutating func scan(_ bytes: [UInt8]) {
    guard !sawInvalid else { return }
    for byte in bytes {
      if pending > 0 {
        guard byte >= nextLow && byte <= nextHigh else {
          sawInvalid = true
          return
        }
        pending -= 1
        nextLow = 0x80
        nextHigh = 0xBF
        continue
      }
      if byte < 0x80 { continue }
      isASCII = false
      switch byte {
      case 0xC2...0xDF: pending = 1
      case 0xE0: (pending, nextLow) = (2, 0xA0)
      case 0xE1...0xEC, 0xEE...0xEF: pending = 2
      case 0xED: (pending, nextHigh) = (2, 0x9F)
      case 0xF0: (pending, nextLow) = (3, 0x90)
      case 0xF1...0xF3: pending = 3
      case 0xF4: (pending, nextHigh) = (3, 0x8F)
      default:
        sawInvalid = true
        return
      }
    }
  }
}

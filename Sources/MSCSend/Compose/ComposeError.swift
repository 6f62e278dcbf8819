/// Why a message could not be composed. Every case is the user's data (an address, a header, a
/// subject), so all of them map to EX_DATAERR (DESIGN.md section 5); `message` is one line that
/// names the offending input with control characters made visible.
public struct ComposeError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// An address or address list does not follow RFC 5322 section 3.4.
    case invalidAddress
    /// CR, LF or NUL in a header value: refused so no one can smuggle in extra header fields.
    case headerInjection
    /// A header name or value that is not well-formed (RFC 5322 section 2.2).
    case invalidHeader
    /// A header field the composer writes itself was also given as an extra header.
    case reservedHeader
  }

  public let kind: Kind
  public let message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }

  /// Every compose error is bad input data.
  public var exitCode: ExitCode { .dataError }

  static func invalidAddress(_ text: String, _ problem: String) -> ComposeError {
    ComposeError(.invalidAddress, "invalid address \(visible(text)): \(problem)")
  }

  static func headerInjection(_ name: String) -> ComposeError {
    ComposeError(
      .headerInjection,
      "header value for \(name) contains a line break (CR or LF): refused to prevent header injection")
  }

  /// `text` in double quotes, with quotes, backslashes and control characters escaped so the
  /// message stays on one line and shows exactly what was given.
  static func visible(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\r": out += "\\r"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default:
        if isControl(scalar) {
          out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  /// C0 controls, DEL and C1 controls: never meaningful in an address or header.
  static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
  }
}

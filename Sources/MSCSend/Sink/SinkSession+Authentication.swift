import Foundation

/// AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN: any credentials are accepted, the user
/// name is recorded. Offered only inside TLS or to a loopback peer, so that a habit of sending
/// passwords in clear is not encouraged even by a capture tool.
extension SinkSession {
  /// AUTH mechanism [initial-response] (RFC 4954 section 4).
  mutating func authenticate(_ argument: String, into output: inout Output) {
    guard helloName != nil && isExtended else { return error(503, "5.5.1 Send EHLO first", into: &output) }
    guard authenticationAllowed else {
      return error(538, "5.7.11 Encryption required for requested authentication mechanism", into: &output)
    }
    guard authenticatedUser == nil else { return error(503, "5.5.1 Already authenticated", into: &output) }
    guard sender == nil else {
      return error(503, "5.5.1 AUTH not permitted during a mail transaction", into: &output)
    }
    let words = argument.split(separator: " ", omittingEmptySubsequences: true)
    guard (1...2).contains(words.count) else {
      return error(501, "5.5.4 Syntax: AUTH mechanism [initial-response]", into: &output)
    }
    let initial = words.count == 2 ? String(words[1]) : nil
    switch words[0].uppercased() {
    case "PLAIN":
      guard let initial else {
        phase = .authPlain
        output.replies += Self.reply(334, "")
        return
      }
      // "=" is an empty initial response (section 4).
      finishPlain(initial == "=" ? "" : initial, into: &output)
    case "LOGIN":
      guard let initial else {
        phase = .authLoginUser
        output.replies += Self.reply(334, "VXNlcm5hbWU6")  // "Username:"
        return
      }
      acceptLoginUser(initial == "=" ? "" : initial, into: &output)
    default:
      error(504, "5.5.4 Unrecognized authentication type", into: &output)
    }
  }

  /// A response line during an AUTH exchange. `*` cancels (section 4).
  mutating func continueAuthentication(_ line: String, into output: inout Output) {
    let current = phase
    phase = .command
    if line == "*" { return error(501, "5.0.0 Authentication cancelled", into: &output) }
    switch current {
    case .authPlain: finishPlain(line, into: &output)
    case .authLoginUser: acceptLoginUser(line, into: &output)
    case .authLoginPassword(let user):
      guard Self.decodeBase64(line) != nil else { return error(501, "5.5.2 Cannot decode response", into: &output) }
      succeed(user: user, into: &output)
    case .command, .data:
      break
    }
  }

  /// PLAIN's message is `authzid NUL authcid NUL passwd` (RFC 4616 section 2).
  private mutating func finishPlain(_ response: String, into output: inout Output) {
    guard let decoded = Self.decodeBase64(response) else {
      return error(501, "5.5.2 Cannot decode response", into: &output)
    }
    let parts = decoded.split(separator: 0, omittingEmptySubsequences: false)
    guard parts.count == 3, !parts[1].isEmpty else {
      return error(501, "5.5.2 Invalid PLAIN response: expected authzid NUL user NUL password", into: &output)
    }
    succeed(user: String(decoding: parts[1], as: UTF8.self), into: &output)
  }

  private mutating func acceptLoginUser(_ response: String, into output: inout Output) {
    guard let decoded = Self.decodeBase64(response) else {
      return error(501, "5.5.2 Cannot decode response", into: &output)
    }
    phase = .authLoginPassword(user: String(decoding: decoded, as: UTF8.self))
    output.replies += Self.reply(334, "UGFzc3dvcmQ6")  // "Password:"
  }

  private mutating func succeed(user: String, into output: inout Output) {
    // Recorded for the report only; a hostile name cannot grow it without bound.
    authenticatedUser = String(user.unicodeScalars.prefix(256).map(Character.init))
    output.replies += Self.reply(235, "2.7.0 Authentication successful")
  }

  /// Strict base64 (RFC 4648 section 4); the empty string is an empty response.
  static func decodeBase64(_ text: String) -> [UInt8]? {
    if text.isEmpty { return [] }
    guard let data = Data(base64Encoded: text) else { return nil }
    return Array(data)
  }
}

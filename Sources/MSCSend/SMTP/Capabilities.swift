/// The EHLO response's service extensions (RFC 5321 section 4.1.1.1). Forgotten after STARTTLS
/// (RFC 3207 section 4.2): a new value comes from the EHLO sent over TLS.
public struct Capabilities: Sendable, Equatable {
  /// Keyword (upper-cased) to its parameters.
  public private(set) var extensions: [String: [String]] = [:]
  /// Whether the server answered EHLO (false after a HELO fallback: no extensions at all).
  public let isExtended: Bool

  public init(ehloReply: SMTPReply) {
    isExtended = true
    for line in ehloReply.lines.dropFirst() {
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      guard var keyword = words.first?.uppercased() else { continue }
      var parameters = Array(words.dropFirst())
      // Pre-RFC servers advertise `AUTH=LOGIN PLAIN`.
      if keyword.hasPrefix("AUTH=") {
        parameters.insert(String(keyword.dropFirst(5)), at: 0)
        keyword = "AUTH"
        extensions[keyword, default: []].append(contentsOf: parameters.map { $0.uppercased() })
        continue
      }
      if keyword == "AUTH" { parameters = parameters.map { $0.uppercased() } }
      if keyword == "AUTH", let existing = extensions[keyword] {
        extensions[keyword] = existing + parameters
      } else {
        extensions[keyword] = parameters
      }
    }
  }

  /// After HELO: no extensions.
  public init() { isExtended = false }

  public func supports(_ keyword: String) -> Bool { extensions[keyword.uppercased()] != nil }

  /// SIZE's limit in octets (RFC 1870); nil when not advertised or 0 (no fixed limit).
  public var maximumSize: Int? {
    guard let value = extensions["SIZE"]?.first, let size = Int(value), size > 0 else { return nil }
    return size
  }

  /// AUTH mechanisms offered (RFC 4954), upper-case, in the server's order, without duplicates.
  public var authMechanisms: [String] {
    var seen = Set<String>()
    return (extensions["AUTH"] ?? []).filter { seen.insert($0).inserted }
  }

  public var pipelining: Bool { supports("PIPELINING") }
  public var startTLS: Bool { supports("STARTTLS") }
  public var eightBitMIME: Bool { supports("8BITMIME") }
  public var smtpUTF8: Bool { supports("SMTPUTF8") }
  public var dsn: Bool { supports("DSN") }
  public var enhancedStatusCodes: Bool { supports("ENHANCEDSTATUSCODES") }
}

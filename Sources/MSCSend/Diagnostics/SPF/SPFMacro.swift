import Foundation

/// What the macros of RFC 7208 section 7 expand to, for one evaluation.
public struct SPFMacroContext: Sendable {
  public var ip: IPAddress
  /// The sender address (`<local>@<domain>`); a bare domain means `postmaster@domain`.
  public var sender: String
  /// The domain being evaluated (changes with include and redirect).
  public var domain: String
  /// The HELO/EHLO name.
  public var helo: String

  public init(ip: IPAddress, sender: String, domain: String, helo: String) {
    self.ip = ip
    self.sender = sender
    self.domain = domain
    self.helo = helo
  }

  var localPart: String {
    guard let at = sender.lastIndex(of: "@") else { return "postmaster" }
    let local = sender[..<at]
    return local.isEmpty ? "postmaster" : String(local)
  }

  var senderDomain: String {
    guard let at = sender.lastIndex(of: "@") else { return sender }
    return String(sender[sender.index(after: at)...])
  }
}

/// Macro expansion (RFC 7208 section 7). Supported letters: `s l o d i h v`, and `c r t` in
/// `exp` text only (as the RFC allows); upper case URL-encodes the value. Transformers (a digit
/// count, `r` to reverse) and delimiters `. - + , / _ =` work as section 7.3 says. `%{p}` (the
/// validated PTR name) is not supported: it needs the deprecated PTR walk, and evaluation stops
/// with a permerror that says so.
public enum SPFMacro {
  /// Checks the macro syntax only (section 4.6: any syntax error anywhere is a permerror).
  public static func validate(_ text: String, allowingExplanationLetters: Bool) throws(SPFError) {
    _ = try expand(text, context: nil, explanation: allowingExplanationLetters)
  }

  public static func expand(_ text: String, context: SPFMacroContext, explanation: Bool = false) throws(SPFError)
    -> String
  {
    try expand(text, context: Optional(context), explanation: explanation)
  }

  private static func expand(_ text: String, context: SPFMacroContext?, explanation: Bool) throws(SPFError) -> String {
    var out = ""
    var characters = Substring(text)
    while let first = characters.first {
      characters = characters.dropFirst()
      guard first == "%" else {
        guard first.isASCII, let value = first.asciiValue,
          value >= 0x21 && value <= 0x7e || explanation && value == 0x20
        else { throw SPFError("invalid character \(first.debugDescription) in \"\(text)\"") }
        out.append(first)
        continue
      }
      guard let next = characters.first else { throw SPFError("\"\(text)\" ends with a lone %") }
      characters = characters.dropFirst()
      switch next {
      case "%": out += "%"
      case "_": out += " "
      case "-": out += "%20"
      case "{":
        guard let close = characters.firstIndex(of: "}") else { throw SPFError("\"\(text)\": unclosed %{") }
        out += try macro(characters[..<close], in: text, context: context, explanation: explanation)
        characters = characters[characters.index(after: close)...]
      default:
        throw SPFError("\"\(text)\": % must be followed by {, %, _ or - (write %% for a percent sign)")
      }
    }
    return out
  }

  /// One `%{letter transformers delimiters}`.
  private static func macro(_ body: Substring, in text: String, context: SPFMacroContext?, explanation: Bool)
    throws(SPFError) -> String
  {
    guard let letter = body.first, letter.isASCII, letter.isLetter else {
      throw SPFError("\"\(text)\": %{\(body)} has no macro letter")
    }
    var rest = body.dropFirst()
    let digits = rest.prefix { $0.isASCIIDigit }
    rest = rest.dropFirst(digits.count)
    var count: Int?
    if !digits.isEmpty {
      guard digits.count <= 3, let value = Int(digits), value > 0 else {
        throw SPFError("\"\(text)\": %{\(body)}: the label count must be 1 or more")
      }
      count = value
    }
    let reverse = rest.first == "r" || rest.first == "R"
    if reverse { rest = rest.dropFirst() }
    guard rest.allSatisfy({ ".-+,/_=".contains($0) }) else {
      throw SPFError("\"\(text)\": %{\(body)}: invalid delimiter")
    }
    let lower = Character(letter.lowercased())
    switch lower {
    case "s", "l", "o", "d", "i", "h", "v": break
    case "c", "r", "t":
      guard explanation else { throw SPFError("\"\(text)\": %{\(letter)} is allowed only in exp= text") }
    case "p":
      throw SPFError("\"\(text)\": the %{p} macro is not supported by msc-send (it needs the deprecated PTR lookup)")
    default:
      throw SPFError("\"\(text)\": unknown macro letter %{\(letter)}")
    }
    guard let context else { return "" }
    var value = raw(lower, context: context)
    let delimiters = rest.isEmpty ? Set<Character>(["."]) : Set(rest)
    var parts = value.split(omittingEmptySubsequences: false, whereSeparator: { delimiters.contains($0) }).map(
      String.init)
    if reverse { parts.reverse() }
    if let count, count < parts.count { parts = Array(parts.suffix(count)) }
    value = parts.joined(separator: ".")
    if letter.isUppercase {
      // Section 7.3: upper-case macros are URL-encoded (RFC 3986 unreserved characters stay).
      var allowed = CharacterSet.alphanumerics
      allowed.insert(charactersIn: "-._~")
      value = value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
    return value
  }

  private static func raw(_ letter: Character, context: SPFMacroContext) -> String {
    switch letter {
    case "s": "\(context.localPart)@\(context.senderDomain)"
    case "l": context.localPart
    case "o": context.senderDomain
    case "d": context.domain
    case "i": context.ip.macroForm
    case "h": context.helo
    case "v": context.ip.isIPv4 ? "in-addr" : "ip6"
    case "c": context.ip.description
    case "r": context.helo
    case "t": String(Int(Date().timeIntervalSince1970))
    default: ""
    }
  }

  /// A domain from an expanded domain-spec, shortened from the left to 253 characters by whole
  /// labels (section 7.3) and without a trailing dot.
  public static func truncatedDomain(_ expanded: String) -> String {
    var domain = expanded.hasSuffix(".") ? String(expanded.dropLast()) : expanded
    while domain.count > 253, let dot = domain.firstIndex(of: ".") {
      domain = String(domain[domain.index(after: dot)...])
    }
    return domain
  }
}

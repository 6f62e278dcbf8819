import Glibc

/// The RFC 5322 section 3.4 grammar for one mailbox, with the RFC 5321 section 4.1.2 domain rules
/// (letters, digits, hyphens) because the same address goes into the SMTP envelope, and the
/// RFC 5321 section 4.5.3.1 size limits. Non-ASCII is accepted where RFC 6532 allows it. Errors
/// report the first problem found, naming the whole input.
struct AddressParser {
  let text: String
  private let scalars: [Unicode.Scalar]

  static let maximumLocalPartOctets = 64
  static let maximumAddressOctets = 254
  static let maximumLabelOctets = 63

  init(_ text: String) {
    self.text = text
    self.scalars = Array(text.unicodeScalars)
  }

  private func failure(_ problem: String) -> ComposeError { ComposeError.invalidAddress(text, problem) }

  // MARK: Mailbox

  func parseMailbox() throws(ComposeError) -> Mailbox {
    let input = try trimmedInput()
    var inQuotes = false
    var escaped = false
    var open: Int?
    var close: Int?
    var sawClose = false
    for (index, scalar) in input.enumerated() {
      if escaped {
        escaped = false
      } else if inQuotes {
        if scalar == "\\" { escaped = true } else if scalar == "\"" { inQuotes = false }
      } else if scalar == "\"" {
        inQuotes = true
      } else if scalar == "<" && open == nil {
        open = index
      } else if scalar == ">" {
        sawClose = true
        if open != nil && close == nil { close = index }
      }
    }
    guard let open else {
      if inQuotes { throw failure("unbalanced quotes") }
      if sawClose { throw failure("unbalanced \">\"") }
      let spec = try parseAddressSpecification(input[...])
      return Mailbox(displayName: nil, localPart: spec.localPart, domain: spec.domain)
    }
    guard let close else { throw failure("unbalanced \"<\"") }
    if input[(close + 1)...].contains(where: { !Self.isWhitespace($0) }) {
      throw failure("unexpected text after \">\"")
    }
    let name = try parseDisplayName(input[..<open])
    let inner = Self.trimmed(input[(open + 1)..<close])
    if inner.isEmpty { throw failure("empty address inside \"<>\"") }
    let spec = try parseAddressSpecification(inner)
    return Mailbox(displayName: name, localPart: spec.localPart, domain: spec.domain)
  }

  /// A bare `addr-spec`, for callers that hold the display name separately.
  func parseAddressOnly() throws(ComposeError) -> (localPart: String, domain: String) {
    try parseAddressSpecification(try trimmedInput()[...])
  }

  private func trimmedInput() throws(ComposeError) -> [Unicode.Scalar] {
    if let control = scalars.first(where: { ComposeError.isControl($0) && $0 != "\t" }) {
      throw failure(Self.controlProblem(control))
    }
    let input = Self.trimmed(scalars[...])
    if input.isEmpty { throw failure("empty") }
    return Array(input)
  }

  static func controlProblem(_ control: Unicode.Scalar) -> String {
    switch control {
    case "\r", "\n": "contains a line break (CR or LF)"
    case "\0": "contains a NUL character"
    default: "contains the control character U+" + String(control.value, radix: 16, uppercase: true).leftPadded(to: 4)
    }
  }

  // MARK: Display name

  /// RFC 5322 section 3.2.5 `phrase`, leniently allowing "." (obs-phrase, as in `John Q. Public`).
  /// Words are joined by single spaces; encoded words in atoms are decoded (RFC 2047 section 6.2).
  private func parseDisplayName(_ input: ArraySlice<Unicode.Scalar>) throws(ComposeError) -> String? {
    var words: [(text: String, isEncodedWord: Bool, spaceBefore: Bool)] = []
    var index = input.startIndex
    var spaceBefore = false
    while index < input.endIndex {
      let scalar = input[index]
      if Self.isWhitespace(scalar) {
        spaceBefore = true
        index += 1
      } else if scalar == "\"" {
        let (content, end) = try quotedString(input, from: index)
        words.append((content, false, spaceBefore))
        index = end
        spaceBefore = false
      } else {
        var atom = ""
        while index < input.endIndex, !Self.isWhitespace(input[index]), input[index] != "\"" {
          let character = input[index]
          guard Self.isAtext(character) || character == "." || character.value >= 0x80 else {
            throw failure("display name contains \(Self.describe(character)); put the name in quotes")
          }
          atom.unicodeScalars.append(character)
          index += 1
        }
        let decoded = HeaderEncoding.decode(atom)
        let isEncodedWord = decoded != atom && atom.hasPrefix("=?") && atom.hasSuffix("?=")
        words.append((isEncodedWord ? decoded : atom, isEncodedWord, spaceBefore))
        spaceBefore = false
      }
    }
    var name = ""
    for (position, word) in words.enumerated() {
      let joinsEncoded = position > 0 && word.isEncodedWord && words[position - 1].isEncodedWord
      if word.spaceBefore && position > 0 && !joinsEncoded { name += " " }
      name += word.text
    }
    if let control = name.unicodeScalars.first(where: { ComposeError.isControl($0) && $0 != "\t" }) {
      throw failure("display name " + Self.controlProblem(control))
    }
    let collapsed = Self.collapsingWhitespace(name)
    return collapsed.isEmpty ? nil : collapsed
  }

  /// A quoted-string starting at `start` (RFC 5322 section 3.2.4): its unescaped content and the
  /// index after the closing quote.
  private func quotedString(
    _ input: ArraySlice<Unicode.Scalar>, from start: Int
  ) throws(ComposeError) -> (content: String, end: Int) {
    var content = ""
    var index = start + 1
    while index < input.endIndex {
      let scalar = input[index]
      if scalar == "\"" { return (content, index + 1) }
      if scalar == "\\" {
        index += 1
        guard index < input.endIndex else { break }
      }
      content.unicodeScalars.append(input[index] == "\t" ? " " : input[index])
      index += 1
    }
    throw failure("unbalanced quotes")
  }

  // MARK: addr-spec

  private func parseAddressSpecification(
    _ input: ArraySlice<Unicode.Scalar>
  ) throws(ComposeError) -> (localPart: String, domain: String) {
    let localPart: String
    let domainStart: Int
    if input.first == "\"" {
      let (content, end) = try quotedString(input, from: input.startIndex)
      guard end < input.endIndex else { throw failure("missing \"@\"") }
      guard input[end] == "@" else { throw failure("unexpected text after the quoted local part") }
      if content.isEmpty { throw failure("missing local part") }
      localPart = Self.isDotAtom(content) ? content : Self.quoted(content)
      domainStart = end + 1
    } else {
      guard let at = input.firstIndex(of: "@") else {
        if input.contains(where: Self.isWhitespace) {
          throw failure("unexpected space; write a display name as Name <address>")
        }
        throw failure("missing \"@\"")
      }
      localPart = try dotAtom(input[input.startIndex..<at], part: "local part")
      domainStart = at + 1
    }
    let domain = try parseDomain(input[domainStart...])
    let localOctets = localPart.utf8.count
    if localOctets > Self.maximumLocalPartOctets {
      throw failure("local part is \(localOctets) octets long; the limit is \(Self.maximumLocalPartOctets)")
    }
    let addressOctets = localOctets + 1 + domain.utf8.count
    if addressOctets > Self.maximumAddressOctets {
      throw failure("address is \(addressOctets) octets long; the limit is \(Self.maximumAddressOctets)")
    }
    return (localPart, domain)
  }

  /// RFC 5322 section 3.2.3 `dot-atom-text` (with RFC 6532 non-ASCII).
  private func dotAtom(_ input: ArraySlice<Unicode.Scalar>, part: String) throws(ComposeError) -> String {
    if input.isEmpty { throw failure("missing \(part)") }
    if let bad = input.first(where: { !Self.isAtext($0) && $0 != "." && $0.value < 0x80 }) {
      if Self.isWhitespace(bad) { throw failure("unexpected space; write a display name as Name <address>") }
      throw failure("\(part) contains \(Self.describe(bad))")
    }
    let text = String(String.UnicodeScalarView(input))
    if text.hasPrefix(".") { throw failure("\(part) starts with \".\"") }
    if text.hasSuffix(".") { throw failure("\(part) ends with \".\"") }
    if text.contains("..") { throw failure("\(part) contains consecutive dots") }
    return text
  }

  /// A host name (RFC 5321 section 4.1.2 `Domain`, labels of letters, digits and inner hyphens,
  /// or non-ASCII labels) or an address literal (section 4.1.3).
  private func parseDomain(_ input: ArraySlice<Unicode.Scalar>) throws(ComposeError) -> String {
    if input.isEmpty { throw failure("missing domain") }
    if input.contains("@") { throw failure("more than one \"@\"") }
    let text = String(String.UnicodeScalarView(input))
    if input.first == "[" {
      guard input.last == "]", input.count >= 2 else { throw failure("unbalanced \"[\"") }
      let literal = String(text.dropFirst().dropLast())
      let isIPv6 = literal.lowercased().hasPrefix("ipv6:") && Self.isAddress(String(literal.dropFirst(5)), AF_INET6)
      guard isIPv6 || (Self.isDottedQuad(literal) && Self.isAddress(literal, AF_INET)) else {
        throw failure("domain literal \(text) is neither an IPv4 address nor IPv6:address")
      }
      return text
    }
    if let bad = input.first(where: { !Self.isLetterDigitHyphen($0) && $0 != "." && $0.value < 0x80 }) {
      if bad == "]" { throw failure("unbalanced \"]\"") }
      throw failure("domain contains \(Self.describe(bad))")
    }
    if text.hasPrefix(".") { throw failure("domain starts with \".\"") }
    if text.hasSuffix(".") { throw failure("domain ends with \".\"") }
    if text.contains("..") { throw failure("domain contains consecutive dots") }
    for label in text.split(separator: ".") {
      if label.hasPrefix("-") || label.hasSuffix("-") {
        throw failure("domain label \"\(label)\" starts or ends with \"-\"")
      }
      if label.utf8.count > Self.maximumLabelOctets {
        throw failure("domain label is longer than \(Self.maximumLabelOctets) octets")
      }
    }
    return text
  }

  private static func isDottedQuad(_ text: String) -> Bool {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) }
  }

  private static func isAddress(_ text: String, _ family: Int32) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 16)
    return inet_pton(family, text, &buffer) == 1
  }

  // MARK: Lists

  /// Splits at commas outside quotes, angle brackets and domain literals.
  static func splitList(_ text: String) -> [String] {
    var elements: [String] = []
    var current = ""
    var inQuotes = false
    var escaped = false
    var angleDepth = 0
    var bracketDepth = 0
    for scalar in text.unicodeScalars {
      if escaped {
        escaped = false
      } else if inQuotes {
        if scalar == "\\" { escaped = true } else if scalar == "\"" { inQuotes = false }
      } else {
        switch scalar {
        case "\"": inQuotes = true
        case "<": angleDepth += 1
        case ">": angleDepth = max(0, angleDepth - 1)
        case "[": bracketDepth += 1
        case "]": bracketDepth = max(0, bracketDepth - 1)
        case "," where angleDepth == 0 && bracketDepth == 0:
          elements.append(current)
          current = ""
          continue
        default: break
        }
      }
      current.unicodeScalars.append(scalar)
    }
    elements.append(current)
    return elements
  }

  // MARK: Characters

  /// RFC 5322 section 3.2.3 `atext`.
  static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "A"..."Z", "a"..."z", "0"..."9": true
    case "!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?", "^", "_", "`", "{", "|", "}", "~": true
    default: false
    }
  }

  static func isDotAtom(_ text: String) -> Bool {
    !text.isEmpty && !text.hasPrefix(".") && !text.hasSuffix(".") && !text.contains("..")
      && text.unicodeScalars.allSatisfy { isAtext($0) || $0 == "." || $0.value >= 0x80 }
  }

  private static func isLetterDigitHyphen(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "A"..."Z", "a"..."z", "0"..."9", "-": true
    default: false
    }
  }

  static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" }

  static func isBlank(_ text: String) -> Bool { text.unicodeScalars.allSatisfy(isWhitespace) }

  private static func quoted(_ content: String) -> String {
    var out = "\""
    for scalar in content.unicodeScalars {
      if scalar == "\"" || scalar == "\\" { out += "\\" }
      out.unicodeScalars.append(scalar)
    }
    return out + "\""
  }

  private static func describe(_ scalar: Unicode.Scalar) -> String {
    isWhitespace(scalar) ? "a space" : ComposeError.visible(String(scalar))
  }

  private static func trimmed(_ input: ArraySlice<Unicode.Scalar>) -> ArraySlice<Unicode.Scalar> {
    var slice = input
    while let first = slice.first, isWhitespace(first) { slice = slice.dropFirst() }
    while let last = slice.last, isWhitespace(last) { slice = slice.dropLast() }
    return slice
  }

  /// Tabs become spaces, runs of whitespace one space, ends trimmed.
  static func collapsingWhitespace(_ text: String) -> String {
    text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
  }
}

/// One mailbox (RFC 5322 section 3.4): an optional display name and an address. Values only come
/// from the validating `parse`, `parseList` or `init(displayName:address:)`, so a mailbox never
/// holds a control character and can be written into a header without further checks.
public struct Mailbox: Sendable, Equatable, CustomStringConvertible {
  /// The name as a person reads it: unquoted, unescaped, encoded words decoded; nil when absent.
  public let displayName: String?
  /// The local part as it goes on the wire: a dot-atom, or a quoted-string (quotes included) only
  /// when a dot-atom cannot express it (RFC 5321 section 4.1.2 asks for the simplest form).
  public let localPart: String
  /// A host name (possibly non-ASCII) or an address literal such as `[192.0.2.1]`.
  public let domain: String

  init(displayName: String?, localPart: String, domain: String) {
    self.displayName = displayName
    self.localPart = localPart
    self.domain = domain
  }

  /// A mailbox from a display name and a bare address (`addr-spec`), both validated like `parse`.
  public init(displayName: String?, address: String) throws(ComposeError) {
    let spec = try AddressParser(address).parseAddressOnly()
    var name: String?
    if let displayName {
      if let control = displayName.unicodeScalars.first(where: { ComposeError.isControl($0) && $0 != "\t" }) {
        throw ComposeError.invalidAddress(displayName, AddressParser.controlProblem(control))
      }
      let trimmed = AddressParser.collapsingWhitespace(displayName)
      name = trimmed.isEmpty ? nil : trimmed
    }
    self.init(displayName: name, localPart: spec.localPart, domain: spec.domain)
  }

  /// `local-part@domain`, as used in the SMTP envelope (`MAIL FROM:<...>`, `RCPT TO:<...>`).
  public var address: String { localPart + "@" + domain }

  /// True when the address is non-ASCII: it can only travel to a server offering SMTPUTF8
  /// (RFC 6531), and header fields carrying it are UTF-8 (RFC 6532).
  public var requiresSMTPUTF8: Bool { !address.utf8.allSatisfy { $0 < 0x80 } }

  /// Parses one mailbox: `addr-spec`, `Name <addr-spec>`, `"Quoted, Name" <addr-spec>` or
  /// `<addr-spec>` (RFC 5322 section 3.4). Encoded words in an unquoted display name are decoded.
  /// Errors name the input and the first problem, e.g. `invalid address "bob@": missing domain`.
  public static func parse(_ text: String) throws(ComposeError) -> Mailbox {
    try AddressParser(text).parseMailbox()
  }

  /// Parses a comma-separated list (RFC 5322 section 3.4 `mailbox-list`); commas inside quotes,
  /// angle brackets and domain literals do not separate. Empty elements are skipped; a list with
  /// no mailbox at all is an error. Group syntax (`name: a@b;`) is not supported.
  public static func parseList(_ text: String) throws(ComposeError) -> [Mailbox] {
    var mailboxes: [Mailbox] = []
    for element in AddressParser.splitList(text) where !AddressParser.isBlank(element) {
      mailboxes.append(try parse(element))
    }
    if mailboxes.isEmpty { throw ComposeError.invalidAddress(text, "no address given") }
    return mailboxes
  }

  /// The mailbox as written in a header field, on one line: the display name as atoms when it is
  /// plain ASCII words, quoted when it holds other ASCII (`"Doe, Jane" <jane@example.com>`), and
  /// as RFC 2047 encoded words when non-ASCII (RFC 2047 section 5 (3)). The address itself is
  /// never encoded (UTF-8 per RFC 6532 when `requiresSMTPUTF8`).
  public var headerForm: String {
    String(HeaderFolder.unfolded(headerTokens(suffix: "")).dropFirst())
  }

  /// For people and logs: `Name <address>` with the name unencoded, quoted when it must be.
  public var description: String {
    guard let displayName else { return address }
    switch Self.displayNameForm(displayName, allowUTF8: true) {
    case .atoms, .encoded: return displayName + " <" + address + ">"
    case .quoted(let quoted): return quoted + " <" + address + ">"
    }
  }

  /// Pieces for `HeaderFolder`; `suffix` (a comma in lists) is glued to the address.
  func headerTokens(suffix: String) -> [HeaderToken] {
    guard let displayName else { return [HeaderToken(separator: " ", text: address + suffix, isEncoded: false)] }
    var tokens: [HeaderToken]
    switch Self.displayNameForm(displayName, allowUTF8: false) {
    case .atoms(let words): tokens = words.map { HeaderToken(separator: " ", text: $0, isEncoded: false) }
    case .quoted(let quoted): tokens = [HeaderToken(separator: " ", text: quoted, isEncoded: false)]
    case .encoded: tokens = [HeaderToken(separator: " ", text: displayName, isEncoded: true)]
    }
    tokens.append(HeaderToken(separator: " ", text: "<" + address + ">" + suffix, isEncoded: false))
    for index in tokens.indices.dropFirst() { tokens[index].startsGroup = false }
    return tokens
  }

  enum DisplayNameForm: Equatable {
    case atoms([String])
    case quoted(String)
    case encoded
  }

  /// RFC 5322 section 3.2.5 `phrase`: words of atext need no quotes; any other printable ASCII is a
  /// quoted-string; non-ASCII needs encoded words unless UTF-8 is allowed (RFC 6532). Text that
  /// looks like an encoded word is quoted so no reader decodes it (RFC 2047 section 5).
  static func displayNameForm(_ name: String, allowUTF8: Bool) -> DisplayNameForm {
    let isASCII = name.utf8.allSatisfy { $0 < 0x80 }
    if !isASCII && !allowUTF8 { return .encoded }
    let words = name.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    let isAtoms = words.allSatisfy { word in
      !word.isEmpty && word.unicodeScalars.allSatisfy { AddressParser.isAtext($0) || $0.value >= 0x80 }
    }
    if isAtoms && !name.looksLikeEncodedWord { return .atoms(words) }
    var quoted = "\""
    for character in name {
      if character == "\"" || character == "\\" { quoted.append("\\") }
      quoted.append(character)
    }
    return .quoted(quoted + "\"")
  }
}

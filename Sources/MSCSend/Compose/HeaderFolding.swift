/// A piece of a header value as the folder sees it: `separator` is the whitespace before it (a
/// place where the field may be folded; empty means glued to what precedes), `text` is either
/// written as is or, when `isEncoded`, carried as RFC 2047 encoded words that the folder may split.
/// Tokens with `startsGroup` false belong with the token before them (the parts of one mailbox):
/// the folder moves a whole group to a new line when that keeps it together.
struct HeaderToken: Equatable {
  var separator: String
  var text: String
  var isEncoded: Bool
  var startsGroup = true
}

/// Lays a header field out in lines (RFC 5322 section 2.2.3): a fold is a CRLF inserted before
/// existing whitespace, so unfolding gives back the value unchanged; lines stay within 78
/// characters where whitespace allows and must stay within 998 octets. Encoded words are never
/// split; each is sized to what is left of its line, at most 75 characters (RFC 2047 section 2).
enum HeaderFolder {
  static let preferredLineLength = 78
  static let maximumLineLength = 998
  /// Below this many free columns an encoded word goes to the next line rather than carrying a
  /// character or two.
  static let smallestUsefulWord = 20

  static func fold(name: String, tokens: [HeaderToken]) throws(ComposeError) -> String {
    var lines: [String] = []
    var line = name + ":"
    var lineLength = line.utf8.count

    func startLine() {
      lines.append(line)
      line = ""
      lineLength = 0
    }

    let groupLengths = groupLengths(tokens)
    for (index, token) in tokens.enumerated() {
      let canBreak = index > 0 && lineLength > 0 && !token.separator.isEmpty
      if canBreak, let groupLength = groupLengths[index], lineLength + groupLength > preferredLineLength,
        groupLength <= preferredLineLength
      {
        startLine()
      }
      if !token.isEncoded {
        let piece = token.separator + token.text
        let pieceLength = piece.utf8.count
        if canBreak, lineLength > 0, lineLength + pieceLength > preferredLineLength {
          startLine()
        }
        line += piece
        lineLength += pieceLength
        continue
      }
      let encoding = HeaderEncoding.preferredEncoding(for: token.text)
      let units = HeaderEncoding.encodingUnits(token.text, encoding: encoding)
      var separator = token.separator.isEmpty ? " " : token.separator
      var start = 0
      var onFreshLine = false
      while start < units.count {
        let room = preferredLineLength - lineLength - separator.utf8.count
        let length = onFreshLine ? max(room, HeaderEncoding.maximumEncodedWordLength) : room
        if length >= smallestUsefulWord,
          let (word, end) = HeaderEncoding.encodedWord(
            units, from: start, encoding: encoding,
            maximumLength: min(length, HeaderEncoding.maximumEncodedWordLength))
        {
          line += separator + word
          lineLength += separator.utf8.count + word.utf8.count
          start = end
          separator = " "
          onFreshLine = false
        } else {
          startLine()
          onFreshLine = true
        }
      }
    }
    lines.append(line)
    if lines.contains(where: { $0.utf8.count > maximumLineLength }) {
      throw ComposeError(
        .invalidHeader,
        "header field \(name) has a line longer than \(maximumLineLength) octets that cannot be folded")
    }
    return lines.joined(separator: "\r\n") + "\r\n"
  }

  /// For each token starting a group, the length of the whole group on one line.
  private static func groupLengths(_ tokens: [HeaderToken]) -> [Int: Int] {
    var lengths: [Int: Int] = [:]
    var groupStart = 0
    for (index, token) in tokens.enumerated() {
      if token.startsGroup { groupStart = index }
      lengths[groupStart, default: 0] += unfolded([token]).utf8.count
    }
    return lengths
  }

  /// The tokens on one line, encoded words at their largest: for a one-line rendering.
  static func unfolded(_ tokens: [HeaderToken]) -> String {
    var out = ""
    for token in tokens {
      out += token.separator
      out += token.isEncoded ? HeaderEncoding.encodedWords(token.text).joined(separator: " ") : token.text
    }
    return out
  }

  /// Unstructured text (RFC 5322 section 3.2.5, e.g. Subject) split at whitespace. Words that need
  /// it (non-ASCII, looking like an encoded word themselves, or too long for any line) are
  /// encoded; a run of such words becomes one encoded span with its inner whitespace inside, since
  /// whitespace between adjacent encoded words is dropped by readers (RFC 2047 section 6.2). The
  /// other words stay readable.
  static func unstructuredTokens(_ value: String, nameLength: Int) -> [HeaderToken] {
    var pairs: [(separator: String, word: String)] = []
    var separator = ""
    var word = ""
    for character in value {
      if character == " " || character == "\t" {
        if !word.isEmpty {
          pairs.append((separator, word))
          separator = ""
          word = ""
        }
        separator.append(character)
      } else {
        word.append(character)
      }
    }
    if !word.isEmpty {
      pairs.append((separator, word))
    } else if !separator.isEmpty {
      if pairs.isEmpty { pairs.append(("", separator)) } else { pairs[pairs.count - 1].word += separator }
    }
    var tokens: [HeaderToken] = []
    for (index, pair) in pairs.enumerated() {
      let separator = index == 0 ? " " + pair.separator : pair.separator
      let needsEncoding =
        !pair.word.utf8.allSatisfy { $0 < 0x80 } || pair.word.looksLikeEncodedWord
        || nameLength + 1 + separator.utf8.count + pair.word.utf8.count > maximumLineLength
      if needsEncoding, let last = tokens.last, last.isEncoded {
        tokens[tokens.count - 1].text += separator + pair.word
      } else if needsEncoding {
        // One space stays a fold point; the rest of a long run travels inside the encoded word, so
        // no run of whitespace can push a line past its limit.
        tokens.append(HeaderToken(separator: " ", text: String(separator.dropFirst()) + pair.word, isEncoded: true))
      } else {
        tokens.append(HeaderToken(separator: separator, text: pair.word, isEncoded: false))
      }
    }
    return tokens
  }
}

extension HeaderEncoding {
  /// A complete unstructured header field (RFC 5322 section 3.2.5), e.g. Subject or an X- field:
  /// validated, non-ASCII words encoded (RFC 2047 section 5 (1)), folded, ending with CRLF.
  /// ASCII text stays readable and is only folded.
  public static func unstructuredField(name: String, value: String) throws(ComposeError) -> String {
    try validateName(name)
    try validateValue(value, header: name)
    return try HeaderFolder.fold(
      name: name, tokens: HeaderFolder.unstructuredTokens(value, nameLength: name.utf8.count))
  }

  /// A complete structured header field whose value the program builds (Date, Message-ID,
  /// Content-Type): ASCII only, folded at whitespace, ending with CRLF.
  public static func structuredField(name: String, value: String) throws(ComposeError) -> String {
    try validateName(name)
    try validateValue(value, header: name)
    guard value.utf8.allSatisfy({ $0 < 0x80 }) else {
      throw ComposeError(.invalidHeader, "header value for \(name) must be ASCII")
    }
    let tokens = HeaderFolder.unstructuredTokens(value, nameLength: name.utf8.count).map {
      HeaderToken(separator: $0.separator, text: $0.text, isEncoded: false)
    }
    return try HeaderFolder.fold(name: name, tokens: tokens)
  }

  /// A complete address-list header field (RFC 5322 section 3.6.2/3.6.3: From, To, Cc, Reply-To):
  /// mailboxes separated by commas, folded between them, ending with CRLF. Display names are quoted
  /// or encoded as `Mailbox.headerForm` describes; a non-ASCII address is written as UTF-8
  /// (RFC 6532), and the message then needs SMTPUTF8.
  public static func addressField(name: String, mailboxes: [Mailbox]) throws(ComposeError) -> String {
    try validateName(name)
    var tokens: [HeaderToken] = []
    for (index, mailbox) in mailboxes.enumerated() {
      tokens += mailbox.headerTokens(suffix: index < mailboxes.count - 1 ? "," : "")
    }
    return try HeaderFolder.fold(name: name, tokens: tokens)
  }
}

extension String {
  /// Whether the text contains `=?`, the start of an RFC 2047 encoded word, which must then be
  /// encoded or quoted so that no reader decodes it. Byte by byte: it runs for every word of every
  /// header of every message of a batch.
  var looksLikeEncodedWord: Bool {
    var previous: UInt8 = 0
    for byte in utf8 {
      if previous == UInt8(ascii: "=") && byte == UInt8(ascii: "?") { return true }
      previous = byte
    }
    return false
  }
}

import Foundation

/// Why a template file cannot be used. Problems that depend on a row (a missing variable, a value
/// that breaks a header) are `BatchRowError`s instead, reported per row.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// The file cannot be opened or read.
    case unreadable
    /// Not valid UTF-8, a line that is not a header field, a placeholder that is not closed or
    /// whose name is not a name.
    case invalidSyntax
    /// A header value written without placeholders that is not valid (an address that does not
    /// parse, non-ASCII in Message-ID): it would fail for every row, so it is reported once.
    case invalidHeader
    /// A header field the template may not have, or may not have in that form (a second Subject,
    /// Content-Transfer-Encoding, a multipart Content-Type, no recipient field at all).
    case unsupportedHeader
  }

  public let kind: Kind
  /// The template line the problem is on, when it has one.
  public let line: Int?
  public let message: String

  public init(_ kind: Kind, line: Int? = nil, _ message: String) {
    self.kind = kind
    self.line = line
    self.message = message
  }

  /// `template line 3: <problem>`, or the problem alone when it has no line.
  public var description: String { message }

  /// EX_IOERR when the file cannot be read, EX_DATAERR for what is in it.
  public var exitCode: ExitCode { kind == .unreadable ? .ioError : .dataError }

  static func syntax(line: Int, _ problem: String) -> TemplateError {
    TemplateError(.invalidSyntax, line: line, "template line \(line): \(problem)")
  }
}

/// One piece of template text: written as is, or the value of a variable.
enum TemplateSegment: Sendable, Equatable {
  case text(String)
  case variable(String)
}

/// Text with `{{name}}` placeholders, parsed once and filled per row.
///
/// Syntax: `{{name}}` or `{{ name }}` (spaces and tabs inside the braces are ignored), on one line.
/// A name is letters, digits, `_`, `-` and `.` (letters and digits of any script, so a column
/// called `förnamn` can be used). `\{{` writes a literal `{{`; nothing else is an escape, and a
/// lone `}}` is literal text.
struct TemplateText: Sendable, Equatable {
  private(set) var segments: [TemplateSegment]

  init(segments: [TemplateSegment]) {
    self.segments = []
    for segment in segments { append(segment) }
  }

  /// Parses `text`, whose first line is line `firstLine` of the template (for error messages).
  init(parsing text: Substring.UnicodeScalarView, firstLine: Int) throws(TemplateError) {
    self.segments = []
    let scalars = Array(text)
    var literal = String.UnicodeScalarView()
    var line = firstLine
    var index = 0
    func opensPlaceholder(at position: Int) -> Bool {
      position + 1 < scalars.count && scalars[position] == "{" && scalars[position + 1] == "{"
    }
    while index < scalars.count {
      let scalar = scalars[index]
      if scalar == "\\" && opensPlaceholder(at: index + 1) {
        literal += ["{", "{"]
        index += 3
        continue
      }
      guard opensPlaceholder(at: index) else {
        if scalar == "\n" { line += 1 }
        literal.append(scalar)
        index += 1
        continue
      }
      var close = index + 2
      while close + 1 < scalars.count, !(scalars[close] == "}" && scalars[close + 1] == "}"),
        scalars[close] != "\n", scalars[close] != "\r"
      {
        close += 1
      }
      guard close + 1 < scalars.count, scalars[close] == "}", scalars[close + 1] == "}" else {
        throw TemplateError.syntax(
          line: line, "\"{{\" is not closed by \"}}\" on the same line (write \\{{ for a literal {{)")
      }
      let inner = String(String.UnicodeScalarView(scalars[(index + 2)..<close]))
      let name = inner.trimmingSpacesAndTabs()
      guard Self.isName(name) else {
        let written = ComposeError.visible("{{" + inner + "}}")
        throw TemplateError.syntax(
          line: line,
          name.isEmpty
            ? "the placeholder \(written) has no name"
            : "the placeholder \(written) is not a name: use letters, digits, \"_\", \"-\" and \".\"")
      }
      if !literal.isEmpty { append(.text(String(literal))) }
      literal = String.UnicodeScalarView()
      append(.variable(name))
      index = close + 2
    }
    if !literal.isEmpty { append(.text(String(literal))) }
  }

  static func isName(_ name: String) -> Bool {
    !name.isEmpty
      && name.unicodeScalars.allSatisfy { scalar in
        switch scalar.properties.generalCategory {
        case .decimalNumber, .nonspacingMark, .spacingMark: return true
        default: return scalar.properties.isAlphabetic || scalar == "_" || scalar == "-" || scalar == "."
        }
      }
  }

  /// Appends a segment, joining adjacent text.
  mutating func append(_ segment: TemplateSegment) {
    if case .text(let more) = segment, case .text(let text)? = segments.last {
      segments[segments.count - 1] = .text(text + more)
    } else if segment != .text("") {
      segments.append(segment)
    }
  }

  mutating func append(contentsOf other: TemplateText) {
    for segment in other.segments { append(segment) }
  }

  /// Variable names in order of first use.
  var variables: [String] {
    var seen: Set<String> = []
    var names: [String] = []
    for case .variable(let name) in segments where seen.insert(name).inserted { names.append(name) }
    return names
  }

  var isLiteral: Bool { variables.isEmpty }

  /// The literal pieces of text.
  var literals: [String] {
    segments.compactMap { if case .text(let text) = $0 { text } else { nil } }
  }

  /// The text with each literal piece changed by `transform`.
  func mappingLiterals(_ transform: (String) -> String) -> TemplateText {
    TemplateText(segments: segments.map { if case .text(let text) = $0 { .text(transform(text)) } else { $0 } })
  }

  /// Leading whitespace of the first piece and trailing whitespace of the last removed, when they
  /// are literal text (the space after a header field's colon, RFC 5322 section 2.2).
  func trimmingLiteralWhitespace() -> TemplateText {
    var segments = self.segments
    if case .text(let text)? = segments.first {
      segments[0] = .text(String(text.drop(while: { $0 == " " || $0 == "\t" })))
    }
    if case .text(let text)? = segments.last {
      segments[segments.count - 1] = .text(text.trimmingSpacesAndTabs(leading: false))
    }
    return TemplateText(segments: segments)
  }

  /// The text with every placeholder replaced by its value; the caller checked that all exist.
  func filled(with values: [String: String]) -> String {
    var out = ""
    for segment in segments {
      switch segment {
      case .text(let text): out += text
      case .variable(let name): out += values[name] ?? ""
      }
    }
    return out
  }

  /// The text filled in for an address field (RFC 5322 section 3.4), where a value must not change
  /// the field's structure: a value inside a quoted string has `"` and `\` escaped (section 3.2.4),
  /// and a value written as a display name, right before `<`, is quoted when it is not blank, so
  /// `{{name}} <{{email}}>` takes "Doe, Jane" as one name rather than two list elements. Quotes
  /// that are not needed disappear when the mailbox is written out again.
  func filledAsAddress(with values: [String: String]) -> String {
    var out = ""
    var inQuotes = false
    var escaped = false
    for (index, segment) in segments.enumerated() {
      switch segment {
      case .text(let text):
        for scalar in text.unicodeScalars {
          if escaped {
            escaped = false
          } else if inQuotes && scalar == "\\" {
            escaped = true
          } else if scalar == "\"" {
            inQuotes.toggle()
          }
        }
        out += text
      case .variable(let name):
        let value = values[name] ?? ""
        let quoted = Self.escapedForQuotes(value)
        if inQuotes {
          out += quoted
        } else if isDisplayName(at: index), !value.allSatisfy({ $0 == " " || $0 == "\t" }) {
          out += "\"" + quoted + "\""
        } else {
          out += value
        }
      }
    }
    return out
  }

  /// `value` with `\` and `"` escaped for a quoted string (RFC 5322 section 3.2.4); most values
  /// have neither, and are returned as they are without a search through Foundation.
  static func escapedForQuotes(_ value: String) -> String {
    guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) else { return value }
    var out = ""
    for scalar in value.unicodeScalars {
      if scalar == "\\" || scalar == "\"" { out.unicodeScalars.append("\\") }
      out.unicodeScalars.append(scalar)
    }
    return out
  }

  /// True when the segment after `index` is text starting, after spaces, with `<`.
  private func isDisplayName(at index: Int) -> Bool {
    guard index + 1 < segments.count, case .text(let next) = segments[index + 1] else { return false }
    return next.drop(while: { $0 == " " || $0 == "\t" }).first == "<"
  }
}

extension String {
  /// The string without spaces and tabs at its ends (only at the end when `leading` is false).
  func trimmingSpacesAndTabs(leading: Bool = true) -> String {
    var scalars = Substring(self).unicodeScalars
    while leading, let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
    while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
    return String(scalars)
  }
}

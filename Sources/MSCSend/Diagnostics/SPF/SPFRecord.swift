import Foundation

/// The results of `check_host()` (RFC 7208 section 2.6).
public enum SPFResult: String, Sendable, Equatable {
  case pass, fail, softfail, neutral, none, permerror, temperror
}

/// A broken record or an impossible evaluation: the message says what, for the operator.
public struct SPFError: Error, Sendable, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
}

/// One mechanism (RFC 7208 section 5). Domain specifications stay unexpanded macro strings
/// until evaluation, where the current domain and the client are known.
public enum SPFMechanism: Sendable, Equatable {
  case all
  case include(String)
  /// `a[:domain][/v4][//v6]`.
  case a(String?, v4: Int, v6: Int)
  case mx(String?, v4: Int, v6: Int)
  /// Deprecated (section 5.5): evaluated as "no match", with a warning.
  case ptr(String?)
  case ip4(IPAddress, Int)
  case ip6(IPAddress, Int)
  case exists(String)

  /// Whether the mechanism costs one of the 10 DNS lookups (section 4.6.4).
  var countsAsLookup: Bool {
    switch self {
    case .include, .a, .mx, .ptr, .exists: true
    case .all, .ip4, .ip6: false
    }
  }
}

public struct SPFDirective: Sendable, Equatable {
  /// `+` pass (the default), `-` fail, `~` softfail, `?` neutral.
  public var result: SPFResult
  public var mechanism: SPFMechanism
  /// The term as written, for explanations ("ip4:192.0.2.0/24").
  public var text: String
}

/// A parsed `v=spf1` record (RFC 7208 section 4.5 and 12). Any syntax error anywhere makes the
/// whole record a permerror (section 4.6), so it is found here, before evaluation starts.
public struct SPFRecord: Sendable, Equatable {
  public var directives: [SPFDirective] = []
  public var redirect: String?
  public var explanation: String?

  /// Whether `text` is an SPF record at all: `v=spf1` followed by a space or the end (section 4.5).
  public static func isSPF(_ text: String) -> Bool {
    let lower = text.lowercased()
    return lower == "v=spf1" || lower.hasPrefix("v=spf1 ")
  }

  public static func parse(_ text: String) throws(SPFError) -> SPFRecord {
    guard isSPF(text) else { throw SPFError("not an SPF record: \(text.prefix(40))") }
    var record = SPFRecord()
    for term in text.dropFirst(6).split(separator: " ") {
      try record.add(String(term))
    }
    return record
  }

  private mutating func add(_ term: String) throws(SPFError) {
    // A modifier is `name=value` where name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
    let nameEnd = term.firstIndex { !($0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0))) }
    if let nameEnd, term[nameEnd] == "=", nameEnd != term.startIndex, term.first?.isLetter == true {
      let name = term[..<nameEnd].lowercased()
      let value = String(term[term.index(after: nameEnd)...])
      try SPFMacro.validate(value, allowingExplanationLetters: false)
      switch name {
      case "redirect":
        guard redirect == nil else { throw SPFError("redirect= given twice") }
        guard !value.isEmpty else { throw SPFError("redirect= without a domain") }
        redirect = value
      case "exp":
        guard explanation == nil else { throw SPFError("exp= given twice") }
        guard !value.isEmpty else { throw SPFError("exp= without a domain") }
        explanation = value
      default:
        break  // Unknown modifiers are ignored (section 6).
      }
      return
    }
    var body = Substring(term)
    var result = SPFResult.pass
    switch body.first {
    case "+": result = .pass
    case "-": result = .fail
    case "~": result = .softfail
    case "?": result = .neutral
    default: break
    }
    if "+-~?".contains(body.first ?? " ") { body = body.dropFirst() }
    let split = body.firstIndex { $0 == ":" || $0 == "/" } ?? body.endIndex
    let name = body[..<split].lowercased()
    let rest = String(body[split...])
    directives.append(SPFDirective(result: result, mechanism: try Self.mechanism(name, rest, term: term), text: term))
  }

  private static func mechanism(_ name: String, _ rest: String, term: String) throws(SPFError) -> SPFMechanism {
    switch name {
    case "all":
      guard rest.isEmpty else { throw SPFError("\"\(term)\": all takes no argument") }
      return .all
    case "include", "exists":
      guard rest.hasPrefix(":"), rest.count > 1 else { throw SPFError("\"\(term)\": \(name) needs :domain") }
      let domain = String(rest.dropFirst())
      try SPFMacro.validate(domain, allowingExplanationLetters: false)
      return name == "include" ? .include(domain) : .exists(domain)
    case "a", "mx":
      var spec = rest
      let (v4, v6) = try dualCIDR(&spec, term: term)
      var domain: String?
      if !spec.isEmpty {
        guard spec.hasPrefix(":"), spec.count > 1 else { throw SPFError("\"\(term)\": expected :domain or /prefix") }
        domain = String(spec.dropFirst())
        try SPFMacro.validate(domain ?? "", allowingExplanationLetters: false)
      }
      return name == "a" ? .a(domain, v4: v4, v6: v6) : .mx(domain, v4: v4, v6: v6)
    case "ptr":
      guard rest.isEmpty || (rest.hasPrefix(":") && rest.count > 1) else { throw SPFError("\"\(term)\": bad ptr") }
      return .ptr(rest.isEmpty ? nil : String(rest.dropFirst()))
    case "ip4", "ip6":
      guard rest.hasPrefix(":") else { throw SPFError("\"\(term)\": \(name) needs :address") }
      let value = rest.dropFirst()
      let parts = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
      let isV4 = name == "ip4"
      guard let address = IPAddress(String(parts[0])), address.isIPv4 == isV4 else {
        throw SPFError("\"\(term)\": \(parts[0]) is not an \(isV4 ? "IPv4" : "IPv6") address")
      }
      let prefix = parts.count == 2 ? try cidrLength(String(parts[1]), maximum: isV4 ? 32 : 128, term: term) : nil
      return isV4 ? .ip4(address, prefix ?? 32) : .ip6(address, prefix ?? 128)
    default:
      throw SPFError("\"\(term)\": unknown mechanism \"\(name)\"")
    }
  }

  /// Removes `[/v4][//v6]` from the end of `spec` (section 5.6), defaults /32 and /128.
  private static func dualCIDR(_ spec: inout String, term: String) throws(SPFError) -> (Int, Int) {
    var v4 = 32
    var v6 = 128
    if let range = spec.range(of: "//", options: .backwards),
      spec[range.upperBound...].allSatisfy(\.isASCIIDigit), !spec[range.upperBound...].isEmpty
    {
      v6 = try cidrLength(String(spec[range.upperBound...]), maximum: 128, term: term)
      spec = String(spec[..<range.lowerBound])
    }
    if let slash = spec.lastIndex(of: "/"), spec[spec.index(after: slash)...].allSatisfy(\.isASCIIDigit),
      spec.index(after: slash) != spec.endIndex
    {
      v4 = try cidrLength(String(spec[spec.index(after: slash)...]), maximum: 32, term: term)
      spec = String(spec[..<slash])
    }
    return (v4, v6)
  }

  /// A prefix length: digits without a leading zero (except "0"), at most `maximum`.
  private static func cidrLength(_ text: String, maximum: Int, term: String) throws(SPFError) -> Int {
    guard !text.isEmpty, text.count <= 3, text.allSatisfy(\.isASCIIDigit), text == "0" || !text.hasPrefix("0"),
      let value = Int(text), value <= maximum
    else { throw SPFError("\"\(term)\": invalid prefix length /\(text) (0-\(maximum))") }
    return value
  }
}

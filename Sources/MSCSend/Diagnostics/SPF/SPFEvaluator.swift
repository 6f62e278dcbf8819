/// What `check_host()` concluded, with enough of the path to explain it to an operator.
public struct SPFEvaluation: Sendable, Equatable {
  public var result: SPFResult
  /// The term that decided ("ip4:192.0.2.0/24 in _spf.acme.test", "-all in acme.test"), or
  /// "no mechanism matched" for the default neutral.
  public var decidedBy: String?
  /// Why for none, permerror and temperror.
  public var reason: String?
  /// The `exp=` text after a fail, when the domain publishes one (section 6.2).
  public var explanation: String?
  /// DNS lookups counted against the limit of 10 (section 4.6.4).
  public var lookups: Int
  public var voidLookups: Int
  /// Things to tell the operator that do not change the result (a `ptr` mechanism).
  public var warnings: [String]
}

/// RFC 7208 `check_host(ip, domain, sender)` over a `DNSResolving`.
///
/// Limits (section 4.6.4): at most 10 mechanisms and modifiers that query DNS (`include`, `a`,
/// `mx`, `ptr`, `exists`, `redirect`), at most 10 MX names per `mx`, and at most 2 void lookups
/// (NXDOMAIN or no data); beyond any of them, permerror. An `include` or `redirect` back to a
/// domain still being evaluated is reported as a loop (permerror) at once, where the lookup
/// limit would also catch it later with a vaguer message. `ptr` is deprecated (section 5.5):
/// counted as a lookup, never matching, with a warning.
public struct SPFEvaluator {
  public static let lookupLimit = 10
  public static let voidLookupLimit = 2
  public static let mxNameLimit = 10

  let resolver: DNSResolving
  let helo: String

  public init(resolver: DNSResolving, helo: String) {
    self.resolver = resolver
    self.helo = helo
  }

  /// Evaluation state shared by the whole include/redirect tree of one check.
  final class State {
    var lookups = 0
    var voids = 0
    var warnings: [String] = []
    /// Domains being evaluated right now, outermost first, for loop detection.
    var stack: [String] = []
  }

  /// Why evaluation stopped early: a permerror or temperror with its reason.
  struct Stop: Error {
    var result: SPFResult
    var reason: String
  }

  /// One level's outcome: the result and the term that produced it; `explanation` is the
  /// domain-spec of this record's exp= when a mechanism's fail decided.
  struct Outcome {
    var result: SPFResult
    var decidedBy: String
    var explanation: (spec: String, domain: String)?
  }

  public func checkHost(ip: IPAddress, domain: String, sender: String) -> SPFEvaluation {
    let state = State()
    let ip = ip.unmapped
    var evaluation = SPFEvaluation(
      result: .none, decidedBy: nil, reason: nil, explanation: nil, lookups: 0, voidLookups: 0, warnings: [])
    do throws(Stop) {
      let outcome = try evaluate(DNSName.normalized(domain), ip: ip, sender: sender, state: state)
      evaluation.result = outcome.result
      evaluation.decidedBy = outcome.decidedBy
      if outcome.result == .fail, let exp = outcome.explanation {
        evaluation.explanation = explanationText(exp.spec, domain: exp.domain, ip: ip, sender: sender)
      }
    } catch {
      evaluation.result = error.result
      evaluation.reason = error.reason
    }
    evaluation.lookups = state.lookups
    evaluation.voidLookups = state.voids
    evaluation.warnings = state.warnings
    return evaluation
  }

  /// check_host for one domain (section 4): find the record, run its directives, then redirect.
  func evaluate(_ domain: String, ip: IPAddress, sender: String, state: State) throws(Stop) -> Outcome {
    guard Self.isValidDomain(domain) else {
      throw Stop(result: .none, reason: "\"\(domain)\" is not a fully qualified domain name")
    }
    let record = try fetchRecord(domain)
    state.stack.append(domain)
    defer { state.stack.removeLast() }
    let context = SPFMacroContext(ip: ip, sender: sender, domain: domain, helo: helo)
    for directive in record.directives {
      if let path = try match(directive.mechanism, context: context, state: state) {
        return Outcome(
          result: directive.result, decidedBy: "\(directive.text) in \(domain)" + (path.isEmpty ? "" : " -> \(path)"),
          explanation: record.explanation.map { ($0, domain) })
      }
    }
    guard let redirect = record.redirect else {
      return Outcome(result: .neutral, decidedBy: "no mechanism matched in \(domain) (default ?all)")
    }
    try count(state)
    let target = try expandDomain(redirect, context: context)
    try checkLoop(target, via: "redirect", state: state)
    let outcome: Outcome
    do throws(Stop) {
      outcome = try evaluate(target, ip: ip, sender: sender, state: state)
    } catch  where error.result == .none {
      throw Stop(result: .permerror, reason: "redirect=\(target): \(error.reason)")
    }
    return outcome
  }

  /// The one `v=spf1` TXT record of `domain` (section 4.5).
  private func fetchRecord(_ domain: String) throws(Stop) -> SPFRecord {
    let answer: DNSAnswer
    do throws(DNSError) {
      answer = try resolver.lookup(domain, .txt)
    } catch {
      throw Stop(result: .temperror, reason: "\(domain): \(error)")
    }
    if answer == .nonexistentDomain { throw Stop(result: .none, reason: "\(domain) does not exist (NXDOMAIN)") }
    let texts = answer.records.compactMap(\.joinedText).filter(SPFRecord.isSPF)
    guard !texts.isEmpty else { throw Stop(result: .none, reason: "\(domain) publishes no SPF record") }
    guard texts.count == 1 else {
      throw Stop(result: .permerror, reason: "\(domain) publishes \(texts.count) SPF records; there must be one")
    }
    do throws(SPFError) {
      return try SPFRecord.parse(texts[0])
    } catch {
      throw Stop(result: .permerror, reason: "\(domain): \(error.message)")
    }
  }

  /// nil when `mechanism` does not match; else "" or, for an include, the term that matched inside.
  private func match(_ mechanism: SPFMechanism, context: SPFMacroContext, state: State) throws(Stop) -> String? {
    if case .include(let spec) = mechanism {
      try count(state)
      let target = try expandDomain(spec, context: context)
      try checkLoop(target, via: "include", state: state)
      do throws(Stop) {
        // Section 5.2: only the included pass matches; fail, softfail and neutral do not.
        let inner = try evaluate(target, ip: context.ip, sender: context.sender, state: state)
        return inner.result == .pass ? inner.decidedBy : nil
      } catch  where error.result == .none {
        throw Stop(result: .permerror, reason: "include:\(target): \(error.reason)")
      }
    }
    return try matches(mechanism, context: context, state: state) ? "" : nil
  }

  private func matches(_ mechanism: SPFMechanism, context: SPFMacroContext, state: State) throws(Stop) -> Bool {
    if mechanism.countsAsLookup { try count(state) }
    let ip = context.ip
    switch mechanism {
    case .all:
      return true
    case .ip4(let network, let prefix), .ip6(let network, let prefix):
      return ip.isIn(network, prefix: prefix)
    case .include:
      return false  // handled by `match`
    case .a(let spec, let v4, let v6):
      let target = try spec.map { (spec) throws(Stop) in try expandDomain(spec, context: context) } ?? context.domain
      return try addresses(of: target, for: ip, state: state).contains { ip.isIn($0, prefix: ip.isIPv4 ? v4 : v6) }
    case .mx(let spec, let v4, let v6):
      let target = try spec.map { (spec) throws(Stop) in try expandDomain(spec, context: context) } ?? context.domain
      let exchanges = try lookup(target, .mx, state: state).compactMap { record -> (UInt16, String)? in
        if case .mailExchange(let preference, let exchange) = record.data { (preference, exchange) } else { nil }
      }
      guard exchanges.count <= Self.mxNameLimit else {
        throw Stop(result: .permerror, reason: "\(target) has \(exchanges.count) MX names; at most 10 (RFC 7208 4.6.4)")
      }
      for (_, exchange) in exchanges.sorted(by: { $0.0 < $1.0 }) where !exchange.isEmpty {
        let found = try addresses(of: exchange, for: ip, state: state)
        if found.contains(where: { ip.isIn($0, prefix: ip.isIPv4 ? v4 : v6) }) { return true }
      }
      return false
    case .ptr:
      state.warnings.append("the ptr mechanism is deprecated (RFC 7208 5.5); msc-send treats it as not matching")
      return false
    case .exists(let spec):
      let target = try expandDomain(spec, context: context)
      // Always an A query, whatever the client's family (section 5.7).
      return !(try lookup(target, .a, state: state)).isEmpty
    }
  }

  /// A or AAAA records of `name`, as the client's family asks (section 5.3).
  private func addresses(of name: String, for ip: IPAddress, state: State) throws(Stop) -> [IPAddress] {
    try lookup(name, ip.isIPv4 ? .a : .aaaa, state: state).compactMap { record in
      if case .address(let bytes) = record.data { IPAddress(bytes: bytes) } else { nil }
    }
  }

  /// A lookup for a mechanism: DNS errors are temperror; an empty answer is a void lookup.
  private func lookup(_ name: String, _ type: DNSRecordType, state: State) throws(Stop) -> [DNSRecord] {
    let answer: DNSAnswer
    do throws(DNSError) {
      answer = try resolver.lookup(name, type)
    } catch {
      throw Stop(result: .temperror, reason: "\(name) \(type): \(error)")
    }
    if answer.records.isEmpty {
      state.voids += 1
      if state.voids > Self.voidLookupLimit {
        throw Stop(
          result: .permerror,
          reason: "more than \(Self.voidLookupLimit) lookups found nothing (the last: \(name) \(type); RFC 7208 4.6.4)")
      }
    }
    return answer.records
  }

  private func count(_ state: State) throws(Stop) {
    state.lookups += 1
    if state.lookups > Self.lookupLimit {
      throw Stop(
        result: .permerror,
        reason: "more than \(Self.lookupLimit) DNS lookups (include, a, mx, ptr, exists, redirect; RFC 7208 4.6.4) "
          + "while evaluating \(state.stack.last ?? "")")
    }
  }

  private func checkLoop(_ target: String, via term: String, state: State) throws(Stop) {
    if state.stack.contains(target) {
      throw Stop(
        result: .permerror, reason: "\(term) loop: " + (state.stack + [target]).joined(separator: " -> "))
    }
  }

  private func expandDomain(_ spec: String, context: SPFMacroContext) throws(Stop) -> String {
    do throws(SPFError) {
      let domain = DNSName.normalized(SPFMacro.truncatedDomain(try SPFMacro.expand(spec, context: context)))
      guard Self.isValidDomain(domain) else {
        throw SPFError("\"\(spec)\" expands to \"\(domain)\", which is not a domain name")
      }
      return domain
    } catch {
      throw Stop(result: .permerror, reason: error.message)
    }
  }

  /// The exp= text (section 6.2); any failure just means no explanation.
  private func explanationText(_ spec: String, domain: String, ip: IPAddress, sender: String) -> String? {
    let context = SPFMacroContext(ip: ip, sender: sender, domain: domain, helo: helo)
    guard let target = try? expandDomain(spec, context: context),
      let answer = try? resolver.lookup(target, .txt), answer.records.count == 1,
      let text = answer.records[0].joinedText
    else { return nil }
    return try? SPFMacro.expand(text, context: context, explanation: true)
  }

  /// A multi-label name whose labels are 1-63 octets (section 4.3).
  static func isValidDomain(_ name: String) -> Bool {
    let labels = name.split(separator: ".", omittingEmptySubsequences: false)
    return labels.count >= 2 && name.utf8.count <= 253 && labels.allSatisfy { !$0.isEmpty && $0.utf8.count <= 63 }
  }
}

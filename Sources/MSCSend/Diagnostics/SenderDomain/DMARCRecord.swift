import Foundation

/// A DMARC policy record (RFC 7489 section 6.3): the tags `check` reports.
public struct DMARCRecord: Sendable, Equatable {
  public enum Policy: String, Sendable {
    case none, quarantine, reject
  }

  /// `p=`.
  public var policy: Policy
  /// `sp=`, the policy for subdomains, when given.
  public var subdomainPolicy: Policy?
  /// `pct=`, 0-100, default 100.
  public var percent: Int
  /// `rua=` aggregate report addresses.
  public var aggregateReports: [String]
  /// `p=` was missing or invalid but `rua=` was valid: treated as `p=none` (section 6.6.3).
  public var policyAssumed: Bool

  /// Whether `text` is a DMARC record at all (section 6.6.3: others at `_dmarc` are discarded).
  public static func isDMARC(_ text: String) -> Bool {
    let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
    guard lower.hasPrefix("v") else { return false }
    let compact = lower.filter { $0 != " " && $0 != "\t" }
    return compact == "v=dmarc1" || compact.hasPrefix("v=dmarc1;")
  }

  public static func parse(_ text: String) throws(SPFError) -> DMARCRecord {
    let tags: [DomainTagList.Tag]
    switch DomainTagList.parse(text) {
    case .success(let parsed): tags = parsed
    case .failure(let error): throw error
    }
    guard let first = tags.first, first.name == "v", first.value.uppercased() == "DMARC1" else {
      throw SPFError("v=DMARC1 must be the first tag")
    }
    let rua = tags[tag: "rua"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
    var policyAssumed = false
    let policy: Policy
    if let written = tags[tag: "p"], let parsed = Policy(rawValue: written.lowercased()) {
      policy = parsed
    } else if !rua.isEmpty {
      policy = .none
      policyAssumed = true
    } else {
      let written = tags[tag: "p"].map { "p=\($0) is not none, quarantine or reject" } ?? "p= is missing"
      throw SPFError(written)
    }
    var subdomainPolicy: Policy?
    if let written = tags[tag: "sp"] {
      guard let parsed = Policy(rawValue: written.lowercased()) else {
        throw SPFError("sp=\(written) is not none, quarantine or reject")
      }
      subdomainPolicy = parsed
    }
    var percent = 100
    if let written = tags[tag: "pct"] {
      guard let value = Int(written), (0...100).contains(value) else { throw SPFError("pct=\(written) is not 0-100") }
      percent = value
    }
    return DMARCRecord(
      policy: policy, subdomainPolicy: subdomainPolicy, percent: percent, aggregateReports: rua,
      policyAssumed: policyAssumed)
  }
}

/// Where the DMARC policy of a From domain comes from (RFC 7489 section 6.6.3): `_dmarc.DOMAIN`,
/// else `_dmarc.` of the organizational domain. Simplification (documented in the README): the
/// organizational domain is found by stripping the left-most label once (`news.acme.test` ->
/// `acme.test`) rather than with the Public Suffix List, which msc-send does not ship; for
/// registrations under a multi-label suffix (`example.co.uk`) this may look one level too high.
public enum DMARCLookup {
  public struct Finding: Sendable, Equatable {
    /// The `_dmarc` name the record was found at, or the last one asked.
    public var name: String
    public var record: DMARCRecord?
    /// Whether the record came from the organizational domain (then `sp=` applies, else `p=`).
    public var fromOrganizationalDomain: Bool
    /// Why no usable record: several records, or a broken one.
    public var problem: String?

    /// The policy a receiver applies to mail from the domain asked about.
    public var effectivePolicy: DMARCRecord.Policy? {
      guard let record else { return nil }
      return fromOrganizationalDomain ? record.subdomainPolicy ?? record.policy : record.policy
    }
  }

  public static func find(domain: String, resolver: DNSResolving) throws(DNSError) -> Finding {
    let domain = DNSName.normalized(domain)
    let first = try look(at: "_dmarc.\(domain)", resolver: resolver, organizational: false)
    if first.record != nil || first.problem != nil { return first }
    let labels = domain.split(separator: ".")
    guard labels.count > 2 else { return first }
    return try look(at: "_dmarc.\(labels.dropFirst().joined(separator: "."))", resolver: resolver, organizational: true)
  }

  private static func look(at name: String, resolver: DNSResolving, organizational: Bool) throws(DNSError) -> Finding {
    var finding = Finding(name: name, record: nil, fromOrganizationalDomain: organizational, problem: nil)
    let texts = try resolver.lookup(name, .txt).records.compactMap(\.joinedText).filter(DMARCRecord.isDMARC)
    guard !texts.isEmpty else { return finding }
    guard texts.count == 1 else {
      finding.problem = "\(name) publishes \(texts.count) DMARC records; receivers ignore them all"
      return finding
    }
    do throws(SPFError) {
      finding.record = try DMARCRecord.parse(texts[0])
    } catch {
      finding.problem = "\(name): \(error.message)"
    }
    return finding
  }
}

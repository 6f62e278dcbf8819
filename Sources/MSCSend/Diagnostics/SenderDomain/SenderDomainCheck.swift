/// The sender domain's lines of the checklist: SPF for the channel host's addresses, the DMARC
/// policy, and the DKIM key when a selector is configured. Answers come from our own DNS client
/// (`DNSResolving`), not getaddrinfo: these are TXT and MX questions getaddrinfo cannot ask.
struct SenderDomainCheck {
  let resolver: DNSResolving
  let helo: String
  let channel: ChannelConfig

  func items(domain: String, sender: String, hostAddresses: [IPAddress]) -> [CheckItem] {
    [spf(domain: domain, sender: sender, addresses: hostAddresses), dmarc(domain: domain), dkim(domain: domain)]
  }

  // MARK: - SPF

  /// SPF for every address of the channel's host. What is checked is the *submission* host's
  /// addresses: for a provider whose outgoing servers differ, its documented include covers both.
  func spf(domain: String, sender: String, addresses: [IPAddress]) -> CheckItem {
    guard !addresses.isEmpty else {
      return .skip(.spf, "not evaluated: the channel's host has no address", domain: domain)
    }
    let evaluator = SPFEvaluator(resolver: resolver, helo: helo)
    let results = addresses.map { ($0, evaluator.checkHost(ip: $0, domain: domain, sender: sender)) }
    let worst = results.max { Self.severity($0.1.result) < Self.severity($1.1.result) }?.1.result ?? .none
    var parts: [String] = []
    for (address, evaluation) in results {
      var text = "\(evaluation.result.rawValue) for \(address)"
      var why: [String] = []
      if let decidedBy = evaluation.decidedBy { why.append(decidedBy) }
      if let reason = evaluation.reason { why.append(reason) }
      why.append("\(evaluation.lookups)/\(SPFEvaluator.lookupLimit) lookups")
      if let explanation = evaluation.explanation {
        why.append("explanation: \(ReplyReader.printable(Array(explanation.utf8)))")
      }
      text += " (" + why.joined(separator: "; ") + ")"
      parts.append(text)
    }
    let warnings = Set(results.flatMap(\.1.warnings)).sorted()
    let detail = (parts + warnings).joined(separator: "; ")
    let hint = spfHint(worst, domain: domain, addresses: addresses)
    switch worst {
    case .pass:
      return warnings.isEmpty
        ? .ok(.spf, detail, domain: domain) : .warn(.spf, detail, code: .unavailable, domain: domain)
    case .temperror:
      return .fail(.spf, detail, hint: hint, code: .tempFail, domain: domain)
    case .neutral:
      return .warn(.spf, detail, hint: hint, code: .unavailable, domain: domain)
    case .fail, .softfail, .none, .permerror:
      if channel.kind == .legacy {
        return .warn(
          .spf, detail + "; expected for the legacy shared servers, which are not in your SPF", hint: hint,
          code: .unavailable, domain: domain)
      }
      return .fail(.spf, detail, hint: hint, code: .unavailable, domain: domain)
    }
  }

  private static func severity(_ result: SPFResult) -> Int {
    switch result {
    case .pass: 0
    case .neutral: 1
    case .softfail: 2
    case .fail: 3
    case .none: 4
    case .permerror: 5
    case .temperror: 6
    }
  }

  private func spfHint(_ result: SPFResult, domain: String, addresses: [IPAddress]) -> String? {
    let mechanism = providerInclude ?? addresses.map { "\($0.isIPv4 ? "ip4" : "ip6"):\($0)" }.joined(separator: " ")
    switch result {
    case .pass: return nil
    case .none:
      return "publish a TXT record at \(domain): \"v=spf1 \(mechanism) -all\""
    case .permerror:
      return "fix the SPF record of \(domain) (the reason is above); receivers treat a broken record like a failure"
    case .temperror:
      return "the DNS lookups failed; check the resolver (--resolver IP) and try again"
    case .fail, .softfail, .neutral:
      return "authorise the channel's servers in the SPF record of \(domain): add \(mechanism)"
    }
  }

  /// The include a provider documents for its sending servers, where the kind or preset says.
  private var providerInclude: String? {
    switch (channel.kind, channel.preset) {
    case (.gmail, _): "include:_spf.google.com"
    case (.exchange, _) where !channel.onPremises: "include:spf.protection.outlook.com"
    case (.smtp, .sendgrid?): "include:sendgrid.net"
    case (.smtp, .sparkpost?): "include:_spf.sparkpostmail.com"
    default: nil
    }
  }

  // MARK: - DMARC

  func dmarc(domain: String) -> CheckItem {
    let finding: DMARCLookup.Finding
    do throws(DNSError) {
      finding = try DMARCLookup.find(domain: domain, resolver: resolver)
    } catch {
      return .fail(
        .dmarc, "_dmarc.\(domain): \(error)", hint: "check the resolver (--resolver IP) and try again", code: .tempFail,
        domain: domain)
    }
    let example = "\"v=DMARC1; p=none; rua=mailto:dmarc-reports@\(domain)\""
    if let problem = finding.problem {
      return .fail(
        .dmarc, problem, hint: "publish exactly one valid record at \(finding.name), e.g. \(example)",
        code: .unavailable, domain: domain)
    }
    guard let record = finding.record, let policy = finding.effectivePolicy else {
      return .warn(
        .dmarc, "no DMARC record (asked \(finding.name)\(finding.fromOrganizationalDomain ? " last" : ""))",
        hint:
          "publish one at _dmarc.\(domain): \(example); large receivers (Gmail, Yahoo) expect DMARC of bulk senders",
        code: .unavailable, domain: domain)
    }
    var parts = ["p=\(record.policy.rawValue)\(record.policyAssumed ? " (assumed: p= missing, rua= given)" : "")"]
    if let subdomain = record.subdomainPolicy { parts.append("sp=\(subdomain.rawValue)") }
    parts.append("pct=\(record.percent)")
    parts.append(record.aggregateReports.isEmpty ? "no rua" : "rua=\(record.aggregateReports.joined(separator: ","))")
    var detail = parts.joined(separator: ", ") + " at \(finding.name)"
    if finding.fromOrganizationalDomain { detail += " (organizational domain: \(policy.rawValue) applies)" }
    if policy == .none { detail += "; monitoring only, nothing is enforced" }
    return .ok(.dmarc, ReplyReader.printable(Array(detail.utf8)), domain: domain)
  }

  // MARK: - DKIM

  func dkim(domain: String) -> CheckItem {
    guard let selector = channel.dkimSelectors?.selector(for: domain) else {
      return .skip(.dkim, "no dkim_selector configured for \(domain)", domain: domain)
    }
    let name = "\(selector)._domainkey.\(domain)"
    let texts: [String]
    do throws(DNSError) {
      texts = try resolver.lookup(name, .txt).records.compactMap(\.joinedText)
    } catch {
      return .fail(
        .dkim, "\(name): \(error)", hint: "check the resolver (--resolver IP) and try again", code: .tempFail,
        domain: domain)
    }
    let publish = "publish the public key your provider gives for selector \(selector), or correct dkim_selector"
    guard let text = texts.first else {
      return .fail(.dkim, "no DKIM key at \(name)", hint: publish, code: .unavailable, domain: domain)
    }
    let record: DKIMKeyRecord
    do throws(SPFError) {
      record = try DKIMKeyRecord.parse(text)
    } catch {
      return .fail(.dkim, "\(name): \(error.message)", hint: publish, code: .unavailable, domain: domain)
    }
    if record.revoked {
      return .fail(.dkim, "the key at \(name) is revoked (empty p=)", hint: publish, code: .unavailable, domain: domain)
    }
    let bits = record.keyBits ?? 0
    let detail = "k=\(record.keyType), \(bits)-bit key at \(name)"
    if record.keyType == "rsa" && bits < 1024 {
      return .fail(
        .dkim, detail + ": verifiers ignore RSA keys under 1024 bits (RFC 8301)",
        hint: "have a 2048-bit key generated and published", code: .unavailable, domain: domain)
    }
    var warnings: [String] = []
    if record.keyType == "rsa" && bits < 2048 { warnings.append("RFC 8301 asks for 2048 bits") }
    if record.testing { warnings.append("t=y: the domain is testing DKIM, verifiers may ignore signatures") }
    if texts.count > 1 { warnings.append("\(texts.count) TXT records at \(name): verifiers may take either") }
    if warnings.isEmpty { return .ok(.dkim, detail, domain: domain) }
    return .warn(.dkim, ([detail] + warnings).joined(separator: "; "), code: .unavailable, domain: domain)
  }
}

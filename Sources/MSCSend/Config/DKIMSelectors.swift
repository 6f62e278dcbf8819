/// `dkim_selector`: the DKIM selector `check` looks up as `SELECTOR._domainkey.DOMAIN`, either one
/// for every identity domain of the channel (`dkim_selector = "s1"`) or one per domain
/// (`dkim_selector = { "acme.test" = "s1", "news.acme.test" = "mta" }`).
public enum DKIMSelectors: Sendable, Equatable {
  case all(String)
  /// Domain (lower case) to selector.
  case perDomain([String: String])

  /// The selector for `domain`, if one is configured.
  public func selector(for domain: String) -> String? {
    switch self {
    case .all(let selector): selector
    case .perDomain(let table): table[domain.lowercased()]
    }
  }
}

extension ChannelReader {
  /// Reads `dkim_selector`, checking each selector's syntax (RFC 6376 section 3.1: dot-separated
  /// sub-domains) and that each domain of the table form belongs to the channel's identities, so
  /// that a typo is found by `config check` rather than by a DKIM lookup that finds nothing.
  func readDKIMSelectors(identities: [IdentityPattern]) throws(ConfigError) -> DKIMSelectors? {
    guard let entry = table.table.entry("dkim_selector") else { return nil }
    let path = table.keyPath("dkim_selector")
    switch entry.node.value {
    case .string(let selector):
      guard !selector.isEmpty else { throw table.error(at: entry.node.position, "\(path): must not be empty") }
      try checkSelector(selector, at: entry.node.position, path: path)
      return .all(selector)
    case .table(let domains):
      var selectors: [String: String] = [:]
      for item in domains.entries {
        let domain = item.key.lowercased()
        guard Self.isDomainName(domain) else {
          throw table.error(at: item.keyPosition, "\(path): \"\(item.key)\" is not a domain name")
        }
        guard identities.contains(where: { $0.coversDomain(domain) }) else {
          let list = identities.isEmpty ? "none" : identities.map(\.description).joined(separator: ", ")
          throw table.error(
            at: item.keyPosition,
            "\(path): \"\(item.key)\" is not a domain this channel sends for (identities: \(list))",
            hint: "key the table by the domains of identities, e.g. dkim_selector = { \"acme.test\" = \"s1\" }")
        }
        guard case .string(let selector) = item.node.value else {
          throw table.error(
            at: item.node.position,
            "\(path).\(ConfigTable.isBareKey(item.key) ? item.key : "\"\(item.key)\""): expected a string, found "
              + item.node.value.typeNameWithArticle)
        }
        try checkSelector(selector, at: item.node.position, path: path)
        selectors[domain] = selector
      }
      return .perDomain(selectors)
    default:
      throw table.error(
        at: entry.node.position,
        "\(path): expected a string or a table of selectors per domain, found \(entry.node.value.typeNameWithArticle)",
        hint: "dkim_selector = \"s1\", or dkim_selector = { \"acme.test\" = \"s1\" }")
    }
  }

  private func checkSelector(_ selector: String, at position: SourcePosition, path: String) throws(ConfigError) {
    guard Self.isDomainName(selector, minimumLabels: 1) else {
      throw table.error(
        at: position,
        "\(path): \"\(selector)\" is not a DKIM selector (letters, digits and hyphens, labels separated by dots)")
    }
  }

  /// Labels of letters, digits and inner hyphens (RFC 5321's sub-domain), at most 63 octets each.
  static func isDomainName(_ text: String, minimumLabels: Int = 2) -> Bool {
    let labels = text.split(separator: ".", omittingEmptySubsequences: false)
    return labels.count >= minimumLabels && text.utf8.count <= 253
      && labels.allSatisfy { label in
        !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
          && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
      }
  }
}

extension IdentityPattern {
  /// Whether mail from some address at `domain` (lower case) may match this pattern.
  func coversDomain(_ domain: String) -> Bool {
    switch self {
    case .address(let address): address.split(separator: "@").last.map(String.init) == domain
    case .domain(let name): name == domain
    case .subdomains(let name): domain.hasSuffix("." + name)
    case .any: true
    }
  }
}

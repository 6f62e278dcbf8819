import Foundation

/// The `tag=value; tag=value` syntax DMARC (RFC 7489 section 6.4) and DKIM key records
/// (RFC 6376 section 3.2) share. Whitespace around tags and values is ignored; an empty element
/// (a trailing `;`) is allowed; a tag given twice is an error (RFC 6376 section 3.2).
enum DomainTagList {
  struct Tag: Equatable {
    var name: String
    var value: String
  }

  static func parse(_ text: String) -> Result<[Tag], SPFError> {
    var tags: [Tag] = []
    for element in text.split(separator: ";", omittingEmptySubsequences: false) {
      let trimmed = element.trimmingCharacters(in: .whitespacesAndNewlines)
      if trimmed.isEmpty { continue }
      guard let equals = trimmed.firstIndex(of: "=") else {
        return .failure(SPFError("\"\(trimmed.prefix(40))\" is not tag=value"))
      }
      let name = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
      let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespacesAndNewlines)
      guard !name.isEmpty else { return .failure(SPFError("a tag without a name")) }
      guard !tags.contains(where: { $0.name == name }) else { return .failure(SPFError("tag \(name)= given twice")) }
      tags.append(Tag(name: name, value: value))
    }
    return .success(tags)
  }
}

extension Array where Element == DomainTagList.Tag {
  subscript(tag name: String) -> String? { first { $0.name == name }?.value }
}

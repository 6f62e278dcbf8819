/// Passes lookups through and reports each one as a line ("DNS TXT acme.test: "v=spf1 ..."") for
/// `check -v`, cached answers included, so a channel's transcript shows every answer its SPF,
/// DMARC and DKIM lines were built from.
public final class TracingResolver: DNSResolving {
  private let base: DNSResolving
  private let trace: (String) -> Void

  public init(_ base: DNSResolving, trace: @escaping (String) -> Void) {
    self.base = base
    self.trace = trace
  }

  public func lookup(_ name: String, _ type: DNSRecordType) throws(DNSError) -> DNSAnswer {
    do throws(DNSError) {
      let answer = try base.lookup(name, type)
      let what: String
      switch answer {
      case .nonexistentDomain: what = "NXDOMAIN"
      case .noData: what = "no \(type) record"
      case .records(let records): what = records.map(Self.render).joined(separator: " | ")
      }
      trace("DNS \(type) \(name): \(what)")
      return answer
    } catch {
      trace("DNS \(type) \(name): \(error)")
      throw error
    }
  }

  static func render(_ record: DNSRecord) -> String {
    switch record.data {
    case .address(let bytes): IPAddress(bytes: bytes)?.description ?? "?"
    case .mailExchange(let preference, let exchange): "MX \(preference) \(exchange)"
    case .text: "\"" + ReplyReader.printable(Array((record.joinedText ?? "").utf8)) + "\""
    case .canonicalName(let target): "CNAME \(target)"
    case .other(let bytes): "\(bytes.count) octets"
    }
  }
}

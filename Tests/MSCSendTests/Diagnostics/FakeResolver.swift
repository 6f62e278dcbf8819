@testable import MSCSend

/// A DNS table for SPF, DMARC and DKIM tests: TXT strings, addresses and MX names per name; a
/// name in no table is NXDOMAIN, a name with other records but none of the type asked is "no
/// data"; names in `failing` answer with a server failure. Every question is logged.
final class FakeResolver: DNSResolving {
  var txt: [String: [String]] = [:]
  var addresses: [String: [String]] = [:]
  var mx: [String: [(UInt16, String)]] = [:]
  var failing: Set<String> = []
  private(set) var asked: [String] = []

  init(txt: [String: [String]] = [:], addresses: [String: [String]] = [:], mx: [String: [(UInt16, String)]] = [:]) {
    self.txt = txt
    self.addresses = addresses
    self.mx = mx
  }

  func lookup(_ name: String, _ type: DNSRecordType) throws(DNSError) -> DNSAnswer {
    let name = name.lowercased()
    asked.append("\(type) \(name)")
    if failing.contains(name) { throw .serverFailure("\(name): SERVFAIL") }
    guard txt[name] != nil || addresses[name] != nil || mx[name] != nil else { return .nonexistentDomain }
    var records: [DNSRecord] = []
    switch type {
    case .txt:
      records = (txt[name] ?? []).map { text in
        // Split long texts into 255-octet character-strings, as a zone would.
        let bytes = Array(text.utf8)
        let strings = stride(from: 0, to: max(bytes.count, 1), by: 255).map {
          Array(bytes[$0..<min($0 + 255, bytes.count)])
        }
        return DNSRecord(name: name, type: .txt, data: .text(strings))
      }
    case .a, .aaaa:
      records = (addresses[name] ?? []).compactMap(IPAddress.init).filter { $0.isIPv4 == (type == .a) }.map {
        DNSRecord(name: name, type: type, data: .address($0.bytes))
      }
    case .mx:
      records = (mx[name] ?? []).map {
        DNSRecord(name: name, type: .mx, data: .mailExchange(preference: $0.0, exchange: $0.1))
      }
    default:
      break
    }
    return records.isEmpty ? .noData : .records(records)
  }
}

import Foundation

/// A test DNS zone served by dnsmasq (`Tests/Servers/dnsmasq_server.py`) on a free loopback
/// port: real answers for our DNS client, SPF, DMARC and DKIM. Names under `test` that the zone
/// does not list are NXDOMAIN (`--local=/test/`); other names are REFUSED (no upstream).
struct DNSZone {
  /// TXT records: name and its character-strings (each up to 255 octets; no commas, which is
  /// how dnsmasq separates them on its command line).
  var txt: [(String, [String])] = []
  /// A and AAAA records: name and addresses.
  var hosts: [(String, [String])] = []
  /// MX records: domain, exchange, preference.
  var mx: [(String, String, Int)] = []
  /// CNAME records: alias and target.
  var cnames: [(String, String)] = []

  var arguments: [String] {
    ["--local=/test/"]
      + txt.map { "--txt-record=\($0.0),\($0.1.joined(separator: ","))" }
      + hosts.map { "--host-record=\($0.0),\($0.1.joined(separator: ","))" }
      + mx.map { "--mx-host=\($0.0),\($0.1),\($0.2)" }
      + cnames.map { "--cname=\($0.0),\($0.1)" }
  }
}

extension ServerProcess {
  /// dnsmasq serving `zone`; `address` is what `--resolver` takes.
  static func dnsmasq(_ zone: DNSZone) throws -> ServerProcess {
    let directory = try TestEnvironment.makeScratchDirectory("dnsmasq")
    return try start(
      script: "dnsmasq_server.py", arguments: ["--host", "127.0.0.1", "--"] + zone.arguments, host: "127.0.0.1",
      python: TestEnvironment.python, in: directory)
  }
}

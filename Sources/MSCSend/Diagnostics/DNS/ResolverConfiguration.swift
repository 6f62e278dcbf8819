import Foundation

/// Which recursive resolvers `check` asks: `--resolver IP[:PORT]` when given, else the
/// `nameserver` lines of `/etc/resolv.conf` (port 53, in file order, as resolv.conf(5) says),
/// else 127.0.0.1 (glibc's default when the file names none).
public enum ResolverConfiguration {
  public static let systemFile = "/etc/resolv.conf"

  /// Servers from resolv.conf text. Other directives (search, options) do not apply: every
  /// name `check` asks for is fully qualified. Unparsable addresses are skipped.
  public static func servers(resolvConf text: String) -> [SocketAddress] {
    var servers: [SocketAddress] = []
    for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
      let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard words.count >= 2, words[0] == "nameserver" else { continue }
      // A link-local IPv6 server may carry a zone (fe80::1%eth0); getaddrinfo understands it.
      if let address = SocketAddress(numericHost: String(words[1]), port: 53), !servers.contains(address) {
        servers.append(address)
      }
    }
    return servers
  }

  /// The system's resolvers: resolv.conf, else 127.0.0.1:53.
  public static func systemServers(file: String = systemFile) -> [SocketAddress] {
    let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
    let servers = servers(resolvConf: text)
    if !servers.isEmpty { return servers }
    return SocketAddress(numericHost: "127.0.0.1", port: 53).map { [$0] } ?? []
  }

  /// `--resolver` values: `192.0.2.53`, `192.0.2.53:5353`, `2001:db8::53`, `[2001:db8::53]:5353`.
  /// Names are refused: resolving the resolver would need a resolver.
  public static func parse(_ text: String) -> SocketAddress? {
    var host = text
    var port: UInt16 = 53
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]") else { return nil }
      host = String(text[text.index(after: text.startIndex)..<close])
      let rest = text[text.index(after: close)...]
      if !rest.isEmpty {
        guard rest.hasPrefix(":"), let value = UInt16(rest.dropFirst()), value > 0 else { return nil }
        port = value
      }
    } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
      host = String(text[..<colon])
      guard let value = UInt16(text[text.index(after: colon)...]), value > 0 else { return nil }
      port = value
    }
    guard IPAddress(host) != nil else { return nil }
    return SocketAddress(numericHost: host, port: port)
  }
}

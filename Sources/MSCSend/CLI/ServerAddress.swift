/// `--server` values: `host`, `host:port`, `[v6-literal]:port`, `[v6-literal]`, or a bare IPv6
/// literal without a port.
struct ServerAddress: Equatable {
  var host: String
  var port: UInt16?

  static func parse(_ text: String) throws(UsageError) -> ServerAddress {
    guard !text.isEmpty, !text.contains(where: { $0.isWhitespace || $0 == "/" }) else {
      throw UsageError("invalid --server \"\(text)\": expected HOST, HOST:PORT or [IPv6]:PORT")
    }
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]") else { throw UsageError("invalid --server \"\(text)\": missing ]") }
      let host = String(text[text.index(after: text.startIndex)..<close])
      let rest = text[text.index(after: close)...]
      guard !host.isEmpty else { throw UsageError("invalid --server \"\(text)\": empty address") }
      if rest.isEmpty { return ServerAddress(host: host, port: nil) }
      guard rest.hasPrefix(":") else { throw UsageError("invalid --server \"\(text)\": expected :PORT after ]") }
      return ServerAddress(host: host, port: try parsePort(String(rest.dropFirst()), in: text))
    }
    let colons = text.filter { $0 == ":" }.count
    if colons > 1 { return ServerAddress(host: text, port: nil) }  // bare IPv6 literal
    if colons == 1, let colon = text.firstIndex(of: ":") {
      let host = String(text[..<colon])
      guard !host.isEmpty else { throw UsageError("invalid --server \"\(text)\": empty host") }
      return ServerAddress(host: host, port: try parsePort(String(text[text.index(after: colon)...]), in: text))
    }
    return ServerAddress(host: text, port: nil)
  }

  private static func parsePort(_ text: String, in whole: String) throws(UsageError) -> UInt16 {
    guard let port = UInt16(text), port > 0 else {
      throw UsageError("invalid port \"\(text)\" in --server \"\(whole)\": expected 1-65535")
    }
    return port
  }
}

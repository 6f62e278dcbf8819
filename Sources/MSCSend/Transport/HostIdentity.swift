import Glibc

/// How this host names itself in EHLO (RFC 5321 section 4.1.4): its fully qualified domain name,
/// else an address literal of the local end of the connection.
public enum HostIdentity {
  public static func helloName(localAddress: String?) -> String {
    if let name = fullyQualifiedName() { return name }
    guard let localAddress else { return "[127.0.0.1]" }
    return localAddress.contains(":") ? "[IPv6:\(localAddress)]" : "[\(localAddress)]"
  }

  /// The canonical name of `gethostname()`, when it contains a dot.
  public static func fullyQualifiedName() -> String? {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
    let name = String(cString: buffer)
    if name.contains("."), isValidHostName(name) { return name }
    var hints = addrinfo()
    hints.ai_flags = AI_CANONNAME
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return nil }
    defer { freeaddrinfo(result) }
    guard let canonical = first.pointee.ai_canonname else { return nil }
    let fqdn = String(cString: canonical)
    return fqdn.contains(".") && isValidHostName(fqdn) ? fqdn : nil
  }

  static func isValidHostName(_ name: String) -> Bool {
    !name.isEmpty && name.count <= 253 && !name.hasSuffix(".localdomain") && name.utf8.allSatisfy {
      (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) || $0 == 0x2d || $0 == 0x2e
    }
  }
}

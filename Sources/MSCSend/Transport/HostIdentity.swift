import Glibc

/// How this host names itself in EHLO (RFC 5321 section 4.1.4): its fully qualified domain name,
/// else an address literal of the local end of the connection.
public enum HostIdentity {
  public static func helloName(localAddress: String?) -> String {
    if let name = fullyQualifiedName() { return name }
    guard let localAddress else { return "[127.0.0.1]" }
    return localAddress.contains(":") ? "[IPv6:\(localAddress)]" : "[\(localAddress)]"
  }

  /// `gethostname()` when it is fully qualified (contains a dot). Deliberately no DNS lookup
  /// (AI_CANONNAME): with an unreachable resolver that costs seconds while the server waits for
  /// EHLO; the address literal is just as valid (RFC 5321 section 4.1.4).
  public static func fullyQualifiedName() -> String? {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
    let name = String(cString: buffer)
    return name.contains(".") && isValidHostName(name) ? name : nil
  }

  static func isValidHostName(_ name: String) -> Bool {
    !name.isEmpty && name.count <= 253 && !name.hasSuffix(".localdomain") && name.utf8.allSatisfy {
      (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) || $0 == 0x2d || $0 == 0x2e
    }
  }
}

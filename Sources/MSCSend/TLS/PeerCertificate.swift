import COpenSSL
import Glibc

/// What we report about the server's leaf certificate. Every string that comes from the
/// certificate is attacker-controlled: it is escaped to printable ASCII before anyone prints it.
struct PeerCertificate {
  var subject: String
  var issuer: String
  /// "DNS:name" and "IP:address" entries, in certificate order.
  var subjectAlternativeNames: [String]
  var notAfter: Double?
  /// sha256 of the DER encoding, lower-case hex: what `fingerprint` in the config pins.
  var fingerprintSHA256: String

  /// Reads `certificate` (an `X509 *` the caller keeps ownership of).
  init(certificate: OpaquePointer) throws(TLSError) {
    subject = Self.distinguishedName(X509_get_subject_name(certificate))
    issuer = Self.distinguishedName(X509_get_issuer_name(certificate))
    subjectAlternativeNames = Self.alternativeNames(certificate)
    notAfter = Self.epochSeconds(X509_get0_notAfter(certificate))
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1, length == 32 else {
      throw .handshakeFailed("cannot hash the server certificate: \(TLSContext.drainErrorQueue())")
    }
    fingerprintSHA256 = Crypto.hex(Array(digest.prefix(Int(length))))
  }

  /// One-line RFC 2253 form ("CN=smtp.example.com,O=Example"), control and non-ASCII bytes
  /// escaped by OpenSSL.
  private static func distinguishedName(_ name: OpaquePointer?) -> String {
    guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
    defer { BIO_free(bio) }
    guard X509_NAME_print_ex(bio, name, 0, msc_XN_FLAG_RFC2253()) >= 0 else { return "" }
    var data: UnsafeMutablePointer<CChar>?
    let length = msc_BIO_get_mem_data(bio, &data)
    guard let data, length > 0 else { return "" }
    let bytes = UnsafeRawBufferPointer(start: data, count: min(Int(length), 4096))
    return printable(Array(bytes))
  }

  private static func alternativeNames(_ certificate: OpaquePointer) -> [String] {
    guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
    let names = OpaquePointer(raw)
    defer { GENERAL_NAMES_free(names) }
    var result: [String] = []
    let count = OPENSSL_sk_num(names)
    guard count > 0 else { return [] }
    for index in 0..<count {
      guard let element = OPENSSL_sk_value(names, index) else { continue }
      let name = element.assumingMemoryBound(to: GENERAL_NAME.self).pointee
      switch name.type {
      case GEN_DNS:
        if let value = name.d.dNSName { result.append("DNS:" + printable(bytes(of: value))) }
      case GEN_IPADD:
        if let value = name.d.iPAddress { result.append("IP:" + ipAddressText(bytes(of: value))) }
      default:
        continue
      }
    }
    return result
  }

  private static func bytes(of string: UnsafeMutablePointer<ASN1_STRING>) -> [UInt8] {
    let length = Int(ASN1_STRING_length(string))
    guard length > 0, let data = ASN1_STRING_get0_data(string) else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: min(length, 1024)))
  }

  private static func ipAddressText(_ address: [UInt8]) -> String {
    let family: Int32
    switch address.count {
    case 4: family = AF_INET
    case 16: family = AF_INET6
    default: return "invalid(\(Crypto.hex(address)))"
    }
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    guard inet_ntop(family, address, &buffer, socklen_t(buffer.count)) != nil else { return "invalid" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Seconds since 1970 (UTC) of an ASN.1 time, nil when OpenSSL cannot read it.
  private static func epochSeconds(_ time: UnsafePointer<ASN1_TIME>?) -> Double? {
    guard let time else { return nil }
    var parts = tm()
    guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
    return Double(timegm(&parts))
  }

  /// Printable ASCII; anything else becomes `\xNN`, so a certificate cannot inject terminal
  /// escapes or newlines into our output.
  static func printable(_ bytes: [UInt8]) -> String {
    var out = ""
    for byte in bytes {
      if byte >= 0x20 && byte < 0x7f {
        out.unicodeScalars.append(Unicode.Scalar(byte))
      } else {
        out += "\\x" + Crypto.hex([byte])
      }
    }
    return out
  }
}

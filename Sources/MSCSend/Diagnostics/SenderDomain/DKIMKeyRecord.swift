import Foundation

/// A DKIM public key record at `SELECTOR._domainkey.DOMAIN` (RFC 6376 section 3.6.1).
public struct DKIMKeyRecord: Sendable, Equatable {
  /// `k=`: `rsa` (the default) or `ed25519` (RFC 8463).
  public var keyType: String
  /// `p=` was empty: the key has been revoked (section 3.6.1).
  public var revoked: Bool
  /// RSA modulus bits, or 256 for Ed25519; nil when revoked.
  public var keyBits: Int?
  /// `t=y`: the domain is testing DKIM; verifiers may treat signatures as unsigned.
  public var testing: Bool

  public static func parse(_ text: String) throws(SPFError) -> DKIMKeyRecord {
    let tags: [DomainTagList.Tag]
    switch DomainTagList.parse(text) {
    case .success(let parsed): tags = parsed
    case .failure(let error): throw error
    }
    if let version = tags[tag: "v"] {
      guard tags.first?.name == "v", version == "DKIM1" else { throw SPFError("v= must come first and be DKIM1") }
    }
    let keyType = (tags[tag: "k"] ?? "rsa").lowercased()
    guard keyType == "rsa" || keyType == "ed25519" else { throw SPFError("unknown key type k=\(keyType)") }
    if let service = tags[tag: "s"], !service.split(separator: ":").contains(where: { $0 == "*" || $0 == "email" }) {
      throw SPFError("s=\(service) excludes email")
    }
    let testing = tags[tag: "t"].map {
      $0.split(separator: ":").contains { $0.trimmingCharacters(in: .whitespaces) == "y" }
    }
    guard let publicKey = tags[tag: "p"] else { throw SPFError("no p= (public key) tag") }
    let base64 = publicKey.filter { !$0.isWhitespace }
    guard !base64.isEmpty else {
      return DKIMKeyRecord(keyType: keyType, revoked: true, keyBits: nil, testing: testing ?? false)
    }
    guard let der = Data(base64Encoded: base64) else { throw SPFError("p= is not valid base64") }
    let bits: Int
    if keyType == "ed25519" {
      guard der.count == 32 else { throw SPFError("an Ed25519 p= must be 32 bytes, found \(der.count)") }
      bits = 256
    } else {
      guard let rsaBits = Crypto.rsaPublicKeyBits(der: Array(der)) else {
        throw SPFError("p= is not an RSA public key")
      }
      bits = rsaBits
    }
    return DKIMKeyRecord(keyType: keyType, revoked: false, keyBits: bits, testing: testing ?? false)
  }
}

import COpenSSL

/// The small crypto facade the rest of the code uses (CRAM-MD5, PKCE, fingerprints, Message-IDs,
/// later DKIM). Everything is OpenSSL's; nothing here is hand-rolled.
public enum Crypto {
  public enum Algorithm: Sendable {
    case md5, sha1, sha256

    fileprivate var evp: OpaquePointer? {
      switch self {
      case .md5: EVP_md5()
      case .sha1: EVP_sha1()
      case .sha256: EVP_sha256()
      }
    }
  }

  /// Message digest of `data`.
  public static func digest(_ algorithm: Algorithm, _ data: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let ok = data.withUnsafeBufferPointer { input in
      EVP_Digest(input.baseAddress, input.count, &output, &length, algorithm.evp, nil)
    }
    precondition(ok == 1, "EVP_Digest failed")
    return Array(output.prefix(Int(length)))
  }

  /// A digest computed piece by piece, for content too large to hold at once (a message streamed
  /// to the socket is hashed as it goes). One use: `update` any number of times, then `finish`.
  public final class IncrementalDigest {
    private let context: OpaquePointer?

    public init(_ algorithm: Algorithm) {
      context = EVP_MD_CTX_new()
      let ok = context != nil && EVP_DigestInit_ex(context, algorithm.evp, nil) == 1
      precondition(ok, "EVP_DigestInit_ex failed")
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: [UInt8]) {
      let ok = bytes.withUnsafeBufferPointer { EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
      precondition(ok == 1, "EVP_DigestUpdate failed")
    }

    /// The digest of everything given to `update`.
    public func finish() -> [UInt8] {
      var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
      var length: UInt32 = 0
      let ok = EVP_DigestFinal_ex(context, &output, &length)
      precondition(ok == 1, "EVP_DigestFinal_ex failed")
      return Array(output.prefix(Int(length)))
    }
  }

  /// HMAC of `message` under `key` (RFC 2104).
  public static func hmac(_ algorithm: Algorithm, key: [UInt8], message: [UInt8]) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let result = key.withUnsafeBufferPointer { keyBuffer in
      message.withUnsafeBufferPointer { messageBuffer in
        HMAC(
          algorithm.evp, keyBuffer.baseAddress, Int32(keyBuffer.count),
          messageBuffer.baseAddress, messageBuffer.count, &output, &length)
      }
    }
    precondition(result != nil, "HMAC failed")
    return Array(output.prefix(Int(length)))
  }

  /// Cryptographically secure random bytes from the kernel: the standard library's
  /// `SystemRandomNumberGenerator` (getrandom(2) on Linux, documented as cryptographically
  /// secure). Not RAND_bytes: seeding OpenSSL's generator loads its configuration (~2 ms), a cost
  /// every plaintext send to a local relay would pay just for a Message-ID.
  public static func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
      withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
  }

  /// The size in bits of an RSA public key given as DER, SubjectPublicKeyInfo (what DKIM's p=
  /// carries, RFC 6376 section 3.6.1) or a bare PKCS#1 RSAPublicKey (which some publish and many
  /// verifiers accept); nil when it is neither.
  public static func rsaPublicKeyBits(der: [UInt8]) -> Int? {
    guard !der.isEmpty else { return nil }
    return der.withUnsafeBufferPointer { buffer -> Int? in
      var cursor = buffer.baseAddress
      var key = d2i_PUBKEY(nil, &cursor, buffer.count)
      if key == nil {
        ERR_clear_error()
        cursor = buffer.baseAddress
        key = d2i_PublicKey(NID_rsaEncryption, nil, &cursor, buffer.count)
      }
      guard let key else {
        ERR_clear_error()
        return nil
      }
      defer { EVP_PKEY_free(key) }
      guard EVP_PKEY_get_base_id(key) == NID_rsaEncryption else { return nil }
      return Int(EVP_PKEY_get_bits(key))
    }
  }

  /// Lower-case hex.
  public static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}

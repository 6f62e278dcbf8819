import Foundation

/// The key under which a row's message is recorded as sent, so that running the same batch again
/// sends only the rows not sent before.
///
/// Two forms:
/// - `CAMPAIGN:VALUE` when the row has a non-blank key column (`key` unless told otherwise): the
///   sender chose the identity, so a corrected row (a typo fixed in the name) is still the same
///   message and is not sent twice. (A key value of the form `sha256:HEX` would look like the
///   second form; choose another.)
/// - `CAMPAIGN:sha256:HEX` otherwise, where HEX is the lower-case SHA-256 of the row's canonical
///   encoding: any change to any value makes it a new message.
///
/// Canonical encoding (version 1): the bytes `msc-send-row-v1` followed, for each variable in
/// ascending order of the UTF-8 bytes of its name, by `<n>:<name><m>:<value>` where `n` and `m` are
/// the decimal UTF-8 byte lengths of name and value. Names and values are first normalized to
/// Unicode NFC, so the same text typed by two editors gives the same key (as Swift compares them
/// equal). The length prefixes make the encoding injective: no two different rows share it, however
/// their values are split (`a="b", c=""` and `a="", c="b"`, or a value that itself contains `1:x`).
/// The campaign cannot contain `:`, so keys of different campaigns cannot collide either. The key
/// value and campaign are NFC-normalized too.
public enum IdempotencyKey {
  public static let defaultKeyColumn = "key"
  static let encodingVersion = "msc-send-row-v1"

  /// The key for `row` in `campaign`; see the type's documentation for the format.
  public static func make(campaign: String, row: BatchRow, keyColumn: String = defaultKeyColumn) -> String {
    let prefix = campaign.precomposedStringWithCanonicalMapping + ":"
    if let key = chosenKey(row, keyColumn: keyColumn) { return prefix + key.precomposedStringWithCanonicalMapping }
    return prefix + "sha256:" + Crypto.hex(Crypto.digest(.sha256, canonicalEncoding(row.values)))
  }

  /// The key column's value when it is not blank.
  static func chosenKey(_ row: BatchRow, keyColumn: String) -> String? {
    guard let key = row.values[keyColumn], !key.allSatisfy(\.isWhitespace) else { return nil }
    return key
  }

  /// The bytes hashed for a row without a key column (see the type's documentation).
  static func canonicalEncoding(_ values: [String: String]) -> [UInt8] {
    let pairs = values.map { name, value in
      (Array(name.precomposedStringWithCanonicalMapping.utf8), Array(value.precomposedStringWithCanonicalMapping.utf8))
    }
    var bytes = Array(encodingVersion.utf8)
    for (name, value) in pairs.sorted(by: { $0.0.lexicographicallyPrecedes($1.0) }) {
      bytes += Array(String(name.count).utf8) + [UInt8(ascii: ":")] + name
      bytes += Array(String(value.count).utf8) + [UInt8(ascii: ":")] + value
    }
    return bytes
  }

  /// A campaign name is part of every key: it must be non-empty, without `:` (the separator),
  /// whitespace or control characters.
  public static func validateCampaign(_ campaign: String) throws(BatchInputError) {
    let invalid = campaign.unicodeScalars.contains { scalar in
      scalar == ":" || scalar.properties.isWhitespace || ComposeError.isControl(scalar)
    }
    if campaign.isEmpty || invalid {
      throw BatchInputError(
        .invalidCampaign,
        "invalid campaign name \(ComposeError.visible(campaign)): it must be non-empty, without \":\", "
          + "spaces or control characters")
    }
  }
}

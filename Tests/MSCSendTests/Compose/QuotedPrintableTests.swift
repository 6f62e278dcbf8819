import Testing
@testable import MSCSend

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

private let roundTripInputs: [String] = [
  "Hello\nWorld\n",
  "x = y + z; a==b\n",
  "trailing spaces   \ntrailing tab\t\n\t \n",
  String(repeating: "long line without breaks ", count: 40),
  String(repeating: "=", count: 200),
  ".\n..\n.\r\n.",
  "Perché è già così\r\n件名: 四半期レポート\n季度报告 — Hälsningar från Göteborg\n",
  String(repeating: "é", count: 100) + " \n",
  "From the start\nFrom",
  "",
  "\n\n\n",
]

/// What decoding gives back for a text-mode encoding: the input with LF and CRLF both as CRLF.
private func crlfLineBreaks(_ input: String) -> [UInt8] {
  var normalizer = LineBreakNormalizer()
  return normalizer.normalize(Array(input.utf8)) + normalizer.finish()
}

@Suite struct QuotedPrintableTests {
  @Test(arguments: [
    ("Hello, world", "Hello, world"),
    ("", ""),
    ("a=b", "a=3Db"),
    ("trailing  \nnext", "trailing =20\r\nnext"),
    ("ends with tab\t", "ends with tab=09"),
    ("ends with space ", "ends with space=20"),
    ("inner  spaces stay", "inner  spaces stay"),
    ("Hälsningar", "H=C3=A4lsningar"),
    ("件", "=E4=BB=B6"),
    (".\n", "=2E\r\n"),
    ("a\n.\nb", "a\r\n=2E\r\nb"),
    ("..leading", "=2E.leading"),
    ("From here\nFrom: not mbox\nFromage", "=46rom here\r\nFrom: not mbox\r\nFromage"),
    ("a\r\nb\nc\r\n", "a\r\nb\r\nc\r\n"),
    ("lone\rcarriage return", "lone=0Dcarriage return"),
    ("ends with CR\r", "ends with CR=0D"),
    ("\u{0}\u{7F}~!", "=00=7F~!"),
    (
      String(repeating: "a", count: 100),
      String(repeating: "a", count: 75) + "=\r\n" + String(repeating: "a", count: 25)
    ),
    (
      String(repeating: "a", count: 74) + " \nb",
      String(repeating: "a", count: 74) + "=\r\n=20\r\nb"
    ),
    (
      String(repeating: "a", count: 73) + "é",
      String(repeating: "a", count: 73) + "=\r\n=C3=A9"
    ),
  ])
  func encodesQuotedPrintableExactly(_ input: String, _ expected: String) {
    #expect(text(QuotedPrintable.encode(Array(input.utf8))) == expected)
  }

  @Test func binaryModeEncodesLineBreaks() {
    #expect(text(QuotedPrintable.encode(Array("a\r\nb\n".utf8), mode: .binary)) == "a=0D=0Ab=0A")
  }

  @Test(arguments: roundTripInputs)
  func quotedPrintableRoundTrips(_ input: String) {
    let encoded = QuotedPrintable.encode(Array(input.utf8))
    #expect(QuotedPrintable.decode(encoded) == crlfLineBreaks(input))
    for line in text(encoded).split(separator: "\r\n", omittingEmptySubsequences: false) {
      #expect(line.utf8.count <= 76, "line too long: \(line)")
      #expect(line.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E || $0 == 0x20 || $0 == 0x09 })
      #expect(line.last != " " && line.last != "\t")
      #expect(line != ".")
    }
    #expect(Self.hasOnlyCRLFLineBreaks(encoded))
  }

  @Test(arguments: roundTripInputs)
  func binaryQuotedPrintableRoundTrips(_ input: String) {
    let bytes = Array(input.utf8)
    #expect(QuotedPrintable.decode(QuotedPrintable.encode(bytes, mode: .binary)) == bytes)
  }

  @Test func chunkedEncodingEqualsOneShot() {
    let input = Array("ab \r\ncd\t\r\n.\n\(String(repeating: "x", count: 80))=é \rFrom z ".utf8)
    let oneShot = QuotedPrintable.encode(input)
    for chunkSize in 1...input.count {
      var encoder = QuotedPrintableEncoder()
      var output: [UInt8] = []
      var start = 0
      while start < input.count {
        output += encoder.encode(input[start..<min(start + chunkSize, input.count)])
        start += chunkSize
      }
      output += encoder.finish()
      #expect(output == oneShot, "chunk size \(chunkSize)")
    }
    // Every split point, two chunks each: catches state lost exactly at a CR, a space or a line end.
    for split in 0...input.count {
      var encoder = QuotedPrintableEncoder()
      let output = encoder.encode(input[..<split]) + encoder.encode(input[split...]) + encoder.finish()
      #expect(output == oneShot, "split at \(split)")
    }
  }

  @Test(arguments: [
    ("H=c3=a4lsningar", "Hälsningar"),
    ("soft=\nbreak", "softbreak"),
    ("soft=\r\nbreak", "softbreak"),
    ("transport added   \r\nspaces", "transport added\r\nspaces"),
    ("soft with spaces=  \r\nend", "soft with spacesend"),
    ("bad =XY and =4", "bad =XY and =4"),
    ("last line", "last line"),
  ])
  func decodesQuotedPrintableLeniently(_ encoded: String, _ decoded: String) {
    #expect(text(QuotedPrintable.decode(Array(encoded.utf8))) == decoded)
  }
}

extension QuotedPrintableTests {
  /// True when every CR is followed by LF and every LF preceded by CR.
  static func hasOnlyCRLFLineBreaks(_ bytes: [UInt8]) -> Bool {
    for (index, byte) in bytes.enumerated() {
      let next = index + 1 < bytes.count ? bytes[index + 1] : nil
      let previous = index > 0 ? bytes[index - 1] : nil
      if byte == UInt8(ascii: "\r") && next != UInt8(ascii: "\n") { return false }
      if byte == UInt8(ascii: "\n") && previous != UInt8(ascii: "\r") { return false }
    }
    return true
  }
}

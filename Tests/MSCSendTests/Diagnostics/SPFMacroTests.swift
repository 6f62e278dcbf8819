import Testing

@testable import MSCSend

/// Macro expansion against the examples of RFC 7208 section 7.4.
@Suite struct SPFMacroTests {
  static let v4 = SPFMacroContext(
    ip: IPAddress("192.0.2.3")!, sender: "strong-bad@email.example.com", domain: "email.example.com",
    helo: "mx.example.org")

  static let examples: [(String, String)] = [
    ("%{s}", "strong-bad@email.example.com"),
    ("%{o}", "email.example.com"),
    ("%{d}", "email.example.com"),
    ("%{d4}", "email.example.com"),
    ("%{d3}", "email.example.com"),
    ("%{d2}", "example.com"),
    ("%{d1}", "com"),
    ("%{dr}", "com.example.email"),
    ("%{d2r}", "example.email"),
    ("%{l}", "strong-bad"),
    ("%{l-}", "strong.bad"),
    ("%{lr}", "strong-bad"),
    ("%{lr-}", "bad.strong"),
    ("%{l1r-}", "strong"),
    ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
    ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
    ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
    ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
    ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
    ("%{h}", "mx.example.org"),
    ("%%%_%-", "% %20"),
  ]

  @Test(arguments: examples.map(\.0))
  func rfcExamples(_ macro: String) throws {
    let expected = try #require(Self.examples.first { $0.0 == macro }?.1)
    #expect(try SPFMacro.expand(macro, context: Self.v4) == expected)
  }

  @Test func ipv6ClientExpandsToNibbles() throws {
    var context = Self.v4
    context.ip = try #require(IPAddress("2001:db8::cb01"))
    #expect(
      try SPFMacro.expand("%{ir}.%{v}._spf.%{d2}", context: context)
        == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")
  }

  @Test func upperCaseLettersAreURLEncoded() throws {
    var context = Self.v4
    context.sender = "a b/c@example.com"
    #expect(try SPFMacro.expand("%{L}", context: context) == "a%20b%2Fc")
  }

  @Test func emptyLocalPartIsPostmaster() throws {
    var context = Self.v4
    context.sender = "example.com"
    #expect(try SPFMacro.expand("%{l}@%{o}", context: context) == "postmaster@example.com")
  }

  @Test(arguments: ["%{p}", "%{x}", "%{d0}", "%{d", "%", "%a", "%{c}", "%{dq}", "a b"])
  func unsupportedOrBrokenMacrosAreErrors(_ text: String) {
    #expect(throws: SPFError.self) { try SPFMacro.expand(text, context: Self.v4) }
  }

  @Test func explanationLettersOnlyInExp() throws {
    #expect(
      try SPFMacro.expand("%{c} is not allowed", context: Self.v4, explanation: true) == "192.0.2.3 is not allowed")
    #expect(throws: SPFError.self) { try SPFMacro.validate("%{r}", allowingExplanationLetters: false) }
  }

  @Test func pMacroSaysWhyItIsRefused() {
    do throws(SPFError) {
      _ = try SPFMacro.expand("%{p}.example.com", context: Self.v4)
      Issue.record("expected an error")
    } catch {
      #expect(error.message.contains("not supported"))
    }
  }

  @Test func longExpansionsLoseLabelsOnTheLeft() {
    let long = Array(repeating: "abcdefghij", count: 30).joined(separator: ".") + ".example.com"
    let truncated = SPFMacro.truncatedDomain(long)
    #expect(truncated.count <= 253)
    #expect(truncated.hasSuffix(".example.com"))
    #expect(truncated.hasPrefix("abcdefghij."))
  }
}

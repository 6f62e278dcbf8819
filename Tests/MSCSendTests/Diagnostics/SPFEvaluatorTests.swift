import Testing

@testable import MSCSend

/// `check_host()` (RFC 7208) over a fake resolver: each case a zone, a client address and the
/// result, with the reason or the deciding term where it matters.
@Suite struct SPFEvaluatorTests {
  private func check(
    _ resolver: FakeResolver, ip: String = "192.0.2.10", domain: String = "acme.test", sender: String = "a@acme.test"
  ) -> SPFEvaluation {
    SPFEvaluator(resolver: resolver, helo: "client.test").checkHost(ip: IPAddress(ip)!, domain: domain, sender: sender)
  }

  @Test func includeChainPassesAndSaysWhereItMatched() {
    let zone = FakeResolver(txt: [
      "acme.test": ["v=spf1 include:_spf.acme.test -all"],
      "_spf.acme.test": ["v=spf1 include:_net.acme.test ~all"],
      "_net.acme.test": ["v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"],
    ])
    let result = check(zone)
    #expect(result.result == .pass)
    #expect(result.lookups == 2)
    #expect(
      result.decidedBy
        == "include:_spf.acme.test in acme.test -> include:_net.acme.test in _spf.acme.test -> "
        + "ip4:192.0.2.0/24 in _net.acme.test"
    )
    #expect(check(zone, ip: "2001:db8:1::5").result == .pass)
    #expect(check(zone, ip: "198.51.100.1").result == .fail, "the include does not match; -all decides")
  }

  @Test func qualifiersGiveTheirResults() {
    for (qualifier, expected) in [("-", SPFResult.fail), ("~", .softfail), ("?", .neutral), ("+", .pass), ("", .pass)] {
      let zone = FakeResolver(txt: ["acme.test": ["v=spf1 ip4:198.51.100.0/24 \(qualifier)all"]])
      #expect(check(zone).result == expected, "\(qualifier)all")
    }
    #expect(check(FakeResolver(txt: ["acme.test": ["v=spf1 ip4:198.51.100.1"]])).result == .neutral)
  }

  @Test func cidrPrefixesMatchBitwise() {
    let zone = FakeResolver(txt: ["acme.test": ["v=spf1 ip4:192.0.2.8/29 -all"]])
    #expect(check(zone, ip: "192.0.2.15").result == .pass)
    #expect(check(zone, ip: "192.0.2.16").result == .fail)
    #expect(check(zone, ip: "::ffff:192.0.2.9").result == .pass, "an IPv4-mapped client is IPv4")
    let v6 = FakeResolver(txt: ["acme.test": ["v=spf1 ip6:2001:db8:abcd::/48 -all"]])
    #expect(check(v6, ip: "2001:db8:abcd:ffff::1").result == .pass)
    #expect(check(v6, ip: "2001:db8:abce::1").result == .fail)
  }

  @Test func aAndMXMechanismsCountAsLookups() {
    let zone = FakeResolver(
      txt: ["acme.test": ["v=spf1 a mx:mail.acme.test/24 a:relay.acme.test//64 -all"]],
      addresses: ["acme.test": ["198.51.100.1"], "mx1.acme.test": ["192.0.2.1"], "relay.acme.test": ["2001:db8::1"]],
      mx: ["mail.acme.test": [(10, "mx1.acme.test")]])
    let viaMX = check(zone, ip: "192.0.2.200")
    #expect(viaMX.result == .pass)
    #expect(viaMX.decidedBy == "mx:mail.acme.test/24 in acme.test")
    #expect(viaMX.lookups == 2)
    let viaA = check(zone, ip: "2001:db8::ffff:1")
    #expect(viaA.result == .pass, "a:relay//64 matches an IPv6 client in the /64")
    #expect(viaA.lookups == 3)
  }

  @Test func redirectIsUsedWhenNothingMatches() {
    let zone = FakeResolver(txt: [
      "acme.test": ["v=spf1 ip4:198.51.100.1 redirect=_spf.provider.test"],
      "_spf.provider.test": ["v=spf1 ip4:192.0.2.0/24 -all"],
    ])
    #expect(check(zone).result == .pass)
    #expect(check(zone, ip: "203.0.113.1").result == .fail)
    #expect(check(zone, ip: "198.51.100.1").decidedBy == "ip4:198.51.100.1 in acme.test", "redirect not needed")
  }

  @Test func includeLoopIsAPermerrorNamingTheCycle() {
    let zone = FakeResolver(txt: [
      "acme.test": ["v=spf1 include:loop-a.test -all"],
      "loop-a.test": ["v=spf1 include:loop-b.test -all"],
      "loop-b.test": ["v=spf1 include:loop-a.test -all"],
    ])
    let result = check(zone)
    #expect(result.result == .permerror)
    #expect(result.reason == "include loop: acme.test -> loop-a.test -> loop-b.test -> loop-a.test")
  }

  @Test func redirectToItselfIsALoop() {
    let zone = FakeResolver(txt: ["acme.test": ["v=spf1 redirect=acme.test"]])
    #expect(check(zone).result == .permerror)
    #expect(check(zone).reason?.contains("redirect loop") == true)
  }

  @Test func elevenLookupsAreAPermerror() {
    // Ten includes, each of a domain with one `a` (void is avoided: each has an address).
    var txt: [String: [String]] = [:]
    var addresses: [String: [String]] = [:]
    let names = (1...6).map { "d\($0).test" }
    txt["acme.test"] = ["v=spf1 " + names.map { "include:\($0)" }.joined(separator: " ") + " -all"]
    for name in names {
      txt[name] = ["v=spf1 a -all"]
      addresses[name] = ["198.51.100.9"]
    }
    let zone = FakeResolver(txt: txt, addresses: addresses)
    let result = check(zone)
    #expect(result.result == .permerror)
    #expect(result.lookups == 11)
    #expect(result.reason?.contains("more than 10 DNS lookups") == true)
    // Exactly ten is allowed.
    txt["acme.test"] = ["v=spf1 " + names.prefix(5).map { "include:\($0)" }.joined(separator: " ") + " -all"]
    let ten = check(FakeResolver(txt: txt, addresses: addresses))
    #expect(ten.result == .fail)
    #expect(ten.lookups == 10)
  }

  @Test func moreThanTwoVoidLookupsAreAPermerror() {
    let zone = FakeResolver(txt: ["acme.test": ["v=spf1 a:gone1.test a:gone2.test a:gone3.test -all"]])
    let result = check(zone)
    #expect(result.result == .permerror)
    #expect(result.voidLookups == 3)
    let two = FakeResolver(txt: ["acme.test": ["v=spf1 a:gone1.test a:gone2.test -all"]])
    #expect(check(two).result == .fail, "two void lookups are allowed")
  }

  @Test func moreThanTenMXNamesAreAPermerror() {
    let names = (1...11).map { (UInt16($0), "mx\($0).acme.test") }
    let zone = FakeResolver(txt: ["acme.test": ["v=spf1 mx -all"]], mx: ["acme.test": names])
    #expect(check(zone).result == .permerror)
  }

  @Test func recordSelection() {
    #expect(check(FakeResolver()).result == .none, "NXDOMAIN")
    #expect(check(FakeResolver(txt: ["acme.test": ["google-site-verification=x"]])).result == .none)
    #expect(check(FakeResolver(txt: ["acme.test": ["v=spf1 -all", "v=spf1 +all"]])).result == .permerror)
    #expect(check(FakeResolver(txt: ["acme.test": ["v=spf10 +all"]])).result == .none, "v=spf10 is not SPF")
    #expect(check(FakeResolver(txt: ["acme.test": ["v=spf1 ip4:192.0.2.0/33 -all"]])).result == .permerror)
    #expect(check(FakeResolver(txt: ["acme.test": ["v=spf1 foo:bar -all"]])).result == .permerror)
    #expect(
      check(FakeResolver(txt: ["acme.test": ["v=spf1 +all unknown=%{z}"]])).result == .permerror,
      "a syntax error anywhere is a permerror, even after a match")
    #expect(
      check(FakeResolver(txt: ["acme.test": ["v=spf1 futuremod=x +all"]])).result == .pass,
      "unknown modifiers are ignored")
  }

  @Test func includeOfAMissingRecordIsAPermerror() {
    let zone = FakeResolver(txt: ["acme.test": ["v=spf1 include:nothing.test -all"]])
    let result = check(zone)
    #expect(result.result == .permerror)
    #expect(result.reason?.hasPrefix("include:nothing.test") == true)
  }

  @Test func dnsFailureIsATemperror() {
    let zone = FakeResolver(txt: ["acme.test": ["v=spf1 include:broken.test -all"]])
    zone.failing = ["broken.test"]
    #expect(check(zone).result == .temperror)
    let top = FakeResolver()
    top.failing = ["acme.test"]
    #expect(check(top).result == .temperror)
  }

  @Test func ptrIsCountedNeverMatchesAndWarns() {
    let zone = FakeResolver(txt: ["acme.test": ["v=spf1 ptr ?all"]])
    let result = check(zone)
    #expect(result.result == .neutral)
    #expect(result.lookups == 1)
    #expect(result.warnings.first?.contains("deprecated") == true)
  }

  @Test func existsWithMacrosAsksTheExpandedName() {
    let zone = FakeResolver(
      txt: ["acme.test": ["v=spf1 exists:%{ir}.%{l1r+}._spf.%{d} -all"]],
      addresses: ["10.2.0.192.a._spf.acme.test": ["127.0.0.2"]])
    #expect(check(zone, sender: "a@acme.test").result == .pass)
    #expect(zone.asked.contains("A 10.2.0.192.a._spf.acme.test"))
  }

  @Test func failCarriesTheExplanation() {
    let zone = FakeResolver(txt: [
      "acme.test": ["v=spf1 -all exp=why.acme.test"],
      "why.acme.test": ["%{i} is not one of %{d}'s designated mail servers."],
    ])
    let result = check(zone)
    #expect(result.result == .fail)
    #expect(result.explanation == "192.0.2.10 is not one of acme.test's designated mail servers.")
  }

  @Test func longRecordsSplitIntoStringsAreJoined() {
    let ranges = (0..<40).map { "ip4:198.51.\($0).0/24" }.joined(separator: " ")
    let zone = FakeResolver(txt: ["acme.test": ["v=spf1 \(ranges) ip4:192.0.2.10 -all"]])
    #expect(check(zone).result == .pass)
  }
}

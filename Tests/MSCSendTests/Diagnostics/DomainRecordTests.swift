import Testing

@testable import MSCSend

/// DMARC policy records and DKIM key records: parsing and discovery over a fake resolver.
@Suite struct DomainRecordTests {
  /// A real 2048-bit RSA public key (SubjectPublicKeyInfo, base64), as a DKIM p= carries it.
  static let rsa2048 =
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxmHVX4Eu+xAP/0srIA2EcZmJLztx2+7sT8GZGHB+qfB9nLpNIquWsnYg"
    + "awMAsO1fJ4w0hzXq/5PSTfDHRzneFIE5OpnkWSMP/eWOL0RheEzpe81fNzdWFOJdFTDkkqJSIw0Tk9q4N47GDNJs0tZMc09hNsoo"
    + "Ea5n6rTMha0CieDeAMhxcVLTzZZCc0Fee5dWI4mt1huqqhqPkjuvTwuhJ4e5lrc7fhiuBA1MqowZw3/POM5mNWhVd8R3gqq2sNNN"
    + "U6eiwz+vOoihR120Mx5nDEQomXsghn/UdL044DIjxNdmlljdURajWVLXGcKutv2JxrtdTQRBdt/hUHt53ctR0QIDAQAB"

  @Test func dmarcRecordTags() throws {
    let record = try DMARCRecord.parse(
      "v=DMARC1; p=reject; sp=quarantine; pct=50; rua=mailto:a@acme.test, mailto:b@x.test")
    #expect(record.policy == .reject)
    #expect(record.subdomainPolicy == .quarantine)
    #expect(record.percent == 50)
    #expect(record.aggregateReports == ["mailto:a@acme.test", "mailto:b@x.test"])
    #expect(try DMARCRecord.parse("v=DMARC1;p=none").percent == 100)
    let assumed = try DMARCRecord.parse("v=DMARC1; rua=mailto:a@acme.test")
    #expect(assumed.policy == .none && assumed.policyAssumed, "p= missing but rua= valid: p=none (RFC 7489 6.6.3)")
  }

  @Test(arguments: [
    "p=reject; v=DMARC1", "v=DMARC1", "v=DMARC1; p=block", "v=DMARC1; p=none; pct=101",
    "v=DMARC1; p=none; p=reject", "v=DMARC1; p=none; sp=maybe", "v=DMARC1; junk",
  ])
  func brokenDMARCRecords(_ text: String) {
    #expect(throws: SPFError.self) { try DMARCRecord.parse(text) }
  }

  @Test func dmarcFallsBackToTheOrganizationalDomainOnce() throws {
    let zone = FakeResolver(txt: ["_dmarc.acme.test": ["v=DMARC1; p=quarantine; sp=reject"]])
    let sub = try DMARCLookup.find(domain: "news.acme.test", resolver: zone)
    #expect(sub.name == "_dmarc.acme.test")
    #expect(sub.fromOrganizationalDomain)
    #expect(sub.effectivePolicy == .reject, "sp= applies to the subdomain")
    let top = try DMARCLookup.find(domain: "acme.test", resolver: zone)
    #expect(top.effectivePolicy == .quarantine)
    let deep = try DMARCLookup.find(domain: "a.b.acme.test", resolver: zone)
    #expect(deep.record == nil, "only one label is stripped (documented simplification)")
    #expect(zone.asked.contains("TXT _dmarc.b.acme.test"))
  }

  @Test func dmarcIgnoresOtherTextAndRefusesTwoRecords() throws {
    let one = FakeResolver(txt: ["_dmarc.acme.test": ["some-verification=1", "v=DMARC1; p=none"]])
    #expect(try DMARCLookup.find(domain: "acme.test", resolver: one).record?.policy == DMARCRecord.Policy.none)
    let two = FakeResolver(txt: ["_dmarc.acme.test": ["v=DMARC1; p=none", "v=DMARC1; p=reject"]])
    let finding = try DMARCLookup.find(domain: "acme.test", resolver: two)
    #expect(finding.record == nil)
    #expect(finding.problem?.contains("2 DMARC records") == true)
  }

  @Test func dkimKeyRecords() throws {
    let rsa = try DKIMKeyRecord.parse("v=DKIM1; k=rsa; p=\(Self.rsa2048)")
    #expect(rsa == DKIMKeyRecord(keyType: "rsa", revoked: false, keyBits: 2048, testing: false))
    let spaced = try DKIMKeyRecord.parse(
      "v=DKIM1; t=y; p="
        + Self.rsa2048.enumerated().map {
          $0.offset % 60 == 59 ? "\($0.element) " : "\($0.element)"
        }.joined())
    #expect(spaced.keyBits == 2048 && spaced.testing, "whitespace inside p= is ignored")
    #expect(try DKIMKeyRecord.parse("v=DKIM1; p=").revoked)
    let ed = try DKIMKeyRecord.parse("k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    #expect(ed.keyType == "ed25519" && ed.keyBits == 256)
  }

  @Test(arguments: [
    "k=rsa; p=bm90IGEga2V5", "v=DKIM1; k=dsa; p=AAAA", "p=%%%", "k=rsa; v=DKIM1; p=AAAA",
    "v=DKIM2; p=AAAA", "v=DKIM1; k=rsa", "v=DKIM1; s=web; p=AAAA", "k=ed25519; p=AAAA",
  ])
  func brokenDKIMRecords(_ text: String) {
    #expect(throws: SPFError.self) { try DKIMKeyRecord.parse(text) }
  }
}

import Foundation
import Testing
@testable import MSCSend

@Suite struct MessageIdentityTests {
  @Test(arguments: [
    (1_795_454_343, 0, "Mon, 23 Nov 2026 17:19:03 +0000"),
    (1_795_454_343, -5 * 3_600, "Mon, 23 Nov 2026 12:19:03 -0500"),
    (1_795_454_343, 5 * 3_600 + 1_800, "Mon, 23 Nov 2026 22:49:03 +0530"),
    (1_795_454_343, 14 * 3_600, "Tue, 24 Nov 2026 07:19:03 +1400"),
    (0, 0, "Thu, 1 Jan 1970 00:00:00 +0000"),
    (0, -(3 * 3_600 + 1_800), "Wed, 31 Dec 1969 20:30:00 -0330"),
    (-1, 0, "Wed, 31 Dec 1969 23:59:59 +0000"),
    (951_782_400, 0, "Tue, 29 Feb 2000 00:00:00 +0000"),
    (1_709_251_199, 0, "Thu, 29 Feb 2024 23:59:59 +0000"),
    (4_102_444_800, 0, "Fri, 1 Jan 2100 00:00:00 +0000"),
    (1_795_454_343, 3_600 + 59, "Mon, 23 Nov 2026 18:19:03 +0100"),
  ])
  func formatsRFC5322Date(_ seconds: Int, _ offset: Int, _ expected: String) {
    let date = Date(timeIntervalSince1970: TimeInterval(seconds))
    #expect(MessageIdentity.date(date, timeZoneOffsetSeconds: offset) == expected)
  }

  @Test func dateAgreesWithFoundationOverManyInstants() {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "EEE, d MMM yyyy HH:mm:ss Z"
    var seconds = -2_208_988_800  // 1900-01-01
    while seconds < 7_258_118_400 {  // 2200-01-01
      for offset in [0, -8 * 3_600, 9 * 3_600 + 1_800] {
        formatter.timeZone = TimeZone(secondsFromGMT: offset)
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        #expect(MessageIdentity.date(date, timeZoneOffsetSeconds: offset) == formatter.string(from: date))
      }
      seconds += 7_777_777
    }
  }

  /// RFC 4648 section 10 vectors, in lower case without padding.
  @Test(arguments: [
    ("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foob", "mzxw6yq"), ("fooba", "mzxw6ytb"),
    ("foobar", "mzxw6ytboi"),
  ])
  func base32MatchesRFC4648(_ input: String, _ expected: String) {
    #expect(MessageIdentity.base32(Array(input.utf8)) == expected)
  }

  @Test func messageIDHasTimestampRandomAndDomain() {
    let id = MessageIdentity.messageID(
      randomBytes: Array(0..<16), date: Date(timeIntervalSince1970: 1_795_454_343), domain: "acme.test")
    #expect(id == "<20261123171903.aaaqeayeaudaocajbifqydiob4@acme.test>")
  }

  @Test func messageIDDomainFallsBackWhenSenderDomainIsNotASCII() throws {
    let ascii = try Mailbox.parse("alice@acme.test")
    let literal = try Mailbox.parse("alice@[192.0.2.1]")
    let unicode = try Mailbox.parse("alice@bücher.example")
    #expect(MessageIdentity.messageIDDomain(for: ascii, hostName: "host.example") == "acme.test")
    #expect(MessageIdentity.messageIDDomain(for: literal, hostName: "host.example") == "[192.0.2.1]")
    #expect(MessageIdentity.messageIDDomain(for: unicode, hostName: "host.example") == "host.example")
    #expect(MessageIdentity.messageIDDomain(for: unicode, hostName: "") == "localhost")
    #expect(MessageIdentity.messageIDDomain(for: unicode, hostName: "bad host") == "localhost")
  }
}

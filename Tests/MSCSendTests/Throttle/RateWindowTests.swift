import Testing

@testable import MSCSend

@Suite struct RateWindowTests {
  @Test(arguments: [
    ("45s", 45.0), ("1m", 60), ("24h", 86_400), ("7d", 604_800), ("1h30m", 5_400), ("0s", 0), ("1d2h3m4s", 93_784),
  ])
  func durationsParse(text: String, seconds: Double) {
    #expect(DurationText.parse(text) == seconds)
  }

  @Test(arguments: ["", "45", "s", "1.5m", "1m1h", "1m1m", "-1s", "1 m", "1M", "1w", "10000000000s"])
  func notDurations(text: String) {
    #expect(DurationText.parse(text) == nil)
  }

  @Test func bareSecondsOnlyWhereAllowed() {
    #expect(DurationText.parse("90") == nil)
    #expect(DurationText.parse("90", allowingBareSeconds: true) == 90)
    #expect(DurationText.parse("2m", allowingBareSeconds: true) == 120)
    #expect(DurationText.parse("-3", allowingBareSeconds: true) == nil)
  }

  @Test func durationsFormatShortestRoundedUp() {
    #expect(DurationText.format(0) == "0s")
    #expect(DurationText.format(0.2) == "1s")
    #expect(DurationText.format(90) == "1m30s")
    #expect(DurationText.format(86_400 + 61) == "1d1m1s")
  }

  @Test func windowsParseAndKeepTheirSpelling() {
    let parsed = RateWindow("10000/24h")
    #expect(parsed?.limit == 10_000)
    #expect(parsed?.seconds == 86_400)
    #expect(parsed?.description == "10000/24h")
    for bad in ["30", "30/", "/1m", "0/1m", "30/0s", "30/1m/2", "x/1m", "30/m", "-1/1m", "30 / 1m"] {
      #expect(RateWindow(bad) == nil, "\(bad)")
    }
  }

  @Test func profilesBecomeLimits() throws {
    let exchange = ChannelLimits(profile: try #require(ThrottleProfiles.named("exchange-online")))
    #expect(exchange.messages == [window("30/1m")])
    #expect(exchange.recipients == [window("10000/24h")])
    #expect(exchange.recipientsPerMessage == 500)
    #expect(exchange.connections == 3)
    #expect(exchange.chunkSize == 500)
    #expect(exchange.quotaWindow.kind == .recipients && exchange.quotaWindow.seconds == 86_400)
    let batch = ChannelLimits(profile: try #require(ThrottleProfiles.named("msc-batch")))
    #expect(batch.batch == BatchLimit(size: 25, every: 45, everyText: "45s"))
    #expect(batch.summary == "batches of 25 every 45s, 1 connection")
    #expect(!ChannelLimits(profile: try #require(ThrottleProfiles.named("custom"))).isCounted)
    #expect(ChannelLimits(profile: try #require(ThrottleProfiles.named("sendgrid"))).quotaWindow.seconds == 86_400)
  }

  @Test func chunksNeverExceedTheSmallestRecipientBound() {
    #expect(ChannelLimits(recipients: [window("40/30s")], recipientsPerMessage: 500).chunkSize == 40)
    #expect(ChannelLimits(recipientsPerMessage: 2).chunkSize == 2)
    #expect(ChannelLimits().chunkSize == nil)
    #expect(ThrottledDelivery.chunks(["a", "b", "c", "d", "e"], size: 2) == [["a", "b"], ["c", "d"], ["e"]])
    #expect(ThrottledDelivery.chunks(["a", "b"], size: 2) == [["a", "b"]])
    #expect(ThrottledDelivery.chunks(["a", "b"], size: nil) == [["a", "b"]])
  }
}

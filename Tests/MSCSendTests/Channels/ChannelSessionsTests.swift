import Testing

@testable import MSCSend

/// Sessions kept open across messages: reused, renewed after the channel's per-connection limit,
/// and replaced once when the server dropped an idle one.
@Suite struct ChannelSessionsTests {
  final class Connections: @unchecked Sendable {
    var scripts: [[String]]
    var transports: [ScriptedTransport] = []
    init(_ scripts: [[String]]) { self.scripts = scripts }

    func connect() -> Transport {
      let transport = ScriptedTransport(scripts.removeFirst(), loopback: true)
      transports.append(transport)
      return transport
    }
  }

  private static let greeting = ["S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 PIPELINING"]

  private static func transaction(_ recipient: String, _ number: Int) -> [String] {
    [
      "C: MAIL FROM:<s@x.test>", "C: RCPT TO:<\(recipient)>", "C: DATA", "S: 250 OK", "S: 250 OK", "S: 354 go",
      "C: Subject: hi", "C: ", "C: Hello", "C: .", "S: 250 queued \(number)",
    ]
  }

  private func channel(perConnection: Int?) -> ChannelConfig {
    ChannelConfig(
      name: "relay", kind: .smtp, profile: "custom",
      endpoint: ChannelEndpoint(host: "127.0.0.1", port: 2525, tlsMode: .none, helloName: "client.example"),
      limits: ChannelLimits(messagesPerConnection: perConnection))
  }

  private func sessions(_ connections: Connections) -> ChannelSessions {
    ChannelSessions(
      context: ChannelDelivery.Context(
        environment: [:], connector: { _ throws(TransportError) in connections.connect() }))
  }

  private let message = InMemoryMessage(Array("Subject: hi\r\n\r\nHello\r\n".utf8))

  @Test func oneSessionCarriesManyMessagesAndIsRenewedAfterItsShare() throws {
    let connections = Connections([
      Self.greeting + Self.transaction("1@y.test", 1) + Self.transaction("2@y.test", 2) + ["C: QUIT", "S: 221 bye"],
      Self.greeting + Self.transaction("3@y.test", 3) + ["C: QUIT", "S: 221 bye"],
    ])
    let pool = sessions(connections)
    for number in 1...3 {
      let result = try pool.deliver(
        message, envelope: Envelope(sender: "s@x.test", recipients: ["\(number)@y.test"]),
        via: channel(perConnection: 2))
      #expect(result.report.recipients.first?.reply?.text == "queued \(number)")
    }
    pool.closeAll()
    #expect(pool.opened == 2, "messages_per_connection = 2: a new session for the third")
    for transport in connections.transports {
      #expect(transport.failures == [])
      #expect(transport.isFinished)
    }
  }

  @Test func aSessionTheServerDroppedIsReplacedOnce() throws {
    let connections = Connections([
      Self.greeting + Self.transaction("1@y.test", 1),
      Self.greeting + Self.transaction("2@y.test", 2) + ["C: QUIT", "S: 221 bye"],
    ])
    let pool = sessions(connections)
    _ = try pool.deliver(
      message, envelope: Envelope(sender: "s@x.test", recipients: ["1@y.test"]), via: channel(perConnection: nil))
    connections.transports[0].close()  // the server hung up while the session was idle
    let second = try pool.deliver(
      message, envelope: Envelope(sender: "s@x.test", recipients: ["2@y.test"]), via: channel(perConnection: nil))
    #expect(second.report.recipients.first?.accepted == true)
    pool.closeAll()
    #expect(pool.opened == 2)
  }
}

import Foundation
import Testing

@testable import MSCSend

/// Runs a literal server-side transcript through a `SinkSession`, no sockets: `C:` lines are what
/// the client sends (consecutive ones in a single chunk, as a pipelining client would), `S:` lines
/// the exact replies expected, in order. `TLS` expects the session to ask for the handshake and
/// then reports it done; `CLOSE` expects the session to close. The greeting is checked first.
final class SinkTranscript {
  private(set) var session: SinkSession
  private let captured: Box<[CapturedMessage]>
  var messages: [CapturedMessage] { captured.value }

  init(
    settings: SinkSession.Settings = SinkTranscript.loopback,
    outcome: @escaping (CapturedMessage) -> DeliveryOutcome = { _ in .stored(identifier: "ID1") }
  ) {
    let captured = Box<[CapturedMessage]>([])
    self.captured = captured
    session = SinkSession(settings: settings) { message in
      captured.value.append(message)
      return outcome(message)
    }
  }

  static let loopback: SinkSession.Settings = {
    var settings = SinkSession.Settings()
    settings.peerIsLoopback = true
    return settings
  }()

  static let remoteWithTLS: SinkSession.Settings = {
    var settings = SinkSession.Settings()
    settings.tlsAvailable = true
    return settings
  }()

  static let greeting = "S: 220 localhost ESMTP msc-send sink: captures mail, never relays it"

  /// Feeds raw octets, returns the reply lines and the directive.
  func feed(_ text: String) -> (lines: [String], directive: SinkSession.Directive) {
    let output = session.receive(Array(text.utf8))
    return (Self.lines(output.replies), output.directive)
  }

  func run(_ script: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    var index = 0
    if script.first?.hasPrefix("S: 220") == true {
      #expect(Self.lines(session.greeting) == [String(script[0].dropFirst(3))], sourceLocation: sourceLocation)
      index = 1
    }
    var replies: [String] = []
    var directive = SinkSession.Directive.proceed
    while index < script.count {
      let entry = script[index]
      if entry.hasPrefix("C: ") {
        var chunk = ""
        while index < script.count && script[index].hasPrefix("C: ") {
          chunk += script[index].dropFirst(3) + "\r\n"
          index += 1
        }
        #expect(replies.isEmpty, "replies not in the script: \(replies)", sourceLocation: sourceLocation)
        (replies, directive) = feed(chunk)
        continue
      }
      index += 1
      if entry.hasPrefix("S: ") {
        let expected = String(entry.dropFirst(3))
        guard !replies.isEmpty else {
          Issue.record("expected \"\(expected)\", the session said nothing more", sourceLocation: sourceLocation)
          continue
        }
        #expect(replies.removeFirst() == expected, sourceLocation: sourceLocation)
      } else if entry == "TLS" {
        #expect(directive == .startTLS, sourceLocation: sourceLocation)
        session.tlsStarted()
        directive = .proceed
      } else if entry == "CLOSE" {
        #expect(directive == .close, sourceLocation: sourceLocation)
        directive = .proceed
      }
    }
    #expect(replies.isEmpty, "replies not in the script: \(replies)", sourceLocation: sourceLocation)
    #expect(directive == .proceed, "directive \(directive) not in the script", sourceLocation: sourceLocation)
  }

  static func lines(_ bytes: [UInt8]) -> [String] {
    var text = String(decoding: bytes, as: UTF8.self)
    guard !text.isEmpty else { return [] }
    #expect(text.hasSuffix("\r\n"), "reply not ended by CRLF: \(text)")
    if text.hasSuffix("\r\n") { text.removeLast(1) }  // "\r\n" is one Character
    return text.components(separatedBy: "\r\n")
  }
}

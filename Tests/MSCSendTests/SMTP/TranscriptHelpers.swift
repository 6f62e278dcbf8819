import Testing
@testable import MSCSend

/// A session over a scripted transport with short timeouts, collecting transcript events in `events`.
func makeSession(_ transport: ScriptedTransport, events: Box<[TranscriptEvent]>? = nil) -> SMTPSession {
  SMTPSession(
    transport: transport, helloName: "client.example", timeouts: SMTPTimeouts(all: 5),
    transcript: events.map { box in { box.value.append($0) } })
}

/// The script was played to its end and the client wrote exactly the script's `C:` lines.
func verifyTranscript(_ transport: ScriptedTransport, sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(transport.failures == [], sourceLocation: sourceLocation)
  #expect(transport.clientLines == transport.expectedClientLines, sourceLocation: sourceLocation)
  #expect(transport.isFinished, sourceLocation: sourceLocation)
}

/// A reference box for collecting transcript events from a closure.
final class Box<Value> {
  var value: Value
  init(_ value: Value) { self.value = value }
}

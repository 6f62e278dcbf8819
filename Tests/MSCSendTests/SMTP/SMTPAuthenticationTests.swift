import Testing
@testable import MSCSend

/// AUTH transcripts (RFC 4954): each mechanism's exact client lines, and credentials that never
/// travel in clear except to a loopback peer.
@Suite struct SMTPAuthenticationTests {
  @Test func credentialsNeverGoInClearToANonLoopbackPeer() {
    let transport = ScriptedTransport(["S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 AUTH PLAIN"])
    let smtp = makeSession(transport)
    #expect(throws: SMTPError(phase: .authentication, reason: .plaintextAuthentication)) {
      try smtp.readGreeting()
      try smtp.hello()
      try smtp.authenticate(.password(user: "u", password: "p"), host: "mx", port: 25)
    }
    verifyTranscript(transport)
  }

  @Test func loopbackPeerMayAuthenticateWithoutTLS() throws {
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 AUTH LOGIN",
      "C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6", "C: dXNlcg==", "S: 334 UGFzc3dvcmQ6", "C: c2VjcmV0",
      "S: 235 2.7.0 Accepted",
    ], loopback: true)
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    try smtp.hello()
    try smtp.authenticate(.password(user: "user", password: "secret"), host: "localhost", port: 25)
    verifyTranscript(transport)
  }

  @Test func cramMD5KnownAnswer() throws {
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 AUTH CRAM-MD5 PLAIN LOGIN",
      "C: AUTH CRAM-MD5", "S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
      "C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", "S: 235 2.7.0 Accepted",
    ], loopback: true)
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    try smtp.hello()
    try smtp.authenticate(.password(user: "tim", password: "tanstaaftanstaaf"), host: "mx", port: 25)
    verifyTranscript(transport)
  }

  @Test func xoauth2RefusedTokenIsAcknowledgedAndReported() {
    // Gmail's behaviour (DOMAIN.md section 4): 334 with a base64 JSON error, empty line, 535.
    let transport = ScriptedTransport([
      "S: 220 smtp.gmail.com ESMTP", "C: EHLO client.example", "S: 250-smtp.gmail.com",
      "S: 250 AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN XOAUTH",
      "C: AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==",
      "S: 334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
      "C: ",
      "S: 535-5.7.8 Username and Password not accepted.", "S: 535 5.7.8 https://support.google.com/mail",
    ], loopback: true)
    let smtp = makeSession(transport)
    do {
      try smtp.readGreeting()
      try smtp.hello()
      try smtp.authenticate(
        .bearerToken(user: "someuser@example.com", token: "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
        host: "smtp.gmail.com", port: 587)
      Issue.record("authentication should fail")
    } catch {
      #expect(error.phase == .authentication)
      #expect(error.reply?.code == 535)
      #expect(error.reply?.text.contains("\"status\":\"400\"") == true)
      #expect(ReplyClassification.classify(error) == .authentication)
    }
    verifyTranscript(transport)
  }

  @Test func oauthBearerIsPreferredAndSucceeds() throws {
    let transport = ScriptedTransport([
      "S: 220 mx", "C: EHLO client.example", "S: 250-mx", "S: 250 AUTH XOAUTH2 OAUTHBEARER",
      "C: AUTH OAUTHBEARER bixhPXVAZXgsAWhvc3Q9bXgBcG9ydD01ODcBYXV0aD1CZWFyZXIgdG9rAQE=",
      "S: 235 2.7.0 Accepted",
    ], loopback: true)
    let smtp = makeSession(transport)
    try smtp.readGreeting()
    try smtp.hello()
    try smtp.authenticate(.bearerToken(user: "u@ex", token: "tok"), host: "mx", port: 587)
    verifyTranscript(transport)
  }
}

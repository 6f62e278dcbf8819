import Testing
@testable import MSCSend

@Test func exchangeOnlineCapabilities() {
  let reply = SMTPReply(code: 250, lines: [
    "SN4PR0501CA0010.outlook.office365.com Hello [192.0.2.1]", "SIZE 157286400", "PIPELINING", "DSN",
    "ENHANCEDSTATUSCODES", "AUTH LOGIN XOAUTH2", "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8",
  ])
  let capabilities = Capabilities(ehloReply: reply)
  #expect(capabilities.maximumSize == 157_286_400)
  #expect(capabilities.pipelining && capabilities.dsn && capabilities.enhancedStatusCodes)
  #expect(capabilities.eightBitMIME && capabilities.smtpUTF8)
  #expect(!capabilities.startTLS)
  #expect(capabilities.authMechanisms == ["LOGIN", "XOAUTH2"])
}

@Test func oldStyleAuthEqualsAndLowerCaseAreUnderstood() {
  let reply = SMTPReply(code: 250, lines: ["mx", "auth=LOGIN PLAIN", "AUTH login cram-md5", "size 0", "starttls"])
  let capabilities = Capabilities(ehloReply: reply)
  #expect(capabilities.authMechanisms == ["LOGIN", "PLAIN", "CRAM-MD5"])
  #expect(capabilities.maximumSize == nil)
  #expect(capabilities.startTLS)
}

@Test func mechanismChoiceIsStrongestOfferedThatFits() {
  let password = Credentials.password(user: "u", password: "p")
  let token = Credentials.bearerToken(user: "u", token: "t")
  #expect(AuthMechanism.choose(offered: ["LOGIN", "PLAIN"], credentials: password, override: nil) == .plain)
  #expect(AuthMechanism.choose(offered: ["LOGIN", "PLAIN", "CRAM-MD5"], credentials: password, override: nil) == .cramMD5)
  #expect(AuthMechanism.choose(offered: ["LOGIN"], credentials: password, override: nil) == .login)
  #expect(AuthMechanism.choose(offered: ["LOGIN", "XOAUTH2"], credentials: token, override: nil) == .xoauth2)
  #expect(AuthMechanism.choose(
    offered: ["LOGIN", "PLAIN", "XOAUTH2", "PLAIN-CLIENTTOKEN", "OAUTHBEARER", "XOAUTH"], credentials: token,
    override: nil) == .oauthBearer)
  #expect(AuthMechanism.choose(offered: ["XOAUTH2"], credentials: password, override: nil) == nil)
  #expect(AuthMechanism.choose(offered: ["LOGIN", "PLAIN"], credentials: password, override: .login) == .login)
  #expect(AuthMechanism.choose(offered: ["PLAIN"], credentials: password, override: .login) == nil)
}

@Test func saslKnownAnswers() {
  // RFC 4616 section 4 example credentials.
  #expect(SASL.plainInitialResponse(user: "tim", password: "tanstaaftanstaaf") == "AHRpbQB0YW5zdGFhZnRhbnN0YWFm")
  // RFC 2195 section 2 example.
  #expect(SASL.cramMD5Response(
    user: "tim", password: "tanstaaftanstaaf",
    challengeBase64: "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
    == "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw")
  // Google's XOAUTH2 documentation example.
  #expect(SASL.xoauth2InitialResponse(user: "someuser@example.com", token: "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
    == "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==")
  // RFC 7628 section 4.1 example (port 587 instead of 143).
  #expect(SASL.oauthBearerInitialResponse(
    user: "user@example.com", token: "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", host: "server.example.com", port: 587)
    == "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9NTg3AWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB")
  #expect(SASL.cramMD5Response(user: "u", password: "p", challengeBase64: "not base64!") == nil)
}

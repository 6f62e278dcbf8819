import Testing
@testable import MSCSend

@Test func exitCodeWorstFollowsDesignOrder() {
  #expect(ExitCode.worst([.ok, .tempFail, .dataError]) == .dataError)
  #expect(ExitCode.worst([.tempFail, .config, .noPermission]) == .config)
  #expect(ExitCode.worst([]) == .ok)
}

@Test func cryptoKnownAnswers() {
  #expect(Crypto.hex(Crypto.digest(.sha256, Array("abc".utf8)))
    == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  // RFC 2202 test case 2
  #expect(Crypto.hex(Crypto.hmac(.md5, key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
    == "750c783e6ab0b503eaa86e310a5db738")
  #expect(Crypto.randomBytes(16).count == 16)
}

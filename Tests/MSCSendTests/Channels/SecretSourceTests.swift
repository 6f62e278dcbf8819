import Foundation
import Testing
@testable import MSCSend

/// Secrets from commands and the environment: the first line, bounded in time whatever the
/// command does, and failures as configuration errors that never echo the secret.
@Suite(.serialized) struct SecretSourceTests {
  private let environment = ["PATH": "/usr/bin:/bin"]

  private func elapsed(_ body: () -> Void) -> Double {
    let start = Deadline.now()
    body()
    return Double(Deadline.now().nanoseconds - start.nanoseconds) / 1e9
  }

  @Test func firstLineOfTheCommandsOutput() throws {
    #expect(try SecretSource.command("printf 's3cret\\r\\nsecond line\\n'").resolve(environment: environment) == "s3cret")
    #expect(try SecretSource.command("echo \"$GREETING\"").resolve(environment: environment + ["GREETING": "hi"]) == "hi")
  }

  @Test func silentCommandIsStoppedAtTheDeadline() {
    let seconds = elapsed {
      #expect(throws: SecretError("`sleep 30` did not finish within 1 s")) {
        try SecretSource.command("sleep 30").resolve(environment: environment, timeoutSeconds: 1)
      }
    }
    #expect(seconds < 5)
  }

  @Test func backgroundChildHoldingTheOutputOpenDoesNotHoldUs() throws {
    var secret = ""
    let seconds = elapsed {
      secret = (try? SecretSource.command("sleep 6 & echo pw").resolve(environment: environment, timeoutSeconds: 10)) ?? ""
    }
    #expect(secret == "pw")
    #expect(seconds < 5)
  }

  @Test func failingOrEmptyCommandsAreErrors() {
    #expect(throws: SecretError("`false` failed with exit status 1")) {
      try SecretSource.command("false").resolve(environment: environment)
    }
    #expect(throws: SecretError("`true` printed nothing")) {
      try SecretSource.command("true").resolve(environment: environment)
    }
    #expect(throws: SecretError("environment variable NOPE is not set or empty")) {
      try SecretSource.environment("NOPE").resolve(environment: environment)
    }
  }

  @Test func childGetsDefaultSIGPIPEAndNoStandardInput() throws {
    SocketTransport.ignoreSIGPIPE()
    // SigIgn is a hex mask; SIGPIPE is signal 13, bit 12 (0x1000).
    let ignored = try SecretSource.command("awk '/^SigIgn/ {print $2}' /proc/self/status").resolve(environment: environment)
    let mask = UInt64(ignored, radix: 16) ?? 0
    #expect(mask & 0x1000 == 0, "SIGPIPE must not stay ignored in the command")
    #expect(try SecretSource.command("cat; echo end").resolve(environment: environment) == "end")
  }
}

private func + (lhs: [String: String], rhs: [String: String]) -> [String: String] {
  lhs.merging(rhs) { _, new in new }
}

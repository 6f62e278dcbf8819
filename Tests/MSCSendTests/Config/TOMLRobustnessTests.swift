import Foundation
import Glibc
import Testing
@testable import MSCSend

/// CPU time of the calling thread. Time bounds use it rather than the wall clock, so that a busy
/// CI machine (2 cores, parallel tests) does not fail them; the tests are synchronous and stay on
/// one thread.
private func threadCPUTime() -> Duration {
  var time = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
  return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
}

/// Deterministic pseudo-random numbers (SplitMix64), so a failing input can be reproduced.
private struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Parses `bytes`, which must either succeed or throw a `TOMLError` whose position lies inside the
/// document. A success must be reproducible. Returns the CPU time taken.
private func parseChecked(_ bytes: [UInt8], _ label: @autoclosure () -> String) -> Duration {
  let start = threadCPUTime()
  let first = Result { () throws(TOMLError) in try TOMLParser.parse(bytes) }
  let elapsed = threadCPUTime() - start
  switch first {
  case .success(let table):
    // Compared through tagged JSON because `==` on a table holding nan is false (IEEE 754).
    let again = (try? TOMLParser.parse(bytes)).map(TaggedJSON.tagged)
    let same = again.map { TaggedJSON.difference(expected: TaggedJSON.tagged(table), actual: $0) == nil } ?? false
    #expect(same, "not deterministic: \(label())")
  case .failure(let error):
    let lines = bytes.count { $0 == 0x0A } + 1
    let inside = error.position.line >= 1 && error.position.line <= lines && error.position.column >= 1
      && error.position.column <= bytes.count + 1
    #expect(inside, "position \(error.position) outside the document: \(label())")
  }
  return elapsed
}

/// Bytes that matter to the grammar, so that random documents get past the first character.
private let tomlAlphabet = Array("[]{}=,.\"'#\\\n\r\t -+_:0123456789abcxyzeEinftrueZT\u{7F}é".utf8) + [0x00, 0xFF]

@Test func tomlRandomInputNeverCrashesOrHangs() {
  var random = SplitMix64(state: 0x5EED)
  var slowest = Duration.zero
  for round in 0..<4000 {
    let length = Int.random(in: 0...120, using: &random)
    let bytes = (0..<length).map { _ in
      round % 4 == 0 ? UInt8.random(in: 0...255, using: &random) : tomlAlphabet.randomElement(using: &random)!
    }
    slowest = max(slowest, parseChecked(bytes, "random round \(round): \(bytes)"))
  }
  #expect(slowest < .seconds(1))
}

@Test func tomlTruncatedAndMutatedSuiteFilesNeverCrash() throws {
  var random = SplitMix64(state: 0xC0FFEE)
  var parses = 0
  var slowest = Duration.zero
  for path in try tomlTestFiles() where path.hasPrefix("valid/") {
    let bytes = try readBytes(tomlTestSuite.appendingPathComponent(path))
    // Every prefix of small files, about 32 evenly spread prefixes of larger ones.
    let step = max(1, bytes.count / 32)
    for end in stride(from: 0, to: bytes.count, by: step) {
      slowest = max(slowest, parseChecked(Array(bytes[..<end]), "\(path) cut at \(end)"))
      parses += 1
    }
    for _ in 0..<8 where !bytes.isEmpty {
      var mutated = bytes
      let at = Int.random(in: 0..<mutated.count, using: &random)
      mutated[at] = tomlAlphabet.randomElement(using: &random)!
      slowest = max(slowest, parseChecked(mutated, "\(path) with byte \(at) set to \(mutated[at])"))
      parses += 1
    }
  }
  #expect(parses > 6000)
  #expect(slowest < .seconds(1))
}

/// Nesting is bounded so that recursion (while parsing, comparing and freeing values) cannot
/// overflow the stack.
@Test(arguments: [
  "a = " + String(repeating: "[", count: 100_000),
  "a = " + String(repeating: "{b=", count: 100_000),
  "a = " + String(repeating: "[{b=", count: 50_000),
  String(repeating: "a.", count: 100_000) + "a = 1",
  "[" + String(repeating: "a.", count: 100_000) + "a]",
  "[[" + String(repeating: "a.", count: 100_000) + "a]]",
  String(repeating: "a.", count: 100) + "a = " + String(repeating: "[", count: 100),
])
func tomlDeepNestingIsAnErrorNotACrash(document: String) {
  do {
    _ = try TOMLParser.parse(document)
    Issue.record("accepted nesting beyond \(TOMLParser.maximumNesting)")
  } catch {
    #expect(error.message.contains("deeper than \(TOMLParser.maximumNesting) levels"), "\(error)")
  }
}

@Test func tomlNestingUpToTheLimitIsAccepted() throws {
  let depth = TOMLParser.maximumNesting
  let arrays = "a = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
  #expect(throws: Never.self) { try TOMLParser.parse(arrays) }
  let keys = (0..<depth).map { _ in "k" }.joined(separator: ".") + " = 1"
  #expect(throws: Never.self) { try TOMLParser.parse(keys) }
}

/// Large documents take time linear in their size: no quadratic step hides in arrays of tables,
/// long arrays, long lines or long strings.
/// (Debug builds parse about 100k array elements a second; release builds are far faster.)
@Test func tomlLargeDocumentsParseInLinearTime() throws {
  let documents: [(String, String)] = [
    ("10k [[relay]] headers", String(repeating: "[[relay]]\nname = \"x\"\n", count: 10_000)),
    ("one 50k-element array", "a = [" + String(repeating: "1,", count: 50_000) + "]"),
    ("10k keys in one table", (0..<10_000).map { "key\($0) = \($0)" }.joined(separator: "\n")),
    ("500 kB string", "s = \"" + String(repeating: "é", count: 250_000) + "\""),
    ("5k tables", (0..<5_000).map { "[t\($0)]\na.b = 1" }.joined(separator: "\n")),
  ]
  for (name, document) in documents {
    let start = threadCPUTime()
    let root = try TOMLParser.parse(document)
    let elapsed = threadCPUTime() - start
    #expect(!root.entries.isEmpty)
    #expect(elapsed < .seconds(5), "\(name) took \(elapsed)")
  }
}

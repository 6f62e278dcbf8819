import Foundation
import Testing

@testable import MSCSend

/// A fresh directory per test, removed when the test ends.
struct TemporaryDirectory: ~Copyable {
  let path: String

  init() throws {
    var template = Array((NSTemporaryDirectory() + "msc-send-config-XXXXXX").utf8CString)
    let created = template.withUnsafeMutableBufferPointer { buffer in
      buffer.baseAddress.map { mkdtemp($0) != nil } ?? false
    }
    try #require(created)
    path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// Writes `text` to `name` (creating directories) with `mode`, returning the full path.
  @discardableResult
  func write(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
    let file = "\(path)/\(name)"
    try FileManager.default.createDirectory(
      atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    #expect(chmod(file, mode) == 0)
    return file
  }
}

@Test func locatePrefersTheFlagThenTheVariableThenXDG() throws {
  let directory = try TemporaryDirectory()
  let xdgFile = try directory.write("xdg/msc-send/config.toml", "")
  let homeFile = try directory.write("home/.config/msc-send/config.toml", "")
  let xdg = ["HOME": "\(directory.path)/home", "XDG_CONFIG_HOME": "\(directory.path)/xdg"]

  #expect(
    ConfigLoader.locate(explicit: "/flag.toml", environment: xdg.merging(["MSC_SEND_CONFIG": "/v"]) { $1 })
      == "/flag.toml")
  #expect(
    ConfigLoader.locate(explicit: nil, environment: xdg.merging(["MSC_SEND_CONFIG": "/v.toml"]) { $1 })
      == "/v.toml")
  #expect(ConfigLoader.locate(explicit: nil, environment: xdg.merging(["MSC_SEND_CONFIG": ""]) { $1 }) == xdgFile)
  #expect(ConfigLoader.locate(explicit: nil, environment: xdg) == xdgFile)
  #expect(ConfigLoader.locate(explicit: nil, environment: ["HOME": "\(directory.path)/home"]) == homeFile)
  // A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
  #expect(
    ConfigLoader.locate(explicit: nil, environment: ["HOME": "\(directory.path)/home", "XDG_CONFIG_HOME": "xdg"])
      == homeFile)
}

@Test func locateFindsNothingWhenNoImplicitFileExists() throws {
  let directory = try TemporaryDirectory()
  #expect(ConfigLoader.locate(explicit: nil, environment: ["HOME": directory.path]) == nil)
  // Named paths are returned even when missing: load must report them, not fall back silently.
  #expect(
    ConfigLoader.locate(explicit: "\(directory.path)/none.toml", environment: [:]) == "\(directory.path)/none.toml")
  #expect(ConfigLoader.locate(explicit: nil, environment: ["MSC_SEND_CONFIG": "/none.toml"]) == "/none.toml")
}

private let relayWithPassword = """
  [channels.relay]
  kind = "smtp"
  host = "mail.acme.test"
  username = "relay"
  password = "hunter2"
  """

@Test func aPasswordLiteralNeedsAPrivateFile() throws {
  let directory = try TemporaryDirectory()
  let shared = try directory.write("shared.toml", relayWithPassword, mode: 0o644)
  #expect(throws: ConfigError.self) { try ConfigLoader.load(path: shared, environment: [:]) }
  do {
    _ = try ConfigLoader.load(path: shared, environment: [:])
  } catch {
    #expect(
      error.description == "\(shared):5:12: channels.relay.password: a literal password in a file that group or "
        + "others can access")
    #expect(error.hint == "chmod 600 \(shared), or use password_env or password_command")
  }
  let groupOnly = try directory.write("group.toml", relayWithPassword, mode: 0o640)
  #expect(throws: ConfigError.self) { try ConfigLoader.load(path: groupOnly, environment: [:]) }

  let owned = try directory.write("private.toml", relayWithPassword, mode: 0o600)
  let configuration = try ConfigLoader.load(path: owned, environment: [:])
  #expect(configuration.file == owned)
  #expect(configuration.channels.first?.endpoint?.secret == .literal("hunter2"))
}

@Test func secretsFromTheEnvironmentNeedNoPrivateFile() throws {
  let directory = try TemporaryDirectory()
  let path = try directory.write(
    "c.toml", relayWithPassword.replacingOccurrences(of: "password = \"hunter2\"", with: "password_env = \"P\""),
    mode: 0o644)
  #expect(try ConfigLoader.load(path: path, environment: [:]).channels.first?.endpoint?.secret == .environment("P"))
}

@Test func unreadableFilesAreErrorsWithoutAPosition() throws {
  let directory = try TemporaryDirectory()
  let missing = "\(directory.path)/missing.toml"
  #expect(throws: ConfigError.self) { try ConfigLoader.load(path: missing, environment: [:]) }
  do {
    _ = try ConfigLoader.load(path: missing, environment: [:])
  } catch {
    #expect(error.description == "\(missing): cannot open the configuration: No such file or directory")
    #expect(error.position == nil)
  }
  do {
    _ = try ConfigLoader.load(path: directory.path, environment: [:])
    Issue.record("a directory loaded as a configuration")
  } catch {
    #expect(error.description == "\(directory.path): not a regular file")
  }
}

@Test func syntaxErrorsInAFileNameTheFile() throws {
  let directory = try TemporaryDirectory()
  let path = try directory.write("c.toml", "[channels.a]\nkind = \"file\n")
  do {
    _ = try ConfigLoader.load(path: path, environment: [:])
    Issue.record("an unterminated string loaded")
  } catch {
    #expect(error.description == "\(path):2:8: unterminated string: missing closing \" before the end of the line")
  }
}

/// The examples ship with the source; parsing them here keeps them from rotting.
@Test func everyExampleLoads() throws {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  let examples = root.appendingPathComponent("Examples").path
  let names = try FileManager.default.contentsOfDirectory(atPath: examples).filter { $0.hasSuffix(".toml") }.sorted()
  #expect(!names.isEmpty, "no .toml files in \(examples)")
  for name in names {
    let path = "\(examples)/\(name)"
    let data = try #require(FileManager.default.contents(atPath: path))
    do {
      let configuration = try ConfigLoader.parse(
        data: Array(data), file: path, fileIsPrivate: true, environment: ["HOME": "/home/ann"])
      #expect(!configuration.channels.isEmpty, "\(name)")
    } catch {
      Issue.record("\(error)")
    }
  }
}

/// The shell examples must at least parse (`sh -n`), so that a copied crontab line never fails on syntax.
@Test func everyShellExampleParses() throws {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  let examples = root.appendingPathComponent("Examples")
  let names = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".sh") }
  #expect(!names.isEmpty)
  for name in names {
    let result = try runProcessBlocking(
      URL(fileURLWithPath: "/bin/sh"), arguments: ["-n", examples.appendingPathComponent(name).path],
      timeout: .seconds(10))
    #expect(result.exit == 0, "\(name): \(result.stderr)")
  }
}

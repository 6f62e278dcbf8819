import Glibc

/// The Config folder owns turning the user's TOML file into a validated `Configuration`
/// (DESIGN.md section 2): finding the file, reading it, refusing anything unknown or unsafe with
/// `file:line:col` errors, and filling in each kind's defaults (`ChannelDefaults`). Nothing here
/// touches the network or reads a secret; secrets stay `SecretSource`s until a channel is used.
public enum ConfigLoader {
  static let topLevelKeys = ["defaults", "channels"]
  static let defaultsKeys = ["from", "channel", "ledger", "log", "max_age", "uncertain_retries"]
  /// Config files are a few kilobytes; anything far larger is the wrong file.
  static let maximumFileSize = 1 << 20

  /// The file to read: `--config` beats `$MSC_SEND_CONFIG` beats
  /// `$XDG_CONFIG_HOME/msc-send/config.toml` (`~/.config` when unset). A path the user named
  /// (flag or variable) is returned even if missing, so that `load` reports it instead of the
  /// embedded default quietly taking over; the implicit location counts only when it exists.
  public static func locate(explicit: String?, environment: [String: String]) -> String? {
    if let explicit { return explicit }
    if let named = environment["MSC_SEND_CONFIG"], !named.isEmpty { return named }
    let path = implicitPath(environment: environment)
    var status = stat()
    return stat(path, &status) == 0 ? path : nil
  }

  /// Where the config is looked for when nobody names one (also shown by `config check`).
  public static func implicitPath(environment: [String: String]) -> String {
    xdgDirectory("XDG_CONFIG_HOME", fallback: ".config", environment: environment) + "/msc-send/config.toml"
  }

  /// Reads and validates `path`. A literal password is accepted only when the file is private
  /// (no permission bits for group or others), since anyone who can read it can send as the user.
  public static func load(path: String, environment: [String: String]) throws(ConfigError) -> Configuration {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      let reason = String(cString: strerror(errno))
      throw ConfigError(
        file: path, position: nil, message: "cannot open the configuration: \(reason)",
        hint: "write one (Examples/ has annotated files), or run without --config and $MSC_SEND_CONFIG")
    }
    defer { close(descriptor) }
    // fstat on the open descriptor: the mode checked is the mode of the bytes read.
    var status = stat()
    guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
      throw ConfigError(file: path, position: nil, message: "not a regular file")
    }
    guard status.st_size <= maximumFileSize else {
      throw ConfigError(file: path, position: nil, message: "larger than 1 MiB: is this the configuration file?")
    }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count == 0 { break }
      if count < 0 {
        if errno == EINTR { continue }
        throw ConfigError(file: path, position: nil, message: "cannot read: \(String(cString: strerror(errno)))")
      }
      bytes.append(contentsOf: buffer[0..<count])
      guard bytes.count <= maximumFileSize else {
        throw ConfigError(file: path, position: nil, message: "larger than 1 MiB: is this the configuration file?")
      }
    }
    let isPrivate = status.st_mode & 0o077 == 0
    return try parse(data: bytes, file: path, fileIsPrivate: isPrivate, environment: environment)
  }

  /// Validates a document without touching the file system (the permission check's outcome is
  /// passed in), so that every rule can be tested on a string.
  public static func parse(
    data: [UInt8], file: String, fileIsPrivate: Bool, environment: [String: String]
  ) throws(ConfigError) -> Configuration {
    let root: TOMLTable
    do {
      root = try TOMLParser.parse(data, file: file)
    } catch {
      throw ConfigError(error, file: file)
    }
    let top = ConfigTable(table: root, path: "", file: file)
    try top.checkKeys(topLevelKeys)
    // Read in the order a config is usually written ([defaults] first), so that the first error
    // reported tends to be the first in the file.
    let defaultsTable = try top.table("defaults")?.value
    let defaults = try readDefaults(defaultsTable, environment: environment)
    var channels: [ChannelConfig] = []
    var warnings: [String] = []
    let channelsHint = "write each channel as a table: [channels.NAME]"
    let channelsTable = try top.table("channels", hint: channelsHint)
    if let table = channelsTable?.value {
      for entry in table.table.entries {
        guard case .table(let channelTable) = entry.node.value else {
          throw table.error(
            at: entry.node.position,
            "\(table.keyPath(entry.key)): expected a table, found \(entry.node.value.typeNameWithArticle)",
            hint: channelsHint)
        }
        guard ConfigTable.isBareKey(entry.key) else {
          throw table.error(
            at: entry.keyPosition, "channel name \"\(entry.key)\" may contain only letters, digits, \"-\" and \"_\"",
            hint: "names are typed on the command line (msc-send check NAME), so keep them plain")
        }
        var reader = ChannelReader(
          name: entry.key, table: ConfigTable(table: channelTable, path: table.keyPath(entry.key), file: file),
          fileIsPrivate: fileIsPrivate, environment: environment)
        channels.append(try reader.read())
        warnings += reader.warnings
      }
    }
    guard !channels.isEmpty else {
      throw ConfigError(
        file: file, position: channelsTable?.keyPosition ?? root.position, message: "no channels are defined",
        hint: "add a [channels.NAME] table with a kind (gmail, exchange, smtp, legacy or file); see Examples/")
    }
    try checkDefaultChannel(in: defaultsTable, channels: channels)
    try checkFallbacks(channels, in: channelsTable?.value)
    return Configuration(defaults: defaults, channels: channels, file: file, warnings: warnings)
  }

  /// One `file` channel that catches every sender: a new user's first `msc-send send` works and
  /// shows where mail went, instead of failing on a missing file (DESIGN.md section 1).
  public static func embeddedDefault(environment: [String: String]) -> Configuration {
    let channel = ChannelConfig(
      name: "outbox", kind: .file, identities: [.any], scope: .domain, profile: "none",
      outboxDirectory: defaultOutboxDirectory(environment: environment))
    return Configuration(channels: [channel], file: nil)
  }

  /// `$XDG_STATE_HOME/msc-send/ledger.sqlite3`, `~/.local/state/...` when unset: state that
  /// every process of the user shares, but nothing the user edits or backs up.
  public static func defaultLedgerPath(environment: [String: String]) -> String {
    xdgDirectory("XDG_STATE_HOME", fallback: ".local/state", environment: environment) + "/msc-send/ledger.sqlite3"
  }

  /// `$XDG_DATA_HOME/msc-send/outbox`, `~/.local/share/msc-send/outbox` when unset.
  static func defaultOutboxDirectory(environment: [String: String]) -> String {
    xdgDirectory("XDG_DATA_HOME", fallback: ".local/share", environment: environment) + "/msc-send/outbox"
  }

  private static func readDefaults(_ table: ConfigTable?, environment: [String: String]) throws(ConfigError)
    -> Configuration.Defaults
  {
    guard let table else { return Configuration.Defaults() }
    try table.checkKeys(defaultsKeys)
    var defaults = Configuration.Defaults()
    if let from = try table.string("from") {
      guard isPlausibleAddress(from.value) else {
        throw table.error(
          at: from.position, "\(table.keyPath("from")): \"\(from.value)\" is not an email address",
          hint: "write it as \"alice@example.com\" or \"Alice <alice@example.com>\"")
      }
      defaults.from = from.value
    }
    defaults.channel = try table.string("channel")?.value
    // Interpreted by the throttle and queue parts; each is a path or a duration written as a string.
    for key in ["ledger", "log", "max_age"] {
      if try table.string(key) != nil { defaults.deferred[key] = table.table[key] }
    }
    if let ledger = try table.string("ledger") {
      guard !ledger.value.contains("://") else {
        throw table.error(
          at: ledger.position, "\(table.keyPath("ledger")): only a SQLite file path is supported, not a URL",
          hint: "write a path such as \"~/.local/state/msc-send/ledger.sqlite3\"")
      }
      let path = expandTilde(ledger.value, environment: environment)
      guard path.hasPrefix("/") else {
        throw table.error(
          at: ledger.position, "\(table.keyPath("ledger")): \"\(ledger.value)\" is relative",
          hint: "cron and scripts run in other folders: write an absolute path or one starting with ~/")
      }
      defaults.ledger = path
    }
    try readQueueDefaults(table, into: &defaults, environment: environment)
    return defaults
  }

  /// The queue's keys: `log` (a file path, `syslog` or `off`), `max_age` (a duration) and
  /// `uncertain_retries` (how often a message whose delivery is uncertain is tried again).
  private static func readQueueDefaults(
    _ table: ConfigTable, into defaults: inout Configuration.Defaults, environment: [String: String]
  ) throws(ConfigError) {
    if let log = try table.string("log") {
      switch log.value {
      case "off": defaults.log = .off
      case "syslog": defaults.log = .syslog
      default:
        let path = expandTilde(log.value, environment: environment)
        guard path.hasPrefix("/") else {
          throw table.error(
            at: log.position, "\(table.keyPath("log")): \"\(log.value)\" is neither a path nor syslog or off",
            hint: "write an absolute path or one starting with ~/ (cron runs in other folders), \"syslog\" or \"off\"")
        }
        defaults.log = .file(path)
      }
    }
    if let maxAge = try table.string("max_age") {
      guard let seconds = DurationText.parse(maxAge.value), seconds > 0 else {
        throw table.error(
          at: maxAge.position, "\(table.keyPath("max_age")): \"\(maxAge.value)\" is not a positive duration",
          hint: "durations are a whole number and a unit: 12h, 5d")
      }
      defaults.maxAge = seconds
    }
    if let retries = try table.integer("uncertain_retries") {
      guard (0...10).contains(retries.value) else {
        throw table.error(
          at: retries.position, "\(table.keyPath("uncertain_retries")): expected 0 to 10, found \(retries.value)")
      }
      defaults.uncertainRetries = Int(retries.value)
    }
  }

  /// `fallback` must name another channel that is switched on.
  private static func checkFallbacks(_ channels: [ChannelConfig], in table: ConfigTable?) throws(ConfigError) {
    guard let table else { return }
    let names = channels.map(\.name)
    for channel in channels {
      guard let name = channel.fallback, let entry = table.table.entry(channel.name),
        case .table(let channelTable) = entry.node.value, let node = channelTable["fallback"]
      else { continue }
      let keyPath = table.keyPath(channel.name) + ".fallback"
      guard let target = channels.first(where: { $0.name == name }) else {
        let suggestion = Suggestion.nearest(to: name, in: names).map { "did you mean \"\($0)\"? " } ?? ""
        throw table.error(
          at: node.position, "\(keyPath): no channel is named \"\(name)\"",
          hint: "\(suggestion)channels: \(names.joined(separator: ", "))")
      }
      guard target.enabled else {
        throw table.error(at: node.position, "\(keyPath): channel \(name) is disabled (enabled = false)")
      }
    }
  }

  /// `[defaults] channel` must name a channel; checked once all channels are known.
  private static func checkDefaultChannel(in table: ConfigTable?, channels: [ChannelConfig]) throws(ConfigError) {
    guard let table, let name = try table.string("channel"), channels.allSatisfy({ $0.name != name.value }) else {
      return
    }
    let names = channels.map(\.name)
    let suggestion = Suggestion.nearest(to: name.value, in: names).map { "did you mean \"\($0)\"? " } ?? ""
    throw table.error(
      at: name.position, "\(table.keyPath("channel")): no channel is named \"\(name.value)\"",
      hint: "\(suggestion)channels: \(names.joined(separator: ", "))")
  }

  /// The simple check DESIGN.md asks of `[defaults] from`: one "@" with something on both sides
  /// and no line break (a CR or LF would let the value inject headers). The full parse happens
  /// when a message is composed.
  static func isPlausibleAddress(_ text: String) -> Bool {
    let parts = text.split(separator: "@", omittingEmptySubsequences: false)
    return parts.count == 2 && !parts[0].trimmingSpaces.isEmpty && !parts[1].trimmingSpaces.isEmpty
      && !text.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
  }

  /// An XDG base directory: the variable when it holds an absolute path (the XDG spec says to
  /// ignore relative ones), else `fallback` under the home directory.
  static func xdgDirectory(_ variable: String, fallback: String, environment: [String: String]) -> String {
    if let value = environment[variable], value.hasPrefix("/") { return value }
    return "\(homeDirectory(environment: environment))\(fallback)"
  }

  /// `$HOME` with a trailing slash, else the password database's entry, else "/".
  static func homeDirectory(environment: [String: String]) -> String {
    var home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
    if home == nil, let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir {
      home = String(cString: directory)
    }
    let path = home ?? "/"
    return path.hasSuffix("/") ? path : path + "/"
  }

  /// `~` or `~/...` at the start of a path means the home directory; `~user` is left alone.
  static func expandTilde(_ path: String, environment: [String: String]) -> String {
    if path == "~" { return String(homeDirectory(environment: environment).dropLast()) }
    guard path.hasPrefix("~/") else { return path }
    return homeDirectory(environment: environment) + path.dropFirst(2)
  }
}

extension Substring {
  fileprivate var trimmingSpaces: Substring {
    var text = self
    while text.first == " " || text.first == "\t" { text = text.dropFirst() }
    while text.last == " " || text.last == "\t" { text = text.dropLast() }
    return text
  }
}

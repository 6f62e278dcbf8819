import Foundation

/// The `file` kind: each message becomes an `.eml` file in the outbox directory, written to a
/// temporary name, fsync'd and renamed, so a reader never sees half a message. The embedded
/// default channel `outbox` is one, so a new user's first `send` works with no account.
struct FileChannel {
  let channel: ChannelConfig
  let environment: [String: String]

  /// Streams `message` into the file chunk by chunk, so an attachment is never in memory whole.
  func write(_ message: any MessageContent, envelope: Envelope) throws(ChannelError) -> ChannelDelivery.Result {
    let directory = channel.outboxDirectory ?? ConfigPaths.defaultOutbox(environment: environment)
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700])
    } catch {
      throw .io("cannot create the outbox \(directory): \(error.localizedDescription)")
    }
    let stamp = Int(Date().timeIntervalSince1970)
    let name = "\(stamp)-\(Crypto.hex(Crypto.randomBytes(6))).eml"
    let path = (directory as NSString).appendingPathComponent(name)
    let temporary = (directory as NSString).appendingPathComponent(".\(name).tmp")
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw .io("cannot write \(temporary): \(String(cString: strerror(errno)))") }
    var failure: String?
    do {
      try message.writeChunks { chunk in
        guard Self.writeAll(chunk, to: fd) else {
          let reason = String(cString: strerror(errno))
          failure = "cannot write \(path): \(reason)"
          throw ChannelError.io(reason)
        }
      }
      if fsync(fd) != 0 { failure = "cannot write \(path): \(String(cString: strerror(errno)))" }
    } catch let error as MessageSourceError {
      failure = error.description
    } catch {
      failure = failure ?? "cannot write \(path): \(error)"
    }
    if close(fd) != 0 && failure == nil { failure = "cannot write \(path): \(String(cString: strerror(errno)))" }
    if failure == nil && rename(temporary, path) != 0 {
      failure = "cannot write \(path): \(String(cString: strerror(errno)))"
    }
    if let failure {
      unlink(temporary)
      throw .io(failure)
    }
    let accepted = envelope.recipients.map {
      RecipientResult(address: $0, reply: nil, outcome: .accepted)
    }
    return ChannelDelivery.Result(report: DeliveryReport(recipients: accepted, transactions: 1), destination: path, tls: nil)
  }

  private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
    bytes.withUnsafeBytes { buffer -> Bool in
      guard let base = buffer.baseAddress else { return true }
      var offset = 0
      while offset < buffer.count {
        let written = Glibc.write(fd, base + offset, buffer.count - offset)
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return false }
        offset += written
      }
      return true
    }
  }
}

/// Default locations after the XDG base directory specification.
public enum ConfigPaths {
  static func home(_ environment: [String: String]) -> String {
    environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
  }

  static func xdg(_ variable: String, fallback: String, environment: [String: String]) -> String {
    if let value = environment[variable], value.hasPrefix("/") { return value }
    return (home(environment) as NSString).appendingPathComponent(fallback)
  }

  public static func defaultOutbox(environment: [String: String]) -> String {
    (xdg("XDG_DATA_HOME", fallback: ".local/share", environment: environment) as NSString)
      .appendingPathComponent("msc-send/outbox")
  }

  public static func defaultConfigFile(environment: [String: String]) -> String {
    (xdg("XDG_CONFIG_HOME", fallback: ".config", environment: environment) as NSString)
      .appendingPathComponent("msc-send/config.toml")
  }
}

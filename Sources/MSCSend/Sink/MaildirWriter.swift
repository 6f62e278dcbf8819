import Foundation
import Glibc

/// Delivers captured messages into a Maildir (the qmail layout that Dovecot, mutt and most mail
/// readers open): each message is written and fsync'd under a unique name in `tmp/`, then renamed
/// (linked) into `new/`, so a reader never sees half a message and a crash leaves at most a file in `tmp/`.
/// The file holds the message exactly as the client sent it (after dot-unstuffing, CRLF line
/// ends kept); the envelope is in the sink's report line, not added as headers.
final class MaildirWriter: Sendable {
  let directory: String
  /// This host's name as Maildir names want it: `/` and `:` escaped (`\057`, `\072`).
  private let hostPart: String

  struct WriteError: Error, CustomStringConvertible {
    let description: String
  }

  /// Creates `directory` and its `tmp`, `new` and `cur` (mode 0700) when missing.
  init(directory: String) throws(WriteError) {
    guard !directory.isEmpty, !directory.utf8.contains(0) else { throw WriteError(description: "invalid Maildir path") }
    for sub in ["", "/tmp", "/new", "/cur"] {
      try Self.makeDirectory(directory + sub)
    }
    self.directory = directory
    var name = [CChar](repeating: 0, count: 256)
    let host =
      gethostname(&name, name.count - 1) == 0
      ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
    hostPart = host.replacingOccurrences(of: "/", with: "\\057").replacingOccurrences(of: ":", with: "\\072")
  }

  /// `mkdir -p` with mode 0700 for what it creates; an existing directory is fine.
  private static func makeDirectory(_ path: String) throws(WriteError) {
    var prefix = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
      prefix += "/" + component
      if mkdir(prefix, 0o700) == 0 || errno == EEXIST {
        var info = stat()
        guard stat(prefix, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
          throw WriteError(description: "cannot create Maildir \(path): \(prefix) is not a directory")
        }
        continue
      }
      throw WriteError(description: "cannot create Maildir \(path): \(prefix): \(SocketWait.errorText(errno))")
    }
  }

  /// Writes `content` as `new/IDENTIFIER.HOST` and returns that path. `identifier` is unique in
  /// this process (`SinkServer` makes it from the time, the pid and a counter); `O_EXCL` and
  /// link(2) make sure nothing is ever overwritten.
  func deliver(_ content: [UInt8], identifier: String) throws(WriteError) -> String {
    let name = "\(identifier).\(hostPart)"
    let temporary = "\(directory)/tmp/\(name)"
    let final = "\(directory)/new/\(name)"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw WriteError(description: "\(temporary): \(SocketWait.errorText(errno))") }
    var written = false
    defer { if !written { unlink(temporary) } }
    var offset = 0
    while offset < content.count {
      let result = content.withUnsafeBytes { raw -> Int in
        guard let base = raw.baseAddress else { return 0 }
        return Glibc.write(fd, base + offset, raw.count - offset)
      }
      if result > 0 {
        offset += result
      } else if result < 0 && errno == EINTR {
        continue
      } else {
        let reason = SocketWait.errorText(errno)
        Glibc.close(fd)
        throw WriteError(description: "\(temporary): \(reason)")
      }
    }
    guard fsync(fd) == 0 else {
      let reason = SocketWait.errorText(errno)
      Glibc.close(fd)
      throw WriteError(description: "fsync \(temporary): \(reason)")
    }
    Glibc.close(fd)
    // link(2), unlike rename(2), never replaces an existing message; rename is the fallback
    // for file systems without hard links.
    if link(temporary, final) == 0 {
      unlink(temporary)
    } else if errno == EEXIST {
      throw WriteError(description: "\(final) already exists")
    } else if rename(temporary, final) != 0 {
      throw WriteError(description: "move into \(directory)/new: \(SocketWait.errorText(errno))")
    }
    written = true
    // The rename itself is durable once the directory is synced.
    let directoryFD = open("\(directory)/new", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if directoryFD >= 0 {
      _ = fsync(directoryFD)
      Glibc.close(directoryFD)
    }
    return final
  }
}

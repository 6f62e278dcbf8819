import Glibc

/// A local file whose bytes go into a message, read in chunks each time the message is written
/// (once per SMTP transaction, or into the outbox) so that it is never in memory whole.
///
/// The size is taken when the message is composed, because the message announces its length
/// before it is sent (RFC 1870 SIZE). A file that is not exactly that size when read is an error,
/// and the transfer is aborted before the final dot: a changed attachment is never sent half-way.
public struct AttachmentFile: Sendable, Equatable {
  public let path: String
  public let size: Int

  /// Octets per read: 1,150 base64 lines of 57 octets (about 64 KiB).
  static let readSize = 57 * 1_150

  /// Checks that `path` is a readable regular file and records its size.
  public static func open(_ path: String) throws(MessageSourceError) -> AttachmentFile {
    let descriptor = try openForReading(path)
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
    guard (status.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path, "not a regular file") }
    return AttachmentFile(path: path, size: Int(status.st_size))
  }

  /// Calls `body` with successive chunks of the file, `size` octets in all.
  func readChunks(_ body: ([UInt8]) throws -> Void) throws {
    let descriptor = try Self.openForReading(path)
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: Self.readSize)
    var total = 0
    while true {
      let count = try Self.read(descriptor, into: &buffer, path: path)
      if count == 0 { break }
      total += count
      if total > size { throw MessageSourceError.changed(path, expected: size) }
      try body(count == buffer.count ? buffer : Array(buffer[..<count]))
    }
    if total != size { throw MessageSourceError.changed(path, expected: size) }
  }

  private static func openForReading(_ path: String) throws(MessageSourceError) -> Int32 {
    let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
    return descriptor
  }

  private static func read(_ descriptor: Int32, into buffer: inout [UInt8], path: String) throws(MessageSourceError)
    -> Int
  {
    while true {
      let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
      if count >= 0 { return count }
      if errno != EINTR { throw .unreadable(path, String(cString: strerror(errno))) }
    }
  }
}

/// A file the message is made from could not be read, or changed after the message was composed.
/// A local input problem (EX_IOERR, DESIGN.md section 5), not bad data.
public struct MessageSourceError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String

  public init(_ description: String) { self.description = description }

  static func unreadable(_ path: String, _ reason: String) -> MessageSourceError {
    MessageSourceError("cannot read \(path): \(reason)")
  }

  static func changed(_ path: String, expected: Int) -> MessageSourceError {
    MessageSourceError(
      "\(path) changed while it was being sent (it had \(expected) octets when the message was composed)")
  }
}

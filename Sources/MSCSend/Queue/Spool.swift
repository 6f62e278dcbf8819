import Glibc

/// The Queue folder owns the durable outbox: spool segments holding message bytes, the queue rows
/// in the ledger (migration 2), the attempt journal that makes a crash mid-delivery exact, and the
/// runners that deliver what is due (`flush`, `batch`, and `send`'s own first attempt).
///
/// The spool keeps message bytes on disk from before the first attempt until they are delivered:
/// `spool/` next to the ledger, private to the user (0700). Bytes go into *segments*, files written
/// once: a segment is written under a temporary name, fsync'd, renamed into place and its folder
/// fsync'd, and only then do queue rows point into it. `send` writes a segment of one message; a
/// batch writes one segment for the whole run, so the run pays one fsync instead of one per message.
public struct Spool: Sendable {
  public let directory: String

  public init(directory: String) {
    self.directory = directory
  }

  /// `spool/` in the ledger's folder, so that one setting (`[defaults] ledger`) moves both.
  public static func directory(forLedger path: String) -> String {
    let folder = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    return (folder.isEmpty ? "" : folder) + "/spool"
  }

  /// Where attempt journals live (`AttemptJournal`).
  public var journalDirectory: String { directory + "/attempts" }

  /// Creates the spool folders (mode 0700: they hold whole messages) when missing.
  public func prepare() throws(SpoolError) {
    for path in [directory, journalDirectory] where mkdir(path, 0o700) != 0 && errno != EEXIST {
      throw SpoolError("cannot create the spool folder \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// Starts a new segment.
  public func makeWriter() throws(SpoolError) -> SpoolWriter {
    try prepare()
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    let name = "\(now.tv_sec)-\(getpid())-\(Crypto.hex(Crypto.randomBytes(6))).msgs"
    return try SpoolWriter(directory: directory, name: name)
  }

  /// Removes a segment whose messages no longer need their bytes. Best effort: a segment left
  /// behind is found again by `collectGarbage`.
  public func remove(segment path: String) {
    guard path.hasPrefix(directory + "/") else { return }
    unlink(path)
  }

  /// Removes a dead process's attempt journal.
  func remove(journal path: String) {
    guard path.hasPrefix(journalDirectory + "/") else { return }
    unlink(path)
  }

  /// The names of the segment files (finished ones) and of temporary files older than `before`.
  func listing(olderThan before: Double) -> (segments: [String], staleTemporaries: [String]) {
    guard let folder = opendir(directory) else { return ([], []) }
    defer { closedir(folder) }
    var segments: [String] = []
    var temporaries: [String] = []
    while let entry = readdir(folder) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      let path = directory + "/" + name
      var status = stat()
      guard stat(path, &status) == 0, Double(status.st_mtim.tv_sec) < before else { continue }
      if name.hasSuffix(".msgs") && !name.hasPrefix(".") { segments.append(path) }
      if name.hasSuffix(".tmp") && name.hasPrefix(".") { temporaries.append(path) }
    }
    return (segments, temporaries)
  }
}

/// A spool failure: local I/O, exit 74. Nothing was sent.
public struct SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Writes one segment: messages appended one after another (buffered in large writes), then
/// `commit` makes them durable. Until then the file has a temporary name nobody reads.
public final class SpoolWriter {
  public let path: String
  let temporaryPath: String
  let directory: String
  private var descriptor: Int32
  private var buffer: [UInt8] = []
  private var offset = 0
  private var committed = false

  static let bufferLimit = 256 * 1024

  init(directory: String, name: String) throws(SpoolError) {
    self.directory = directory
    path = directory + "/" + name
    temporaryPath = directory + "/." + name + ".tmp"
    descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
      throw SpoolError("cannot create \(temporaryPath): \(String(cString: strerror(errno)))")
    }
    buffer.reserveCapacity(Self.bufferLimit + 65_536)
  }

  deinit {
    if descriptor >= 0 { close(descriptor) }
    if !committed { unlink(temporaryPath) }
  }

  /// Appends a whole message (streamed chunk by chunk: an attachment is never in memory whole) and
  /// returns where it will be once committed.
  public func append(_ content: any MessageContent) throws(SpoolError) -> SpoolLocation {
    let start = offset
    do {
      try content.writeChunks { chunk in try self.write(chunk) }
    } catch let error as SpoolError {
      throw error
    } catch {
      throw SpoolError("cannot read the message to spool it: \(error)")
    }
    return SpoolLocation(path: path, offset: start, size: offset - start)
  }

  /// Appends bytes already in memory as one message.
  public func append(bytes: [UInt8]) throws(SpoolError) -> SpoolLocation {
    let start = offset
    try write(bytes)
    return SpoolLocation(path: path, offset: start, size: bytes.count)
  }

  private func write(_ bytes: [UInt8]) throws(SpoolError) {
    buffer += bytes
    offset += bytes.count
    if buffer.count >= Self.bufferLimit { try drain() }
  }

  private func drain() throws(SpoolError) {
    var written = 0
    while written < buffer.count {
      let count = buffer[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { throw SpoolError("cannot write \(temporaryPath): \(String(cString: strerror(errno)))") }
      written += count
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// The segment's bytes on disk under its final name: fsync the file, rename it into place, fsync
  /// the folder (so that the name survives a power loss too). Returns the final path.
  @discardableResult
  public func commit() throws(SpoolError) -> String {
    try drain()
    guard fsync(descriptor) == 0 else {
      throw SpoolError("cannot sync \(temporaryPath): \(String(cString: strerror(errno)))")
    }
    close(descriptor)
    descriptor = -1
    guard rename(temporaryPath, path) == 0 else {
      throw SpoolError("cannot rename \(temporaryPath): \(String(cString: strerror(errno)))")
    }
    committed = true
    let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folder >= 0 {
      defer { close(folder) }
      guard fsync(folder) == 0 else {
        throw SpoolError("cannot sync \(directory): \(String(cString: strerror(errno)))")
      }
    }
    return path
  }

  /// Octets appended so far.
  public var size: Int { offset }
}

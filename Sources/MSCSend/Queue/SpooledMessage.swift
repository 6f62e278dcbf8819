import Glibc

/// Open spool segments, one descriptor per file however many messages are read from it (a batch
/// reads thousands of messages from one segment). Used by one thread.
public final class SpoolReader {
  private var descriptors: [String: Int32] = [:]

  public init() {}

  deinit {
    for descriptor in descriptors.values { close(descriptor) }
  }

  func descriptor(for path: String) throws(MessageSourceError) -> Int32 {
    if let descriptor = descriptors[path] { return descriptor }
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw MessageSourceError("cannot open the spooled message \(path): \(String(cString: strerror(errno)))")
    }
    if descriptors.count >= 16, let (oldPath, old) = descriptors.first {
      close(old)
      descriptors[oldPath] = nil
    }
    descriptors[path] = descriptor
    return descriptor
  }

  /// Closes the segment (before it is removed).
  public func forget(_ path: String) {
    if let descriptor = descriptors.removeValue(forKey: path) { close(descriptor) }
  }

  /// Reads `location` in chunks of at most 64 KiB.
  func read(_ location: SpoolLocation, _ sink: ([UInt8]) throws -> Void) throws {
    var done = 0
    while done < location.size {
      let chunk = try chunk(of: location, at: done)
      try sink(chunk)
      done += chunk.count
    }
  }

  /// The next chunk of `location` from `position` (empty at its end).
  func chunk(of location: SpoolLocation, at position: Int) throws(MessageSourceError) -> [UInt8] {
    let descriptor = try descriptor(for: location.path)
    let want = min(ChunkedOutput.blockSize, location.size - position)
    guard want > 0 else { return [] }
    var chunk = [UInt8](repeating: 0, count: want)
    while true {
      let count = chunk.withUnsafeMutableBytes {
        pread(descriptor, $0.baseAddress, want, off_t(location.offset + position))
      }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else {
        let reason = count == 0 ? "the file is shorter than recorded" : String(cString: strerror(errno))
        throw MessageSourceError("cannot read the spooled message \(location.path): \(reason)")
      }
      if count < want { chunk.removeLast(want - count) }
      return chunk
    }
  }
}

/// A queued message's bytes, read from the spool each time they are sent (another transaction of
/// the same message reads them again). An 8-bit message offers its 7-bit form for a server without
/// 8BITMIME by parsing the spooled bytes again as sendmail mode would (`ReadyMessage`).
public struct SpooledMessage: MessageContent {
  public let location: SpoolLocation
  public let requiresEightBitMIME: Bool
  public let requiresSMTPUTF8: Bool
  let reader: SpoolReader

  public init(_ location: SpoolLocation, eightBit: Bool, smtpUTF8: Bool, reader: SpoolReader) {
    self.location = location
    requiresEightBitMIME = eightBit
    requiresSMTPUTF8 = smtpUTF8
    self.reader = reader
  }

  public var byteCount: Int? { location.size }

  public func writeChunks(to sink: ([UInt8]) throws -> Void) throws {
    try reader.read(location, sink)
  }

  public var sevenBitAlternative: (any MessageContent)? {
    guard requiresEightBitMIME else { return nil }
    // Streamed, so that a large message is not held in memory; a read failure must not end the
    // message early (it would go out truncated), so it cancels the 7-bit form instead.
    var position = 0
    var failed = false
    let next: () -> [UInt8] = {
      guard !failed else { return [] }
      do throws(MessageSourceError) {
        let chunk = try reader.chunk(of: location, at: position)
        position += chunk.count
        return chunk
      } catch {
        failed = true
        return []
      }
    }
    let temporary = ProcessEnvironment.temporaryDirectory
    guard let raw = try? RawMessage.read(next, ignoringDots: true, spoolDirectory: temporary), !failed,
      let ready = try? ReadyMessage.make(raw, requiresSMTPUTF8: requiresSMTPUTF8)
    else { return nil }
    return ready.sevenBitAlternative
  }
}

/// `$TMPDIR` or `/tmp`, for the rare re-encoding of a large 8-bit message.
enum ProcessEnvironment {
  static var temporaryDirectory: String {
    guard let value = getenv("TMPDIR").map({ String(cString: $0) }), !value.isEmpty else { return "/tmp" }
    return value
  }
}

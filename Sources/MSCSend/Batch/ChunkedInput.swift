import Foundation
import Glibc

/// Bytes of a file read a chunk at a time, so a reader holds one chunk and the record it is
/// building, never the whole file. An in-memory input is one chunk.
struct ChunkedInput {
  static let defaultChunkSize = 64 * 1024

  private var chunk: [UInt8]
  private var position = 0
  private let handle: FileHandle?
  private let path: String
  private let chunkSize: Int

  init(bytes: [UInt8]) {
    chunk = bytes
    handle = nil
    path = ""
    chunkSize = ChunkedInput.defaultChunkSize
  }

  init(contentsOfFile path: String, chunkSize: Int = ChunkedInput.defaultChunkSize) throws(BatchInputError) {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw BatchInputError(.unreadable, "cannot open \(path): \(String(cString: strerror(errno)))")
    }
    self.chunk = []
    self.handle = handle
    self.path = path
    self.chunkSize = max(1, chunkSize)
  }

  /// The next byte, or nil at the end of the input.
  mutating func next() throws(BatchInputError) -> UInt8? {
    if position == chunk.count, try !refill() { return nil }
    defer { position += 1 }
    return chunk[position]
  }

  /// The next byte without consuming it.
  mutating func peek() throws(BatchInputError) -> UInt8? {
    if position == chunk.count, try !refill() { return nil }
    return chunk[position]
  }

  /// Skips a UTF-8 byte order mark at the very start (Excel writes one into "CSV UTF-8" files).
  mutating func skipByteOrderMark() throws(BatchInputError) {
    let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
    for (index, byte) in mark.enumerated() {
      guard try peekAhead(index) == byte else { return }
    }
    position += mark.count
  }

  /// The byte `offset` places ahead (offset < 3), reading another chunk if needed; only used at
  /// the start, where the chunk is whole.
  private mutating func peekAhead(_ offset: Int) throws(BatchInputError) -> UInt8? {
    while position + offset >= chunk.count {
      guard let handle else { return nil }
      let more = try read(handle)
      if more.isEmpty { return nil }
      chunk += more
    }
    return chunk[position + offset]
  }

  private mutating func refill() throws(BatchInputError) -> Bool {
    guard let handle else { return false }
    chunk = try read(handle)
    position = 0
    return !chunk.isEmpty
  }

  private func read(_ handle: FileHandle) throws(BatchInputError) -> [UInt8] {
    do {
      return Array(try handle.read(upToCount: chunkSize) ?? Data())
    } catch {
      throw BatchInputError(.unreadable, "cannot read \(path): \(error.localizedDescription)")
    }
  }
}

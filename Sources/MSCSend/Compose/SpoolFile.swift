import Glibc

/// A message body kept on disk while it is sent, so that sendmail mode holds only a chunk of a
/// large message in memory. The file is unlinked as soon as it is created: it lives as long as
/// this value, and nothing is left behind if the process dies.
public final class SpoolFile {
  private let descriptor: Int32
  public private(set) var size = 0

  /// A new empty file in `directory` (e.g. `$TMPDIR`), readable by this process only.
  public init(in directory: String) throws(MessageSourceError) {
    var template =
      Array((directory.hasSuffix("/") ? directory : directory + "/").utf8CString.dropLast())
      + Array("msc-send-body.XXXXXX".utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
      guard let base = buffer.baseAddress else { return -1 }
      return mkstemp(base)
    }
    guard descriptor >= 0 else {
      throw MessageSourceError("cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
    }
    let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    unlink(path)
    _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    self.descriptor = descriptor
  }

  deinit { close(descriptor) }

  public func append(_ bytes: [UInt8]) throws(MessageSourceError) {
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else {
        throw MessageSourceError("cannot write the temporary copy of the message: \(String(cString: strerror(errno)))")
      }
      offset += written
    }
    size += bytes.count
  }

  /// Calls `body` with successive chunks of the whole file.
  func readChunks(_ body: ([UInt8]) throws -> Void) throws {
    var buffer = [UInt8](repeating: 0, count: ChunkedOutput.blockSize)
    var offset = 0
    while offset < size {
      let count = buffer.withUnsafeMutableBytes {
        pread(descriptor, $0.baseAddress, min($0.count, size - offset), off_t(offset))
      }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else {
        throw MessageSourceError("cannot read the temporary copy of the message: \(String(cString: strerror(errno)))")
      }
      try body(count == buffer.count ? buffer : Array(buffer[..<count]))
      offset += count
    }
  }
}

/// Where a message body is: in memory, or spooled to disk.
public enum MessageBody {
  case memory([UInt8])
  case spool(SpoolFile)

  public var count: Int {
    switch self {
    case .memory(let bytes): bytes.count
    case .spool(let file): file.size
    }
  }

  /// Calls `body` with successive chunks of about 64 KiB.
  func readChunks(_ body: ([UInt8]) throws -> Void) throws {
    switch self {
    case .memory(let bytes):
      var start = 0
      while start < bytes.count {
        let end = min(start + ChunkedOutput.blockSize, bytes.count)
        try body(Array(bytes[start..<end]))
        start = end
      }
    case .spool(let file):
      try file.readChunks(body)
    }
  }
}

import Foundation
import Glibc
@testable import MSCSend

/// A real TLS server on loopback: Python's `ssl` module (OpenSSL underneath, but none of our
/// code), run as a child process. It binds port 0 and prints the port, so there is no race for a
/// free port; it serves connections one after another and exits by itself after 30 s, so a
/// crashed test run leaves nothing behind for long.
final class TLSTestServer {
  enum Mode: String {
    /// Handshake at once, then echo.
    case tls
    /// As `tls`, but only TLS 1.1 (with SECLEVEL=0, which TLS 1.1 needs in OpenSSL 3).
    case tls11
    /// "220 ready" in plaintext; after "STARTTLS" answers "220 go ahead", handshakes, echoes.
    case starttls
    /// Handshake, then a TCP close without close_notify (as many SMTP servers do after QUIT).
    case tlsThenClose = "tls-then-close"
  }

  let port: UInt16
  private let process: Process

  init(identity: TestPKI.Identity, mode: Mode = .tls, host: String = "127.0.0.1") throws {
    guard let python = Self.python else { throw ToolError(description: "python3 not found") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", Self.script, identity.certificate, identity.key, mode.rawValue, host]
    let stdout = Pipe()
    process.standardOutput = stdout
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { throw ToolError(description: "cannot start python3: \(error)") }
    self.process = process
    // Read the port line, bounded: poll the pipe, never a blocking read on its own.
    let fd = stdout.fileHandleForReading.fileDescriptor
    let deadline = Deadline.after(seconds: 5)
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while !line.contains(UInt8(ascii: "\n")) {
      var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&entry, 1, deadline.remainingMilliseconds) == 1, Glibc.read(fd, &byte, 1) == 1 else { break }
      line.append(byte)
    }
    let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let port = UInt16(text) else {
      Self.stop(process)
      throw ToolError(description: "TLS test server did not start (said \"\(text)\")")
    }
    self.port = port
  }

  deinit { stop() }

  /// Stops the server (idempotent). Tests call it in a `defer`: ARC may end an unused local's
  /// lifetime before the end of its scope, which would stop the server mid-test.
  func stop() { Self.stop(process) }

  /// SIGTERM to its own pid, wait at most 2 s, then SIGKILL.
  private static func stop(_ process: Process) {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGTERM)
    let deadline = Deadline.after(seconds: 2)
    while process.isRunning && !deadline.hasPassed { usleep(2_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }

  /// `MSC_SEND_TEST_PYTHON`, else Debian's python3, else python3 on PATH.
  static let python: String? = {
    if let chosen = ProcessInfo.processInfo.environment["MSC_SEND_TEST_PYTHON"] { return toolPath(chosen) }
    return toolPath("/usr/bin/python3") ?? toolPath("python3")
  }()

  private static let script = """
    import signal, socket, ssl, sys, warnings
    warnings.simplefilter("ignore")
    # Test runner threads block signals and a spawned child inherits the mask: unblock, so that
    # SIGTERM from the test and our own SIGALRM work.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.alarm(30)
    cert, key, mode, host = sys.argv[1:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if mode == "tls11":
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.bind((host, 0))
    server.listen(8)
    print(server.getsockname()[1], flush=True)
    def echo(conn):
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)
    while True:
        conn, _ = server.accept()
        conn.settimeout(5)
        try:
            if mode == "starttls":
                conn.sendall(b"220 ready\\r\\n")
                line = b""
                while not line.endswith(b"\\n"):
                    chunk = conn.recv(1)
                    if not chunk:
                        break
                    line += chunk
                if line.strip().upper() != b"STARTTLS":
                    conn.close()
                    continue
                conn.sendall(b"220 go ahead\\r\\n")
            tls = ctx.wrap_socket(conn, server_side=True)
            if mode == "tls-then-close":
                tls.close()
                continue
            echo(tls)
            tls.close()
        except Exception:
            conn.close()
    """

}

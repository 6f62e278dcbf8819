import Glibc
import Synchronization

/// SIGINT and SIGTERM stop the sink cleanly (exit 0): the handler writes one byte to the
/// listener's interrupt pipe, which is all a signal handler may safely do (write(2) is
/// async-signal-safe); the accept loop does the rest on its own thread.
enum SinkSignals {
  /// The descriptor the handler writes to; -1 when none. A C signal handler cannot carry
  /// context, so this atomic is the one piece of process-wide state the sink has.
  private static let wakeDescriptor = Atomic<Int32>(-1)

  /// The handlers in place before `install`, for `uninstall`.
  struct Previous {
    fileprivate let interrupt: __sighandler_t?
    fileprivate let terminate: __sighandler_t?
  }

  private static let handler: @convention(c) (Int32) -> Void = { _ in
    let savedErrno = errno
    var byte: UInt8 = 1
    let fd = SinkSignals.wakeDescriptor.load(ordering: .acquiring)
    if fd >= 0 { _ = write(fd, &byte, 1) }
    errno = savedErrno
  }

  /// Routes SIGINT and SIGTERM to `descriptor` and unblocks them in the calling thread: a
  /// process started by a test runner may inherit a mask that blocks them.
  static func install(wakeDescriptor descriptor: Int32) -> Previous {
    wakeDescriptor.store(descriptor, ordering: .releasing)
    let previous = Previous(interrupt: signal(SIGINT, handler), terminate: signal(SIGTERM, handler))
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    return previous
  }

  /// Puts the previous handlers back; the descriptor may be closed afterwards.
  static func uninstall(_ previous: Previous) {
    signal(SIGINT, previous.interrupt)
    signal(SIGTERM, previous.terminate)
    wakeDescriptor.store(-1, ordering: .releasing)
  }
}

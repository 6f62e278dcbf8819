import Foundation
import Glibc

/// The accept loop of `msc-send sink`: one thread per connection (at most `maxConnections`,
/// further clients get 421), each running a `SinkSession` over a `SocketTransport`, every read
/// bounded by the idle timeout. Messages go to the Maildir, if any, and to `report`, one call per
/// message, in capture order. It never relays anything.
///
/// `run()` blocks until `stop()` (from any thread), a signal routed through
/// `interruptDescriptor`, or `maxMessages` captured; then it gives open connections a short grace
/// to finish (the last client still wants its 250 and 221), shuts down the rest, and returns.
public final class SinkServer: @unchecked Sendable {
  public struct Configuration: Sendable {
    public var listenAddress: SocketAddress
    public var maildir: String?
    public var tls: TLSServerContext?
    /// Stop after this many messages were captured.
    public var maxMessages: Int?
    /// Seconds a client may stay silent (RFC 5321 section 4.5.3.2.7 suggests 5 minutes for
    /// servers; a local tool can be quicker).
    public var idleTimeout: Double = 60
    public var hostname = "localhost"
    public var maxConnections = 16
    /// How long open connections may take to finish once the sink stops.
    public var stopGrace: Double = 2

    public init(listenAddress: SocketAddress) {
      self.listenAddress = listenAddress
    }
  }

  public struct SetupError: Error, CustomStringConvertible {
    public enum Kind: Sendable { case listen, maildir }
    public let kind: Kind
    public let description: String
  }

  public let configuration: Configuration
  /// The bound address (the kernel's port when 0 was asked).
  public let address: SocketAddress
  private let listener: SocketListener
  private let maildir: MaildirWriter?
  private let report: @Sendable (SinkRecord) -> Void
  private let diagnostic: @Sendable (String) -> Void

  /// Guards everything below; signalled whenever a connection ends.
  private let state = NSCondition()
  private var connections: [ObjectIdentifier: SocketTransport] = [:]
  private var stopping = false
  /// Messages being stored or stored, so that concurrent clients never exceed `maxMessages`.
  private var reserved = 0
  private var captured = 0
  private var sequence = 0

  /// Binds the listening socket and prepares the Maildir; nothing is accepted before `run()`.
  init(
    configuration: Configuration, report: @escaping @Sendable (SinkRecord) -> Void,
    diagnostic: @escaping @Sendable (String) -> Void
  ) throws(SetupError) {
    // TLS writes go through write(2): a client that vanishes must not kill the sink with SIGPIPE.
    SocketTransport.ignoreSIGPIPE()
    if let directory = configuration.maildir {
      do {
        maildir = try MaildirWriter(directory: directory)
      } catch {
        throw SetupError(kind: .maildir, description: "\(error)")
      }
    } else {
      maildir = nil
    }
    do {
      listener = try SocketListener(address: configuration.listenAddress)
    } catch .io(let reason) {
      throw SetupError(kind: .listen, description: reason)
    } catch {
      throw SetupError(kind: .listen, description: "cannot listen on \(configuration.listenAddress): \(error)")
    }
    self.configuration = configuration
    self.address = listener.address
    self.report = report
    self.diagnostic = diagnostic
  }

  /// Where a signal handler writes one byte to stop the sink (async-signal-safe).
  var interruptDescriptor: Int32 { listener.interruptDescriptor }

  public var capturedCount: Int { state.withLock { captured } }

  /// Stops accepting; `run()` returns after the grace period. Any thread, any number of times.
  public func stop() {
    state.withLock { stopping = true }
    listener.interrupt()
  }

  /// Accepts and serves connections until stopped.
  public func run() {
    while let connection = listener.accept() {
      let admitted = state.withLock { () -> Bool in
        guard !stopping, connections.count < configuration.maxConnections else { return false }
        connections[ObjectIdentifier(connection)] = connection
        return true
      }
      guard admitted else {
        try? connection.write(SinkSession.busyReply, deadline: .after(seconds: 1))
        connection.close()
        continue
      }
      let handoff = Handoff(connection)
      let thread = Thread { [self] in serve(handoff.transport) }
      thread.name = "msc-send sink \(connection.peerAddress)"
      thread.start()
    }
    listener.close()
    drainConnections()
  }

  /// Waits for open connections, then shuts the rest down and waits for their threads, each
  /// wait bounded.
  private func drainConnections() {
    state.lock()
    defer { state.unlock() }
    stopping = true
    let grace = Date(timeIntervalSinceNow: configuration.stopGrace)
    while !connections.isEmpty && state.wait(until: grace) {}
    for connection in connections.values { connection.shutDownConnection() }
    let last = Date(timeIntervalSinceNow: 2)
    while !connections.isEmpty && state.wait(until: last) {}
  }

  /// One connection, on its own thread, until QUIT, an error, the idle timeout or the stop.
  private func serve(_ connection: SocketTransport) {
    defer {
      state.withLock {
        connections[ObjectIdentifier(connection)] = nil
        state.broadcast()
      }
      connection.close()
    }
    let peer = connection.peerAddress.description
    var settings = SinkSession.Settings()
    settings.hostname = configuration.hostname
    settings.tlsAvailable = configuration.tls != nil
    settings.peerIsLoopback = connection.peerIsLoopback
    var session = SinkSession(settings: settings) { [self] message in store(message, peer: peer) }
    let writeTimeout = max(configuration.idleTimeout, 5)
    do throws(TransportError) {
      try connection.write(session.greeting, deadline: .after(seconds: writeTimeout))
      while true {
        let chunk: [UInt8]
        do {
          chunk = try connection.read(maxCount: 65_536, deadline: .after(seconds: configuration.idleTimeout))
        } catch .timeout {
          try? connection.write(SinkSession.idleTimeoutReply, deadline: .after(seconds: 1))
          return
        }
        if chunk.isEmpty { return }
        let output = session.receive(chunk)
        if !output.replies.isEmpty { try connection.write(output.replies, deadline: .after(seconds: writeTimeout)) }
        switch output.directive {
        case .proceed:
          continue
        case .close:
          return
        case .startTLS:
          guard let tls = configuration.tls else { return }
          _ = try connection.acceptTLS(context: tls, deadline: .after(seconds: writeTimeout))
          session.tlsStarted()
        }
      }
    } catch .tls(let error) {
      diagnostic("TLS with \(peer) failed: \(error)")
    } catch {
      // The client went away or the sink is stopping: nothing to report.
    }
  }

  /// Hands a message to the Maildir and the report. Called on connection threads.
  private func store(_ message: CapturedMessage, peer: String) -> DeliveryOutcome {
    let identifier = state.withLock { () -> String? in
      if stopping { return nil }
      if let limit = configuration.maxMessages, reserved >= limit { return nil }
      reserved += 1
      sequence += 1
      return Self.identifier(sequence: sequence)
    }
    guard let identifier else { return .shuttingDown }
    var file: String?
    if let maildir {
      do {
        file = try maildir.deliver(message.content, identifier: identifier)
      } catch {
        state.withLock { reserved -= 1 }
        diagnostic("cannot store a message from \(peer): \(error)")
        return .failed("local write error")
      }
    }
    let record = SinkRecord(message: message, identifier: identifier, file: file, peer: peer)
    let reachedLimit = state.withLock { () -> Bool in
      // Reported under the lock: lines never interleave and come in capture order.
      report(record)
      captured += 1
      return configuration.maxMessages.map { captured >= $0 } ?? false
    }
    if reachedLimit { stop() }
    return .stored(identifier: identifier)
  }

  /// `SECONDS.MMICROSECONDSPpidQn`, the unique part of a Maildir name (the Maildir convention).
  private static func identifier(sequence: Int) -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return "\(now.tv_sec).M\(now.tv_nsec / 1000)P\(getpid())Q\(sequence)"
  }

  /// Moves a connection to its thread (a transport is used by one thread at a time).
  private final class Handoff: @unchecked Sendable {
    let transport: SocketTransport
    init(_ transport: SocketTransport) { self.transport = transport }
  }
}

/// Anything that answers DNS questions: the real `DNSClient`, or a table in tests.
public protocol DNSResolving: AnyObject {
  func lookup(_ name: String, _ type: DNSRecordType) throws(DNSError) -> DNSAnswer
}

/// A small stub resolver (RFC 1035 section 7): asks the configured recursive resolvers in turn,
/// retries, falls back to TCP on truncation, follows CNAMEs, and remembers every answer for the
/// rest of the run (one `check` evaluates SPF once per address of the channel's host, so the same
/// names come up again; an error is remembered too, so a dead resolver costs its timeout once).
public final class DNSClient: DNSResolving {
  public let servers: [SocketAddress]
  /// Seconds one UDP attempt waits for its answer.
  public let attemptTimeout: Double
  /// Rounds over all servers.
  public let attempts: Int
  private var cache: [String: Result<DNSAnswer, DNSError>] = [:]
  /// The most CNAMEs followed for one lookup (RFC 1034 section 5.2.2 asks to bound chains).
  static let maximumChain = 8

  public init(servers: [SocketAddress], attemptTimeout: Double = 2, attempts: Int = 2) {
    self.servers = servers
    self.attemptTimeout = attemptTimeout
    self.attempts = max(1, attempts)
  }

  public func lookup(_ name: String, _ type: DNSRecordType) throws(DNSError) -> DNSAnswer {
    let key = "\(DNSName.normalized(name)) \(type.rawValue)"
    if let cached = cache[key] { return try cached.get() }
    let result: Result<DNSAnswer, DNSError>
    do throws(DNSError) {
      result = .success(try follow(DNSName.normalized(name), type))
    } catch {
      result = .failure(error)
    }
    cache[key] = result
    return try result.get()
  }

  /// Asks for `name`, then for the target of a CNAME the answer ends on without the records.
  private func follow(_ name: String, _ type: DNSRecordType) throws(DNSError) -> DNSAnswer {
    var current = name
    var seen: Set<String> = [name]
    for _ in 0...Self.maximumChain {
      let response = try ask(current, type)
      if response.responseCode == DNSResponseCode.nameError.rawValue { return .nonexistentDomain }
      let (records, end) = Self.chase(response.answers, from: current, type: type)
      if !records.isEmpty { return .records(records) }
      guard end != current else { return .noData }
      guard seen.insert(end).inserted else { throw .malformedResponse("CNAME loop at \(end)") }
      current = end
    }
    throw .malformedResponse("more than \(Self.maximumChain) CNAMEs from \(name)")
  }

  /// The records of `type` for `name` in an answer section, following CNAMEs inside it; and the
  /// name the chain ends at (to ask for when the section stops at a CNAME).
  static func chase(_ answers: [DNSRecord], from name: String, type: DNSRecordType) -> ([DNSRecord], String) {
    var current = name
    for _ in 0...maximumChain {
      let matching = answers.filter { $0.type == type && DNSName.same($0.name, current) }
      if !matching.isEmpty { return (matching, current) }
      guard type != .cname,
        let alias = answers.first(where: { $0.type == .cname && DNSName.same($0.name, current) }),
        case .canonicalName(let target) = alias.data
      else { return ([], current) }
      current = target
    }
    return ([], current)
  }

  /// One question to the servers: UDP, TCP when truncated; the next server on a timeout,
  /// SERVFAIL or REFUSED; the whole round again up to `attempts` times.
  private func ask(_ name: String, _ type: DNSRecordType) throws(DNSError) -> DNSResponse {
    guard !servers.isEmpty else { throw .noResolver }
    var lastError = DNSError.timeout("no resolver answered")
    var failures: [String] = []
    for _ in 0..<attempts {
      for server in servers {
        let idBytes = Crypto.randomBytes(2)
        let query = try DNSQuery.encode(id: UInt16(idBytes[0]) << 8 | UInt16(idBytes[1]), name: name, type: type)
        do throws(DNSError) {
          var wire = try DNSExchange.udp(query, to: server, deadline: .after(seconds: attemptTimeout))
          if DNSResponseParser.isTruncated(wire) {
            wire = try DNSExchange.tcp(query, to: server, deadline: .after(seconds: attemptTimeout * 2))
          }
          let response = try DNSResponseParser.parse(wire)
          switch response.responseCode {
          case DNSResponseCode.noError.rawValue, DNSResponseCode.nameError.rawValue:
            return response
          default:
            let text = Self.rcodeName(response.responseCode)
            failures.append("\(server) \(text)")
            lastError = .serverFailure("\(name) \(type): " + failures.joined(separator: ", "))
          }
        } catch {
          lastError = error
          // Nobody listening is not worth a second round; a lost datagram may be.
          if case .network = error, servers.count == 1 { throw error }
        }
      }
    }
    throw lastError
  }

  static func rcodeName(_ code: UInt8) -> String {
    switch DNSResponseCode(rawValue: code) {
    case .formatError: "FORMERR"
    case .serverFailure: "SERVFAIL"
    case .notImplemented: "NOTIMP"
    case .refused: "REFUSED"
    case .noError: "NOERROR"
    case .nameError: "NXDOMAIN"
    case nil: "RCODE \(code)"
    }
  }
}

extension DNSResponseParser {
  /// The TC bit, read before a full parse: a truncated answer is asked again over TCP.
  static func isTruncated(_ bytes: [UInt8]) -> Bool { bytes.count >= 4 && bytes[2] & 0x02 != 0 }
}

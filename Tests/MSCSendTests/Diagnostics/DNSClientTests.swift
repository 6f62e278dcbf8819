import Foundation
import Glibc
import Testing

@testable import MSCSend

/// Our DNS client against a real resolver (dnsmasq on loopback), and against sockets that never
/// answer or refuse: answers, the distinctions between NXDOMAIN, no data and failure, truncation
/// with the TCP retry, CNAMEs, and bounded waits.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct DNSClientTests {
  static let long = [
    String(repeating: "a", count: 250), String(repeating: "b", count: 250), String(repeating: "c", count: 250),
  ]

  static let zone = DNSZone(
    txt: [("acme.test", ["v=spf1 -all"]), ("long.acme.test", long)],
    hosts: [("mail.acme.test", ["192.0.2.25", "2001:db8::25"])],
    mx: [("acme.test", "mail.acme.test", 10)],
    cnames: [("alias.acme.test", "mail.acme.test")])

  private func client(_ server: ServerProcess, timeout: Double = 2) throws -> DNSClient {
    let address = try #require(SocketAddress(numericHost: server.host, port: UInt16(server.port)))
    return DNSClient(servers: [address], attemptTimeout: timeout, attempts: 2)
  }

  @Test func answersFromARealResolver() throws {
    let server = try ServerProcess.dnsmasq(Self.zone)
    defer { server.stop() }
    let dns = try client(server)
    #expect(try dns.lookup("acme.test", .txt).records.map(\.joinedText) == ["v=spf1 -all"])
    #expect(
      try dns.lookup("ACME.test.", .mx).records.map(\.data) == [
        .mailExchange(preference: 10, exchange: "mail.acme.test")
      ])
    #expect(try dns.lookup("mail.acme.test", .a).records.map(\.data) == [.address([192, 0, 2, 25])])
    let v6 = try #require(IPAddress("2001:db8::25"))
    #expect(try dns.lookup("mail.acme.test", .aaaa).records.map(\.data) == [.address(v6.bytes)])
    #expect(try dns.lookup("alias.acme.test", .a).records.map(\.data) == [.address([192, 0, 2, 25])], "CNAME followed")
    #expect(try dns.lookup("nothing.acme.test", .txt) == .nonexistentDomain)
    #expect(try dns.lookup("mail.acme.test", .txt) == .noData)
  }

  /// 750 octets of TXT do not fit a 512-octet UDP answer: dnsmasq sets TC, the client asks again
  /// over TCP, and the three character-strings are joined (RFC 7208 section 3.3).
  @Test func truncatedAnswerIsFetchedOverTCP() throws {
    let server = try ServerProcess.dnsmasq(Self.zone)
    defer { server.stop() }
    let records = try client(server).lookup("long.acme.test", .txt).records
    #expect(records.count == 1)
    #expect(records.first?.joinedText == Self.long.joined())
  }

  @Test func refusedEverywhereIsAServerFailure() throws {
    let server = try ServerProcess.dnsmasq(Self.zone)
    defer { server.stop() }
    #expect(throws: DNSError.self) { try client(server).lookup("example.com", .a) }
    do {
      _ = try client(server).lookup("example.com", .a)
    } catch {
      #expect("\(error)".contains("REFUSED"), "\(error)")
    }
  }

  @Test func silentServerTimesOutWithinTheBound() throws {
    let (fd, address) = try Self.boundUDPSocket()
    defer { close(fd) }
    let started = Date()
    #expect(throws: DNSError.self) {
      try DNSClient(servers: [address], attemptTimeout: 0.3, attempts: 2).lookup("acme.test", .txt)
    }
    let elapsed = Date().timeIntervalSince(started)
    #expect(elapsed >= 0.5 && elapsed < 3, "two attempts of 0.3 s, got \(elapsed)")
  }

  @Test func closedPortIsANetworkErrorAtOnce() throws {
    let (fd, address) = try Self.boundUDPSocket()
    close(fd)  // nobody listens there now: ICMP port unreachable
    let started = Date()
    do {
      _ = try DNSClient(servers: [address], attemptTimeout: 2, attempts: 2).lookup("acme.test", .txt)
      Issue.record("expected an error")
    } catch {
      guard case .network = error else {
        Issue.record("expected a network error, got \(error)")
        return
      }
    }
    #expect(Date().timeIntervalSince(started) < 1.5)
  }

  @Test func noServerIsAnError() {
    #expect(throws: DNSError.noResolver) { try DNSClient(servers: []).lookup("acme.test", .a) }
  }

  @Test func resolverArgumentsAndResolvConf() {
    #expect(ResolverConfiguration.parse("127.0.0.1")?.description == "127.0.0.1:53")
    #expect(ResolverConfiguration.parse("127.0.0.1:5353")?.description == "127.0.0.1:5353")
    #expect(ResolverConfiguration.parse("[::1]:5353")?.description == "[::1]:5353")
    #expect(ResolverConfiguration.parse("::1")?.description == "[::1]:53")
    #expect(ResolverConfiguration.parse("dns.example") == nil)
    #expect(ResolverConfiguration.parse("127.0.0.1:0") == nil)
    let conf = "# comment\nsearch example.com\nnameserver 192.0.2.53\nnameserver\t2001:db8::53\nnameserver bogus\n"
    #expect(
      ResolverConfiguration.servers(resolvConf: conf).map(\.description) == ["192.0.2.53:53", "[2001:db8::53]:53"])
  }

  /// A UDP socket bound to a free loopback port that never reads.
  static func boundUDPSocket() throws -> (Int32, SocketAddress) {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    let any = try #require(SocketAddress(numericHost: "127.0.0.1", port: 0))
    try #require(any.withSockaddr { bind(fd, $0, $1) } == 0)
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    let bound = try #require(
      withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(pointer: $0, length: length) }
      })
    return (fd, bound)
  }
}

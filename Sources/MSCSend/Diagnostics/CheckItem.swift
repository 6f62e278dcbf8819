/// How one line of the checklist came out. `warn` is a problem that does not stop mail (a
/// certificate expiring soon, a legacy channel): it fails the run only with `--strict`. `skip`
/// is a step that could not run (an earlier step failed) or does not apply.
public enum CheckVerdict: String, Sendable, Equatable, CaseIterable {
  case ok, warn, fail, skip

  /// For the channel's verdict: fail > warn > ok > skip.
  var rank: Int {
    switch self {
    case .skip: 0
    case .ok: 1
    case .warn: 2
    case .fail: 3
    }
  }
}

/// The checks, in the order they run. The raw values are the `id`s of `--json` (stable).
public enum CheckID: String, Sendable, Equatable, CaseIterable {
  case rules, enabled, secret, resolve, connect, greeting, tls, ehlo, auth, login, size, outbox, ledger
  case sendTest = "send_test"
  case spf, dmarc, dkim

  /// The human checklist's label.
  public var label: String {
    switch self {
    case .rules: "rules"
    case .enabled: "enabled"
    case .secret: "secret"
    case .resolve: "DNS"
    case .connect: "TCP"
    case .greeting: "greeting"
    case .tls: "TLS"
    case .ehlo: "EHLO"
    case .auth: "AUTH"
    case .login: "login"
    case .size: "SIZE"
    case .outbox: "outbox"
    case .ledger: "ledger"
    case .sendTest: "send test"
    case .spf: "SPF"
    case .dmarc: "DMARC"
    case .dkim: "DKIM"
    }
  }
}

/// One line of the checklist: what was checked, how it came out, what we found, and for a
/// problem how to fix it and which exit code it stands for (DESIGN.md section 5).
public struct CheckItem: Sendable, Equatable {
  public var id: CheckID
  public var verdict: CheckVerdict
  public var detail: String
  public var hint: String?
  /// `.ok` for ok and skip; for warn and fail the code of the problem (a warning's counts only
  /// with `--strict`).
  public var exitCode: ExitCode
  /// The sender domain the check is about (SPF, DMARC, DKIM), else nil.
  public var domain: String?

  public init(
    _ id: CheckID, _ verdict: CheckVerdict, _ detail: String, hint: String? = nil, exitCode: ExitCode = .ok,
    domain: String? = nil
  ) {
    self.id = id
    self.verdict = verdict
    self.detail = detail
    self.hint = hint
    self.exitCode = verdict == .ok || verdict == .skip ? .ok : exitCode
    self.domain = domain
  }

  static func ok(_ id: CheckID, _ detail: String, domain: String? = nil) -> CheckItem {
    CheckItem(id, .ok, detail, domain: domain)
  }

  static func skip(_ id: CheckID, _ detail: String, domain: String? = nil) -> CheckItem {
    CheckItem(id, .skip, detail, domain: domain)
  }

  static func warn(_ id: CheckID, _ detail: String, hint: String? = nil, code: ExitCode, domain: String? = nil)
    -> CheckItem
  {
    CheckItem(id, .warn, detail, hint: hint, exitCode: code, domain: domain)
  }

  static func fail(_ id: CheckID, _ detail: String, hint: String? = nil, code: ExitCode, domain: String? = nil)
    -> CheckItem
  {
    CheckItem(id, .fail, detail, hint: hint, exitCode: code, domain: domain)
  }

  /// Whether this line decides the exit code: a failure always, a warning with `--strict`.
  func counts(strict: Bool) -> Bool { verdict == .fail || (strict && verdict == .warn) }
}

/// Everything `check` found for one channel.
public struct ChannelCheckReport: Sendable, Equatable {
  public var channel: String
  public var kind: ChannelKind
  /// `host:port`, or the outbox folder of a file channel.
  public var target: String
  public var items: [CheckItem]
  /// The redacted SMTP transcript and DNS lookups (`C:`, `S:`, `--` lines).
  public var transcript: [String]

  public var verdict: CheckVerdict {
    items.map(\.verdict).max { $0.rank < $1.rank } ?? .skip
  }

  /// The worst code among the failures (and warnings with `strict`); 0 when none counts.
  public func exitCode(strict: Bool) -> ExitCode {
    ExitCode.worst(items.filter { $0.counts(strict: strict) }.map(\.exitCode))
  }

  public func item(_ id: CheckID, domain: String? = nil) -> CheckItem? {
    items.first { $0.id == id && (domain == nil || $0.domain == domain) }
  }
}

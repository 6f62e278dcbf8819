import Foundation

/// Certificates for the TLS tests, made with the `openssl` command line once per test run in a
/// temporary folder (removed when the test process exits). EC P-256 keys: fast to generate.
///
/// - `ca`: a test CA (`--ca-file`).
/// - `leaf`: signed by `ca`, SAN `DNS:localhost, IP:127.0.0.1, IP:::1`: verifies for every loopback name.
/// - `selfSigned`: the same names, signed by itself: fails verification unless pinned or `--no-verify`.
/// - `expired`: signed by `ca`, valid only on 2020-01-01: fails verification as expired.
struct TestCertificates: Sendable {
  /// A certificate file and its private key file (PEM).
  struct Pair: Sendable {
    let certificate: URL
    let key: URL
  }

  let directory: URL
  let ca: Pair
  let leaf: Pair
  let selfSigned: Pair
  let expired: Pair

  /// The run's certificates, generated on first use.
  static func shared() throws -> TestCertificates {
    try cached.get()
  }

  /// `sha256:<hex>` of a certificate's DER bytes, the form `--fingerprint` takes.
  static func sha256Fingerprint(of certificate: URL) throws -> String {
    let result = try openssl(["x509", "-in", certificate.path, "-noout", "-fingerprint", "-sha256"])
    // "sha256 Fingerprint=AB:CD:..." (OpenSSL 3) or "SHA256 Fingerprint=..." (1.1)
    guard let value = result.split(separator: "=", maxSplits: 1).last else {
      throw HarnessError("unexpected openssl fingerprint output: \(result)")
    }
    let hex = value.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "")
    return "sha256:" + hex.lowercased()
  }

  private static let cached: Result<TestCertificates, HarnessError> = {
    do {
      let certificates = try generate()
      registerRemovalAtExit()
      return .success(certificates)
    } catch let error as HarnessError {
      return .failure(error)
    } catch {
      return .failure(HarnessError("generating test certificates: \(error)"))
    }
  }()

  private static let directoryForRun: URL = FileManager.default.temporaryDirectory
    .appendingPathComponent("msc-send-certs-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)

  private static func registerRemovalAtExit() {
    atexit {
      try? FileManager.default.removeItem(at: TestCertificates.directoryForRun)
    }
  }

  private static let names = "DNS:localhost, IP:127.0.0.1, IP:::1"

  private static let configuration = """
    [req]
    distinguished_name = dn
    prompt = no
    [dn]
    CN = unused
    [ca_ext]
    basicConstraints = critical, CA:TRUE
    keyUsage = critical, keyCertSign, cRLSign
    subjectKeyIdentifier = hash
    [leaf_ext]
    basicConstraints = critical, CA:FALSE
    keyUsage = critical, digitalSignature
    extendedKeyUsage = serverAuth
    subjectAltName = \(names)
    subjectKeyIdentifier = hash
    authorityKeyIdentifier = keyid
    [self_signed_ext]
    basicConstraints = critical, CA:FALSE
    keyUsage = critical, digitalSignature
    extendedKeyUsage = serverAuth
    subjectAltName = \(names)
    [ca]
    default_ca = test_ca
    [test_ca]
    database = index.txt
    new_certs_dir = .
    serial = serial
    default_md = sha256
    policy = any_name
    unique_subject = no
    copy_extensions = none
    [any_name]
    commonName = supplied

    """

  private static func generate() throws -> TestCertificates {
    let directory = directoryForRun
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let config = directory.appendingPathComponent("openssl.cnf")
    try Data(configuration.utf8).write(to: config)
    try Data().write(to: directory.appendingPathComponent("index.txt"))
    try Data("1000\n".utf8).write(to: directory.appendingPathComponent("serial"))
    func pair(_ name: String) -> Pair {
      Pair(
        certificate: directory.appendingPathComponent("\(name).pem"),
        key: directory.appendingPathComponent("\(name).key"))
    }
    let ca = pair("ca"), leaf = pair("leaf"), selfSigned = pair("self-signed"), expired = pair("expired")
    let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    let request = ["req", "-config", config.path]

    try openssl(
      request + ["-x509"] + newKey + [
        "-keyout", ca.key.path, "-out", ca.certificate.path, "-days", "3",
        "-subj", "/CN=msc-send test CA", "-extensions", "ca_ext",
      ])
    for (target, extensionSection, start, end) in [
      (leaf, "leaf_ext", nil, nil), (expired, "leaf_ext", "20200101000000Z", "20200102000000Z"),
    ] as [(Pair, String, String?, String?)] {
      let csr = target.certificate.deletingPathExtension().appendingPathExtension("csr")
      try openssl(
        request + ["-new"] + newKey + ["-keyout", target.key.path, "-out", csr.path, "-subj", "/CN=localhost"])
      var sign = [
        "ca", "-batch", "-config", config.path, "-cert", ca.certificate.path, "-keyfile", ca.key.path,
        "-in", csr.path, "-out", target.certificate.path, "-extensions", extensionSection, "-notext",
      ]
      if let start, let end {
        sign += ["-startdate", start, "-enddate", end]
      } else {
        sign += ["-days", "3"]
      }
      try openssl(sign, workingIn: directory)
    }
    try openssl(
      request + ["-x509"] + newKey + [
        "-keyout", selfSigned.key.path, "-out", selfSigned.certificate.path, "-days", "3",
        "-subj", "/CN=localhost", "-extensions", "self_signed_ext",
      ])
    return TestCertificates(directory: directory, ca: ca, leaf: leaf, selfSigned: selfSigned, expired: expired)
  }

  /// Runs `openssl` with a 60 s bound; its stdout, or an error carrying its stderr.
  @discardableResult
  static func openssl(_ arguments: [String], workingIn directory: URL? = nil) throws -> String {
    guard let executable = TestEnvironment.findInPath("openssl") else {
      throw HarnessError("the openssl command is not installed (apt-get install openssl, or run .ci/run)")
    }
    // `openssl ca` resolves its database paths against the working directory.
    let result = try runProcessBlocking(
      executable, arguments: arguments, workingDirectory: directory, timeout: .seconds(60))
    guard result.exit == 0 else {
      throw HarnessError("openssl \(arguments.joined(separator: " ")) failed (\(result.exit)): \(result.stderr)")
    }
    return result.stdout
  }
}

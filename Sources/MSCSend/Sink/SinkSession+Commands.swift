/// One method per verb (RFC 5321 section 4.1.1), each checking its syntax and its place in the
/// sequence (section 4.1.4) before it changes any state.
extension SinkSession {
  /// Verbs of other protocols: an HTTP request sent to the sink (a web page posting to
  /// localhost:2525, cross-protocol) is dropped at once, as Postfix does.
  static let foreignVerbs: Set<String> = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH"]

  mutating func handle(line: ArraySlice<UInt8>, into output: inout Output) {
    switch phase {
    case .authPlain, .authLoginUser, .authLoginPassword:
      return continueAuthentication(String(decoding: line, as: UTF8.self), into: &output)
    case .data:
      return
    case .command:
      break
    }
    let text = String(decoding: line, as: UTF8.self)
    let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
    let verb = text[..<verbEnd].uppercased()
    var argument = verbEnd == text.endIndex ? "" : String(text[text.index(after: verbEnd)...])
    while argument.last == " " || argument.last == "\t" { argument.removeLast() }

    switch verb {
    case "EHLO": hello(argument, extended: true, into: &output)
    case "HELO": hello(argument, extended: false, into: &output)
    case "STARTTLS": startTLS(argument, into: &output)
    case "AUTH": authenticate(argument, into: &output)
    case "MAIL": mail(argument, into: &output)
    case "RCPT": recipient(argument, into: &output)
    case "DATA": data(argument, into: &output)
    case "RSET": reset(argument, into: &output)
    case "NOOP": output.replies += Self.reply(250, "2.0.0 Ok")
    case "QUIT":
      output.replies += Self.reply(221, "2.0.0 Bye")
      output.directive = .close
    case "VRFY":
      // RFC 5321 section 3.5.3: 252 when the server will not say, but will accept mail.
      if argument.isEmpty { return error(501, "5.5.4 Syntax: VRFY address", into: &output) }
      output.replies += Self.reply(252, "2.5.0 Cannot VRFY user, but will accept message")
    case "HELP":
      output.replies += Self.reply(214, "2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY")
    case "EXPN", "BDAT", "TURN", "ETRN", "ATRN":
      error(502, "5.5.1 Command not implemented", into: &output)
    case "":
      error(500, "5.5.2 Syntax error: empty command", into: &output)
    case _ where Self.foreignVerbs.contains(verb):
      output.replies += Self.reply(421, "4.7.0 This is an SMTP server, closing connection")
      output.directive = .close
    default:
      error(500, "5.5.2 Command unrecognized", into: &output)
    }
  }

  /// Whether AUTH is offered and accepted: after TLS, or from a loopback peer.
  var authenticationAllowed: Bool { tlsActive || settings.peerIsLoopback }

  /// EHLO and HELO (section 4.1.1.1). Either ends a transaction in progress (section 4.1.4).
  /// The client's name is recorded, never echoed back.
  private mutating func hello(_ argument: String, extended: Bool, into output: inout Output) {
    guard !argument.isEmpty, !argument.contains(" ") else {
      return error(501, "5.5.4 Syntax: \(extended ? "EHLO" : "HELO") hostname", into: &output)
    }
    resetTransaction()
    helloName = argument
    isExtended = extended
    guard extended else {
      output.replies += Self.reply(250, settings.hostname)
      return
    }
    var lines = [
      "\(settings.hostname) Hello", "SIZE \(settings.maxMessageSize)", "8BITMIME", "SMTPUTF8", "PIPELINING",
      "ENHANCEDSTATUSCODES",
    ]
    if settings.tlsAvailable && !tlsActive { lines.append("STARTTLS") }
    if authenticationAllowed { lines.append("AUTH PLAIN LOGIN") }
    output.replies += Self.reply(250, lines: lines)
  }

  /// STARTTLS (RFC 3207 section 4): no parameters, only once, only when a certificate is set.
  private mutating func startTLS(_ argument: String, into output: inout Output) {
    guard argument.isEmpty else { return error(501, "5.5.4 Syntax: STARTTLS (no parameters)", into: &output) }
    guard settings.tlsAvailable else { return error(502, "5.5.1 STARTTLS not available", into: &output) }
    guard !tlsActive else { return error(503, "5.5.1 TLS already active", into: &output) }
    output.replies += Self.reply(220, "2.0.0 Ready to start TLS")
    output.directive = .startTLS
  }

  /// MAIL FROM:<reverse-path> [parameters] (section 4.1.1.2). Parameters are tolerated; SIZE is
  /// checked against the advertised limit (RFC 1870 section 6).
  private mutating func mail(_ argument: String, into output: inout Output) {
    guard helloName != nil else { return error(503, "5.5.1 Send EHLO or HELO first", into: &output) }
    guard sender == nil else { return error(503, "5.5.1 Sender already given", into: &output) }
    guard let (path, parameters) = Self.parsePath(argument, keyword: "FROM:") else {
      return error(501, "5.5.4 Syntax: MAIL FROM:<address>", into: &output)
    }
    guard Self.isPrintable(path) else { return error(501, "5.1.7 Bad sender address syntax", into: &output) }
    for parameter in parameters where parameter.uppercased().hasPrefix("SIZE=") {
      guard let size = Int(parameter.dropFirst(5)), size >= 0 else {
        return error(501, "5.5.4 Syntax: SIZE=octets", into: &output)
      }
      if size > settings.maxMessageSize {
        output.replies += Self.reply(552, "5.3.4 Message size exceeds fixed maximum message size")
        return
      }
    }
    sender = path
    output.replies += Self.reply(250, "2.1.0 Sender ok")
  }

  /// RCPT TO:<forward-path> [parameters] (section 4.1.1.3).
  private mutating func recipient(_ argument: String, into output: inout Output) {
    guard sender != nil else { return error(503, "5.5.1 Send MAIL first", into: &output) }
    guard let (path, _) = Self.parsePath(argument, keyword: "TO:") else {
      return error(501, "5.5.4 Syntax: RCPT TO:<address>", into: &output)
    }
    guard !path.isEmpty, Self.isPrintable(path) else {
      return error(501, "5.1.3 Bad recipient address syntax", into: &output)
    }
    guard recipients.count < settings.maxRecipients else {
      output.replies += Self.reply(452, "4.5.3 Too many recipients")
      return
    }
    recipients.append(path)
    output.replies += Self.reply(250, "2.1.5 Recipient ok")
  }

  /// DATA (section 4.1.1.4): 354, then the message until CRLF.CRLF. Without an accepted
  /// recipient it is refused (RFC 2920 section 3.1: a pipelining client may send it anyway).
  private mutating func data(_ argument: String, into output: inout Output) {
    guard argument.isEmpty else { return error(501, "5.5.4 Syntax: DATA (no parameters)", into: &output) }
    guard sender != nil else { return error(503, "5.5.1 Send MAIL first", into: &output) }
    guard !recipients.isEmpty else { return error(554, "5.5.1 No valid recipients", into: &output) }
    dataReceiver = DataReceiver(maxSize: settings.maxMessageSize)
    phase = .data
    output.replies += Self.reply(354, "End data with <CR><LF>.<CR><LF>")
  }

  /// RSET (section 4.1.1.5): the transaction ends, the greeting and AUTH stay.
  private mutating func reset(_ argument: String, into output: inout Output) {
    guard argument.isEmpty else { return error(501, "5.5.4 Syntax: RSET (no parameters)", into: &output) }
    resetTransaction()
    output.replies += Self.reply(250, "2.0.0 Ok")
  }

  /// Splits `FROM:<path> PARAM=VALUE ...` into the path and its parameters. A space after the
  /// colon and a path without angle brackets are tolerated (common client mistakes); a source
  /// route (`<@a,@b:user@c>`) is dropped, as section 4.1.1.3 allows. A `>` inside a quoted local
  /// part does not end the path.
  static func parsePath(_ argument: String, keyword: String) -> (path: String, parameters: [String])? {
    let bytes = Array(argument.utf8)
    let prefix = Array(keyword.utf8)
    guard bytes.count >= prefix.count,
      zip(bytes, prefix).allSatisfy({ Self.asciiUppercase($0) == $1 })
    else { return nil }
    var index = prefix.count
    while index < bytes.count && bytes[index] == UInt8(ascii: " ") { index += 1 }
    var path: [UInt8]
    if index < bytes.count && bytes[index] == UInt8(ascii: "<") {
      var end = index + 1
      var quoted = false
      var escaped = false
      while end < bytes.count {
        let byte = bytes[end]
        if escaped {
          escaped = false
        } else if byte == UInt8(ascii: "\\") {
          escaped = true
        } else if byte == UInt8(ascii: "\"") {
          quoted.toggle()
        } else if byte == UInt8(ascii: ">") && !quoted {
          break
        }
        end += 1
      }
      guard end < bytes.count else { return nil }
      path = Array(bytes[(index + 1)..<end])
      index = end + 1
      guard index == bytes.count || bytes[index] == UInt8(ascii: " ") else { return nil }
    } else {
      let end = bytes[index...].firstIndex(of: UInt8(ascii: " ")) ?? bytes.count
      path = Array(bytes[index..<end])
      guard !path.isEmpty, !path.contains(UInt8(ascii: "<")), !path.contains(UInt8(ascii: ">")) else { return nil }
      index = end
    }
    if path.first == UInt8(ascii: "@"), let colon = path.firstIndex(of: UInt8(ascii: ":")) {
      path = Array(path[(colon + 1)...])
    }
    let parameters = bytes[index...].split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
    return (String(decoding: path, as: UTF8.self), parameters)
  }

  private static func asciiUppercase(_ byte: UInt8) -> UInt8 {
    (0x61...0x7a).contains(byte) ? byte - 0x20 : byte
  }

  /// No control characters (which would also corrupt the report lines).
  static func isPrintable(_ text: String) -> Bool {
    !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
  }
}

/// The sendmail command line (the subset cron, mailx, PHP, git send-email and friends use), parsed
/// the way sendmail does: values may be attached (`-fuser@example.com`, `-FCronDaemon`) or follow,
/// single-letter flags may be grouped (`-ti`), `--` ends the options.
struct SendmailArguments: Equatable {
  var extractRecipients = false
  var ignoreDots = false
  var envelopeSender: String?
  var fullName: String?
  var configFile: String?
  var verbose = false
  var help = false
  var recipients: [String] = []

  /// Options sendmail defines that change nothing here: error reporting (`-oe*`), delivery mode
  /// (`-od*`: we always deliver at once), `-om` (send to me too), `-oi` handled apart, body type
  /// (`-B`: we look at the body ourselves), `-bm` (deliver: the only mode).
  static let ignoredOptions: Set<String> = [
    "-bm", "-oem", "-oee", "-oep", "-oeq", "-oew", "-odi", "-odb", "-odq", "-odd", "-om", "-B7BIT", "-B8BITMIME",
  ]

  /// Whether `argument`, the first after the program name, means sendmail mode rather than a command.
  static func startsSendmailMode(_ argument: String) -> Bool {
    if ["-t", "-i", "-oi", "-ti", "-it", "-C"].contains(argument) || ignoredOptions.contains(argument) { return true }
    if argument.hasPrefix("-f") || argument.hasPrefix("-F") || argument.hasPrefix("-r") { return true }
    return !argument.hasPrefix("-") && argument.contains("@")
  }

  init(_ arguments: [String]) throws(UsageError) {
    var index = 0
    func value(of option: String, attached: Substring) throws(UsageError) -> String {
      if !attached.isEmpty { return String(attached) }
      guard index < arguments.count else { throw UsageError("\(option) needs a value") }
      index += 1
      return arguments[index - 1]
    }
    var optionsEnded = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
        recipients.append(argument)
        continue
      }
      if argument == "--" {
        optionsEnded = true
        continue
      }
      if Self.ignoredOptions.contains(argument) { continue }
      switch argument {
      case "-oi", "-oitrue": ignoreDots = true
      case "-h", "--help": help = true
      case "-B": _ = try value(of: "-B", attached: "")
      default:
        let letter = argument.dropFirst().first
        let attached = argument.dropFirst(2)
        switch letter {
        case "f", "r": envelopeSender = try value(of: String(argument.prefix(2)), attached: attached)
        case "F": fullName = try value(of: "-F", attached: attached)
        case "C": configFile = try value(of: "-C", attached: attached)
        case "b":
          throw UsageError(
            "sendmail mode \(argument) is not supported: msc-send only delivers a message (-bm)",
            hint: "the mail queue is not kept by sendmail mode; see `msc-send --help`")
        default:
          try takeFlags(argument)
        }
      }
    }
  }

  /// A group of single-letter flags such as `-ti`.
  private mutating func takeFlags(_ argument: String) throws(UsageError) {
    let letters = argument.dropFirst()
    guard !letters.isEmpty, letters.allSatisfy({ "tiv".contains($0) }) else {
      throw UsageError(
        "unknown sendmail option \(argument)",
        hint: "supported: -t -i -oi -f SENDER -F NAME -r SENDER -C FILE -v; ignored: -bm -oem -oee -odi -om -B8BITMIME")
    }
    for letter in letters {
      switch letter {
      case "t": extractRecipients = true
      case "i": ignoreDots = true
      default: verbose = true
      }
    }
  }
}

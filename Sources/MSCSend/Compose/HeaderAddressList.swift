import Foundation

/// Address lists as other programs write them in a ready-made message's To, Cc, Bcc and From
/// (sendmail mode): besides what `Mailbox.parseList` takes, RFC 5322 section 3.2.2 comments
/// (`root (Cron Daemon)`) and section 3.4 groups (`undisclosed-recipients:;`, `team: a@x, b@x;`).
enum HeaderAddressList {
  /// One address as found in a header, with the text of its comments (a name where the mailbox
  /// has none, as in `root (Cron Daemon)`).
  struct Entry: Equatable {
    var text: String
    var comment: String?

    init(text: String, comment: String? = nil) {
      self.text = text
      self.comment = comment
    }

    /// The name a person gave this address: the phrase before `<`, else the comment.
    var name: String? {
      if let angle = text.firstIndex(of: "<") {
        let phrase = AddressParser.collapsingWhitespace(text[..<angle].replacingOccurrences(of: "\"", with: ""))
        if !phrase.isEmpty { return phrase }
      }
      return comment
    }
  }

  /// The mailboxes of `value`; an empty group or an empty value gives none. `header` names the
  /// field in errors. An address without a domain is refused with its own explanation: it would
  /// need a local mail system, which msc-send is not.
  static func mailboxes(_ value: String, header: String) throws(ComposeError) -> [Mailbox] {
    var mailboxes: [Mailbox] = []
    for entry in entries(value) {
      mailboxes.append(try mailbox(entry, header: header))
    }
    return mailboxes
  }

  static func mailbox(_ entry: Entry, header: String) throws(ComposeError) -> Mailbox {
    let text = entry.text.trimmingSpaces
    let isOneWord = !text.isEmpty && !text.unicodeScalars.contains(where: AddressParser.isWhitespace)
    if isOneWord && !text.contains("@") && !text.contains("\"") {
      throw ComposeError(
        .invalidAddress,
        "\(header): address \(ComposeError.visible(text)) has no domain; msc-send delivers to full addresses only "
          + "(in a crontab, set MAILTO=you@example.com)")
    }
    do throws(ComposeError) {
      let mailbox = try Mailbox.parse(text)
      if mailbox.displayName == nil, let comment = entry.comment, !comment.isEmpty {
        return (try? Mailbox(displayName: comment, address: mailbox.address)) ?? mailbox
      }
      return mailbox
    } catch {
      throw ComposeError(.invalidAddress, "\(header): \(error.message)")
    }
  }

  /// Splits `value` at top-level commas and group ends, dropping group names and comments.
  static func entries(_ value: String) -> [Entry] {
    var entries: [Entry] = []
    var current = ""
    var comment = ""
    var inQuotes = false
    var escaped = false
    var commentDepth = 0
    var angleDepth = 0
    var bracketDepth = 0

    func endEntry() {
      if !AddressParser.isBlank(current) {
        let name = AddressParser.collapsingWhitespace(comment)
        entries.append(Entry(text: current, comment: name.isEmpty ? nil : name))
      }
      current = ""
      comment = ""
    }

    for scalar in value.unicodeScalars {
      if scalar == "\r" || scalar == "\n" { continue }
      if escaped {
        escaped = false
        if commentDepth > 0 { comment.unicodeScalars.append(scalar) } else { current.unicodeScalars.append(scalar) }
        continue
      }
      if commentDepth > 0 {
        switch scalar {
        case "\\": escaped = true
        case "(": commentDepth += 1
        case ")": commentDepth -= 1
        default: comment.unicodeScalars.append(scalar)
        }
        continue
      }
      if inQuotes {
        if scalar == "\\" { escaped = true } else if scalar == "\"" { inQuotes = false }
        current.unicodeScalars.append(scalar)
        continue
      }
      switch scalar {
      case "\"": inQuotes = true
      case "(" where bracketDepth == 0:
        commentDepth = 1
        current += " "
        continue
      case "<": angleDepth += 1
      case ">": angleDepth = max(0, angleDepth - 1)
      case "[": bracketDepth += 1
      case "]": bracketDepth = max(0, bracketDepth - 1)
      case "," where angleDepth == 0 && bracketDepth == 0, ";" where angleDepth == 0 && bracketDepth == 0:
        endEntry()
        continue
      case ":" where angleDepth == 0 && bracketDepth == 0:
        // A group's display name ends here (RFC 5322 section 3.4): what came before is not an address.
        current = ""
        comment = ""
        continue
      default: break
      }
      current.unicodeScalars.append(scalar)
    }
    endEntry()
    return entries
  }
}

import Foundation

/// A file channel's one real check: can its outbox folder be written (or, when it does not exist
/// yet, created: `send` makes it with mode 0700 on first use). Nothing is created by `check`.
enum OutboxCheck {
  static func item(directory: String) -> CheckItem {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        return .fail(.outbox, "\(directory) exists but is not a folder", hint: "set path to a folder", code: .ioError)
      }
      guard access(directory, W_OK | X_OK) == 0 else {
        return .fail(
          .outbox, "\(directory) is not writable: \(String(cString: strerror(errno)))",
          hint: "fix the folder's permissions, or set path in the channel", code: .ioError)
      }
      return .ok(.outbox, "\(directory) is writable")
    }
    var ancestor = (directory as NSString).deletingLastPathComponent
    while !ancestor.isEmpty, ancestor != "/", !FileManager.default.fileExists(atPath: ancestor) {
      ancestor = (ancestor as NSString).deletingLastPathComponent
    }
    if ancestor.isEmpty { ancestor = "/" }
    guard access(ancestor, W_OK | X_OK) == 0 else {
      return .fail(
        .outbox, "\(directory) does not exist and \(ancestor) is not writable, so it cannot be created",
        hint: "create the folder, or set path in the channel", code: .ioError)
    }
    return .ok(.outbox, "\(directory) does not exist yet; it will be created on the first message")
  }
}

import Foundation
import MSCSend

let code = CommandLineInterface.run(
  arguments: CommandLine.arguments, environment: ProcessInfo.processInfo.environment,
  console: StandardConsole())
exit(code.rawValue)

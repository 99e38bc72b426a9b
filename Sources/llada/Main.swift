import ArgumentParser
import Foundation
import LLaDAEngine

@main
struct Llada {
    /// Parses and runs a subcommand; every failure becomes one `error:` line and a non-zero exit.
    static func main() {
        do {
            var command = try LladaCommand.parseAsRoot()
            try command.run()
        } catch let error as LLaDAError {
            fail(error.message, code: 1)
        } catch {
            // --help and --version are "errors" that print and exit 0.
            if LladaCommand.exitCode(for: error) == .success { LladaCommand.exit(withError: error) }
            let message = LladaCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            fail("\(message) (see `llada --help`)", code: LladaCommand.exitCode(for: error).rawValue)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        exit(code == 0 ? 1 : code)
    }
}

struct LladaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llada",
        abstract: "LLaDA masked-diffusion language model on the CPU.",
        subcommands: [GenerateCommand.self, TokenizeCommand.self, DetokenizeCommand.self, EvalCommand.self, BenchCommand.self])
}

/// Prints a value as one line of JSON.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

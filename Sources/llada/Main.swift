import ArgumentParser
import Foundation
import LLaDAEngine

@main
struct Llada {
    static func main() {
        // From the start, so Ctrl-C at any point is a clean exit (130) with one line, never a signal death.
        Interruption.install()
        // Everything the command allocated is released before exit (LeakSanitizer runs clean).
        exit(runCommand())
    }

    /// Parses and runs a subcommand; every failure becomes one `error:` line and a non-zero status.
    static func runCommand() -> Int32 {
        do {
            var command = try LladaCommand.parseAsRoot()
            try command.run()
            return 0
        } catch let error as LLaDAError {
            return fail(error.flagMessage, code: 1)
        } catch let error as PlanError {
            return fail(error.message.flagMessage, code: 1)
        } catch {
            // --help and --version are "errors" that print and exit 0.
            if LladaCommand.exitCode(for: error) == .success { LladaCommand.exit(withError: error) }
            let message = LladaCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            return fail("\(message) (see `llada --help`)", code: LladaCommand.exitCode(for: error).rawValue)
        }
    }

    /// The command-line spelling of an engine setting: `gen_length` is `--gen-length`.
    static func flag(_ setting: String) -> String { "--" + setting.replacingOccurrences(of: "_", with: "-") }

    static func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return code == 0 ? 1 : code
    }

    /// Ctrl-C / SIGTERM during generation, once the current step has stopped: one line, exit 128 + signal.
    static func interrupted(_ signal: Int32, _ detail: String) -> Never {
        FileHandle.standardError.write(Data("interrupted \(detail)\n".utf8))
        exit(128 + signal)
    }
}

struct LladaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llada",
        abstract: "LLaDA masked-diffusion language model on the CPU.",
        subcommands: [GenerateCommand.self, ChatCommand.self, InfillCommand.self, TokenizeCommand.self, DetokenizeCommand.self,
                      EvalCommand.self, BenchCommand.self, InfoCommand.self, ServeCommand.self])
}

/// Prints a value as one line of JSON.
func printJSON<T: Encodable>(_ value: T) throws {
    print(try jsonLine(value))
}

/// A value as one line of JSON, keys sorted.
func jsonLine<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

extension LLaDAError {
    /// The message with the engine's settings named as this tool's flags.
    var flagMessage: String { message(naming: Llada.flag) }
}

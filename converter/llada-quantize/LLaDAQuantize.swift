import ArgumentParser
import Foundation
import LLaDAConvert
import LLaDAEngine

@main
struct LLaDAQuantize {
    static func main() {
        // From the start: Ctrl-C at any point exits 128 + signal with one line, and removes a partial output.
        SignalCleanup.install()
        // Everything the command allocated is released before exit (LeakSanitizer runs clean).
        exit(runCommand())
    }

    /// Parses and runs a subcommand; every failure becomes one `error:` line and a non-zero status.
    static func runCommand() -> Int32 {
        do {
            var command = try QuantizeCommand.parseAsRoot()
            try command.run()
            return 0
        } catch let error as LLaDAError {
            return fail(error.message { "--" + $0.replacingOccurrences(of: "_", with: "-") }, code: 1)
        } catch let code as ExitCode {
            return code.rawValue
        } catch {
            // --help is an "error" that prints and exits 0.
            if QuantizeCommand.exitCode(for: error) == .success { QuantizeCommand.exit(withError: error) }
            let message = QuantizeCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            return fail("\(message) (see `llada-quantize --help`)", code: QuantizeCommand.exitCode(for: error).rawValue)
        }
    }

    static func fail(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return code == 0 ? 1 : code
    }
}

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llada-quantize",
        abstract: "Convert a LLaDA checkpoint into one packed, checksummed file (q4, q8, f16 or f32).",
        discussion: "Run `llada-quantize SRC_DIR -o OUT --type q4` to convert; `inspect` and `verify` read a packed file.",
        subcommands: [ConvertCommand.self, InspectCommand.self, VerifyCommand.self, MeasureCommand.self, FlipsCommand.self,
                      LoadBenchCommand.self],
        defaultSubcommand: ConvertCommand.self)
}

/// Prints a value as JSON (sorted keys, so output is stable).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func formatBytes(_ bytes: Int) -> String {
    let value = Double(bytes)
    if value >= 1e9 { return String(format: "%.2f GB", value / 1e9) }
    if value >= 1e6 { return String(format: "%.2f MB", value / 1e6) }
    if value >= 1e3 { return String(format: "%.1f kB", value / 1e3) }
    return "\(bytes) B"
}

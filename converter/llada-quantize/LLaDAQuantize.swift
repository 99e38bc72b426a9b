import ArgumentParser
import Foundation
import LLaDAEngine

@main
struct LLaDAQuantize {
    /// Parses and runs a subcommand; every failure becomes one `error:` line and a non-zero exit.
    static func main() {
        do {
            var command = try QuantizeCommand.parseAsRoot()
            try command.run()
        } catch let error as LLaDAError {
            fail(error.message, code: 1)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            // --help is an "error" that prints and exits 0.
            if QuantizeCommand.exitCode(for: error) == .success { QuantizeCommand.exit(withError: error) }
            let message = QuantizeCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            fail("\(message) (see `llada-quantize --help`)", code: QuantizeCommand.exitCode(for: error).rawValue)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        exit(code == 0 ? 1 : code)
    }
}

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llada-quantize",
        abstract: "Convert a LLaDA checkpoint into one packed, checksummed file (q4, q8, f16 or f32).",
        discussion: "Run `llada-quantize SRC_DIR -o OUT --type q4` to convert; `inspect` and `verify` read a packed file.",
        subcommands: [ConvertCommand.self, InspectCommand.self, VerifyCommand.self, MeasureCommand.self, LoadBenchCommand.self],
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

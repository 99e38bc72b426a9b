import ArgumentParser
import Foundation
import LLaDAEngine

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Print the token ids of a text (special tokens recognised, nothing added).")

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(name: .long, parsing: .unconditional, help: "The text to tokenize.")
    var text: String

    @Flag(name: .long, help: "Print {\"ids\": [...]}.")
    var json = false

    struct Output: Encodable { let ids: [Int] }

    func run() throws {
        let ids = try tokenizerOptions.loadTokenizer().encode(text)
        if json {
            try printJSON(Output(ids: ids))
        } else {
            print(ids.map(String.init).joined(separator: ","))
        }
    }
}

struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize", abstract: "Print the text of comma-separated token ids.")

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(name: .long, parsing: .unconditional, help: "Comma-separated token ids, e.g. 1,2,3.")
    var ids: String

    @Flag(name: .long, help: "Drop special tokens.")
    var skipSpecial = false

    func run() throws {
        let parsed = try ids.split(separator: ",", omittingEmptySubsequences: false).map { field -> Int in
            let trimmed = field.trimmingCharacters(in: .whitespaces)
            guard let id = Int(trimmed), id >= 0 else {
                throw LLaDAError("--ids: \"\(trimmed)\" is not a token id (expected comma-separated non-negative integers)")
            }
            return id
        }
        print(try tokenizerOptions.loadTokenizer().decode(parsed, skipSpecialTokens: skipSpecial))
    }
}

import ArgumentParser
import Foundation
import LLaDAEngine

/// `llada info MODEL [--json]`: config, tensor types per role, sizes and the memory a run needs.
/// Reads headers only.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a model's config, tensor types and sizes, and the memory a run needs.")

    @Argument(help: "A packed file from llada-quantize, or a Hugging Face checkpoint directory (dense LLaDA or LLaDA 2).")
    var model: String

    @Option(name: .long, help: "Prompt length in tokens for the memory estimate.")
    var promptLength = 64

    @Option(name: .long, help: "Generated tokens for the memory estimate.")
    var genLength = 128

    @Option(name: .long, help: "Block length for the memory estimate.")
    var blockLength = 32

    @Option(name: .long, help: "Cache for the memory estimate (default: the model's: dual for packed files, none for dense checkpoint directories, block for LLaDA 2).")
    var cache: String?

    @Option(name: .long, help: "Cached key/value type for the memory estimate: f16 or f32 (a LLaDA 2 cache is always f32).")
    var kvType = "f16"

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        var fields: [(name: String, value: Any)] = [("gen_length", genLength), ("block_length", blockLength),
                                                    ("kv_type", kvType)]
        if let cache { fields.append(("cache", cache)) }
        let requested = try GenerationSettings.decode(fields: fields).validated()
        guard promptLength > 0 else { throw PlanError.emptyPrompt }
        let file = try ModelFile.open(model)
        // The estimate of a prompt of that many tokens, planned as a run would be.
        let plan = try file.plan(GenerationRequest(prompt: .ids(Array(repeating: 0, count: promptLength)), settings: requested))
        guard let estimate = plan.memory else { throw LLaDAError("\(model): no memory estimate") }
        let info = ModelInfo(path: model, file: file, plan: plan, estimate: estimate,
                             available: try AvailableMemory.current(environment: ProcessInfo.processInfo.environment))
        if json {
            try printJSON(info)
        } else {
            print(info.text)
        }
    }
}

import Foundation
import LLaDAEngine
import NIOCore

/// The opt-in `llada_events` of a stream (docs/server.md): what a live view of the diffusion
/// needs without a tokenizer of its own. Positions are offsets in the canvas (the answer, or
/// the infill text); a piece is one token's text, specials as their names.
enum DiffusionEvents {
    /// `llada.start`, before the first step: the canvas's shape, its blocks as [start, end) canvas
    /// offsets (a block-causal model's first one may start inside the prompt: it is cut at 0) and
    /// its known pieces (null where masked).
    static func start(_ plan: GenerationPlan, model: LLaDAModel) -> [String: Any] {
        let settings = plan.settings, ids = plan.canvas, prompt = plan.promptIDs.count
        let blocks = model.family.blocks(promptLength: prompt, settings: settings)
            .map { [max($0.lowerBound - prompt, 0), $0.upperBound - prompt] }
        return ["gen_length": settings.genLength, "block_length": settings.blockLength, "steps": settings.steps.map { $0 as Any } ?? NSNull(),
                "steps_per_block": settings.stepsPerBlock.map { $0 as Any } ?? NSNull(),
                "blocks": blocks, "canvas": ids.map { $0 == model.maskID ? NSNull() : piece($0, model.tokenizer) as Any }]
    }

    /// `llada.step`: positions committed by the step, their ids and pieces, what was remasked,
    /// the masks left and the step's seconds.
    static func step(_ step: SamplerStepEvent, tokenizer: Tokenizer) -> [String: Any] {
        let ids = step.committed.map { step.generated[$0] }
        return ["call": step.call, "block": step.block, "committed": step.committed, "ids": ids,
                "pieces": ids.map { piece($0, tokenizer) }, "remasked": step.remasked, "masks_left": step.masksLeft,
                "seconds": (step.seconds * 1e6).rounded() / 1e6]
    }

    /// One token's text (a byte of a longer UTF-8 sequence shows as U+FFFD).
    static func piece(_ id: Int, _ tokenizer: Tokenizer) -> String {
        (try? tokenizer.decode([id], skipSpecialTokens: false)) ?? tokenizer.token(forID: id) ?? "?"
    }
}

/// Server-Sent Events framing.
enum SSE {
    static func data(_ object: Any, event: String? = nil) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return ByteBuffer(string: (event.map { "event: \($0)\n" } ?? "") + "data: " + String(decoding: data, as: UTF8.self) + "\n\n")
    }

    static let done = ByteBuffer(string: "data: [DONE]\n\n")

    /// A comment clients ignore: written per model call so a closed connection is noticed within a step.
    static func stepComment(_ call: Int) -> ByteBuffer { ByteBuffer(string: ": step \(call)\n\n") }
}

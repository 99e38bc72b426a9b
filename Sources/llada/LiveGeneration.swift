import Foundation
import LLaDAEngine

/// Everything shown while one generation runs, driven by the sampler's observer:
/// - `.text`: the answer on standard output, each block's text as soon as the block is final
///   (held back until the end while the canvas view is on screen), ending with a newline;
/// - `.jsonStream`: `step` and `block_done` JSON lines on standard output (the caller adds `done`);
/// - `.none`: nothing on standard output (the caller prints the result);
/// plus, when standard error is a terminal, the progress line or the `--visual` canvas view.
/// Run it inside `Interruption.stoppable`: Ctrl-C then stops the generation after the current
/// step (`interrupted`).
final class LiveGeneration {
    enum Output { case text, jsonStream, none }

    let output: Output
    private var answer: AnswerStream
    private let blockCount: Int
    private let canvas: CanvasView?
    private let progress: ProgressLine?
    private let start = Date()
    /// Answer text produced so far (written unless the canvas view holds it back).
    private(set) var text = ""
    private var written = 0
    private(set) var interrupted = false

    init(model: LLaDAModel, settings: GenerationSettings, output: Output, visual: Bool) {
        self.output = output
        answer = AnswerStream(model: model)
        blockCount = settings.blockCount
        let live = Terminal.stderrIsInteractive
        canvas = visual && live ? CanvasView(tokenizer: model.tokenizer, maskID: model.maskID, settings: settings) : nil
        progress = live && canvas == nil ? ProgressLine(settings: settings) : nil
    }

    var observer: SamplerObserver { { [self] event in handle(event) } }

    private func handle(_ event: SamplerEvent) -> SamplerControl {
        switch event {
        case .step(let step):
            canvas?.update(step)
            progress?.update(step)
            if output == .jsonStream {
                writeLine(StepEvent(call: step.call, block: step.block, committed: step.committed,
                                    ids: step.committed.map { step.generated[$0] }, remasked: step.remasked,
                                    masks_left: step.masksLeft, seconds: step.seconds, elapsed: elapsed))
            }
        case .blockDone(let block):
            let delta = (try? answer.append(block.ids, final: block.endsGeneration || block.block == blockCount - 1)) ?? ""
            text += delta
            if output == .jsonStream {
                writeLine(BlockEvent(block: block.block, start: block.range.lowerBound, end: block.range.upperBound,
                                     ids: block.ids, text: delta, ends_generation: block.endsGeneration, elapsed: elapsed))
            } else if output == .text && canvas == nil {
                writeText()
            }
        }
        if Interruption.signal != nil { interrupted = true }
        return interrupted ? .stop : .proceed
    }

    /// True once some answer text has been written to standard output.
    var printedText: Bool { written > 0 }

    /// Clears the live displays and writes what is left of the answer and its newline (after an
    /// interruption only the newline ending what was printed). Returns the answer text.
    @discardableResult
    func finish() -> String {
        canvas?.erase()
        progress?.hide()
        if interrupted {
            if output == .text && printedText { Terminal.out("\n") }
            return text
        }
        text += (try? answer.append([], final: true)) ?? ""
        if output == .text {
            writeText()
            Terminal.out("\n")
        }
        return text
    }

    private func writeText() {
        let new = String(decoding: text.utf8.dropFirst(written), as: UTF8.self)
        guard !new.isEmpty else { return }
        progress?.hide()
        Terminal.out(new)
        written = text.utf8.count
    }

    private var elapsed: Double { Date().timeIntervalSince(start) }

    private func writeLine<T: Encodable>(_ value: T) {
        if let line = try? jsonLine(value) { Terminal.out(line + "\n") }
    }

    struct StepEvent: Encodable {
        var event = "step"
        let call: Int
        let block: Int
        /// Positions (in the generated part) committed by this step and their ids.
        let committed: [Int]
        let ids: [Int]
        let remasked: [Int]
        let masks_left: Int
        let seconds: Double
        let elapsed: Double
    }

    struct BlockEvent: Encodable {
        var event = "block_done"
        let block: Int
        let start: Int
        let end: Int
        let ids: [Int]
        /// The answer text this block made final ("" once the answer has ended).
        let text: String
        let ends_generation: Bool
        let elapsed: Double
    }
}

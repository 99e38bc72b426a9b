import Foundation
import LLaDAEngine
import LLaDATerminal

/// Everything shown while one generation runs, driven by its events (`GenerationEvent`):
/// - `.text`: the answer on standard output, each block's text as soon as the block is final
///   (held back until the end while the canvas view is on screen), ending with a newline;
/// - `.jsonStream`: `step` and `block_done` JSON lines on standard output (the caller adds `done`);
/// - `.none`: nothing on standard output (the caller prints the result);
/// plus, when standard error is a terminal, the progress line or the `--visual` canvas view.
/// Run the generation inside `Interruption.stoppable`: Ctrl-C then stops it within the step.
final class LiveGeneration {
    enum Output { case text, jsonStream, none }

    let output: Output
    private let canvas: CanvasView?
    private let progress: ProgressLine?
    private let start = Date()
    /// Answer text produced so far (written unless the canvas view holds it back).
    private(set) var text = ""
    private var written = 0

    init(model: LLaDAModel, settings: GenerationSettings, output: Output, visual: Bool) {
        self.output = output
        let live = Terminal.stderrIsInteractive
        canvas = visual && live ? CanvasView(tokenizer: model.tokenizer, maskID: model.maskID, settings: settings) : nil
        progress = live && canvas == nil ? ProgressLine(settings: settings) : nil
    }

    func handle(_ event: GenerationEvent) {
        switch event {
        case .step(let step):
            canvas?.update(step)
            progress?.update(step)
            if output == .jsonStream {
                writeLine(StepEvent(call: step.call, block: step.block, committed: step.committed,
                                    ids: step.committed.map { step.generated[$0] }, remasked: step.remasked,
                                    masks_left: step.masksLeft, seconds: step.seconds, elapsed: elapsed))
            }
        case .blockDone(let block, let delta):
            text += delta
            if output == .jsonStream {
                writeLine(BlockEvent(block: block.block, start: block.range.lowerBound, end: block.range.upperBound,
                                     ids: block.ids, text: delta, ends_generation: block.endsGeneration, elapsed: elapsed))
            } else if output == .text && canvas == nil {
                writeText()
            }
        case .done:
            break
        }
    }

    /// True once some answer text has been written to standard output.
    var printedText: Bool { written > 0 }

    /// Clears the live displays and writes what is left of the answer and its newline (after a
    /// stop only the newline ending what was printed). Returns the answer text.
    @discardableResult
    func finish(_ generation: GenerationResult) -> String {
        canvas?.erase()
        progress?.hide()
        if generation.stopped {
            if output == .text && printedText { Terminal.out("\n") }
            return text
        }
        text = generation.text
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

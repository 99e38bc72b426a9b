import Foundation
import LLaDAEngine

/// "step 37/128 · block 2/4 · 54/128 tokens · 12.3 tok/s" on standard error while a long
/// generation runs (shown after `delay`, redrawn at most 10 times a second, erased at the end).
///
/// The line is drawn on the terminal row *below* the cursor and the cursor put back, so answer
/// text streamed to the same terminal continues where it was: `hide()` before writing text,
/// the next step draws the line again.
public final class ProgressLine {
    public let settings: GenerationSettings
    public let delay: Double
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var shown = false

    public init(settings: GenerationSettings, delay: Double = 1.0) {
        self.settings = settings
        self.delay = delay
    }

    public func update(_ step: SamplerStepEvent) {
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed >= delay, now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        show(Self.text(step, settings: settings, elapsed: elapsed))
    }

    public static func text(_ step: SamplerStepEvent, settings: GenerationSettings, elapsed: Double) -> String {
        // With a threshold a block runs until it has no masks, so the total is not known.
        let steps = settings.threshold == nil ? "step \(step.call)/\(settings.steps.map(String.init) ?? "?")" : "step \(step.call)"
        let done = step.generated.count - step.masksLeft
        let rate = Double(done) / max(elapsed, 1e-9)
        return "\(steps) · block \(step.block + 1)/\(settings.blockCount) · \(done)/\(step.generated.count) tokens · "
            + String(format: "%.1f tok/s · %.1f s", rate, elapsed)
    }

    private func show(_ text: String) {
        let width = Terminal.size()?.columns ?? 80
        // Shorter than the row so it never wraps, which would break putting the cursor back.
        let line = String(text.prefix(max(1, width - 1)))
        // Make sure a row exists below the cursor (scrolling if needed), then draw there.
        Terminal.err((shown ? "" : ANSI.lineDown + ANSI.lineUp)
            + ANSI.saveCursor + ANSI.lineDown + ANSI.clearLine + ANSI.dim + line + ANSI.reset + ANSI.restoreCursor)
        shown = true
    }

    public func hide() {
        guard shown else { return }
        Terminal.err(ANSI.saveCursor + ANSI.lineDown + ANSI.clearLine + ANSI.restoreCursor)
        shown = false
    }
}

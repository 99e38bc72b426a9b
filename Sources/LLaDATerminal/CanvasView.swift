import Foundation
import LLaDAEngine

/// `--visual`: the generated canvas redrawn in place on standard error as positions are
/// committed — `░` for a masked position, `·` for padding and other special tokens, each
/// committed token's text, the tokens committed since the last frame in reverse video — under a
/// status line. At most 20 frames a second; erased when the generation ends (the answer is
/// printed as usual). Only used when standard error is a terminal.
public final class CanvasView {
    public static let maskGlyph = "░"
    public static let specialGlyph = "·"

    public let tokenizer: Tokenizer
    public let maskID: Int
    public let settings: GenerationSettings
    private let start = Date()
    private var lastDraw = Date.distantPast
    /// Rows of the frame on screen (0 = none); the cursor is at the end of its last row.
    private var rowsOnScreen = 0
    /// Positions committed since the last frame, highlighted in the next one.
    private var fresh = Set<Int>()
    private var pieces: [Int: String] = [:]

    public init(tokenizer: Tokenizer, maskID: Int, settings: GenerationSettings) {
        self.tokenizer = tokenizer
        self.maskID = maskID
        self.settings = settings
    }

    public func update(_ step: SamplerStepEvent) {
        fresh.formUnion(step.committed)
        fresh.subtract(step.remasked)
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.05 || step.masksLeft == 0 else { return }
        lastDraw = now
        draw(step, elapsed: now.timeIntervalSince(start))
        fresh = []
    }

    /// Removes the frame, leaving the cursor where the frame began.
    public func erase() {
        guard rowsOnScreen > 0 else { return }
        Terminal.err("\r" + ANSI.cursorUp(rowsOnScreen - 1) + ANSI.clearToEnd)
        rowsOnScreen = 0
    }

    private func draw(_ step: SamplerStepEvent, elapsed: Double) {
        let size = Terminal.size() ?? (columns: 80, rows: 24)
        // One column spare so a full row never leaves the cursor in the pending-wrap state.
        let width = max(10, size.columns - 1)
        let status = ProgressLine.text(step, settings: settings, elapsed: elapsed)
        var rows = layout(step.generated, width: width)
        let blockEnd = min(step.generated.count, (step.block + 1) * settings.blockLength)
        // Taller than the screen: keep the rows up to the current block's end in view.
        let room = max(1, size.rows - 2)
        if rows.count > room {
            let last = rows.lastIndex { $0.firstPosition < blockEnd } ?? rows.count - 1
            let first = max(0, min(last - room + 1, rows.count - room))
            rows = Array(rows[first..<(first + room)])
        }
        let frame = [ANSI.dim + String(status.prefix(width)) + ANSI.reset] + rows.map(\.text)
        var output = ""
        if rowsOnScreen > 0 { output += "\r" + ANSI.cursorUp(rowsOnScreen - 1) + ANSI.clearToEnd }
        output += frame.joined(separator: "\n")
        Terminal.err(output)
        rowsOnScreen = frame.count
    }

    struct Row {
        var text = ""
        var columns = 0
        var firstPosition = Int.max
    }

    /// The canvas as terminal rows of at most `width` columns; a token wider than a row is cut.
    private func layout(_ canvas: [Int], width: Int) -> [Row] {
        var rows = [Row()]
        for (position, id) in canvas.enumerated() {
            let (piece, columns, style) = render(id, position: position)
            let fitted = columns > width ? String(piece.prefix(width)) : piece
            let fittedColumns = min(columns, width)
            if rows[rows.count - 1].columns + fittedColumns > width { rows.append(Row()) }
            rows[rows.count - 1].text += style.isEmpty ? fitted : style + fitted + ANSI.reset
            rows[rows.count - 1].columns += fittedColumns
            rows[rows.count - 1].firstPosition = min(rows[rows.count - 1].firstPosition, position)
        }
        return rows
    }

    private func render(_ id: Int, position: Int) -> (String, Int, String) {
        if id == maskID { return (Self.maskGlyph, 1, ANSI.dim) }
        let text = pieceText(id)
        let style = fresh.contains(position) ? ANSI.reverse : (text == Self.specialGlyph ? ANSI.dim : "")
        return (text, Self.columns(text), style)
    }

    /// A token's text made printable on one row: newline ↵, tab →, other controls dropped.
    private func pieceText(_ id: Int) -> String {
        if let known = pieces[id] { return known }
        var text = ""
        if tokenizer.specialTokenIDs.contains(id) {
            text = Self.specialGlyph
        } else {
            let decoded = (try? tokenizer.decode([id], skipSpecialTokens: false)) ?? "?"
            for scalar in decoded.unicodeScalars {
                switch scalar {
                case "\n": text += "↵"
                case "\t": text += "→"
                default: if !scalar.properties.generalCategory.isControl { text.unicodeScalars.append(scalar) }
                }
            }
            if text.isEmpty { text = Self.specialGlyph }
        }
        pieces[id] = text
        return text
    }

    /// Terminal columns of `text`: 0 for combining marks and format characters, 2 for East Asian
    /// wide and emoji ranges, else 1 (a close approximation of wcwidth).
    public static func columns(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark, .format: return total
            default: break
            }
            switch scalar.value {
            case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
                 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
                 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
                return total + 2
            default: return total + 1
            }
        }
    }
}

private extension Unicode.GeneralCategory {
    var isControl: Bool { self == .control }
}

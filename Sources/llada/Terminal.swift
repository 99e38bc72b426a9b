import Foundation

/// Unbuffered writes and what we need to know about the terminal. Live displays (progress, the
/// canvas view) write to standard error and only when it is a terminal; standard output carries
/// the answer, the same bytes whether it is a terminal or a pipe.
enum Terminal {
    static func isTTY(_ descriptor: Int32) -> Bool { isatty(descriptor) != 0 }

    /// Live displays need a terminal that understands cursor movement.
    static var stderrIsInteractive: Bool {
        isTTY(2) && ProcessInfo.processInfo.environment["TERM"].map { $0 != "dumb" && !$0.isEmpty } ?? false
    }

    /// Columns and rows of the terminal on `descriptor`, or nil when it is not one.
    static func size(_ descriptor: Int32 = 2) -> (columns: Int, rows: Int)? {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    /// Writes go straight to the descriptor (one write per call), so stdout and stderr pieces
    /// reach a shared terminal in the order they were written.
    static func out(_ text: String) { write(text, to: FileHandle.standardOutput) }
    static func err(_ text: String) { write(text, to: FileHandle.standardError) }

    private static func write(_ text: String, to handle: FileHandle) {
        guard !text.isEmpty else { return }
        fflush(nil)  // whatever print() buffered goes first
        try? handle.write(contentsOf: Data(text.utf8))
    }
}

/// ANSI / VT100 sequences the live displays use (all understood by xterm, tmux, screen, the
/// Linux console and macOS Terminal).
enum ANSI {
    static let reset = "\u{1B}[0m"
    static let dim = "\u{1B}[2m"
    static let reverse = "\u{1B}[7m"
    static let clearLine = "\r\u{1B}[2K"
    static let clearToEnd = "\u{1B}[J"
    static let saveCursor = "\u{1B}7"
    static let restoreCursor = "\u{1B}8"
    /// Index / reverse index: one line down / up in the same column, scrolling at the edges.
    static let lineDown = "\u{1B}D"
    static let lineUp = "\u{1B}M"
    static func cursorUp(_ lines: Int) -> String { lines > 0 ? "\u{1B}[\(lines)A" : "" }
}


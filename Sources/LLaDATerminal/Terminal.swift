// Terminal displays of a running generation for command-line frontends: unbuffered output,
// the live canvas (`--visual`) and the progress line. Standard error only, and only at a terminal.
import Foundation

/// Unbuffered writes and what we need to know about the terminal. Live displays (progress, the
/// canvas view) write to standard error and only when it is a terminal; standard output carries
/// the answer, the same bytes whether it is a terminal or a pipe.
public enum Terminal {
    public static func isTTY(_ descriptor: Int32) -> Bool { isatty(descriptor) != 0 }

    /// Live displays need a terminal that understands cursor movement.
    public static var stderrIsInteractive: Bool {
        isTTY(2) && ProcessInfo.processInfo.environment["TERM"].map { $0 != "dumb" && !$0.isEmpty } ?? false
    }

    /// Columns and rows of the terminal on `descriptor`, or nil when it is not one.
    public static func size(_ descriptor: Int32 = 2) -> (columns: Int, rows: Int)? {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    /// Writes go straight to the descriptor (one write per call), so stdout and stderr pieces
    /// reach a shared terminal in the order they were written.
    public static func out(_ text: String) { write(text, to: FileHandle.standardOutput) }
    public static func err(_ text: String) { write(text, to: FileHandle.standardError) }

    private static func write(_ text: String, to handle: FileHandle) {
        guard !text.isEmpty else { return }
        fflush(nil)  // whatever print() buffered goes first
        try? handle.write(contentsOf: Data(text.utf8))
    }
}

/// ANSI / VT100 sequences the live displays use (all understood by xterm, tmux, screen, the
/// Linux console and macOS Terminal).
public enum ANSI {
    public static let reset = "\u{1B}[0m"
    public static let dim = "\u{1B}[2m"
    public static let reverse = "\u{1B}[7m"
    public static let clearLine = "\r\u{1B}[2K"
    public static let clearToEnd = "\u{1B}[J"
    public static let saveCursor = "\u{1B}7"
    public static let restoreCursor = "\u{1B}8"
    /// Index / reverse index: one line down / up in the same column, scrolling at the edges.
    public static let lineDown = "\u{1B}D"
    public static let lineUp = "\u{1B}M"
    public static func cursorUp(_ lines: Int) -> String { lines > 0 ? "\u{1B}[\(lines)A" : "" }
}


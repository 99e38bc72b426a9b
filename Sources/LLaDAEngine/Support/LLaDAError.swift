/// The one error type of the engine: a single line that names the file, tensor or option at fault
/// and says what to do. The CLI prints `error: <message>` and exits non-zero.
public struct LLaDAError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String

    /// Control characters (from file names, tensor names or JSON keys quoted in the message) are
    /// escaped, so the message stays one printable line whatever the input held.
    public init(_ message: String) {
        self.message = message.unicodeScalars.contains(where: Self.isControl)
            ? String(message.unicodeScalars.map { Self.isControl($0) ? $0.escaped(asASCII: true) : String($0) }.joined())
            : message
    }

    public var description: String { message }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}

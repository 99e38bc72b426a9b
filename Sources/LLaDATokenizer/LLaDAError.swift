/// The one error type of the engine: a single line that names the file, tensor or setting at
/// fault and says what to do. It lives in LLaDATokenizer, the lowest module, so the tokenizer throws
/// it too; LLaDAEngine re-exports it. Settings are named in the library's words (`gen_length`) and each
/// frontend renders them in its own (`message(naming:)`: the CLI as `--gen-length`).
public struct LLaDAError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The text with each setting's name between the two private-use marks of `setting(_:)`.
    private let text: String

    /// Control characters (from file names, tensor names or JSON keys quoted in the message) are
    /// escaped, so the message stays one printable line whatever the input held.
    public init(_ message: String) {
        text = message.unicodeScalars.contains(where: Self.isControl)
            ? String(message.unicodeScalars.map { Self.isControl($0) ? $0.escaped(asASCII: true) : String($0) }.joined())
            : message
    }

    /// A setting's name inside a message (`gen_length`, `cfg_scale`: GenerationSettings' fields
    /// as the reference and the OpenAI API spell them).
    public static func setting(_ name: String) -> String { "\u{E000}\(name)\u{E001}" }

    /// The message with every setting named by `name`.
    public func message(naming name: (String) -> String) -> String {
        guard text.unicodeScalars.contains("\u{E000}") else { return text }
        var result = "", rest = Substring(text)
        while let open = rest.firstIndex(of: "\u{E000}"), let close = rest[open...].firstIndex(of: "\u{E001}") {
            result += rest[..<open] + name(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    /// The settings the message names, in order (so a frontend can point at its field).
    public var settingNames: [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "\u{E000}"), let close = rest[open...].firstIndex(of: "\u{E001}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// The message with settings named as the library names them.
    public var message: String { message { $0 } }

    public var description: String { message }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}

/// A setting's name in an engine error message (LLaDAError.setting).
package func setting(_ name: String) -> String { LLaDAError.setting(name) }

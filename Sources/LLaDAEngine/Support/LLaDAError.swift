/// The one error type of the engine: a single line that names the file, tensor or option at fault
/// and says what to do. The CLI prints `error: <message>` and exits non-zero.
public struct LLaDAError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

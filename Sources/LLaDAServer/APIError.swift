import Foundation

/// An OpenAI-style error: the HTTP status and the `{"error": {...}}` object clients parse.
public struct APIError: Error, Sendable, Equatable {
    public let status: Int
    public let message: String
    public let type: String
    /// The request field at fault, when there is one.
    public let param: String?
    public let code: String?
    /// Seconds before a retry may succeed (503 with a full queue).
    public var retryAfter: Int?

    public init(status: Int, _ message: String, type: String = "invalid_request_error", param: String? = nil,
                code: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfter = retryAfter
    }

    public static func badRequest(_ message: String, param: String? = nil) -> APIError {
        APIError(status: 400, message, param: param)
    }

    /// JSON body of the error response.
    public var body: Data {
        let error: [String: Any] = ["message": message, "type": type, "param": param ?? NSNull(), "code": code ?? NSNull()]
        return (try? JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }
}

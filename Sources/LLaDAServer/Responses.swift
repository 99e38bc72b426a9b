import Foundation
import LLaDAEngine

/// The JSON objects of OpenAI's chat.completion / text_completion responses and stream chunks.
enum CompletionJSON {
    static func usage(_ outcome: CompletionOutcome) -> [String: Any] {
        ["prompt_tokens": outcome.promptTokens, "completion_tokens": outcome.answerTokens,
         "total_tokens": outcome.promptTokens + outcome.answerTokens]
    }

    static func response(_ endpoint: CompletionRequest.Endpoint, id: String, created: Int, model: String,
                         outcome: CompletionOutcome) -> [String: Any] {
        let choice: [String: Any] = switch endpoint {
        case .chat: ["index": 0, "message": ["role": "assistant", "content": outcome.text], "finish_reason": outcome.finishReason, "logprobs": NSNull()]
        case .completion: ["index": 0, "text": outcome.text, "finish_reason": outcome.finishReason, "logprobs": NSNull()]
        }
        return ["id": id, "object": endpoint == .chat ? "chat.completion" : "text_completion", "created": created, "model": model,
                "choices": [choice], "usage": usage(outcome)]
    }

    static func roleChunk(id: String, created: Int, model: String) -> [String: Any] {
        ["id": id, "object": "chat.completion.chunk", "created": created, "model": model,
         "choices": [["index": 0, "delta": ["role": "assistant", "content": ""], "finish_reason": NSNull()]]]
    }

    /// A delta (`text`) or the last chunk (`finishReason`).
    static func chunk(_ endpoint: CompletionRequest.Endpoint, id: String, created: Int, model: String, text: String?,
                      finishReason: String?) -> [String: Any] {
        let finish: Any = finishReason ?? NSNull()
        let choice: [String: Any] = switch endpoint {
        case .chat: ["index": 0, "delta": text.map { ["content": $0] } ?? [:], "finish_reason": finish]
        case .completion: ["index": 0, "text": text ?? "", "finish_reason": finish, "logprobs": NSNull()]
        }
        return ["id": id, "object": endpoint == .chat ? "chat.completion.chunk" : "text_completion", "created": created,
                "model": model, "choices": [choice]]
    }

    static func usageChunk(_ endpoint: CompletionRequest.Endpoint, id: String, created: Int, model: String,
                           outcome: CompletionOutcome) -> [String: Any] {
        ["id": id, "object": endpoint == .chat ? "chat.completion.chunk" : "text_completion", "created": created, "model": model,
         "choices": [] as [Any], "usage": usage(outcome)]
    }

}

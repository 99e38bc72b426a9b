import Foundation
import LLaDAEngine

/// The request decoder of `llada serve` (Sources/LLaDAServer: RequestFields, CompletionRequest,
/// InfillCall), compiled with it by Tests/Fuzz/run.sh: any bytes as a chat, completions or infill
/// body must give a request or one APIError with a 4xx status and a one-line message, never a crash.
public enum ServerFuzzEntry {
    public static func requestBody(_ bytes: UnsafeRawBufferPointer) {
        for endpoint in [CompletionRequest.Endpoint.chat, .completion, nil] {
            do {
                let fields = try RequestFields(json: Data(bytes))
                if let endpoint {
                    let request = try CompletionRequest(fields, endpoint: endpoint, defaults: GenerationSettings(), modelID: "fuzz")
                    _ = request.settings.blockCount
                } else {
                    let call = try InfillCall(fields, defaults: GenerationSettings(), modelID: "fuzz")
                    _ = call.infill.text.maskCount
                }
            } catch let error as APIError {
                if !(400..<500).contains(error.status) || error.message.isEmpty || error.message.contains(where: \.isNewline) {
                    fatalError("bad error: \(error.status) \(error.message.debugDescription)")
                }
                _ = error.body
            } catch {
                fatalError("not an APIError: \(error)")
            }
        }
    }
}

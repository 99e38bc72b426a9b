import Foundation
import HTTPTypes
import Hummingbird
import LLaDAEngine
import Logging
import NIOCore
import ServiceLifecycle

/// `llada serve`: the OpenAI HTTP API over one loaded model (docs/server.md).
///
/// Requests wait in a FIFO queue for the model (one generation at a time by default) before any
/// status line is written: a full queue is a 503 with Retry-After, streamed or not, and a client
/// that goes away while it waits leaves the queue at once. Answers stream block by block as
/// Server-Sent Events. A client that goes away cancels its generation within one step; SIGTERM /
/// SIGINT stop accepting, cancel what runs and return.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var apiKey: String?
    public var maxQueue = 16
    public var maxBodyBytes = 1 << 20
    public var timeLimitSeconds = 600.0
    /// The settings a request starts from (what they leave open, the engine's plan decides:
    /// early stop for chat but not for raw completions, the cache for the model file).
    public var defaults = GenerationSettings()
    public var modelID = "llada"

    public init() {}
}

public final class OpenAIServer: Sendable {
    let model: LLaDAModel
    let configuration: ServerConfiguration
    let queue: GenerationQueue
    let metrics = ServerMetrics()
    let requestCounter = RequestCounter()
    let created = Int(Date().timeIntervalSince1970)

    public init(model: LLaDAModel, configuration: ServerConfiguration) {
        self.model = model
        self.configuration = configuration
        queue = GenerationQueue(capacity: configuration.maxQueue)
    }

    /// Serves until SIGTERM / SIGINT. `onListening` gets the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        var logger = Logger(label: "llada-serve")
        logger.logLevel = .error
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in await self.respond(to: request) },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "llada-edge"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    static let routes: [String: [HTTPRequest.Method]] = [
        "/health": [.get], "/metrics": [.get], "/v1/models": [.get],
        "/v1/chat/completions": [.post], "/v1/completions": [.post], "/v1/infill": [.post],
        "/": [.get], "/web.css": [.get], "/web.js": [.get],
    ]

    func respond(to request: Request) async -> Response {
        let id = requestCounter.next()
        let start = Date()
        var log = RequestLog(id: id, method: request.method.rawValue, path: request.uri.path)
        let response: Response
        do {
            response = try await route(request, log: &log)
        } catch let error as APIError {
            response = Self.errorResponse(error)
        } catch is CancellationError {
            // The client went away (or the server is stopping) while its generation waited or ran.
            response = Self.errorResponse(APIError(status: 499, "the request was cancelled: the client closed its connection or the server is stopping",
                                                   type: "server_error", code: "cancelled"))
        } catch {
            response = Self.errorResponse(APIError(status: 500, "internal error: \(error)", type: "server_error"))
        }
        metrics.record(status: Int(response.status.code))
        // A streamed answer logs itself when it ends.
        if !log.streaming { log.finish(status: Int(response.status.code), seconds: Date().timeIntervalSince(start)) }
        return response
    }

    private func route(_ request: Request, log: inout RequestLog) async throws -> Response {
        let path = request.uri.path
        guard let methods = Self.routes[path] else {
            throw APIError(status: 404, "no endpoint \(path); the endpoints are \(Self.routes.keys.sorted().joined(separator: ", "))",
                           code: "not_found")
        }
        guard methods.contains(request.method) else {
            var response = Self.errorResponse(APIError(
                status: 405, "\(path) takes \(methods.map(\.rawValue).joined(separator: ", ")), not \(request.method.rawValue)",
                code: "method_not_allowed"))
            response.headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
            return response
        }
        if path == "/health" { return Self.json(["status": "ok"]) }
        // The page holds no secret: it asks for the key when the API needs one.
        if let page = WebPage.response(for: path) { return page }
        try authorize(request)
        switch path {
        case "/metrics":
            let text = metrics.text(queueDepth: await queue.depth, running: await queue.active)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
        case "/v1/models":
            // `llada_defaults`: the settings a chat request starts from, for clients that show them (the web page).
            return Self.json(["object": "list", "data": [["id": configuration.modelID, "object": "model", "created": created, "owned_by": "llada-edge",
                                                          "llada_defaults": SamplingFields.defaults(model.resolved(configuration.defaults, for: .messages([]))),
                                                          "llada_choices": SamplingFields.choices]]])
        default:
            // A client that closes its connection cancels this task, and with it the generation.
            var entry = log
            var response: Response
            do {
                response = try await request.body.consumeWithCancellationOnInboundClose { body in
                    let fields = try await self.fields(of: body)
                    switch path {
                    case "/v1/infill": return try await self.infill(fields, log: &entry)
                    case "/v1/chat/completions": return try await self.completion(fields, endpoint: .chat, log: &entry)
                    default: return try await self.completion(fields, endpoint: .completion, log: &entry)
                    }
                }
            } catch let error as APIError {
                response = Self.errorResponse(error)
            }
            log = entry
            // Watching for the close consumes the connection's input: Hummingbird closes it
            // after this response, so clients are told not to reuse it.
            response.headers[.connection] = "close"
            return response
        }
    }

    /// `Authorization: Bearer KEY`, compared in constant time.
    private func authorize(_ request: Request) throws {
        guard let key = configuration.apiKey else { return }
        let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
        guard Self.constantTimeEqual(Array(given.utf8), Array(key.utf8)) else {
            throw APIError(status: 401, "a valid API key is required: send Authorization: Bearer <key> (llada serve --api-key)",
                           type: "invalid_request_error", code: "invalid_api_key")
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return difference == 0
    }

    // MARK: completions

    private func fields(of requestBody: RequestBody) async throws -> RequestFields {
        let body: ByteBuffer
        do {
            body = try await requestBody.collect(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(status: 413, "the request body exceeds \(configuration.maxBodyBytes) bytes", code: "request_too_large")
        }
        return try RequestFields(json: Data(buffer: body))
    }

    private func completion(_ fields: RequestFields, endpoint: CompletionRequest.Endpoint, log: inout RequestLog) async throws -> Response {
        let completion = try CompletionRequest(fields, endpoint: endpoint, defaults: configuration.defaults, modelID: configuration.modelID)
        let plan: GenerationPlan
        do {
            plan = try model.plan(GenerationRequest(prompt: completion.prompt, settings: completion.settings, answerLimit: completion.maxTokens))
        } catch let error as PlanError {
            throw completion.refusal(error)
        }
        let promptIDs = plan.promptIDs
        log.promptTokens = promptIDs.count
        let slot = try await admit()
        if completion.stream {
            log.streaming = true
            return streamingResponse(completion, plan: plan, slot: slot, log: log)
        }
        let outcome = try await runStopping { stop in
            try await CompletionRunner.run(model: self.model, slot: slot, request: completion, plan: plan,
                                           timeLimit: self.configuration.timeLimitSeconds, stop: stop, onText: { _ in },
                                           onStep: { _ in self.metrics.recordModelCall() })
        }
        if outcome.timedOut { throw Self.timeout(configuration.timeLimitSeconds) }
        record(outcome, log: &log)
        var response = Self.json(CompletionJSON.response(endpoint, id: log.completionID, created: Int(Date().timeIntervalSince1970),
                                                         model: configuration.modelID, outcome: outcome))
        // What the model took of the round trip, so clients can see the server's own overhead.
        response.headers[HTTPField.Name("X-LLaDA-Generation-Seconds")!] = String(format: "%.6f", outcome.seconds)
        return response
    }

    /// The request's turn to run, before any status line is written (so a full queue is a 503 the
    /// client can retry, never an error inside a 200). It waits here, inside the watch on the
    /// client's connection: a client that goes away leaves the queue at once (499).
    func admit() async throws -> GenerationSlot {
        do {
            return try await queue.acquire()
        } catch is GenerationQueue.Full {
            throw Self.queueFull
        }
    }

    static var queueFull: APIError {
        APIError(status: 503, "the server is busy: the queue is full; retry later", type: "server_error", code: "queue_full", retryAfter: 1)
    }

    static func timeout(_ seconds: Double) -> APIError {
        APIError(status: 504, "the generation exceeded the server's time limit of \(seconds) s; ask for fewer max_tokens",
                 type: "server_error", code: "timeout")
    }

    func record(_ outcome: CompletionOutcome, log: inout RequestLog) {
        metrics.record(promptTokens: outcome.promptTokens, answerTokens: outcome.answerTokens, seconds: outcome.seconds)
        log.answerTokens = outcome.answerTokens
        log.modelCalls = outcome.modelCalls
    }

    /// SSE: a chunk per final block, `: step` comments in between (so a closed connection is
    /// noticed within a step), the last chunk with finish_reason, usage if asked, `[DONE]`.
    private func streamingResponse(_ completion: CompletionRequest, plan: GenerationPlan, slot: GenerationSlot, log: RequestLog) -> Response {
        let created = Int(Date().timeIntervalSince1970)
        let id = log.completionID
        return eventStream(log: log, slot: slot) { [self] send, log in
            let chunk = { (delta: String?, finish: String?) in
                CompletionJSON.chunk(completion.endpoint, id: id, created: created, model: self.configuration.modelID,
                                     text: delta, finishReason: finish)
            }
            if completion.endpoint == .chat { try await send(SSE.data(CompletionJSON.roleChunk(id: id, created: created, model: configuration.modelID))) }
            if completion.diffusionEvents { try await send(SSE.data(DiffusionEvents.start(plan, model: model), event: "llada.start")) }
            let outcome = try await runStopping { stop in
                try await CompletionRunner.run(
                    model: model, slot: slot, request: completion, plan: plan, timeLimit: configuration.timeLimitSeconds, stop: stop,
                    onText: { try await send(SSE.data(chunk($0, nil))) },
                    onStep: { try await send(self.stepEvent($0, detailed: completion.diffusionEvents)) })
            }
            if outcome.timedOut { return try await self.timedOut(send) }
            try await send(SSE.data(chunk(nil, outcome.finishReason)))
            if completion.includeUsage {
                try await send(SSE.data(CompletionJSON.usageChunk(completion.endpoint, id: id, created: created,
                                                                  model: configuration.modelID, outcome: outcome)))
            }
            record(outcome, log: &log)
            return 200
        }
    }

    /// A Server-Sent Events response, the one framing of streamed completions and infill: `events`
    /// writes the request's events through `send` and returns the status to log (200, or 504 after
    /// the error event). It starts once the request holds its slot, so after the 200 only three
    /// things end a stream early: the client going away (a write fails; logged 499, its generation
    /// stopped within a step), the time limit (a 504 error event) and the server's shutdown
    /// (the generation stops; logged 499). Every stream that can ends with `[DONE]`.
    func eventStream(log: RequestLog, slot: GenerationSlot,
                     _ events: @escaping @Sendable (_ send: (ByteBuffer) async throws -> Void, _ log: inout RequestLog) async throws -> Int) -> Response {
        let start = Date()
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var log = log
            var status = 200
            defer { log.finish(status: status, seconds: Date().timeIntervalSince(start)) }
            func send(_ buffer: ByteBuffer) async throws { try await writer.write(buffer) }
            do {
                status = try await events(send, &log)
                try await writer.write(SSE.done)
                try await writer.finish(nil)
            } catch {
                await slot.release()   // a write failed before the run began (the run frees it otherwise)
                status = 499
                throw error
            }
        })
    }

    /// A step as the stream shows it: the `llada.step` event when asked, else a `: step` comment.
    func stepEvent(_ step: SamplerStepEvent, detailed: Bool) -> ByteBuffer {
        metrics.recordModelCall()
        return detailed ? SSE.data(DiffusionEvents.step(step, tokenizer: model.tokenizer), event: "llada.step") : SSE.stepComment(step.call)
    }

    /// The 504 error event of a stream whose generation ran past the time limit.
    func timedOut(_ send: (ByteBuffer) async throws -> Void) async throws -> Int {
        try await send(SSE.data(["error": Self.timeout(configuration.timeLimitSeconds).object]))
        return 504
    }

    /// A generation the server's shutdown stops within a step.
    func runStopping<Outcome: Sendable>(_ generation: (StopFlag) async throws -> Outcome) async throws -> Outcome {
        let stop = StopFlag()
        return try await withGracefulShutdownHandler { try await generation(stop) } onGracefulShutdown: { stop.stop() }
    }

    // MARK: responses

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func errorResponse(_ error: APIError) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retry = error.retryAfter { headers[.retryAfter] = "\(retry)" }
        return Response(status: HTTPResponse.Status(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: error.body)))
    }
}

extension APIError {
    var object: [String: Any] { ["message": message, "type": type, "param": param ?? NSNull(), "code": code ?? NSNull()] }
}

/// Request ids, in arrival order.
final class RequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}

/// The one stderr line per request: id, method, path, status, prompt/answer tokens, model calls, seconds.
struct RequestLog: Sendable {
    let id: Int
    let method: String
    let path: String
    var promptTokens = 0
    var answerTokens = 0
    var modelCalls = 0
    var streaming = false

    var completionID: String { "cmpl-\(id)" }

    func finish(status: Int, seconds: Double) {
        let line = "llada serve: #\(id) \(method) \(path) \(status) prompt=\(promptTokens) answer=\(answerTokens) calls=\(modelCalls) \(String(format: "%.4f", seconds))s\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

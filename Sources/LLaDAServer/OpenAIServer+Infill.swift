import Foundation
import HTTPTypes
import Hummingbird
import LLaDAEngine
import NIOCore
import ServiceLifecycle

/// `POST /v1/infill`: `llada infill` over HTTP (docs/server.md), non-streamed or as SSE with the
/// same `llada.start` / `llada.step` events as completions, then the filled text.
extension OpenAIServer {
    func infill(_ fields: RequestFields, log: inout RequestLog) async throws -> Response {
        let call = try InfillCall(fields, defaults: configuration.defaults, modelID: configuration.modelID)
        let plan: GenerationPlan, holes: [Range<Int>]
        do {
            let request: GenerationRequest
            (request, holes) = try call.infill.generation(for: model, base: call.base)
            plan = try model.plan(request)
            log.promptTokens = plan.promptIDs.count
        } catch let error as PlanError {
            throw InfillCall.refusal(error)
        }
        let slot = try await admit()
        let id = "infill-\(log.id)"
        if call.stream {
            log.streaming = true
            return infillStream(call, plan: plan, holes: holes, slot: slot, id: id, log: log)
        }
        let outcome = try await runStopping { stop in
            try await InfillOutcome.run(model: self.model, slot: slot, plan: plan, holes: holes,
                                       timeLimit: self.configuration.timeLimitSeconds, stop: stop,
                                       onStep: { _ in self.metrics.recordModelCall() })
        }
        if outcome.timedOut { throw Self.timeout(configuration.timeLimitSeconds) }
        record(outcome, log: &log)
        var response = Self.json(outcome.object(id: id, created: Int(Date().timeIntervalSince1970), model: configuration.modelID))
        response.headers[HTTPField.Name("X-LLaDA-Generation-Seconds")!] = String(format: "%.6f", outcome.seconds)
        return response
    }

    private func record(_ outcome: InfillOutcome, log: inout RequestLog) {
        metrics.record(promptTokens: outcome.promptTokens, answerTokens: outcome.filledTokens, seconds: outcome.seconds)
        log.answerTokens = outcome.filledTokens
        log.modelCalls = outcome.modelCalls
    }

    private func infillStream(_ call: InfillCall, plan: GenerationPlan, holes: [Range<Int>], slot: GenerationSlot, id: String,
                              log: RequestLog) -> Response {
        eventStream(log: log, slot: slot) { [self] send, log in
            if call.diffusionEvents { try await send(SSE.data(DiffusionEvents.start(plan, model: model), event: "llada.start")) }
            let outcome = try await runStopping { stop in
                try await InfillOutcome.run(model: model, slot: slot, plan: plan, holes: holes, timeLimit: configuration.timeLimitSeconds,
                                            stop: stop, onStep: { try await send(self.stepEvent($0, detailed: call.diffusionEvents)) })
            }
            if outcome.timedOut { return try await self.timedOut(send) }
            record(outcome, log: &log)
            try await send(SSE.data(outcome.object(id: id, created: Int(Date().timeIntervalSince1970), model: configuration.modelID)))
            return 200
        }
    }
}

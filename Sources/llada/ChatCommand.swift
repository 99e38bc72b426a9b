import ArgumentParser
import Foundation
import LLaDAEngine
import LLaDATerminal

/// `llada chat`: a multi-turn conversation with ML-GSAI/LLaDA `chat.py`'s semantics
/// (`ChatSession`). One line of standard input is one user message; `/reset`, `/settings`
/// and `/quit` are commands. Standard output carries only the answers, one per turn ending in
/// a newline; the banner and the `> ` prompt go to standard error and only when standard input
/// is a terminal, so piped conversations print answers alone.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk with an Instruct model over several turns (one line per message; /reset, /settings, /quit).",
        discussion: """
            The history is kept as chat.py keeps it. Answers go to standard output, one line each; the \
            prompt and messages to standard error, the prompt only when standard input is a terminal. \
            `/settings name=value …` changes any setting, named as the server names it (gen_length, steps, \
            block_length, temperature, seed, remasking, schedule, cache, threshold=off, …).
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var memory: MemoryOptions

    @Flag(name: .long, help: "On a terminal, redraw the canvas on standard error as tokens are committed.")
    var visual = false

    /// The prompt length the memory check assumes for the first turn.
    static let firstTurnTokens = 32

    func run() throws {
        var settings = try sampling.settings().validated()
        // Before loading: a first turn (the template around a short message) must fit. Later turns
        // grow the canvas by their history, far less than the weights for a big model.
        let file = try modelOptions.open()
        _ = try file.checked(settings, for: .messages([]))
        try memory.check(file.memoryEstimate(settings, promptLength: Self.firstTurnTokens))
        let interactive = Terminal.isTTY(0)
        let model = try modelOptions.load(file)
        var session = try ChatSession(model: model)
        // At a terminal a mistake costs one line and the conversation goes on; a script stops at
        // the first one (its later messages would answer the wrong conversation).
        func complain(_ message: String) throws {
            guard interactive else { throw LLaDAError(message) }
            Terminal.err("error: \(message)\n")
        }
        func shown() -> GenerationSettings { model.resolved(settings, for: .messages([])) }
        if interactive {
            let s = shown()
            Terminal.err("LLaDA chat (gen-length \(s.genLength), \(Self.steps(s)), block-length \(s.blockLength), cache \(s.cache.rawValue)) — /settings, /reset, /quit\n")
        }
        while true {
            if interactive { Terminal.err("> ") }
            guard let line = readLine(strippingNewline: true) else {
                if interactive { Terminal.err("\n") }
                return
            }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input.hasPrefix("/") {
                let words = input.split(separator: " ").map(String.init)
                switch words[0] {
                case "/quit", "/exit":
                    return
                case "/reset":
                    session.reset()
                    if interactive { Terminal.err("(new conversation)\n") }
                case "/settings":
                    do {
                        if words.count > 1 {
                            let changed = try Self.apply(words.dropFirst(), to: settings)
                            _ = try model.checked(changed, for: .messages([]))
                            settings = changed
                        }
                        Terminal.err("\(Self.describe(shown())) · conversation \(session.history.count) tokens, \(session.turns) turn\(session.turns == 1 ? "" : "s")\n")
                    } catch let error as PlanError {
                        try complain(error.message.flagMessage)
                    } catch let error as LLaDAError {
                        try complain(error.flagMessage)
                    }
                default:
                    try complain("unknown command \(words[0]); the commands are /settings [name=value …], /reset and /quit")
                }
                continue
            }
            let plan: GenerationPlan
            do {
                plan = try model.plan(session.request(for: input, settings: settings))
            } catch PlanError.contextExceeded(let prompt, let generation, let limit) {
                try complain("the conversation is \(prompt) tokens; with --gen-length \(generation) it exceeds the model's max_sequence_length \(limit): /reset to start a new one, or lower gen-length with /settings")
                continue
            }
            let live = LiveGeneration(model: model, settings: plan.settings, output: .text, visual: visual)
            let stop = StopFlag()
            let output = try Interruption.stoppable(watching: stop) {
                try model.run(plan, stop: stop, onEvent: live.handle)
            }
            live.finish(output)
            if output.stopped {
                // The conversation goes on; the next Ctrl-C is a new one.
                Interruption.request(0)
                Terminal.err("(interrupted: this turn is not kept)\n")
            } else {
                session.record(prompt: plan.promptIDs, message: input, output: output.outputIDs)
            }
            if interactive { Terminal.err("\n") }
        }
    }

    static func describe(_ settings: GenerationSettings) -> String {
        var parts = ["gen-length \(settings.genLength)", Self.steps(settings), "block-length \(settings.blockLength)",
                     "temperature \(settings.temperature)", "seed \(settings.seed)", "remasking \(settings.remasking.rawValue)",
                     "schedule \(settings.schedule.rawValue)", "cache \(settings.cache.rawValue)"]
        parts.append("threshold " + (settings.threshold.map { "\($0)" } ?? "off"))
        return parts.joined(separator: " · ")
    }

    /// `/settings name=value …`: any setting, named as the engine and the server name it
    /// (`gen_length`; `gen-length` is accepted too), decoded over the current settings the one
    /// way settings are decoded. `off` or `null` clears an optional one (`threshold=off`).
    static func apply(_ assignments: ArraySlice<String>, to settings: GenerationSettings) throws -> GenerationSettings {
        let names = GenerationSettings.fieldNames.joined(separator: ", ")
        var fields: [(name: String, value: Any)] = []
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw LLaDAError("/settings: expected name=value, got \(assignment) (names: \(names))") }
            let name = parts[0].replacingOccurrences(of: "-", with: "_"), value = parts[1]
            guard GenerationSettings.fieldNames.contains(name) else { throw LLaDAError("/settings: unknown name \(parts[0]) (names: \(names))") }
            let parsed: Any = switch value {
            case "off", "null": NSNull()
            case "true", "false": value == "true"
            default: Int(value) ?? Double(value) ?? value
            }
            fields.append((name, parsed))
        }
        return try GenerationSettings.decode(fields: fields, over: settings)
    }

    /// "steps 128" (dense LLaDA's total) or "steps-per-block 32" (LLaDA 2's).
    static func steps(_ settings: GenerationSettings) -> String {
        settings.steps.map { "steps \($0)" } ?? "steps-per-block \(settings.stepsPerBlock.map(String.init) ?? "default")"
    }
}

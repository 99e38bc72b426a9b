import ArgumentParser
import Foundation
import LLaDAEngine

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
            `/settings name=value …` changes gen-length, steps, block-length, temperature, seed, remasking, \
            schedule, cache or threshold (`off`).
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var memory: MemoryOptions

    @Flag(name: .long, help: "On a terminal, redraw the canvas on standard error as tokens are committed.")
    var visual = false

    /// The prompt length the memory check assumes for the first turn.
    static let firstTurnTokens = 32

    func run() throws {
        var options = sampling
        var settings = try options.settings(modelPath: modelOptions.model)
        try settings.validate(promptLength: 1, maxSequenceLength: .max)
        // Before loading: a first turn (the template around a short message) must fit. Later turns
        // grow the canvas by their history, far less than the weights for a big model.
        let file = try modelOptions.open()
        try memory.check(file.footprint, settings: settings, promptLength: Self.firstTurnTokens)
        let interactive = Terminal.isTTY(0)
        let model = try modelOptions.load(file)
        var session = try ChatSession(model: model)
        // At a terminal a mistake costs one line and the conversation goes on; a script stops at
        // the first one (its later messages would answer the wrong conversation).
        func complain(_ message: String) throws {
            guard interactive else { throw LLaDAError(message) }
            Terminal.err("error: \(message)\n")
        }
        if interactive {
            Terminal.err("LLaDA chat (gen-length \(settings.genLength), steps \(settings.steps), block-length \(settings.blockLength), cache \(settings.cache.rawValue)) — /settings, /reset, /quit\n")
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
                            var changed = options
                            try Self.apply(words.dropFirst(), to: &changed)
                            let new = try changed.settings(modelPath: modelOptions.model)
                            try new.validate(promptLength: 1, maxSequenceLength: .max)
                            (options, settings) = (changed, new)
                        }
                        Terminal.err("\(Self.describe(settings)) · conversation \(session.history.count) tokens, \(session.turns) turn\(session.turns == 1 ? "" : "s")\n")
                    } catch let error as LLaDAError {
                        try complain(error.flagMessage)
                    }
                default:
                    try complain("unknown command \(words[0]); the commands are /settings [name=value …], /reset and /quit")
                }
                continue
            }
            let prompt = session.promptIDs(for: input)
            let limit = model.config.maxSequenceLength
            guard prompt.count <= limit - settings.genLength else {
                try complain("the conversation is \(prompt.count) tokens; with --gen-length \(settings.genLength) it exceeds the model's max_sequence_length \(limit): /reset to start a new one, or lower gen-length with /settings")
                continue
            }
            let live = LiveGeneration(model: model, settings: settings, output: .text, visual: visual)
            let stop = StopFlag()
            let output = try Interruption.stoppable(watching: stop) {
                try model.generate(GenerationRequest(prompt: .ids(prompt), settings: settings), stop: stop, onEvent: live.handle)
            }
            live.finish(output)
            if output.stopped {
                // The conversation goes on; the next Ctrl-C is a new one.
                Interruption.request(0)
                Terminal.err("(interrupted: this turn is not kept)\n")
            } else {
                session.record(prompt: prompt, output: output.result.outputIDs)
            }
            if interactive { Terminal.err("\n") }
        }
    }

    static func describe(_ settings: GenerationSettings) -> String {
        var parts = ["gen-length \(settings.genLength)", "steps \(settings.steps)", "block-length \(settings.blockLength)",
                     "temperature \(settings.temperature)", "seed \(settings.seed)", "remasking \(settings.remasking.rawValue)",
                     "schedule \(settings.schedule.rawValue)", "cache \(settings.cache.rawValue)"]
        parts.append("threshold " + (settings.threshold.map { "\($0)" } ?? "off"))
        return parts.joined(separator: " · ")
    }

    /// `/settings name=value …`: the sampling options that make sense to change mid-conversation.
    static func apply(_ assignments: ArraySlice<String>, to options: inout SamplingOptions) throws {
        let names = "gen-length, steps, block-length, temperature, seed, remasking, schedule, cache, threshold"
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw LLaDAError("/settings: expected name=value, got \(assignment) (names: \(names))") }
            let (name, value) = (parts[0], parts[1])
            func number<T: LosslessStringConvertible>(_: T.Type) throws -> T {
                guard let parsed = T(value) else { throw LLaDAError("/settings: \(name) must be a number (got \(value))") }
                return parsed
            }
            switch name {
            case "gen-length": options.genLength = try number(Int.self)
            case "steps": options.steps = try number(Int.self)
            case "block-length": options.blockLength = try number(Int.self)
            case "temperature": options.temperature = try number(Double.self)
            case "seed": options.seed = try number(UInt64.self)
            case "remasking": options.remasking = value
            case "schedule": options.schedule = value
            case "cache": options.cache = value
            case "threshold": options.threshold = value == "off" ? nil : try number(Double.self)
            default: throw LLaDAError("/settings: unknown name \(name) (names: \(names))")
            }
        }
    }
}

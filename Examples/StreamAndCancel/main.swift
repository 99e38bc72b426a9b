// Embedding the engine: load a packed model once, stream an answer, stop a second generation halfway.
//   swift run -c release stream-and-cancel MODEL.lpk
import Foundation
import LLaDAEngine

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: stream-and-cancel MODEL.lpk\n".utf8))
    exit(2)
}
let model = try LLaDAModel.load(path: CommandLine.arguments[1])
var settings = GenerationSettings()
(settings.genLength, settings.steps, settings.blockLength, settings.cache) = (32, 32, 8, .dual)
settings.earlyStop = false   // every block runs (by default a chat answer ends once it is padding)

// 1. Stream an answer: each block's text as soon as the block is final.
for try await event in model.stream(GenerationRequest(prompt: .user("reverse: abcd"), settings: settings)) {
    if case .blockDone(_, let text) = event { print(text, terminator: "") }
}
print()

// 2. Stop a second generation once half its positions are committed; it ends within that step.
let second = model.stream(GenerationRequest(prompt: .user("sort: 6 5 9 2 8"), settings: settings))
for try await event in second {
    switch event {
    case .step(let step) where step.masksLeft <= settings.genLength / 2: second.stop()
    case .done(let output): print("stopped: \(output.stopped), model calls: \(output.modelCalls) of \(settings.steps ?? 0)")
    default: break
    }
}

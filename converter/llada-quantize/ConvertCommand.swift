import ArgumentParser
import Foundation
import LLaDAConvert
import LLaDAEngine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a Hugging Face LLaDA checkpoint directory (bf16, f16 or f32 safetensors) into a packed file.",
        discussion: """
        Types: q4 = 4-bit blocks for the transformer layers with the embedding and LM head at 8 bit (the default); \
        q8 = 8-bit blocks everywhere; f16; f32. Norm weights always stay f32. The output is written to a temporary \
        file next to it and renamed when complete, so an interrupted run leaves nothing behind.
        """)

    @Argument(help: "Checkpoint directory (config.json, *.safetensors, tokenizer.json).")
    var source: String

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String

    @Option(name: .long, help: "Weight type: q4 (4-bit; embedding, q/k/v and LM head 8-bit), q4-lean (4-bit but the embedding: the least memory), q8, f16 or f32.")
    var type = "q4"

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: .hidden)
    var chunkKib: Int?

    @Option(name: .long, help: .hidden)
    var q4Scale: String?

    func run() throws {
        guard var profile = QuantizationProfile.named[type] else {
            throw LLaDAError("--type must be one of q4, q4-lean, q8, f16, f32 (got \(type))")
        }
        if let q4Scale {
            guard let method = Q4ScaleMethod(rawValue: q4Scale) else {
                throw LLaDAError("--q4-scale must be search or maxabs (got \(q4Scale))")
            }
            profile.q4Method = method
        }
        var options = ConversionOptions()
        if let threads {
            guard (1...1024).contains(threads) else { throw LLaDAError("--threads must be between 1 and 1024 (got \(threads))") }
            options.threads = threads
        }
        if let chunkKib {
            guard chunkKib >= 4, chunkKib <= 65536 else { throw LLaDAError("--chunk-kib must be between 4 and 65536 (got \(chunkKib))") }
            options.chunkBytes = chunkKib * 1024
        }
        let checkpoint = try Checkpoints.open(URL(fileURLWithPath: source))
        let outputURL = URL(fileURLWithPath: output)
        let bar = ProgressBar(enabled: isatty(STDERR_FILENO) != 0)
        let summary = try PackedConverter.convert(
            checkpoint: checkpoint, output: outputURL, profile: profile, options: options,
            willCreateTemporaryFile: { SignalCleanup.setTemporaryFile($0) },
            progress: { bar.update($0) })
        SignalCleanup.setTemporaryFile(nil)
        bar.finish()
        let raw = summary.tensors.reduce(0) { $0 + $1.byteSize }
        print("wrote \(output): \(formatBytes(summary.fileSize)), \(summary.tensors.count) tensors, type \(profile.name), "
              + String(format: "data %@ raw → %@ stored, %.1f s", formatBytes(raw),
                       formatBytes(summary.tensors.reduce(0) { $0 + $1.storedSize }), summary.seconds))
    }
}

/// Removes the temporary output on SIGINT / SIGTERM / SIGHUP. The handler may only use
/// async-signal-safe calls, so the path is kept as a C string it can unlink directly.
enum SignalCleanup {
    nonisolated(unsafe) static var temporaryPath: UnsafeMutablePointer<CChar>?
    /// Earlier paths, never freed (a handler running right now may still read one) but kept reachable.
    nonisolated(unsafe) static var retiredPaths: [UnsafeMutablePointer<CChar>] = []

    static func install() {
        _ = temporaryPath   // initialise the static before any handler can run
        let handler: @convention(c) (Int32) -> Void = { signal in
            if let path = SignalCleanup.temporaryPath { unlink(path) }
            let message: StaticString = "interrupted: no output written\n"
            _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
            _exit(128 + signal)
        }
        for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, handler) }
    }

    static func setTemporaryFile(_ path: String?) {
        let old = temporaryPath
        temporaryPath = path.map { strdup($0) }
        if let old { retiredPaths.append(old) }
    }
}

/// A one-line progress bar on stderr (only when stderr is a terminal), at most 10 updates a second.
final class ProgressBar {
    let enabled: Bool
    let start = Date()
    var lastDraw = Date.distantPast
    var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: ConversionProgress) {
        guard enabled else { return }
        let now = Date()
        let done = progress.sourceBytesDone == progress.sourceBytesTotal
        guard done || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let fraction = progress.sourceBytesTotal > 0 ? Double(progress.sourceBytesDone) / Double(progress.sourceBytesTotal) : 1
        let width = 24
        let filled = Int(fraction * Double(width))
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(progress.sourceBytesDone) / elapsed : 0
        let eta = rate > 0 ? Double(progress.sourceBytesTotal - progress.sourceBytesDone) / rate : 0
        let name = progress.tensor.replacingOccurrences(of: "model.transformer.", with: "")
        let line = String(format: "[%@%@] %3.0f%%  %@ / %@  %@/s  ETA %.0fs  %d/%d %@",
                          String(repeating: "#", count: filled), String(repeating: "-", count: width - filled),
                          fraction * 100, formatBytes(progress.sourceBytesDone), formatBytes(progress.sourceBytesTotal),
                          formatBytes(Int(rate)), eta, progress.tensorIndex + 1, progress.tensorCount, name)
        FileHandle.standardError.write(Data("\r\u{1b}[K\(line)".utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

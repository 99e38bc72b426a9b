// Kernel benchmark harness: the same code as `llada bench --kernels`.
//   swift run -c release KernelBenchmark [--json] [--threads N] [--f16] [--rows 1,8,32] [--repetitions N]
//                                        [--kernel-path auto|avx512|avx2|neon|scalar]
import Foundation
import LLaDABenchmarks
import LLaDAEngine

var json = false, f16 = false, threads = 2, repetitions = 5, level = QuantizedMatmul.Path.auto
var rowCounts = KernelBenchmark.rowCounts
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--json": json = true
    case "--f16": f16 = true
    case "--threads": threads = Int(arguments.next() ?? "") ?? threads
    case "--repetitions": repetitions = Int(arguments.next() ?? "") ?? repetitions
    case "--rows": rowCounts = (arguments.next() ?? "").split(separator: ",").compactMap { Int($0) }
    case "--kernel-path":
        let name = arguments.next() ?? ""
        guard let path = KernelLevel.path(named: name) else {
            FileHandle.standardError.write("error: --kernel-path must be one of \(KernelLevel.names) (got \(name))\n".data(using: .utf8)!)
            exit(2)
        }
        do { try KernelLevel.check(path); level = path } catch {
            let message = (error as? LLaDAError)?.message { "--" + $0.replacingOccurrences(of: "_", with: "-") } ?? "\(error)"
            FileHandle.standardError.write("error: \(message)\n".data(using: .utf8)!)
            exit(2)
        }
    default:
        FileHandle.standardError.write("unknown argument \(argument)\n".data(using: .utf8)!)
        exit(2)
    }
}
/// Unbuffered, so rows show as they are measured even when piped.
func emit(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

let formats: [WeightType] = f16 ? [.q4_0, .q8_0, .f16] : [.q4_0, .q8_0]
let context = try KernelContext(threads: threads, level: level)
let peak = KernelBenchmark.int8Peak(context: context)
if !json { KernelBenchmark.textHeader(context: context, repetitions: repetitions, peak: peak).forEach(emit) }
_ = KernelBenchmark.run(context: context, formats: formats, rowCounts: rowCounts, repetitions: repetitions, peak: peak) { row in
    emit(json ? row.json : row.tableLine)
}

import ArgumentParser
import LLaDAEngine

/// `--kernel-path`: the SIMD level the model's kernels run at (its `ComputeContext`), so the code
/// an older CPU takes can be run and measured here. Results are the same on every level.
struct KernelPathOption: ParsableArguments {
    @Option(name: .long, help: "Kernel code to run: auto (the best this CPU has), scalar, neon, avx2 or avx512; only a level the CPU supports. Results are identical, only speed changes.")
    var kernelPath = "auto"

    /// Checked with the other options, before any input is read or any file opened.
    func validate() throws {
        guard let path = KernelLevel.path(named: kernelPath) else {
            throw ValidationError("--kernel-path must be one of \(KernelLevel.names) (got \(kernelPath))")
        }
        do { try KernelLevel.check(path) } catch let error as LLaDAError {
            throw ValidationError(error.message(naming: Llada.flag))
        }
    }

    /// The level named (checked by `validate`).
    var level: QuantizedMatmul.Path { KernelLevel.path(named: kernelPath) ?? .auto }
}

import ArgumentParser
import LLaDAEngine

/// `--kernel-path`: the SIMD level of every kernel for this process (KernelLevel), so the code an
/// older CPU takes can be run and measured here. Results are the same on every level.
struct KernelPathOption: ParsableArguments {
    @Option(name: .long, help: "Kernel code to run: auto (the best this CPU has), avx512, avx2, neon or scalar; only a level the CPU supports. Results are identical, only speed changes.")
    var kernelPath = "auto"

    func validate() throws {
        guard KernelLevel.path(named: kernelPath) != nil else {
            throw ValidationError("--kernel-path must be one of \(QuantizedMatmul.Path.allCases.map(\.name).joined(separator: ", ")) (got \(kernelPath))")
        }
    }

    /// Sets the level for everything that follows; one error line when this CPU cannot run it.
    func apply() throws {
        try KernelLevel.use(KernelLevel.path(named: kernelPath) ?? .auto)
    }
}

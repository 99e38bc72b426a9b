import LLaDAKernels

/// The SIMD levels the kernels run at (the products, attention, softmax, SwiGLU). A
/// `KernelContext` runs at one, chosen when it is made: the best this CPU has unless a frontend
/// asks for a lower one, to measure or check the code an older CPU takes (`llada … --kernel-path
/// avx2` on an AVX-512 machine). Every level computes bit-identical results, so only speed changes.
public enum KernelLevel {
    /// The best level this CPU runs (never `.auto`).
    public static var best: QuantizedMatmul.Path {
        QuantizedMatmul.Path(rawValue: llada_cpu_detect()) ?? .scalar
    }

    /// Throws, naming `kernel_path`, when this CPU cannot run `path` (frontends check their options first).
    public static func check(_ path: QuantizedMatmul.Path) throws {
        guard !path.isSupported else { return }
        let runs = QuantizedMatmul.supportedPaths.map(\.name).joined(separator: ", ")
        throw LLaDAError("\(LLaDAError.setting("kernel_path")) \(path.name): this CPU cannot run it (it runs \(runs), or auto)")
    }

    /// The level named `name` (one of `names`), or nil.
    public static func path(named name: String) -> QuantizedMatmul.Path? {
        QuantizedMatmul.Path.allCases.first { $0.name == name }
    }

    /// Every level's name: auto, scalar, neon, avx2, avx512.
    public static var names: String { QuantizedMatmul.Path.allCases.map(\.name).joined(separator: ", ") }
}

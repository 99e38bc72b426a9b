import LLaDAKernels

/// The SIMD level every kernel runs at (the products, attention, softmax, conversions): the best
/// this CPU has, unless a frontend lowers it for the whole process, to measure or check the code an
/// older CPU takes (`llada … --kernel-path avx2` on an AVX-512 machine). Every level computes
/// bit-identical results, so only speed changes.
public enum KernelLevel {
    /// The level in effect (never `.auto`).
    public static var current: QuantizedMatmul.Path {
        QuantizedMatmul.Path(rawValue: llada_cpu_level()) ?? .scalar
    }

    /// Runs every following kernel call at `path` (`.auto`: the best this CPU has). Throws, changing
    /// nothing, when this CPU cannot run it.
    public static func use(_ path: QuantizedMatmul.Path) throws {
        try check(path)
        llada_set_cpu_level(path.rawValue)
    }

    /// Throws the error `use` would, without changing anything (frontends check their options first).
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

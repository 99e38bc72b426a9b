// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "llada-edge",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "LLaDAEngine", targets: ["LLaDAEngine"]),
        .library(name: "LLaDATokenizer", targets: ["LLaDATokenizer"]),
        .executable(name: "llada", targets: ["llada"]),
        .executable(name: "llada-quantize", targets: ["llada-quantize"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]),
        .systemLibrary(
            name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]),
        // Hot numeric kernels in C: Swift does not emit FMA / VNNI by itself.
        .target(name: "LLaDAKernels", path: "Sources/LLaDAKernels"),
        // Hugging Face tokenizer.json (BPE, normalizers, pre-tokenizers), with the error type the engine shares.
        .target(name: "LLaDATokenizer", path: "Sources/LLaDATokenizer"),
        .target(
            name: "LLaDAEngine",
            dependencies: ["CBLAS", "CLZ4", "LLaDAKernels", "LLaDATokenizer"],
            path: "Sources/LLaDAEngine"),
        // Beside the runtime library: what only the converter, the benchmarks and the tests need.
        .target(name: "LLaDAConvert", dependencies: ["LLaDAEngine", "LLaDAKernels", "CLZ4"], path: "converter/LLaDAConvert"),
        .target(name: "LLaDASynthetic", dependencies: ["LLaDAEngine", "LLaDAKernels"], path: "Benchmarks/Synthetic"),
        .target(name: "LLaDABenchmarks", dependencies: ["LLaDAEngine", "LLaDAKernels", "CBLAS"], path: "Benchmarks/BenchmarkKit"),
        // The OpenAI-compatible HTTP frontend (`llada serve`).
        .target(
            name: "LLaDAServer",
            dependencies: ["LLaDAEngine", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Sources/LLaDAServer",
            resources: [.embedInCode("WebPage/index.html"), .embedInCode("WebPage/web.css"), .embedInCode("WebPage/web.js")]),
        // Terminal displays of a running generation (progress line, the live canvas).
        .target(name: "LLaDATerminal", dependencies: ["LLaDAEngine"], path: "Sources/LLaDATerminal"),
        .executableTarget(
            name: "llada",
            dependencies: ["LLaDAEngine", "LLaDABenchmarks", "LLaDAServer", "LLaDATerminal", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/llada"),
        .executableTarget(
            name: "llada-synth",
            dependencies: ["LLaDAEngine", "LLaDASynthetic", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/SyntheticCheckpoint"),
        .executableTarget(
            name: "TokenizerBenchmark",
            dependencies: ["LLaDAEngine", "LLaDABenchmarks"],
            path: "Benchmarks/TokenizerBenchmark"),
        .executableTarget(
            name: "llada-quantize",
            dependencies: ["LLaDAEngine", "LLaDAConvert", "CLZ4", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "converter/llada-quantize"),
        .testTarget(
            name: "LLaDAEngineTests",
            dependencies: ["LLaDAEngine", "LLaDATokenizer", "LLaDAKernels", "LLaDAConvert", "LLaDASynthetic", "LLaDABenchmarks"],
            path: "Tests/LLaDAEngineTests"),
        // An app embedding the engine (run by ExampleTests).
        .executableTarget(name: "stream-and-cancel", dependencies: ["LLaDAEngine"], path: "Examples/StreamAndCancel"),
        .executableTarget(
            name: "KernelBenchmark", dependencies: ["LLaDAEngine", "LLaDABenchmarks"], path: "Benchmarks/KernelBenchmark"),
    ]
)

/// The tokenizer is its own module (LLaDATokenizer, also a library product); the engine re-exports it
/// so that `import LLaDAEngine` still gives apps `Tokenizer` and `LLaDAError`.
@_exported import LLaDATokenizer

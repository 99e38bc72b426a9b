// Tokenizer encode throughput. Usage:
//   TokenizerBenchmark [tokenizer directory or tokenizer.json]   (default: the test fixture)
// Encodes a generated multi-megabyte corpus (the fixture cases repeated, English prose, code, and
// non-Latin / emoji / decomposed text) several times and prints the median MB/s, both as one call
// and as 4 KiB calls (per-call costs such as the word cache's warm-up show up there).
import Foundation
import LLaDABenchmarks
import LLaDAEngine

let fixtureDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Tests/Fixtures/tokenizer")

func loadTokenizer() throws -> Tokenizer {
    guard CommandLine.arguments.count > 1 else { return try Tokenizer(directory: fixtureDirectory) }
    let url = URL(fileURLWithPath: CommandLine.arguments[1])
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
        return try Tokenizer(directory: url)
    }
    return try Tokenizer(tokenizerJSON: try Data(contentsOf: url), tokenizerConfigJSON: nil)
}

/// Deterministic generator so every run measures the same text.
struct BenchmarkRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

func fixtureTexts() -> [String] {
    let url = fixtureDirectory.appendingPathComponent("tokenizer_cases.json")
    guard let data = try? Data(contentsOf: url),
          let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let cases = root["cases"] as? [[String: Any]] else { return [] }
    return cases.compactMap { ($0["utf8_hex"] as? String).flatMap(decodeHex) }
}

func decodeHex(_ hex: String) -> String? {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
        bytes.append(byte)
        index = next
    }
    return String(decoding: bytes, as: UTF8.self)
}

func prose(_ rng: inout BenchmarkRandom, bytes: Int) -> String {
    let words = ["the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
                 "by", "on", "not", "he", "I", "this", "are", "or", "his", "from", "at", "which", "but",
                 "have", "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her",
                 "has", "there", "been", "if", "more", "when", "will", "would", "who", "so", "no",
                 "model", "diffusion", "language", "tokenizer", "probability", "sequence", "masked",
                 "generation", "denoising", "transformer", "attention", "gradient", "inference",
                 "don't", "it's", "we're", "they've", "I'll", "she'd", "1984", "2.5", "42%", "$19.99"]
    var text = ""
    while text.utf8.count < bytes {
        var sentence = rng.pick(words).capitalized
        for _ in 0..<(5 + rng.below(20)) {
            sentence += rng.below(12) == 0 ? ", " : " "
            sentence += rng.pick(words)
        }
        text += sentence + rng.pick([". ", ". ", "? ", "! ", ".\n\n", ":\n"])
    }
    return text
}

func code(_ rng: inout BenchmarkRandom, bytes: Int) -> String {
    let names = ["value", "index", "count", "buffer", "result", "tokens", "logits", "mask", "x", "y",
                 "hidden_states", "attention_weights", "config", "self", "output", "i", "j", "k"]
    var text = ""
    while text.utf8.count < bytes {
        let a = rng.pick(names), b = rng.pick(names), c = rng.pick(names)
        text += rng.pick([
            "def \(a)_\(b)(\(c), \(a)=None):\n    \"\"\"Compute \(b) from \(c).\"\"\"\n    return \(c)[\(rng.below(100))] + \(a)\n\n",
            "for \(a) in range(\(rng.below(1000))):\n        \(b) += \(c) * \(a)  # accumulate\n",
            "    if (\(a) >= \(rng.below(10)) && \(b) != \(c)) { \(a) = \(b)->next; }\n",
            "let \(a): [Int] = \(b).map { $0 &* \(rng.below(65536)) } // \(c)\n",
            "\t\(a)[\(b)] = {\"\(c)\": \(rng.below(99)).\(rng.below(99)), 'key': [1, 2, 3]}\r\n",
            "    \(a) = torch.softmax(\(b) / math.sqrt(\(c).shape[-1]), dim=-1)\n",
        ])
    }
    return text
}

func unicodeMix(_ rng: inout BenchmarkRandom, bytes: Int) -> String {
    let pieces = ["Ελληνικά κείμενα ", "Привет, мир! ", "你好，世界。", "日本語のテキスト、カタカナ ",
                  "한국어 텍스트 ", "مرحبا بالعالم ", "שלום עולם ", "नमस्ते दुनिया ", "สวัสดี ",
                  "café naïve résumé ", "cafe\u{301} Ångstro\u{308}m ", "Fußgängerübergänge ",
                  "😀 👩\u{200D}💻 🇺🇸 ❤️ ", "∑ ∫ √ ∞ ≠ ± ", "ＡＢＣ１２３ ", "x² ½ ", "\u{3000}ideographic "]
    var text = ""
    while text.utf8.count < bytes {
        text += rng.pick(pieces)
        if rng.below(8) == 0 { text += "\n" }
    }
    return text
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Median MB/s over `runs` passes of `body` on `byteCount` bytes.
func measure(byteCount: Int, runs: Int, _ body: () -> Int) -> (mbPerSecond: Double, tokens: Int) {
    var rates: [Double] = []
    var tokens = 0
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        tokens = body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        rates.append(Double(byteCount) / seconds / 1e6)
    }
    return (median(rates), tokens)
}

let loadStart = DispatchTime.now().uptimeNanoseconds
let tokenizer: Tokenizer
do {
    tokenizer = try loadTokenizer()
} catch {
    print("error: \(error)")
    exit(1)
}
let loadMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e6
print("cpu: \(HostCPU.current.description)")
print(String(format: "loaded tokenizer (%d ids) in %.1f ms", tokenizer.vocabularySize, loadMilliseconds))

var rng = BenchmarkRandom(state: 2024)
var fixtureCorpus = ""
let cases = fixtureTexts()
while !cases.isEmpty && fixtureCorpus.utf8.count < 1_000_000 { fixtureCorpus += cases.joined(separator: "\n") }
let sections: [(name: String, text: String)] = [
    ("fixture cases", fixtureCorpus),
    ("english prose", prose(&rng, bytes: 3_000_000)),
    ("code", code(&rng, bytes: 2_000_000)),
    ("unicode mix", unicodeMix(&rng, bytes: 2_000_000)),
]
let corpus = sections.map(\.text).joined()
let corpusBytes = corpus.utf8.count

let runs = 7
for section in sections {
    let result = measure(byteCount: section.text.utf8.count, runs: runs) { tokenizer.encode(section.text).count }
    let label = section.name.padding(toLength: 14, withPad: " ", startingAt: 0)
    print(label + String(format: " %5.2f MB  %9d tokens  %7.2f MB/s",
                         Double(section.text.utf8.count) / 1e6, result.tokens, result.mbPerSecond))
}

let whole = measure(byteCount: corpusBytes, runs: runs) { tokenizer.encode(corpus).count }
print(String(format: "encode, one call:   %.2f MB, %d tokens, median %.2f MB/s over %d runs",
             Double(corpusBytes) / 1e6, whole.tokens, whole.mbPerSecond, runs))

// 4 KiB calls, cut at line boundaries so no word is split differently from real prompts.
var chunks: [String] = []
var current = ""
for line in corpus.split(separator: "\n", omittingEmptySubsequences: false) {
    current += line + "\n"
    if current.utf8.count >= 4096 {
        chunks.append(current)
        current = ""
    }
}
if !current.isEmpty { chunks.append(current) }
let chunkBytes = chunks.reduce(0) { $0 + $1.utf8.count }
let chunked = measure(byteCount: chunkBytes, runs: runs) { chunks.reduce(0) { $0 + tokenizer.encode($1).count } }
print(String(format: "encode, 4 KiB calls: %d calls, median %.2f MB/s over %d runs", chunks.count, chunked.mbPerSecond, runs))

/// When the dual cache recomputes its keys and values at a block start. Fast-dLLM runs a full
/// pass over prompt and canvas at every block start; the other policies skip part of that work
/// and are approximations of it, opt-in (their accuracy and speed: docs/decoding.md).
public enum CacheRefresh: Sendable, Equatable, CustomStringConvertible {
    /// A full pass at every block start: Fast-dLLM's dual cache.
    case everyBlock
    /// A full pass at the first block only. Later blocks start with a pass over every position
    /// after the prompt; the prompt keeps the keys and values of that first pass, which saw the
    /// canvas still masked.
    case keepPrompt
    /// A full pass at blocks 0, k, 2k, …. The blocks between start with a pass over the previous
    /// block and themselves, so the previous block's last commits enter the cache; the prompt
    /// and the rest of the canvas keep the keys and values of the last full pass.
    case everyBlocks(Int)

    /// The names the frontends accept: `every-block`, `keep-prompt`, `every-K-blocks` (K ≥ 2).
    public init?(name: String) {
        switch name {
        case "every-block": self = .everyBlock
        case "keep-prompt": self = .keepPrompt
        default:
            let parts = name.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "every", parts[2] == "blocks", let k = Int(parts[1]), k >= 2,
                  String(k) == parts[1] else { return nil }
            self = .everyBlocks(k)
        }
    }

    public static let nameForms = ["every-block", "keep-prompt", "every-K-blocks (K ≥ 2)"]

    public var description: String {
        switch self {
        case .everyBlock: "every-block"
        case .keepPrompt: "keep-prompt"
        case .everyBlocks(let k): "every-\(k)-blocks"
        }
    }

    /// The canvas rows block `block` (positions `range`) starts with, or nil for a full pass.
    func startRows(block: Int, range: Range<Int>, promptLength: Int, canvasLength: Int) -> Range<Int>? {
        guard block > 0 else { return nil }
        switch self {
        case .everyBlock: return nil
        case .keepPrompt: return promptLength..<canvasLength
        case .everyBlocks(let k): return block % k == 0 ? nil : (range.lowerBound - range.count)..<range.upperBound
        }
    }
}

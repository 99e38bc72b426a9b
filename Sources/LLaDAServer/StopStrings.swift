/// OpenAI's `stop`: the answer ends before the first stop string. Text that could still turn
/// into one is held back, so a stream never shows a stop string or the start of one.
struct StopStrings {
    let stops: [String]
    private var text = ""
    private var emitted = 0
    private(set) var matched = false

    init(_ stops: [String]) { self.stops = stops }

    /// Adds certain answer text; returns what may be shown now.
    mutating func append(_ piece: String, final: Bool = false) -> String {
        guard !matched else { return "" }
        text += piece
        var end = text.endIndex
        if let cut = stops.compactMap({ text.range(of: $0)?.lowerBound }).min() {
            end = cut
            matched = true
        } else if !final {
            // The longest tail that begins some stop string waits for more text.
            for start in text.indices.reversed().prefix(stops.map(\.count).max() ?? 0) {
                let tail = text[start...]
                if stops.contains(where: { $0.hasPrefix(tail) }) { end = start }
            }
        }
        let shown = String(text[..<end])
        let new = String(shown.dropFirst(emitted))
        emitted = shown.count
        return new
    }

    /// Everything shown so far.
    var shownText: String { String(text.prefix(emitted)) }
}

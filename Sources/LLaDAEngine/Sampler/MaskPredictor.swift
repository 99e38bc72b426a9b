/// What the sampler needs from a model: logits at chosen positions of a whole sequence.
/// Keeping the sampler behind this makes it testable with hand-made logits.
public protocol MaskPredictor: AnyObject {
    /// Logits [positions.count × vocabulary] of `tokens`, one row per entry of `positions`.
    func logits(tokens: [Int], positions: [Int]) -> FloatMatrix
}

extension Transformer: MaskPredictor {
    public func logits(tokens: [Int], positions: [Int]) -> FloatMatrix {
        logits(tokens: tokens, outputPositions: positions)
    }
}

/// The parts of a `GenerationEvent` the sampler fills in. Positions are offsets into the
/// generated part (0 = first generated token).
public struct SamplerStepEvent: Sendable {
    /// Model calls so far, this one included.
    public var call: Int
    public var block: Int
    /// Positions committed by this step, and taken back by `remaskCommitted`.
    public var committed: [Int]
    /// The probability of each committed token when it was committed (aligned with `committed`).
    public var probabilities: [Double]
    public var remasked: [Int]
    /// The generated part of the canvas after the step (mask id where still masked).
    public var generated: [Int]
    /// Masks left in the generated part.
    public var masksLeft: Int
    public var seconds: Double
}

public struct SamplerBlockEvent: Sendable {
    public var block: Int
    /// The block's positions in the generated part and its final ids.
    public var range: Range<Int>
    public var ids: [Int]
    /// True when early stop filled the rest of the canvas with padding after this block.
    public var endsGeneration: Bool
    /// True for the run's last block (the last one run, or the last one early stop left).
    public var isLast: Bool
}

/// What the sampler reports while it runs, for streaming, live views, progress and
/// cancellation. Positions are offsets into the generated part (0 = first generated token).
public enum SamplerEvent: Sendable {
    /// After every step (one model call and its commits).
    case step(SamplerStepEvent)
    /// When a block has no masks left: its tokens are final.
    case blockDone(SamplerBlockEvent)
}

public struct SamplerStepEvent: Sendable {
    /// Model calls so far, this one included.
    public var call: Int
    public var block: Int
    /// Positions committed by this step, and taken back by `remaskCommitted`.
    public var committed: [Int]
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
}

/// Returned by an observer: go on, or stop after this step (the result then has `stopped` set
/// and the uncommitted positions still hold the mask id).
public enum SamplerControl: Sendable {
    case proceed
    case stop
}

public typealias SamplerObserver = (SamplerEvent) -> SamplerControl

/// A loaded network, whatever its family: what a generation asks of it is a `MaskPredictor` for
/// its settings (LLaDA 2's attention mask depends on the block length).
public protocol ModelNetwork: AnyObject, Sendable {
    func predictor(for settings: GenerationSettings) -> any MaskPredictor
    /// The same network with its forward passes timed into `profile`, where it times them.
    func profiled(_ profile: ForwardProfile) -> any ModelNetwork
}

extension Transformer: ModelNetwork {
    public func predictor(for settings: GenerationSettings) -> any MaskPredictor { self }
    public func profiled(_ profile: ForwardProfile) -> any ModelNetwork { profiled(profile) as Transformer }
}

extension LLaDA2Network: ModelNetwork {
    public func predictor(for settings: GenerationSettings) -> any MaskPredictor {
        LLaDA2Predictor(network: self, blockLength: settings.blockLength)
    }

    /// The same network over the same weights, its passes timed into `profile`.
    public func profiled(_ profile: ForwardProfile) -> any ModelNetwork { LLaDA2Network(weights: weights, profile: profile) }
}

import LLaDAEngine

/// The dense tests reach into the dense network and its config: every model they load is dense.
extension LLaDAModel {
    var transformer: Transformer { try! denseTransformer() }
    var config: LLaDAConfig { transformer.config }
}

/// Products that read the same input: q/k/v of the normalised hidden state, ff_proj/up_proj of
/// the feed-forward input. On the kernels they run as one call of their summed width (the input
/// quantized once, one schedule for all the columns), which saves an activation quantization and a
/// pool wake-up per extra product. Anything else applies each layer alone. Either way each output
/// is bit-identical to its layer's own `apply`.
enum SharedInputProducts {
    static func apply(_ layers: [LinearLayer], _ x: UnsafePointer<Float>, rows: Int, into outputs: [UnsafeMutablePointer<Float>]) {
        let kernels = layers.compactMap { $0 as? KernelLinear }
        if kernels.count == layers.count, let first = kernels.first,
           kernels.allSatisfy({ $0.format == first.format && $0.inFeatures == first.inFeatures && $0.context === first.context }) {
            QuantizedMatmul.multiply(kernels.map(\.weights), x, rows: rows, into: outputs, on: first.context)
        } else {
            for (layer, output) in zip(layers, outputs) { layer.apply(x, rows: rows, into: output) }
        }
    }
}

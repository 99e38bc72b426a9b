import Foundation
import LLaDAEngine
import LLaDASynthetic
import XCTest

/// The synthetic weights behave like a trained model's in scale: activations stay finite and O(1).
final class SyntheticActivationTests: XCTestCase {
    /// d_model 256, 8 layers: deep enough to see the residual grow, small enough for a unit test.
    static let shape = SyntheticModelShape(dModel: 256, nHeads: 4, nLayers: 8, mlpHiddenSize: 768, vocabSize: 2048, maxSequenceLength: 512)

    func testActivationsStayFiniteAndBoundedThroughEveryLayer() throws {
        let directory = try syntheticCheckpoint(Self.shape)
        let checkpoint = try HFCheckpoint(directory: directory)
        let tokenizer = try Tokenizer(directory: directory)
        let tokens = tokenizer.encode("The quick brown fox jumps over the lazy dog. What is 12 + 30?")
            + Array(repeating: checkpoint.config.maskID, count: 16)
        // Loaded first: `threads: 1` applies to both passes (OpenBLAS may round otherwise with
        // another thread count, e.g. its Haswell sgemm kernels).
        let model = try LLaDAModel.load(path: directory.path, compute: ComputeContext(threads: 1))
        let report = try ActivationProbe.run(checkpoint: checkpoint, tokens: tokens)

        XCTAssertEqual(report.residualRMS.count, 1 + Self.shape.nLayers)
        XCTAssertTrue(report.logitsAreFinite)
        XCTAssertEqual(report.residualRMS[0], 0.02, accuracy: 0.002)  // the embedding std
        for (layer, rms) in report.residualRMS.enumerated() {
            XCTAssertTrue(rms.isFinite && rms > 0.01 && rms < 10, "layer \(layer): RMS \(rms)")
        }
        XCTAssertGreaterThan(report.residualRMS.last!, report.residualRMS[0])
        XCTAssertTrue(report.logitRMS > 0.05 && report.logitRMS < 10, "logit RMS \(report.logitRMS)")

        // The probe is the engine's forward pass: same logits as the loaded model, bit for bit.
        let logits = model.transformer.logits(tokens: tokens)
        XCTAssertEqual(logits.rows, report.logits.rows)
        XCTAssertEqual(logits.cols, report.logits.cols)
        XCTAssertTrue((0..<(logits.rows * logits.cols)).allSatisfy { logits.pointer[$0] == report.logits.pointer[$0] })
    }

    /// Matrices ~ N(0, 0.02²), residual projections 0.02/sqrt(2·n_layers), norms exactly 1.
    func testWeightsHaveTheDocumentedScales() throws {
        let directory = try syntheticCheckpoint(Self.shape, dtype: .f32)
        let checkpoint = try HFCheckpoint(directory: directory)
        let residualStd = 0.02 / Float(2 * Self.shape.nLayers).squareRoot()
        for (name, std) in [("model.transformer.wte.weight", Float(0.02)), ("model.transformer.blocks.3.q_proj.weight", 0.02),
                            ("model.transformer.blocks.3.ff_proj.weight", 0.02), ("model.transformer.blocks.3.attn_out.weight", residualStd),
                            ("model.transformer.blocks.3.ff_out.weight", residualStd), ("model.transformer.ff_out.weight", 0.02)] {
            let values = try checkpoint.readVector(name).array
            let mean = values.reduce(0, +) / Float(values.count)
            let measured = (values.reduce(0) { $0 + $1 * $1 } / Float(values.count)).squareRoot()
            XCTAssertEqual(mean, 0, accuracy: std * 0.01, name)
            XCTAssertEqual(measured, std, accuracy: std * 0.01, name)
            XCTAssertLessThanOrEqual(values.map(abs).max()!, std * 3.47, name)  // Irwin–Hall tails
        }
        for name in ["model.transformer.blocks.0.attn_norm.weight", "model.transformer.blocks.7.ff_norm.weight", "model.transformer.ln_f.weight"] {
            XCTAssertEqual(Set(try checkpoint.readVector(name).array), [1], name)
        }
    }

    /// bf16 files hold the f32 weights rounded to nearest even, the same values as f16 within f16's precision.
    func testDtypesStoreTheSameWeights() throws {
        let f32 = try HFCheckpoint(directory: try syntheticCheckpoint(dtype: .f32))
        let bf16 = try HFCheckpoint(directory: try syntheticCheckpoint(dtype: .bf16))
        let f16 = try HFCheckpoint(directory: try syntheticCheckpoint(dtype: .f16))
        let name = "model.transformer.blocks.1.up_proj.weight"
        let exact = try f32.readVector(name).array, rounded = try bf16.readVector(name).array, half = try f16.readVector(name).array
        for i in exact.indices {
            let bits = exact[i].bitPattern
            let expected = Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
            XCTAssertEqual(rounded[i], expected)
            XCTAssertEqual(half[i], exact[i], accuracy: abs(exact[i]) / 1024 + 1e-7)
        }
    }
}

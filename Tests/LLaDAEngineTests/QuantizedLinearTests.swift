import Foundation
import LLaDAEngine
import LLaDAKernels
import XCTest

/// QuantizedLinear (tiled dequantize + sgemm) and QuantizedEmbedding against f32 on the same values.
final class QuantizedLinearTests: XCTestCase {
    final class Memory {
        let pointer: UnsafeMutableRawPointer
        init(_ bytes: Int) { pointer = .allocate(byteCount: bytes, alignment: 64) }
        deinit { pointer.deallocate() }
    }

    /// Weights [rows × cols] encoded in `type`, and the f32 values they decode to.
    func encode(_ values: [Float], rows: Int, cols: Int, _ type: WeightType) -> (Memory, FloatMatrix) {
        let memory = Memory(type.byteCount(elements: values.count))
        var bad = 0
        switch type {
        case .f32: values.withUnsafeBytes { _ = memcpy(memory.pointer, $0.baseAddress!, values.count * 4) }
        case .f16: llada_f32_to_f16(values, memory.pointer.assumingMemoryBound(to: UInt16.self), values.count)
        case .q8_0: XCTAssertEqual(llada_quantize_q8_0(values, memory.pointer.assumingMemoryBound(to: UInt8.self), values.count, &bad), LLADA_QUANT_OK)
        case .q4_0: XCTAssertEqual(llada_quantize_q4_0(values, memory.pointer.assumingMemoryBound(to: UInt8.self), values.count, LLADA_Q4_SEARCH, &bad), LLADA_QUANT_OK)
        }
        let decoded = FloatMatrix(rows: rows, cols: cols)
        type.dequantize(memory.pointer, elements: values.count, into: decoded.pointer)
        return (memory, decoded)
    }

    func testMatchesDenseLinearOnTheDecodedWeightsAcrossTiles() {
        // 2100 × 512: tiles of 2048 rows, so the second tile is partial; large enough to dequantize in parallel.
        let rows = 2100, cols = 512, tokens = 5
        var noise = QuantFormatTests.Noise(state: 99)
        let weights = noise.values(rows * cols, sigma: 0.05)
        let x = FloatMatrix(rows: tokens, cols: cols)
        for i in 0..<tokens * cols { x.pointer[i] = noise.gaussian(1) }
        for type in WeightType.allCases {
            let (memory, decoded) = encode(weights, rows: rows, cols: cols, type)
            let layer = QuantizedLinear(type: type, outFeatures: rows, inFeatures: cols, data: memory.pointer, owner: memory)
            XCTAssertEqual(layer.weightBytes, type.byteCount(elements: rows * cols))
            let expected = FloatMatrix(rows: tokens, cols: rows), actual = FloatMatrix(rows: tokens, cols: rows)
            DenseLinear(weight: decoded).apply(x.pointer, rows: tokens, into: expected.pointer)
            actual.pointer.initialize(repeating: .nan, count: tokens * rows)
            layer.apply(x.pointer, rows: tokens, into: actual.pointer)
            var maxDiff: Float = 0, maxAbs: Float = 0
            for i in 0..<tokens * rows {
                maxDiff = max(maxDiff, abs(expected.pointer[i] - actual.pointer[i]))
                maxAbs = max(maxAbs, abs(expected.pointer[i]))
            }
            // Same products, possibly summed in another order by sgemm: f32 rounding only.
            XCTAssertLessThanOrEqual(maxDiff, 1e-5 * maxAbs, "\(type): max |Δ| \(maxDiff) of \(maxAbs)")
        }
    }

    func testEmbeddingRowsDecodeExactly() {
        let rows = 40, cols = 96
        var noise = QuantFormatTests.Noise(state: 3)
        let values = noise.values(rows * cols)
        for type in WeightType.allCases {
            let (memory, decoded) = encode(values, rows: rows, cols: cols, type)
            let table = QuantizedEmbedding(type: type, rows: rows, dimension: cols, data: memory.pointer, owner: memory)
            var row = [Float](repeating: .nan, count: cols)
            for token in [0, 17, rows - 1] {
                table.copyRow(token, into: &row)
                XCTAssertEqual(row, decoded.rowArray(token), "\(type) row \(token)")
            }
        }
    }
}

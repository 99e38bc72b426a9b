import LLaDAEngine
import LLaDAKernels
import XCTest

/// The repacked layout is what packed files store (layout 1): it must be invertible, identical
/// whether made on the pool or one thread, and made of self-contained groups so the converter
/// can repack a chunk's rows alone.
final class RepackLayoutTests: XCTestCase {
    func repack(_ format: WeightType, _ blocks: [UInt8], n: Int, k: Int, serial: Bool) -> [UInt8] {
        let type = format.kernelCode
        var packed = [UInt8](repeating: 0xEE, count: llada_repack_size(type, n, k))
        blocks.withUnsafeBytes { source in
            packed.withUnsafeMutableBytes { destination in
                if serial {
                    llada_repack_serial(type, source.baseAddress, destination.baseAddress, n, k)
                } else {
                    let pool = llada_compute_create(3, Int32(LLADA_GEMM_PATH_AUTO))
                    defer { llada_compute_free(pool) }
                    switch format {
                    case .q8_0: llada_repack_q8_0(pool, source.baseAddress, destination.baseAddress, n, k)
                    case .q4_0: llada_repack_q4_0(pool, source.baseAddress, destination.baseAddress, n, k)
                    case .f16: llada_repack_f16(pool, source.baseAddress!.assumingMemoryBound(to: UInt16.self), destination.baseAddress, n, k)
                    case .f32: XCTFail("f32 has no kernel")
                    }
                }
            }
        }
        return packed
    }

    func unrepack(_ format: WeightType, _ packed: [UInt8], n: Int, k: Int) -> [UInt8] {
        let type = format.kernelCode
        var blocks = [UInt8](repeating: 0, count: format.byteCount(elements: n * k))
        packed.withUnsafeBytes { source in
            blocks.withUnsafeMutableBytes { llada_unrepack(type, source.baseAddress, $0.baseAddress, n, k) }
        }
        return blocks
    }

    /// One identity for a weight type: the packed file's code is the kernels' code (llada_gemm.h).
    func testWeightTypeCodesAreTheKernelCodes() {
        XCTAssertEqual(WeightType.kernelTypes.map { $0.kernelCode }, [LLADA_GEMM_Q8_0, LLADA_GEMM_Q4_0, LLADA_GEMM_F16])
        XCTAssertEqual(WeightType.allCases.map { UInt32($0.rawValue) },
                       [LLADA_GEMM_F32, LLADA_GEMM_F16, LLADA_GEMM_Q8_0, LLADA_GEMM_Q4_0].map(\.rawValue))
        XCTAssertEqual(WeightType.allCases.filter(\.hasKernel), WeightType.kernelTypes.sorted { $0.rawValue < $1.rawValue })
    }

    func testRepackIsInvertibleAndTheSameOnOneThread() {
        for format in WeightType.kernelTypes {
            for (n, k) in [(16, 64), (37, 96), (5, 32), (50, 128)] {
                let blocks = KernelMatmulTests.weights(format, n: n, k: k, seed: UInt64(n * k))
                let pooled = repack(format, blocks, n: n, k: k, serial: false)
                XCTAssertEqual(repack(format, blocks, n: n, k: k, serial: true), pooled, "\(format) \(n)×\(k)")
                XCTAssertEqual(unrepack(format, pooled, n: n, k: k), blocks, "\(format) \(n)×\(k)")
            }
        }
    }

    func testGroupsAreSelfContained() {
        for format in WeightType.kernelTypes {
            let (n, k) = (53, 64)
            let type = format.kernelCode
            let groupBytes = llada_repack_group_bytes(type, k)
            let rowBytes = format.byteCount(elements: 1 * k)
            let blocks = KernelMatmulTests.weights(format, n: n, k: k, seed: 7)
            let whole = repack(format, blocks, n: n, k: k, serial: true)
            XCTAssertEqual(whole.count, 4 * groupBytes)
            // Rows 16…52 alone (the last group padded) are the whole repack's bytes from group 1 on.
            let tail = repack(format, Array(blocks[(16 * rowBytes)...]), n: n - 16, k: k, serial: true)
            XCTAssertEqual(tail, Array(whole[groupBytes...]), "\(format)")
        }
    }
}

import Foundation

/// RoPE in the "rotate half" (NeoX) layout, as LLaDA computes it in full precision:
/// inv_freq[i] = 1 / theta^(2i/d), angle = p · inv_freq duplicated to [θ, θ],
/// u' = u·cos + rotate_half(u)·sin with rotate_half(u) = [-u[d/2:], u[:d/2]]. With a `rotaryDim`
/// below the head's (LLaDA 2's partial rotary), d is `rotaryDim`: only each head's first
/// `rotaryDim` features turn, the rest pass unchanged.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let rotaryDim: Int
    public let maxPositions: Int
    /// cos and sin tables, [maxPositions × rotaryDim/2] (the second half repeats the first).
    private let cosTable: [Float]
    private let sinTable: [Float]

    public init(headDim: Int, maxPositions: Int, theta: Double, rotaryDim: Int? = nil) {
        self.headDim = headDim
        let rotaryDim = rotaryDim ?? headDim
        self.rotaryDim = rotaryDim
        self.maxPositions = maxPositions
        let half = rotaryDim / 2
        // Same f32 operations as the reference: theta ** (arange(0, d, 2) / d), then 1 / that.
        let invFreq: [Float] = (0..<half).map { i in 1 / Float(powf(Float(theta), Float(2 * i) / Float(rotaryDim))) }
        var cosTable = [Float](repeating: 0, count: maxPositions * half)
        var sinTable = cosTable
        for position in 0..<maxPositions {
            for i in 0..<half {
                let angle = Float(position) * invFreq[i]
                cosTable[position * half + i] = Float(cos(Double(angle)))
                sinTable[position * half + i] = Float(sin(Double(angle)))
            }
        }
        self.cosTable = cosTable
        self.sinTable = sinTable
    }

    /// Rotates every head of `rows` vectors in place; row r sits at sequence position positions[r].
    public func apply(_ data: UnsafeMutablePointer<Float>, rows: Int, heads: Int, positions: (Int) -> Int) {
        apply(data, rows: rows, heads: heads, rowStride: heads * headDim, positions: positions)
    }

    /// The same over rows `rowStride` floats apart, each holding `heads` heads at its start.
    public func apply(_ data: UnsafeMutablePointer<Float>, rows: Int, heads: Int, rowStride width: Int, positions: (Int) -> Int) {
        let half = rotaryDim / 2
        cosTable.withUnsafeBufferPointer { cosines in
            sinTable.withUnsafeBufferPointer { sines in
                for r in 0..<rows {
                    let base = positions(r) * half
                    for h in 0..<heads {
                        let u = data + r * width + h * headDim
                        for i in 0..<half {
                            let c = cosines[base + i], s = sines[base + i]
                            let first = u[i], second = u[i + half]
                            u[i] = first * c - second * s
                            u[i + half] = second * c + first * s
                        }
                    }
                }
            }
        }
    }
}

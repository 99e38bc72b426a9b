/// GPT-2's reversible byte <-> character table used by byte-level BPE: printable Latin-1 bytes map to
/// themselves and the other 68 bytes to U+0100... in byte order (space -> "Ġ", "\n" -> "Ċ").
package enum ByteLevel {
    /// The character standing for each byte value.
    package static let scalarForByte: [Unicode.Scalar] = {
        let printable = Array(UInt32(0x21)...0x7E) + Array(UInt32(0xA1)...0xAC) + Array(UInt32(0xAE)...0xFF)
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var nextShifted: UInt32 = 0x100
        for byte in 0..<256 {
            if printable.contains(UInt32(byte)) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(nextShifted)!
                nextShifted += 1
            }
        }
        return table
    }()

    /// Inverse of `scalarForByte`, indexed by scalar value (all symbols are below U+0144); -1 = no byte.
    static let byteForScalarValue: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() {
            table[Int(scalar.value)] = Int16(byte)
        }
        return table
    }()

    /// The vocabulary string of a single byte, e.g. "Ġ" for 0x20.
    package static func symbol(forByte byte: UInt8) -> String {
        String(Character(scalarForByte[Int(byte)]))
    }

    /// The byte-level symbol string for raw bytes ("a b" -> "aĠb"); used to look whole words up.
    package static func symbols<Bytes: Sequence<UInt8>>(forBytes bytes: Bytes) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(scalarForByte[Int(byte)]) }
        return String(scalars)
    }

    /// What the ByteLevel decoder emits for one token, as `tokenizers` does: if every character of the
    /// token is a byte symbol, those bytes; otherwise the token's own UTF-8 (this is how added tokens
    /// such as "<|eot_id|>" come out unchanged, while an added token spelled in byte symbols, e.g.
    /// "Ġx", is decoded to " x" like any other token).
    static func appendDecodedBytes(of token: String, to output: inout [UInt8]) {
        let mark = output.count
        for scalar in token.unicodeScalars {
            let value = Int(scalar.value)
            guard value < byteForScalarValue.count, byteForScalarValue[value] >= 0 else {
                output.removeSubrange(mark...)
                output.append(contentsOf: token.utf8)
                return
            }
            output.append(UInt8(byteForScalarValue[value]))
        }
    }
}

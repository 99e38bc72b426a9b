#ifndef LLADA_QUANT_H
#define LLADA_QUANT_H

// Weight block formats of the packed model file and their scalar reference quantize /
// dequantize functions, plus the CRC32C checksum and the byte shuffle the file uses.
// The formats are specified in docs/packed-format.md; the comments here summarise them.
//
// Blocks run along the input dimension of a weight matrix [out × in] (row-major, in % 32 == 0),
// so block b of row r holds W[r][32b … 32b+31]. All multi-byte fields are little-endian.
//
//   q8_0 (34 bytes / 32 weights):  fp16 d | int8 q[32]            w[i] = d · q[i],  q ∈ [-127, 127]
//   q4_0 (18 bytes / 32 weights):  fp16 d | uint8 qs[16]          w[i] = d · (u[i] − 8)
//        u[i]    = qs[i] & 0x0F        for i = 0 … 15  (low nibbles: first half of the block)
//        u[i+16] = qs[i] >> 4          for i = 0 … 15  (high nibbles: second half)
//
// The quantizers are pure functions of their input (no FMA contraction, fixed evaluation order),
// so every machine produces the same bytes from the same f32 values.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LLADA_QBLOCK 32
#define LLADA_Q8_0_BYTES 34
#define LLADA_Q4_0_BYTES 18

/// Result of a quantizer. On failure `*bad_index` is the index of the offending input element.
typedef enum {
    LLADA_QUANT_OK = 0,
    LLADA_QUANT_NONFINITE = 1,   ///< NaN or ±inf in the input
    LLADA_QUANT_RANGE = 2,       ///< the block's scale does not fit fp16 (|w| too large for the type)
} llada_quant_status;

/// How q4_0 picks each block's scale.
typedef enum {
    /// Least squared error over the candidate set below (the converter's choice).
    LLADA_Q4_SEARCH = 0,
    /// Plain d = max|w| / 7, values in [-7, 7]: the baseline the search is measured against.
    LLADA_Q4_MAXABS = 1,
} llada_q4_method;

/// q8_0: d = fp16(max|w| / 127); q[i] = clamp(rint(w[i] · (1/d)), -127, 127); all-zero blocks get d = 0, q = 0.
/// `count` is a multiple of 32; `dst` receives count/32 blocks.
llada_quant_status llada_quantize_q8_0(const float *src, uint8_t *dst, size_t count, size_t *bad_index);
void llada_dequantize_q8_0(const uint8_t *src, float *dst, size_t count);

/// q4_0 with the scale chosen by `method`; see docs/packed-format.md for the exact candidate set.
llada_quant_status llada_quantize_q4_0(const float *src, uint8_t *dst, size_t count, llada_q4_method method,
                                       size_t *bad_index);
/// The scalar reference of llada_quantize_q4_0 (which runs a vectorised twin where the CPU has one):
/// both give the same bytes for every input, which the tests hold them to.
llada_quant_status llada_quantize_q4_0_scalar(const float *src, uint8_t *dst, size_t count, llada_q4_method method,
                                              size_t *bad_index);
void llada_dequantize_q4_0(const uint8_t *src, float *dst, size_t count);

/// Sum of squared errors of one 32-weight q4_0 block against the f32 values it encodes (for tests and measurements).
double llada_q4_0_block_sse(const float *src, const uint8_t *block);

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF), as in iSCSI / ext4.
/// `crc` is the value returned for the preceding bytes (0 to start). Uses SSE4.2 / ARMv8 CRC when present.
uint32_t llada_crc32c(uint32_t crc, const void *data, size_t length);
uint32_t llada_crc32c_scalar(uint32_t crc, const void *data, size_t length);

/// Byte shuffle: record r's byte k goes to dst[k · records + r] (byte planes), count = records · record_size.
void llada_shuffle_bytes(const uint8_t *src, uint8_t *dst, size_t records, size_t record_size);
void llada_unshuffle_bytes(const uint8_t *src, uint8_t *dst, size_t records, size_t record_size);

#ifdef __cplusplus
}
#endif

#endif

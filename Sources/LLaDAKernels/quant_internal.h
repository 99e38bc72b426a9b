// Helpers shared by the scalar quantizers (quant.c) and their vectorised twins: the pieces that
// define the formats' exact arithmetic. Included only by files with FP contraction off.
#ifndef LLADA_QUANT_INTERNAL_H
#define LLADA_QUANT_INTERNAL_H
#include "llada_quant.h"
#include "LLaDAKernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t to_f16(float value) {
    uint16_t half;
    llada_f32_to_f16_scalar(&value, &half, 1);
    return half;
}

static inline float from_f16(uint16_t half) {
    float value;
    llada_f16_to_f32_scalar(&half, &value, 1);
    return value;
}

static inline void store_u16(uint8_t *dst, uint16_t value) {
    dst[0] = (uint8_t)(value & 0xff);
    dst[1] = (uint8_t)(value >> 8);
}

static inline uint16_t load_u16(const uint8_t *src) { return (uint16_t)(src[0] | (src[1] << 8)); }

/// Round to nearest, ties to even (what rintf does in the default mode), without a libm call:
/// adding and subtracting 1.5·2^23 leaves the rounded integer for |v| < 2^22. Callers clamp the
/// result to at most ±127, so pre-clamping v to ±256 changes nothing and keeps it in range.
static inline float round_even(float v) {
    v = v > 256.0f ? 256.0f : (v < -256.0f ? -256.0f : v);
    const float magic = 12582912.0f;   // strict IEEE semantics (no -ffast-math) keep (v + m) − m intact
    return (v + magic) - magic;
}

static inline int is_finite_half(uint16_t half) { return (half & 0x7c00) != 0x7c00; }

/// Index of the first non-finite value, or `count` when all are finite.
static inline size_t first_nonfinite(const float *src, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(src[i])) return i;
    }
    return count;
}

static inline float block_absmax(const float *x, size_t *argmax) {
    float amax = 0;
    size_t at = 0;
    for (size_t i = 0; i < LLADA_QBLOCK; i++) {
        float a = fabsf(x[i]);
        if (a > amax) { amax = a; at = i; }
    }
    *argmax = at;
    return amax;
}

static inline void q4_store(uint8_t *out, uint16_t half, const int8_t *q) {
    store_u16(out, half);
    for (size_t i = 0; i < 16; i++) {
        out[2 + i] = (uint8_t)((q[i] + 8) | ((q[i + 16] + 8) << 4));
    }
}

/// Candidate scales of the search, as multipliers τ in d = −m/τ (m: the block's largest-magnitude
/// value). τ = 7 reproduces max-abs/7 (so the search is never worse than it); τ > 8 deliberately
/// clips m to −8 when that lowers the total error.
static const float q4_taus[9] = {7.0f, 7.25f, 7.5f, 7.75f, 8.0f, 8.25f, 8.5f, 8.75f, 9.0f};


#if defined(__x86_64__)
/// q4_0 with the search, eight blocks at a time (AVX2); the same bytes as the scalar search.
llada_quant_status llada_quantize_q4_0_avx2(const float *src, uint8_t *dst, size_t count, size_t *bad_index);
#endif

#endif

// Element conversions between bf16 / f16 and f32.
#include "LLaDAKernels.h"
#include "dispatch.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

void llada_bf16_to_f32_scalar(const uint16_t *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) {
        uint32_t bits = (uint32_t)src[i] << 16;
        memcpy(&dst[i], &bits, 4);
    }
}

static float half_bits_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0x1f) {                       // inf / nan
        // A NaN comes out quiet, as VCVTPH2PS makes it: the F16C path and this twin stay bit-identical.
        bits = sign | 0x7f800000u | (mantissa << 13) | (mantissa ? 0x00400000u : 0);
    } else if (exponent != 0) {                   // normal
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {                   // zero
        bits = sign;
    } else {                                      // subnormal: renormalise
        int shift = 0;
        while ((mantissa & 0x400) == 0) { mantissa <<= 1; shift++; }
        mantissa &= 0x3ff;
        bits = sign | ((uint32_t)(113 - shift) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void llada_f16_to_f32_scalar(const uint16_t *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) dst[i] = half_bits_to_float(src[i]);
}

// Round to nearest even, as the hardware conversion does; overflow goes to inf.
static uint16_t float_to_half_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t abs = x & 0x7fffffffu;
    if (abs >= 0x7f800000u) {                                  // inf / nan
        return (uint16_t)(sign | 0x7c00 | (abs > 0x7f800000u ? (0x200 | ((abs >> 13) & 0x3ff)) : 0));
    }
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); // rounds past the largest half
    if (abs < 0x38800000u) {                                   // subnormal or zero in half
        if (abs < 0x33000000u) return (uint16_t)sign;          // below half of the smallest subnormal
        uint32_t exponent = abs >> 23;
        uint32_t mantissa = (abs & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - exponent;                       // 14 + (112 - exponent) + 1 - 1
        uint32_t half = mantissa >> shift;
        uint32_t rest = mantissa & ((1u << shift) - 1);
        uint32_t midpoint = 1u << (shift - 1);
        if (rest > midpoint || (rest == midpoint && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t bits = abs - 0x38000000u;                         // rebias exponent 127 -> 15
    uint32_t rest = bits & 0x1fff;
    bits >>= 13;
    if (rest > 0x1000 || (rest == 0x1000 && (bits & 1))) bits++;
    return (uint16_t)(sign | bits);
}

void llada_f32_to_f16_scalar(const float *src, uint16_t *dst, size_t count) {
    for (size_t i = 0; i < count; i++) dst[i] = float_to_half_bits(src[i]);
}

#if defined(__x86_64__)
__attribute__((target("avx2,f16c")))
static void f16_to_f32_f16c(const uint16_t *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    llada_f16_to_f32_scalar(src + i, dst + i, count - i);
}

__attribute__((target("avx2,f16c")))
static void f32_to_f16_f16c(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    llada_f32_to_f16_scalar(src + i, dst + i, count - i);
}

__attribute__((target("avx2")))
static void bf16_to_f32_avx2(const uint16_t *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_slli_epi32(wide, 16));
    }
    llada_bf16_to_f32_scalar(src + i, dst + i, count - i);
}
#endif

void llada_bf16_to_f32(const uint16_t *src, float *dst, size_t count) {
#if defined(__x86_64__)
    if (llada_cpu_detect() >= LLADA_GEMM_PATH_AVX2) { bf16_to_f32_avx2(src, dst, count); return; }
#endif
    llada_bf16_to_f32_scalar(src, dst, count);
}

void llada_f16_to_f32(const uint16_t *src, float *dst, size_t count) {
#if defined(__x86_64__)
    if (llada_cpu_detect() >= LLADA_GEMM_PATH_AVX2) { f16_to_f32_f16c(src, dst, count); return; }
#endif
    llada_f16_to_f32_scalar(src, dst, count);
}

void llada_f32_to_f16(const float *src, uint16_t *dst, size_t count) {
#if defined(__x86_64__)
    if (llada_cpu_detect() >= LLADA_GEMM_PATH_AVX2) { f32_to_f16_f16c(src, dst, count); return; }
#endif
    llada_f32_to_f16_scalar(src, dst, count);
}

// AVX2 + FMA path. Same layout and lane scheme as the AVX-512 one (an int32 lane per output
// column, activations broadcast), on 8-lane ymm registers: a 16-column group is done as two
// halves of 8 columns. Per 4 k-bytes and row the inner step is one vpmaddubsw and one vpaddw
// into int16 running sums, the pair the AVX2 peak (peak.c) measures; the sums widen to int32 once
// per 32-block (vpmaddwd), so with the weights unpacked once per tile the step carries the rows.
//   q4: vpmaddubsw(u, x) with u = nibble ∈ [0, 15] and |x| ≤ 127 gives pair sums ≤ 3810, so the
//       8 steps of a block add up in int16 (≤ 30480); the −8 offset comes in through −8·Σq.
//   q8: u = q + 128 ∈ [0, 255] would overflow vpmaddubsw's int16 pairs, so it is split into its
//       nibbles u = 16·h + l, each a q4-like product (two int16 sums ≤ 30480), widened as
//       16·Σh + Σl; the −128 offset comes in through −128·Σq as on AVX-512. That is 2 vpmaddubsw
//       per 32 products against vpdpbusd's half of one zmm op: on Zen 4 q8 here cannot pass
//       about 0.45 of the AVX-512 rate (docs/kernels.md).
#pragma STDC FP_CONTRACT OFF
#include "gemm_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define T2 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("clang loop unroll(full)")

#define MR_F16 12

INLINE int32_t load_i32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

INLINE T2 void store_cols(float *y, __m256 v, size_t cols) {
    if (cols >= 8) {
        _mm256_storeu_ps(y, v);
    } else {
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_maskstore_ps(y, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols), lanes), v);
    }
}

// Tile heights, measured on Zen 4 (Benchmarks/README.md, issue 17): 5 rows for q4 and 4 rows for
// q8, each over one half (8 columns) of a group, were the fastest of 3–8 rows × one or both halves.
#define Q4_MR 5
#define Q8_MR 4

// An empty asm that needs v in a register: placed after each k step on every running sum, it
// keeps clang from reordering the tile into one row at a time over all steps (which spills the
// unpacked weights and reloads them per row: 1.5 loads per vpmaddubsw, measured 0.6× slower).
#define PIN(v) __asm__("" : "+x"(v))

#define MAX_MR 5   // the tallest tile (arrays sized by the MR parameter would be VLAs)

// Columns 16g + 8h … 16g + 8h + 7 of rows m0 … m0 + MR − 1.
INLINE T2 void quant_tile(const int MR, const int Q4, const gemm_args *a, size_t g, size_t m0, size_t h) {
    const size_t M = a->m, nb = a->nb, record = Q4 ? 256 : 512;
    const uint8_t *wq = a->wq + g * a->wq_group + 32 * h;
    const uint16_t *ws = a->ws + g * a->ws_group + 8 * h;
    const int8_t *xq = a->xq + m0 * 32;
    const float *xd = a->xd + m0;
    const int32_t *xc = a->xc + m0;
    const __m256i nibble = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1), sixteen = _mm256_set1_epi16(16);
    __m256 acc[MAX_MR];
    UNROLL for (int r = 0; r < MR; r++) acc[r] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
        __m256i dot[MAX_MR];
        UNROLL for (int i = 0; i < (Q4 ? 4 : 8); i++) _mm_prefetch((const char *)(wq + GEMM_PREFETCH + 64 * i), _MM_HINT_T0);
        if (Q4) {
            __m256i sum[MAX_MR];
            UNROLL for (int r = 0; r < MR; r++) sum[r] = _mm256_setzero_si256();
            UNROLL for (int v = 0; v < 4; v++) {
                __m256i p = _mm256_loadu_si256((const __m256i *)(wq + 64 * v));
                __m256i lo = _mm256_and_si256(p, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), nibble);
                UNROLL for (int r = 0; r < MR; r++) {
                    __m256i x0 = _mm256_set1_epi32(load_i32(xq + 32 * r + 8 * v));
                    sum[r] = _mm256_add_epi16(sum[r], _mm256_maddubs_epi16(lo, x0));
                    __m256i x1 = _mm256_set1_epi32(load_i32(xq + 32 * r + 8 * v + 4));
                    sum[r] = _mm256_add_epi16(sum[r], _mm256_maddubs_epi16(hi, x1));
                }
                UNROLL for (int r = 0; r < MR; r++) PIN(sum[r]);
            }
            UNROLL for (int r = 0; r < MR; r++) dot[r] = _mm256_add_epi32(_mm256_madd_epi16(sum[r], ones), _mm256_set1_epi32(xc[r]));
        } else {
            __m256i lsum[MAX_MR], hsum[MAX_MR];
            UNROLL for (int r = 0; r < MR; r++) lsum[r] = hsum[r] = _mm256_setzero_si256();
            UNROLL for (int t = 0; t < 8; t++) {
                __m256i p = _mm256_loadu_si256((const __m256i *)(wq + 64 * t));
                __m256i lo = _mm256_and_si256(p, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(p, 4), nibble);
                UNROLL for (int r = 0; r < MR; r++) {
                    __m256i x = _mm256_set1_epi32(load_i32(xq + 32 * r + 4 * t));
                    lsum[r] = _mm256_add_epi16(lsum[r], _mm256_maddubs_epi16(lo, x));
                    hsum[r] = _mm256_add_epi16(hsum[r], _mm256_maddubs_epi16(hi, x));
                }
                UNROLL for (int r = 0; r < MR; r++) {
                    PIN(lsum[r]);
                    PIN(hsum[r]);
                }
            }
            UNROLL for (int r = 0; r < MR; r++)
                dot[r] = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(hsum[r], sixteen), _mm256_madd_epi16(lsum[r], ones)),
                                          _mm256_set1_epi32(xc[r]));
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)ws));
        UNROLL for (int r = 0; r < MR; r++) {
            __m256 s = _mm256_mul_ps(dw, _mm256_set1_ps(xd[r]));
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[r]), s, acc[r]);
        }
        wq += record;
        ws += 16;
        xq += 32 * M;
        xd += M;
        xc += M;
    }
    size_t cols = a->n - g * 16 - 8 * h;
    UNROLL for (int r = 0; r < MR; r++) store_cols(a->y + (m0 + r) * a->n + g * 16 + 8 * h, acc[r], cols);
}

INLINE T2 void f16_half(const int MR, const gemm_args *a, size_t g, size_t m0, size_t h) {
    const size_t k = a->k;
    const uint16_t *w = (const uint16_t *)a->wq + g * k * 16 + 8 * h;
    const float *x = a->xt + m0;
    __m256 acc[MR_F16];
    UNROLL for (int r = 0; r < MR; r++) acc[r] = _mm256_setzero_ps();
    for (size_t c = 0; c < k; c++) {
        __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 16 * c)));
        UNROLL for (int r = 0; r < MR; r++) acc[r] = _mm256_fmadd_ps(wv, _mm256_set1_ps(x[c * a->m + r]), acc[r]);
    }
    size_t cols = a->n - g * 16 - 8 * h;
    UNROLL for (int r = 0; r < MR; r++) store_cols(a->y + (m0 + r) * a->n + g * 16 + 8 * h, acc[r], cols);
}

// The second half is skipped when the group's columns end in the first one.
#define Q8_FN(R)                                                                         \
    static T2 void q8_##R(const gemm_args *a, size_t g, size_t m0) {                    \
        quant_tile(R, 0, a, g, m0, 0);                                                   \
        if (a->n - g * 16 > 8) quant_tile(R, 0, a, g, m0, 1);                            \
    }
#define Q4_FN(R)                                                                         \
    static T2 void q4_##R(const gemm_args *a, size_t g, size_t m0) {                    \
        quant_tile(R, 1, a, g, m0, 0);                                                   \
        if (a->n - g * 16 > 8) quant_tile(R, 1, a, g, m0, 1);                            \
    }
#define F_TILE(R)                                                                        \
    static T2 void f16_##R(const gemm_args *a, size_t g, size_t m0) {                   \
        f16_half(R, a, g, m0, 0);                                                        \
        if (a->n - g * 16 > 8) f16_half(R, a, g, m0, 1);                                 \
    }
Q8_FN(1) Q8_FN(2) Q8_FN(3) Q8_FN(4)
Q4_FN(1) Q4_FN(2) Q4_FN(3) Q4_FN(4) Q4_FN(5)
F_TILE(1) F_TILE(2) F_TILE(3) F_TILE(4) F_TILE(5) F_TILE(6) F_TILE(7) F_TILE(8) F_TILE(9) F_TILE(10) F_TILE(11)
F_TILE(12)

typedef void (*fixed_tile)(const gemm_args *, size_t, size_t);
static const fixed_tile q8_tiles[Q8_MR] = {q8_1, q8_2, q8_3, q8_4};
static const fixed_tile q4_tiles[Q4_MR] = {q4_1, q4_2, q4_3, q4_4, q4_5};
static const fixed_tile f16_tiles[MR_F16] = {f16_1, f16_2, f16_3, f16_4,  f16_5,  f16_6,
                                             f16_7, f16_8, f16_9, f16_10, f16_11, f16_12};

static void tile_q8(const gemm_args *a, size_t g, size_t m0, size_t mr) { q8_tiles[mr - 1](a, g, m0); }
static void tile_q4(const gemm_args *a, size_t g, size_t m0, size_t mr) { q4_tiles[mr - 1](a, g, m0); }
static void tile_f16(const gemm_args *a, size_t g, size_t m0, size_t mr) { f16_tiles[mr - 1](a, g, m0); }

INLINE T2 float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

INLINE T2 int32_t hsum8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

static T2 void quantize(const float *x, size_t m, size_t k, size_t r0, size_t r1, int32_t offset, int8_t *xq,
                        float *xd, int32_t *xc) {
    const size_t nb = k / 32;
    const __m256 sign = _mm256_set1_ps(-0.0f), largest = _mm256_set1_ps(3.4028234e38f);
    const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (size_t r = r0; r < r1; r++)
        for (size_t b = 0; b < nb; b++) {
            const float *src = x + r * k + b * 32;
            __m256 v[4];
            __m256 am = _mm256_setzero_ps(), finite = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
            UNROLL for (int i = 0; i < 4; i++) {
                v[i] = _mm256_loadu_ps(src + 8 * i);
                __m256 a = _mm256_andnot_ps(sign, v[i]);
                am = _mm256_max_ps(am, a);
                // vmaxps drops NaNs, so look for non-finite values explicitly.
                finite = _mm256_and_ps(finite, _mm256_cmp_ps(a, largest, _CMP_LE_OQ));
            }
            float amax = _mm256_movemask_ps(finite) == 0xFF ? hmax8(am) : __builtin_inff();
            float d, id;
            gemm_block_scale(amax, &d, &id);
            __m256 vid = _mm256_set1_ps(id);
            __m256i q[4];
            __m256i sum = _mm256_setzero_si256();
            UNROLL for (int i = 0; i < 4; i++) {
                q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], vid));
                q[i] = _mm256_min_epi32(_mm256_max_epi32(q[i], lo), hi);
                sum = _mm256_add_epi32(sum, q[i]);
            }
            // The packs work per 128-bit lane, leaving 4-byte groups in the order 0 2 4 6 1 3 5 7.
            __m256i p8 = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
            p8 = _mm256_permutevar8x32_epi32(p8, order);
            _mm256_storeu_si256((__m256i *)(xq + (b * m + r) * 32), p8);
            xd[b * m + r] = d;
            xc[b * m + r] = -offset * hsum8(sum);
        }
}

const gemm_path gemm_path_avx2 = {
    .tile = {[LLADA_GEMM_Q8_0] = tile_q8, [LLADA_GEMM_Q4_0] = tile_q4, [LLADA_GEMM_F16] = tile_f16},
    .mr = {[LLADA_GEMM_Q8_0] = Q8_MR, [LLADA_GEMM_Q4_0] = Q4_MR, [LLADA_GEMM_F16] = MR_F16},
    .offset = {[LLADA_GEMM_Q8_0] = 128, [LLADA_GEMM_Q4_0] = 8},
    .quant = quantize,
};

#endif

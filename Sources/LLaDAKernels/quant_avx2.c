// The q4_0 scale search of quant.c, eight blocks at a time: each AVX2 lane runs one block through
// exactly the scalar search's operations in the scalar order (float quantization, double error
// sums accumulated element by element, the same candidates and refits), so the bytes are the same.
// Vectorising across blocks rather than within one keeps every sum's order, and so its rounding.
#include "quant_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#define LANES 8

/// One block per lane, element-major: x[i] holds element i of the eight blocks, also as doubles.
typedef struct {
    __m256 x[LLADA_QBLOCK];
    __m256d xlo[LLADA_QBLOCK], xhi[LLADA_QBLOCK];
} q4_group;

/// round_even then the clamp to [-8, 7] of quant.c, on x · (1/d).
__attribute__((target("avx2"), always_inline))
static inline __m256 q4_values(__m256 x, __m256 id) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    __m256 v = _mm256_mul_ps(x, id);
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-256.0f)), _mm256_set1_ps(256.0f));
    v = _mm256_sub_ps(_mm256_add_ps(v, magic), magic);
    return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-8.0f)), _mm256_set1_ps(7.0f));
}

/// q4_try of quant.c per lane: the squared error for scale d (id = 1/d) and, with `sums`, Σ w·q
/// and Σ q² for the refit. The values themselves are recomputed from the winning scale at the end.
__attribute__((target("avx2"), always_inline))
static inline void q4_try8(const q4_group *g, __m256 d, __m256 id, int sums, double err[LANES], double wq[LANES], double qq[LANES]) {
    __m256d e_lo = _mm256_setzero_pd(), e_hi = _mm256_setzero_pd();
    __m256d w_lo = _mm256_setzero_pd(), w_hi = _mm256_setzero_pd();
    __m256d s_lo = _mm256_setzero_pd(), s_hi = _mm256_setzero_pd();
    for (int i = 0; i < LLADA_QBLOCK; i++) {
        __m256 v = q4_values(g->x[i], id);
        __m256 dv = _mm256_mul_ps(d, v);
        __m256d d_lo = _mm256_sub_pd(g->xlo[i], _mm256_cvtps_pd(_mm256_castps256_ps128(dv)));
        __m256d d_hi = _mm256_sub_pd(g->xhi[i], _mm256_cvtps_pd(_mm256_extractf128_ps(dv, 1)));
        e_lo = _mm256_add_pd(e_lo, _mm256_mul_pd(d_lo, d_lo));
        e_hi = _mm256_add_pd(e_hi, _mm256_mul_pd(d_hi, d_hi));
        if (sums) {
            __m256d v_lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), v_hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
            w_lo = _mm256_add_pd(w_lo, _mm256_mul_pd(g->xlo[i], v_lo));
            w_hi = _mm256_add_pd(w_hi, _mm256_mul_pd(g->xhi[i], v_hi));
            s_lo = _mm256_add_pd(s_lo, _mm256_mul_pd(v_lo, v_lo));
            s_hi = _mm256_add_pd(s_hi, _mm256_mul_pd(v_hi, v_hi));
        }
    }
    _mm256_storeu_pd(err, e_lo); _mm256_storeu_pd(err + 4, e_hi);
    if (sums) {
        _mm256_storeu_pd(wq, w_lo); _mm256_storeu_pd(wq + 4, w_hi);
        _mm256_storeu_pd(qq, s_lo); _mm256_storeu_pd(qq + 4, s_hi);
    }
}

/// Two four-lane double masks as one eight-lane float mask.
__attribute__((target("avx2")))
static inline __m256 narrow_mask(__m256d lo, __m256d hi) {
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    __m128i a = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(lo), even));
    __m128i b = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(hi), even));
    return _mm256_castsi256_ps(_mm256_set_m128i(b, a));
}

/// Whether each half is a usable scale (nonzero, finite), as quant.c checks it.
__attribute__((target("avx2,f16c")))
static inline __m256 usable_scales(__m128i half) {
    __m256 d = _mm256_cvtph_ps(half);
    __m256i exponent = _mm256_and_si256(_mm256_cvtepu16_epi32(half), _mm256_set1_epi32(0x7c00));
    __m256i infinite = _mm256_cmpeq_epi32(exponent, _mm256_set1_epi32(0x7c00));
    return _mm256_andnot_ps(_mm256_castsi256_ps(infinite), _mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_NEQ_OQ));
}

/// Tries one scale per lane (lanes not `usable` are skipped) and keeps each lane's best so far.
__attribute__((target("avx2,f16c"), always_inline))
static inline void q4_consider8(const q4_group *g, __m128i half, __m256 usable, int sums, double best_err[LANES],
                                uint16_t best_half[LANES], double wq[LANES], double qq[LANES]) {
    __m256 d = _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_cvtph_ps(half), usable);
    double err[LANES];
    q4_try8(g, d, _mm256_div_ps(_mm256_set1_ps(1.0f), d), sums, err, wq, qq);
    uint16_t halves[LANES];
    _mm_storeu_si128((__m128i *)halves, half);
    int use = _mm256_movemask_ps(usable);
    for (int l = 0; l < LANES; l++) {
        if ((use >> l & 1) && err[l] < best_err[l]) { best_err[l] = err[l]; best_half[l] = halves[l]; }
    }
}

/// The search of quant.c for eight consecutive blocks whose max-abs scale is in range.
__attribute__((target("avx2,f16c")))
static void q4_search8(const float *src, uint8_t *dst) {
    q4_group g;
    float m[LANES], column[LLADA_QBLOCK][LANES];
    for (int l = 0; l < LANES; l++) {
        const float *x = src + (size_t)l * LLADA_QBLOCK;
        size_t at;
        block_absmax(x, &at);
        m[l] = x[at];
        for (int i = 0; i < LLADA_QBLOCK; i++) column[i][l] = x[i];
    }
    for (int i = 0; i < LLADA_QBLOCK; i++) {
        g.x[i] = _mm256_loadu_ps(column[i]);
        g.xlo[i] = _mm256_cvtps_pd(_mm256_castps256_ps128(g.x[i]));
        g.xhi[i] = _mm256_cvtps_pd(_mm256_extractf128_ps(g.x[i], 1));
    }
    double best_err[LANES], wq[LANES], qq[LANES];
    uint16_t best_half[LANES] = {0};   // 0: no usable scale, all values 0 (as in quant.c)
    for (int l = 0; l < LANES; l++) best_err[l] = INFINITY;
    const __m256 minus_m = _mm256_sub_ps(_mm256_setzero_ps(), _mm256_loadu_ps(m));
    for (size_t k = 0; k < sizeof q4_taus / sizeof q4_taus[0]; k++) {
        // F16C rounds to nearest even, as to_f16 does (QuantTwinTests compares the bytes of both paths).
        __m128i half = _mm256_cvtps_ph(_mm256_div_ps(minus_m, _mm256_set1_ps(q4_taus[k])), _MM_FROUND_TO_NEAREST_INT);
        __m256 usable = usable_scales(half);
        q4_consider8(&g, half, usable, 1, best_err, best_half, wq, qq);
        // The least-squares refit of each usable lane's assignment (none where Σ q² = 0).
        __m256d qq_lo = _mm256_loadu_pd(qq), qq_hi = _mm256_loadu_pd(qq + 4);
        __m256 fit = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_div_pd(_mm256_loadu_pd(wq + 4), qq_hi)),
                                     _mm256_cvtpd_ps(_mm256_div_pd(_mm256_loadu_pd(wq), qq_lo)));
        __m256 has_q = narrow_mask(_mm256_cmp_pd(qq_lo, _mm256_setzero_pd(), _CMP_NEQ_OQ),
                                   _mm256_cmp_pd(qq_hi, _mm256_setzero_pd(), _CMP_NEQ_OQ));
        __m128i refit = _mm256_cvtps_ph(fit, _MM_FROUND_TO_NEAREST_INT);
        __m256 refit_usable = _mm256_and_ps(_mm256_and_ps(usable_scales(refit), usable), has_q);
        if (_mm256_movemask_ps(refit_usable)) q4_consider8(&g, refit, refit_usable, 0, best_err, best_half, wq, qq);
    }
    // The winning values: q4_try's for the chosen scale, 0 where no scale was usable.
    __m128i best = _mm_loadu_si128((const __m128i *)best_half);
    __m256 chosen = usable_scales(best);
    __m256 d = _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_cvtph_ps(best), chosen);
    __m256 id = _mm256_div_ps(_mm256_set1_ps(1.0f), d);
    for (int i = 0; i < LLADA_QBLOCK; i++) _mm256_storeu_ps(column[i], _mm256_and_ps(q4_values(g.x[i], id), chosen));
    for (int l = 0; l < LANES; l++) {
        int8_t q[LLADA_QBLOCK];
        for (int i = 0; i < LLADA_QBLOCK; i++) q[i] = (int8_t)column[i][l];
        q4_store(dst + (size_t)l * LLADA_Q4_0_BYTES, best_half[l], q);
    }
}

llada_quant_status llada_quantize_q4_0_avx2(const float *src, uint8_t *dst, size_t count, size_t *bad_index) {
    size_t bad = first_nonfinite(src, count);
    if (bad < count) { if (bad_index) *bad_index = bad; return LLADA_QUANT_NONFINITE; }
    size_t blocks = count / LLADA_QBLOCK, b = 0;
    for (; b + LANES <= blocks; b += LANES) {
        const float *x = src + b * LLADA_QBLOCK;
        int in_range = 1;
        for (int l = 0; l < LANES && in_range; l++) {
            size_t at;
            in_range = is_finite_half(to_f16(block_absmax(x + (size_t)l * LLADA_QBLOCK, &at) / 7.0f));
        }
        // A block out of range: the scalar search from here reports it as the scalar path does.
        if (!in_range) break;
        q4_search8(x, dst + b * LLADA_Q4_0_BYTES);
    }
    if (b == blocks) return LLADA_QUANT_OK;
    llada_quant_status status = llada_quantize_q4_0_scalar(src + b * LLADA_QBLOCK, dst + b * LLADA_Q4_0_BYTES,
                                                           (blocks - b) * LLADA_QBLOCK, LLADA_Q4_SEARCH, bad_index);
    if (status != LLADA_QUANT_OK && bad_index) *bad_index += b * LLADA_QBLOCK;
    return status;
}
#endif

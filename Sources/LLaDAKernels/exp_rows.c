// The row ops built on exp: the attention softmax and SwiGLU's silu. libm's expf is scalar
// (~5 ns a call); at the 8B's 640 keys × 32 queries × 1024 heads a step, the attention
// softmax alone took a third of the attention time. Every path evaluates the same exp
// (below) with the same operations, and the softmax sums in the same 16 lanes, so the AVX2
// and AVX-512 paths are bit-identical to the scalar twin.
//
// exp(x): n = rint(x·log2 e), r = x − n·ln2 in two parts (Cephes' C1 + C2), exp(r) by Cephes'
// degree-7 polynomial evaluated with FMAs, times 2^n built in the exponent bits; ≤ 2 ulp from
// −87.3 to 88.3. Below −87.336 it gives 0; above 88.376 it is clamped there (≈ 2.4e38): softmax
// inputs are ≤ 0, and silu(g) for g < −88 then comes out as ≈ g·4e-39 instead of g·e^g, both
// below 1e-36.
#include "LLaDAKernels.h"
#include "dispatch.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define EXP_HI 88.3762626647949f
#define EXP_LO (-87.3365447504f)
#define LOG2E 1.44269504088896341f
#define LN2_C1 0.693359375f
#define LN2_C2 (-2.12194440e-4f)
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f

static inline float exp_scalar(float x) {
    if (x != x) return x;
    if (x < EXP_LO) return 0.0f;
    x = x > EXP_HI ? EXP_HI : x;
    float n = rintf(x * LOG2E);
    float r = fmaf(-n, LN2_C1, x);
    r = fmaf(-n, LN2_C2, r);
    float p = fmaf(P0, r, P1);
    p = fmaf(p, r, P2);
    p = fmaf(p, r, P3);
    p = fmaf(p, r, P4);
    p = fmaf(p, r, P5);
    p = fmaf(p, r * r, r) + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

// Softmax sums e[i] into lane i mod 16, then folds the lanes by halves (8, 4, 2, 1).
static float fold16(float lanes[16]) {
    for (int width = 8; width >= 1; width /= 2)
        for (int i = 0; i < width; i++) lanes[i] += lanes[i + width];
    return lanes[0];
}

void llada_softmax_row_scalar(float *row, size_t n) {
    float max = -INFINITY;
    for (size_t i = 0; i < n; i++) max = row[i] > max ? row[i] : max;
    float lanes[16] = {0};
    for (size_t i = 0; i < n; i++) {
        float e = exp_scalar(row[i] - max);
        row[i] = e;
        lanes[i % 16] += e;
    }
    float inv = 1.0f / fold16(lanes);
    for (size_t i = 0; i < n; i++) row[i] *= inv;
}

void llada_swiglu_scalar(float *gate, const float *up, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + exp_scalar(-g)) * up[i];
    }
}

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma")))
#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX512 static inline __m512 exp16(__m512 x) {
    __mmask16 underflow = _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_LO), _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_set1_ps(EXP_HI), x);   // (HI, x): a NaN x passes through
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_C1), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_C2), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(P0), r, _mm512_set1_ps(P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P5));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mul_ps(~underflow, p, _mm512_castsi512_ps(bits));
}

AVX512 static void softmax_avx512(float *row, size_t n) {
    size_t full = n / 16 * 16;
    __mmask16 tail = (__mmask16)((1u << (n - full)) - 1);
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    for (size_t i = 0; i < full; i += 16) vmax = _mm512_max_ps(_mm512_loadu_ps(row + i), vmax);   // (x, max): a NaN x is skipped, as in the scalar twin
    if (tail) vmax = _mm512_mask_max_ps(vmax, tail, _mm512_maskz_loadu_ps(tail, row + full), vmax);
    __m512 shift = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512 sum = _mm512_setzero_ps();
    for (size_t i = 0; i < full; i += 16) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(row + i), shift));
        _mm512_storeu_ps(row + i, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (tail) {
        __m512 e = _mm512_maskz_mov_ps(tail, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + full), shift)));
        _mm512_mask_storeu_ps(row + full, tail, e);
        sum = _mm512_add_ps(sum, e);
    }
    float lanes[16];
    _mm512_storeu_ps(lanes, sum);
    __m512 inv = _mm512_set1_ps(1.0f / fold16(lanes));
    for (size_t i = 0; i < full; i += 16) _mm512_storeu_ps(row + i, _mm512_mul_ps(_mm512_loadu_ps(row + i), inv));
    if (tail) _mm512_mask_storeu_ps(row + full, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, row + full), inv));
}

AVX512 static void swiglu_avx512(float *gate, const float *up, size_t count) {
    size_t full = count / 16 * 16;
    __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < full; i += 16) {
        __m512 g = _mm512_loadu_ps(gate + i);
        __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
        _mm512_storeu_ps(gate + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
    }
    llada_swiglu_scalar(gate + full, up + full, count - full);
}

AVX2 static inline __m256 exp8(__m256 x) {
    __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(EXP_LO), _CMP_NLT_UQ);
    x = _mm256_min_ps(_mm256_set1_ps(EXP_HI), x);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_C1), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_C2), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(P0), r, _mm256_set1_ps(P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(bits)), keep);
}

// Two 8-wide accumulators stand for the 16 lanes of the scalar twin: `low` lanes 0–7, `high` 8–15.
AVX2 static void softmax_avx2(float *row, size_t n) {
    size_t full = n / 16 * 16;
    float max = -INFINITY;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (size_t i = 0; i < n / 8 * 8; i += 8) vmax = _mm256_max_ps(_mm256_loadu_ps(row + i), vmax);
    float lanesMax[8];
    _mm256_storeu_ps(lanesMax, vmax);
    for (int i = 0; i < 8; i++) max = lanesMax[i] > max ? lanesMax[i] : max;
    for (size_t i = n / 8 * 8; i < n; i++) max = row[i] > max ? row[i] : max;
    __m256 shift = _mm256_set1_ps(max);
    __m256 low = _mm256_setzero_ps(), high = _mm256_setzero_ps();
    for (size_t i = 0; i < full; i += 16) {
        __m256 a = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + i), shift));
        __m256 b = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + i + 8), shift));
        _mm256_storeu_ps(row + i, a);
        _mm256_storeu_ps(row + i + 8, b);
        low = _mm256_add_ps(low, a);
        high = _mm256_add_ps(high, b);
    }
    float lanes[16];
    _mm256_storeu_ps(lanes, low);
    _mm256_storeu_ps(lanes + 8, high);
    for (size_t i = full; i < n; i++) {
        row[i] = exp_scalar(row[i] - max);
        lanes[i % 16] += row[i];
    }
    __m256 inv = _mm256_set1_ps(1.0f / fold16(lanes));
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), inv));
    for (; i < n; i++) row[i] *= _mm256_cvtss_f32(inv);
}

AVX2 static void swiglu_avx2(float *gate, const float *up, size_t count) {
    size_t full = count / 8 * 8;
    __m256 one = _mm256_set1_ps(1.0f);
    for (size_t i = 0; i < full; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    llada_swiglu_scalar(gate + full, up + full, count - full);
}
#endif

void llada_softmax_row_path(float *row, size_t n, int path) {
#if defined(__x86_64__)
    if (path == LLADA_GEMM_PATH_AVX512) { softmax_avx512(row, n); return; }
    if (path == LLADA_GEMM_PATH_AVX2) { softmax_avx2(row, n); return; }
#endif
    (void)path;
    llada_softmax_row_scalar(row, n);
}

void llada_swiglu_path(float *gate, const float *up, size_t count, int path) {
#if defined(__x86_64__)
    if (path == LLADA_GEMM_PATH_AVX512) { swiglu_avx512(gate, up, count); return; }
    if (path == LLADA_GEMM_PATH_AVX2) { swiglu_avx2(gate, up, count); return; }
#endif
    (void)path;
    llada_swiglu_scalar(gate, up, count);
}

void llada_softmax_row(float *row, size_t n) { llada_softmax_row_path(row, n, llada_cpu_detect()); }

void llada_swiglu(float *gate, const float *up, size_t count) { llada_swiglu_path(gate, up, count, llada_cpu_detect()); }

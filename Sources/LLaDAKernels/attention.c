// One attention head reading its keys and values as f16 rows in place (the KV cache), instead of
// converting each head into f32 buffers for two OpenBLAS calls.
//
// Arithmetic, the same on every path (so each SIMD path is bit-identical to the scalar twin):
// - K and V rows are converted to f32 (exact);
// - score(i, j) = fold16(lanes) · scale, where lane l = fma chain over d = l, l+16, l+32, … of
//   q[i][d]·k[j][d] from 0, and fold16 adds the lanes by halves (8, 4, 2, 1) as the softmax does;
// - each score row goes through llada_softmax_row_path (exp_rows.c);
// - out[i][d] = fma chain over j = 0, 1, … of p[i][j]·v[j][d] from 0.
// Every output is its own chain, so the SIMD paths only choose which outputs run side by side.
#pragma STDC FP_CONTRACT OFF
#include "LLaDAKernels.h"
#include "dispatch.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

size_t llada_attention_work_floats(size_t nq, size_t nk, size_t head_dim) { return 2 * nk * head_dim + nq * nk; }

static float fold16(float lanes[16]) {
    for (int width = 8; width >= 1; width /= 2)
        for (int i = 0; i < width; i++) lanes[i] += lanes[i + width];
    return lanes[0];
}

static float score_scalar(const float *q, const float *k, size_t hd, float scale) {
    float lanes[16] = {0};
    for (size_t d = 0; d < hd; d++) lanes[d % 16] = fmaf(q[d], k[d], lanes[d % 16]);
    return fold16(lanes) * scale;
}

// Scores of rows [i0, i1) × keys [j0, j1) with the scalar twin.
static void scores_scalar(const float *q, size_t q_stride, const float *kf, size_t hd, float scale, float *s, size_t nk,
                          size_t i0, size_t i1, size_t j0, size_t j1) {
    for (size_t i = i0; i < i1; i++)
        for (size_t j = j0; j < j1; j++) s[i * nk + j] = score_scalar(q + i * q_stride, kf + j * hd, hd, scale);
}

static void output_scalar(const float *p, size_t nk, const float *vf, size_t hd, float *out, size_t out_stride,
                          size_t i0, size_t i1, size_t d0, size_t d1) {
    for (size_t i = i0; i < i1; i++)
        for (size_t d = d0; d < d1; d++) {
            float acc = 0;
            for (size_t j = 0; j < nk; j++) acc = fmaf(p[i * nk + j], vf[j * hd + d], acc);
            out[i * out_stride + d] = acc;
        }
}

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))
#define MS(a, b, c, d) (((a) << 6) | ((b) << 4) | ((c) << 2) | (d))

// 4 rows × 4 keys: 16 lane accumulators, folded together by a shuffle tree whose additions are
// exactly fold16's (lane i + lane i+8, then +4, +2, +1); the tree leaves pair p = 4·row + key in
// lane 4·key + row, which the final permutation transposes back.
static AVX512 void scores_avx512(const float *q, size_t q_stride, size_t nq, const float *kf, size_t nk, size_t hd,
                                 float scale, float *s) {
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512 vscale = _mm512_set1_ps(scale);
    size_t rows = nq / 4 * 4, keys = nk / 4 * 4;
    for (size_t i = 0; i < rows; i += 4)
        for (size_t j = 0; j < keys; j += 4) {
            __m512 a[16];
            for (int p = 0; p < 16; p++) a[p] = _mm512_setzero_ps();
            for (size_t c = 0; c < hd; c += 16) {
                __m512 qv[4], kv[4];
                for (int r = 0; r < 4; r++) qv[r] = _mm512_loadu_ps(q + (i + r) * q_stride + c);
                for (int t = 0; t < 4; t++) kv[t] = _mm512_loadu_ps(kf + (j + t) * hd + c);
                for (int r = 0; r < 4; r++)
                    for (int t = 0; t < 4; t++) a[4 * r + t] = _mm512_fmadd_ps(qv[r], kv[t], a[4 * r + t]);
            }
            __m512 b[8], e[4], f[2];
            for (int x = 0; x < 8; x++)
                b[x] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * x], a[2 * x + 1], MS(1, 0, 1, 0)),
                                     _mm512_shuffle_f32x4(a[2 * x], a[2 * x + 1], MS(3, 2, 3, 2)));
            for (int x = 0; x < 4; x++)
                e[x] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * x], b[2 * x + 1], MS(2, 0, 2, 0)),
                                     _mm512_shuffle_f32x4(b[2 * x], b[2 * x + 1], MS(3, 1, 3, 1)));
            for (int x = 0; x < 2; x++)
                f[x] = _mm512_add_ps(_mm512_shuffle_ps(e[2 * x], e[2 * x + 1], MS(1, 0, 1, 0)),
                                     _mm512_shuffle_ps(e[2 * x], e[2 * x + 1], MS(3, 2, 3, 2)));
            __m512 g = _mm512_add_ps(_mm512_shuffle_ps(f[0], f[1], MS(2, 0, 2, 0)), _mm512_shuffle_ps(f[0], f[1], MS(3, 1, 3, 1)));
            g = _mm512_mul_ps(_mm512_permutexvar_ps(order, g), vscale);
            _mm_storeu_ps(s + i * nk + j, _mm512_extractf32x4_ps(g, 0));
            _mm_storeu_ps(s + (i + 1) * nk + j, _mm512_extractf32x4_ps(g, 1));
            _mm_storeu_ps(s + (i + 2) * nk + j, _mm512_extractf32x4_ps(g, 2));
            _mm_storeu_ps(s + (i + 3) * nk + j, _mm512_extractf32x4_ps(g, 3));
        }
    scores_scalar(q, q_stride, kf, hd, scale, s, nk, 0, rows, keys, nk);
    scores_scalar(q, q_stride, kf, hd, scale, s, nk, rows, nq, 0, nk);
}

// 4 rows × 64 dimensions per tile (16 accumulators); per key 4 loads of V and 4 broadcasts of p.
INLINE AVX512 void output_tile_avx512(const int R, const int W, const float *p, size_t nk, const float *vf, size_t hd,
                                      float *out, size_t out_stride, size_t i, size_t d) {
    __m512 acc[4][4];
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) acc[r][w] = _mm512_setzero_ps();
    for (size_t j = 0; j < nk; j++) {
        __m512 v[4];
        for (int w = 0; w < W; w++) v[w] = _mm512_loadu_ps(vf + j * hd + d + 16 * w);
        for (int r = 0; r < R; r++) {
            __m512 pr = _mm512_set1_ps(p[(i + r) * nk + j]);
            for (int w = 0; w < W; w++) acc[r][w] = _mm512_fmadd_ps(pr, v[w], acc[r][w]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) _mm512_storeu_ps(out + (i + r) * out_stride + d + 16 * w, acc[r][w]);
}

static AVX512 void output_avx512(const float *p, size_t nq, size_t nk, const float *vf, size_t hd, float *out,
                                 size_t out_stride) {
    for (size_t i = 0; i < nq; i += 4) {
        size_t rows = nq - i < 4 ? nq - i : 4;
        size_t d = 0;
        for (; d + 64 <= hd; d += 64) switch (rows) {
            case 4: output_tile_avx512(4, 4, p, nk, vf, hd, out, out_stride, i, d); break;
            case 3: output_tile_avx512(3, 4, p, nk, vf, hd, out, out_stride, i, d); break;
            case 2: output_tile_avx512(2, 4, p, nk, vf, hd, out, out_stride, i, d); break;
            default: output_tile_avx512(1, 4, p, nk, vf, hd, out, out_stride, i, d); break;
            }
        for (; d < hd; d += 16) switch (rows) {
            case 4: output_tile_avx512(4, 1, p, nk, vf, hd, out, out_stride, i, d); break;
            case 3: output_tile_avx512(3, 1, p, nk, vf, hd, out, out_stride, i, d); break;
            case 2: output_tile_avx512(2, 1, p, nk, vf, hd, out, out_stride, i, d); break;
            default: output_tile_avx512(1, 1, p, nk, vf, hd, out, out_stride, i, d); break;
            }
    }
}

// AVX2 keeps the 16 lanes as two ymm (lanes 0–7 and 8–15); 2 rows × 2 keys per tile, folded
// through memory in fold16's order.
static AVX2 void scores_avx2(const float *q, size_t q_stride, size_t nq, const float *kf, size_t nk, size_t hd,
                             float scale, float *s) {
    size_t rows = nq / 2 * 2, keys = nk / 2 * 2;
    for (size_t i = 0; i < rows; i += 2)
        for (size_t j = 0; j < keys; j += 2) {
            __m256 lo[4], hi[4];
            for (int p = 0; p < 4; p++) lo[p] = hi[p] = _mm256_setzero_ps();
            for (size_t c = 0; c < hd; c += 16) {
                for (int r = 0; r < 2; r++) {
                    __m256 ql = _mm256_loadu_ps(q + (i + r) * q_stride + c), qh = _mm256_loadu_ps(q + (i + r) * q_stride + c + 8);
                    for (int t = 0; t < 2; t++) {
                        const float *kr = kf + (j + t) * hd + c;
                        lo[2 * r + t] = _mm256_fmadd_ps(ql, _mm256_loadu_ps(kr), lo[2 * r + t]);
                        hi[2 * r + t] = _mm256_fmadd_ps(qh, _mm256_loadu_ps(kr + 8), hi[2 * r + t]);
                    }
                }
            }
            for (int p = 0; p < 4; p++) {
                __m256 v = _mm256_add_ps(lo[p], hi[p]);                                        // i + 8
                __m128 w = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // i + 4
                w = _mm_add_ps(w, _mm_movehl_ps(w, w));                                          // i + 2
                w = _mm_add_ss(w, _mm_shuffle_ps(w, w, 1));                                      // i + 1
                s[(i + p / 2) * nk + j + p % 2] = _mm_cvtss_f32(w) * scale;
            }
        }
    scores_scalar(q, q_stride, kf, hd, scale, s, nk, 0, rows, keys, nk);
    scores_scalar(q, q_stride, kf, hd, scale, s, nk, rows, nq, 0, nk);
}

INLINE AVX2 void output_tile_avx2(const int R, const int W, const float *p, size_t nk, const float *vf, size_t hd,
                                  float *out, size_t out_stride, size_t i, size_t d) {
    __m256 acc[2][4];
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) acc[r][w] = _mm256_setzero_ps();
    for (size_t j = 0; j < nk; j++) {
        __m256 v[4];
        for (int w = 0; w < W; w++) v[w] = _mm256_loadu_ps(vf + j * hd + d + 8 * w);
        for (int r = 0; r < R; r++) {
            __m256 pr = _mm256_set1_ps(p[(i + r) * nk + j]);
            for (int w = 0; w < W; w++) acc[r][w] = _mm256_fmadd_ps(pr, v[w], acc[r][w]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) _mm256_storeu_ps(out + (i + r) * out_stride + d + 8 * w, acc[r][w]);
}

static AVX2 void output_avx2(const float *p, size_t nq, size_t nk, const float *vf, size_t hd, float *out, size_t out_stride) {
    for (size_t i = 0; i < nq; i += 2) {
        int two = nq - i >= 2;
        size_t d = 0;
        for (; d + 32 <= hd; d += 32) {
            if (two) output_tile_avx2(2, 4, p, nk, vf, hd, out, out_stride, i, d);
            else output_tile_avx2(1, 4, p, nk, vf, hd, out, out_stride, i, d);
        }
        for (; d < hd; d += 8) {
            if (two) output_tile_avx2(2, 1, p, nk, vf, hd, out, out_stride, i, d);
            else output_tile_avx2(1, 1, p, nk, vf, hd, out, out_stride, i, d);
        }
    }
}
#endif

void llada_attention_f16_path(const float *q, size_t q_stride, size_t nq, const uint16_t *k, const uint16_t *v,
                              size_t kv_stride, size_t nk, size_t head_dim, float scale, float *out, size_t out_stride,
                              float *work, int path) {
    if (nq == 0 || nk == 0 || head_dim == 0) return;
    const size_t hd = head_dim;
    float *kf = work, *vf = work + nk * hd, *s = work + 2 * nk * hd;
    if (kv_stride == hd) {   // a head stored on its own (KVCache): one block each
        llada_f16_to_f32(k, kf, nk * hd);
        llada_f16_to_f32(v, vf, nk * hd);
    } else {
        for (size_t j = 0; j < nk; j++) {
            llada_f16_to_f32(k + j * kv_stride, kf + j * hd, hd);
            llada_f16_to_f32(v + j * kv_stride, vf + j * hd, hd);
        }
    }
    // The SIMD tiles step over whole 16-lane chunks of the head.
    if (hd % 16 != 0) path = LLADA_GEMM_PATH_SCALAR;
#if defined(__x86_64__)
    if (path == LLADA_GEMM_PATH_AVX512) scores_avx512(q, q_stride, nq, kf, nk, hd, scale, s);
    else if (path == LLADA_GEMM_PATH_AVX2) scores_avx2(q, q_stride, nq, kf, nk, hd, scale, s);
    else scores_scalar(q, q_stride, kf, hd, scale, s, nk, 0, nq, 0, nk);
#else
    scores_scalar(q, q_stride, kf, hd, scale, s, nk, 0, nq, 0, nk);
#endif
    int softmax_path = path == LLADA_GEMM_PATH_NEON ? LLADA_GEMM_PATH_SCALAR : path;
    for (size_t i = 0; i < nq; i++) llada_softmax_row_path(s + i * nk, nk, softmax_path);
#if defined(__x86_64__)
    if (path == LLADA_GEMM_PATH_AVX512) { output_avx512(s, nq, nk, vf, hd, out, out_stride); return; }
    if (path == LLADA_GEMM_PATH_AVX2) { output_avx2(s, nq, nk, vf, hd, out, out_stride); return; }
#endif
    output_scalar(s, nk, vf, hd, out, out_stride, 0, nq, 0, hd);
}

void llada_attention_f16(const float *q, size_t q_stride, size_t nq, const uint16_t *k, const uint16_t *v, size_t kv_stride,
                         size_t nk, size_t head_dim, float scale, float *out, size_t out_stride, float *work) {
    llada_attention_f16_path(q, q_stride, nq, k, v, kv_stride, nk, head_dim, scale, out, out_stride, work, llada_cpu_detect());
}

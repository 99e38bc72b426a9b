// Standalone C check of the gemm paths (no Swift): every path this build supports, over odd
// shapes and 1–3 threads, must equal llada_gemm_reference bit for bit. Built by
// Scripts/check-gemm-c.sh, natively and with -DLLADA_NEON_EMULATION (the NEON path through SIMDe).
#include "LLaDAKernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 88172645463325252ull;
static uint64_t next(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}
static float unit(void) { return (float)((next() >> 40) / (double)(1ull << 24)) * 2 - 1; }
static uint16_t half(float f) {
    uint16_t h;
    llada_f32_to_f16_scalar(&f, &h, 1);
    return h;
}

static void *random_weights(int type, size_t n, size_t k) {
    if (type == LLADA_GEMM_F16) {
        uint16_t *w = malloc(n * k * 2);
        for (size_t i = 0; i < n * k; i++) w[i] = half(unit());
        return w;
    }
    size_t block_bytes = type == LLADA_GEMM_Q8_0 ? 34 : 18, blocks = n * k / 32;
    uint8_t *w = malloc(blocks * block_bytes);
    for (size_t i = 0; i < blocks; i++) {
        uint8_t *b = w + i * block_bytes;
        uint16_t d = half(0.01f * (1 + unit()));
        memcpy(b, &d, 2);
        for (size_t j = 2; j < block_bytes; j++) {
            uint8_t v = (uint8_t)next();
            b[j] = (type == LLADA_GEMM_Q8_0 && v == 0x80) ? 0x81 : v;
        }
    }
    return w;
}

int main(void) {
    const size_t ms[] = {1, 3, 31, 33, 257}, ns[] = {1, 7, 33, 100}, ks[] = {32, 64, 96, 4096};
    int failures = 0, checks = 0;
    // One context per supported path and thread count (1–3), as loaded models would hold them.
    llada_compute *contexts[LLADA_GEMM_PATH_AVX512 + 1][4] = {{0}};
    llada_compute *repacker = llada_compute_create(2, LLADA_GEMM_PATH_AUTO);
    for (int path = 0; path <= LLADA_GEMM_PATH_AVX512; path++)
        for (int threads = 1; threads <= 3; threads++)
            if (llada_gemm_path_supported(path)) contexts[path][threads] = llada_compute_create(threads, path);
    static const int kernel_types[] = {LLADA_GEMM_Q8_0, LLADA_GEMM_Q4_0, LLADA_GEMM_F16};
    for (int t = 0; t < 3; t++) {
        int type = kernel_types[t];
        for (int ki = 0; ki < 4; ki++)
            for (int ni = 0; ni < 4; ni++)
                for (int mi = 0; mi < 5; mi++) {
                    size_t m = ms[mi], n = ns[ni], k = ks[ki];
                    void *w = random_weights(type, n, k);
                    float *x = malloc(m * k * 4), *expected = malloc(m * n * 4), *y = malloc(m * n * 4);
                    for (size_t i = 0; i < m * k; i++) x[i] = unit() * (i % 7 == 0 ? 10 : 1);
                    llada_gemm_reference(type, w, n, k, x, m, expected);
                    size_t bytes = (llada_repack_size(type, n, k) + 63) / 64 * 64;
                    void *packed = aligned_alloc(64, bytes);
                    if (type == LLADA_GEMM_Q8_0) llada_repack_q8_0(repacker, w, packed, n, k);
                    else if (type == LLADA_GEMM_Q4_0) llada_repack_q4_0(repacker, w, packed, n, k);
                    else llada_repack_f16(repacker, w, packed, n, k);
                    for (int path = 0; path <= LLADA_GEMM_PATH_AVX512; path++) {
                        if (!llada_gemm_path_supported(path)) continue;
                        for (int threads = 1; threads <= 3; threads++) {
                            llada_compute *compute = contexts[path][threads];
                            if (llada_compute_level(compute) != path || llada_compute_threads(compute) != threads) {
                                printf("context for path %d, %d threads reports path %d, %d threads\n", path, threads,
                                       llada_compute_level(compute), llada_compute_threads(compute));
                                failures++;
                            }
                            memset(y, 0xff, m * n * 4);
                            llada_gemm(compute, type, packed, n, k, x, m, y);
                            checks++;
                            if (memcmp(y, expected, m * n * 4) != 0) {
                                size_t i = 0;
                                while (memcmp(&y[i], &expected[i], 4) == 0) i++;
                                printf("MISMATCH type %d m %zu n %zu k %zu path %s threads %d: y[%zu] = %.9g, reference %.9g\n",
                                       type, m, n, k, llada_gemm_path_name(path), threads, i, y[i], expected[i]);
                                failures++;
                            }
                        }
                    }
                    free(w);
                    free(x);
                    free(expected);
                    free(y);
                    free(packed);
                }
    }
    // The experts product: rows grouped by expert (some with none), two matrices per expert, each
    // expert's rows equal to the reference over those rows alone.
    const size_t expert_rows[] = {2, 0, 1, 17, 0, 5, 1};
    const size_t expert_count = sizeof expert_rows / sizeof expert_rows[0];
    for (int t = 0; t < 3; t++) {
        int type = kernel_types[t];
        const size_t shapes[][2] = {{48, 64}, {33, 96}, {512, 2048}};
        for (int si = 0; si < 3; si++) {
            size_t n = shapes[si][0], k = shapes[si][1], offsets[8] = {0};
            for (size_t e = 0; e < expert_count; e++) offsets[e + 1] = offsets[e] + expert_rows[e];
            size_t m = offsets[expert_count];
            void *blocks[7][2];
            const void *packed[7 * 2];
            float *x = malloc(m * k * 4), *expected[2], *y[2];
            for (size_t i = 0; i < m * k; i++) x[i] = unit() * (i % 5 == 0 ? 8 : 1);
            size_t bytes = (llada_repack_size(type, n, k) + 63) / 64 * 64;
            for (int p = 0; p < 2; p++) {
                expected[p] = malloc(m * n * 4);
                y[p] = malloc(m * n * 4);
            }
            for (size_t e = 0; e < expert_count; e++)
                for (int p = 0; p < 2; p++) {
                    blocks[e][p] = random_weights(type, n, k);
                    void *w = aligned_alloc(64, bytes);
                    if (type == LLADA_GEMM_Q8_0) llada_repack_q8_0(repacker, blocks[e][p], w, n, k);
                    else if (type == LLADA_GEMM_Q4_0) llada_repack_q4_0(repacker, blocks[e][p], w, n, k);
                    else llada_repack_f16(repacker, blocks[e][p], w, n, k);
                    packed[e * 2 + p] = w;
                    if (expert_rows[e])
                        llada_gemm_reference(type, blocks[e][p], n, k, x + offsets[e] * k, expert_rows[e], expected[p] + offsets[e] * n);
                }
            for (int path = 0; path <= LLADA_GEMM_PATH_AVX512; path++) {
                if (!llada_gemm_path_supported(path)) continue;
                for (int threads = 1; threads <= 3; threads++) {
                    for (int p = 0; p < 2; p++) memset(y[p], 0xff, m * n * 4);
                    llada_gemm_experts(contexts[path][threads], type, expert_count, 2, packed, n, k, x, offsets, y);
                    for (int p = 0; p < 2; p++) {
                        checks++;
                        if (memcmp(y[p], expected[p], m * n * 4) != 0) {
                            printf("MISMATCH experts type %d n %zu k %zu product %d path %s threads %d\n", type, n, k, p,
                                   llada_gemm_path_name(path), threads);
                            failures++;
                        }
                    }
                }
            }
            for (size_t e = 0; e < expert_count; e++)
                for (int p = 0; p < 2; p++) {
                    free(blocks[e][p]);
                    free((void *)packed[e * 2 + p]);
                }
            for (int p = 0; p < 2; p++) {
                free(expected[p]);
                free(y[p]);
            }
            free(x);
        }
    }

    for (int path = 0; path <= LLADA_GEMM_PATH_AVX512; path++)
        for (int threads = 1; threads <= 3; threads++) llada_compute_free(contexts[path][threads]);
    llada_compute_free(repacker);
    printf("paths:");
    for (int path = 0; path <= LLADA_GEMM_PATH_AVX512; path++)
        if (llada_gemm_path_supported(path)) printf(" %s", llada_gemm_path_name(path));
    printf("; %d checks, %d mismatches\n", checks, failures);
    return failures != 0;
}

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
    for (int path = 0; path <= LLADA_GEMM_PATH_AVX512; path++)
        for (int threads = 1; threads <= 3; threads++) llada_compute_free(contexts[path][threads]);
    llada_compute_free(repacker);
    printf("paths:");
    for (int path = 0; path <= LLADA_GEMM_PATH_AVX512; path++)
        if (llada_gemm_path_supported(path)) printf(" %s", llada_gemm_path_name(path));
    printf("; %d checks, %d mismatches\n", checks, failures);
    return failures != 0;
}

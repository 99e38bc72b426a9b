// The int8 compute ceiling of the current gemm path, measured on the pool's threads at once:
// what `llada bench` divides the int8 work by to give each step's floor. Each thread runs the
// path's core instruction back to back on independent registers (no loads):
//   avx512: vpdpbusd zmm (64 u8×s8 products into 16 int32: 128 operations), as Benchmarks/Peak;
//   avx2:   vpmaddubsw ymm accumulated with vpaddw (32 products: 64 operations), the least any
//           AVX2 kernel needs per 32 products (the q4 kernel's inner pair; widening to int32 and
//           the scales come on top, as they do for vpdpbusd).
// Other paths have no probe (0).
#include "LLaDAKernels.h"
#include "compute_internal.h"

#if defined(__x86_64__)
// One loop iteration: 12 vpdpbusd on independent accumulators.
static void avx512_iterations(long n) {
    __asm__ volatile(
        "vpternlogd $0xff, %%zmm30, %%zmm30, %%zmm30\n"
        "vpternlogd $0xff, %%zmm31, %%zmm31, %%zmm31\n"
        "1:\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm0\n vpdpbusd %%zmm30, %%zmm31, %%zmm1\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm2\n vpdpbusd %%zmm30, %%zmm31, %%zmm3\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm4\n vpdpbusd %%zmm30, %%zmm31, %%zmm5\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm6\n vpdpbusd %%zmm30, %%zmm31, %%zmm7\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm8\n vpdpbusd %%zmm30, %%zmm31, %%zmm9\n"
        "vpdpbusd %%zmm30, %%zmm31, %%zmm10\n vpdpbusd %%zmm30, %%zmm31, %%zmm11\n"
        "dec %0\n jnz 1b\n"
        : "+r"(n)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm30", "xmm31", "cc");
}

// 12 vpmaddubsw per iteration, each accumulated by vpaddw: 6 chains.
static void avx2_iterations(long n) {
    __asm__ volatile(
        "vpcmpeqb %%ymm15, %%ymm15, %%ymm15\n"
        "vpabsb %%ymm15, %%ymm14\n"          // bytes of 1
        "1:\n"
        ".rept 2\n"
        "vpmaddubsw %%ymm14, %%ymm15, %%ymm6\n vpaddw %%ymm6, %%ymm0, %%ymm0\n"
        "vpmaddubsw %%ymm14, %%ymm15, %%ymm7\n vpaddw %%ymm7, %%ymm1, %%ymm1\n"
        "vpmaddubsw %%ymm14, %%ymm15, %%ymm8\n vpaddw %%ymm8, %%ymm2, %%ymm2\n"
        "vpmaddubsw %%ymm14, %%ymm15, %%ymm9\n vpaddw %%ymm9, %%ymm3, %%ymm3\n"
        "vpmaddubsw %%ymm14, %%ymm15, %%ymm10\n vpaddw %%ymm10, %%ymm4, %%ymm4\n"
        "vpmaddubsw %%ymm14, %%ymm15, %%ymm11\n vpaddw %%ymm11, %%ymm5, %%ymm5\n"
        ".endr\n"
        "dec %0\n jnz 1b\n"
        "vzeroupper\n"
        : "+r"(n)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
          "xmm14", "xmm15", "cc");
}
#endif

typedef struct {
    int path;
    double seconds;
    double rate[256];
} peak_job;

// Repeats batches until `seconds` have passed; the rate of the fastest batch (others' load
// only ever slows a batch down).
static void peak_task(void *ctx, size_t task) {
    peak_job *job = (peak_job *)ctx;
    double best = 0, start = llada_now_seconds();
    const long iterations = 200000;
    do {
        double t0 = llada_now_seconds();
#if defined(__x86_64__)
        if (job->path == LLADA_GEMM_PATH_AVX512) avx512_iterations(iterations);
        else avx2_iterations(iterations);
#endif
        double elapsed = llada_now_seconds() - t0;
        double ops = 12.0 * (double)iterations * (job->path == LLADA_GEMM_PATH_AVX512 ? 128.0 : 64.0);
        if (elapsed > 0 && ops / elapsed > best) best = ops / elapsed;
    } while (llada_now_seconds() - start < job->seconds);
    if (task < 256) job->rate[task] = best;
}

double llada_int8_peak_ops(llada_compute *compute, double seconds) {
    int path = compute->level;
    if (path != LLADA_GEMM_PATH_AVX512 && path != LLADA_GEMM_PATH_AVX2) return 0;
    peak_job job = {.path = path, .seconds = seconds};
    size_t threads = (size_t)llada_pool_threads(compute->pool);
    if (threads > 256) threads = 256;
    llada_pool_run(compute->pool, threads, peak_task, &job);
    double total = 0;
    for (size_t t = 0; t < threads; t++) total += job.rate[t];
    return total;
}

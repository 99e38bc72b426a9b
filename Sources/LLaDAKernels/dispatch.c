// Runtime CPU dispatch: the best level this CPU runs, detected once. A compute context
// (compute.c) may run lower (the CLI's --kernel-path, tests, benchmarks); the kernels without a
// context (conversions, the converter's searches) run at this one.
#include "LLaDAKernels.h"
#include "dispatch.h"
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

static int detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")))
        return LLADA_GEMM_PATH_SCALAR;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
        return LLADA_GEMM_PATH_AVX512;
    return LLADA_GEMM_PATH_AVX2;
#elif defined(__aarch64__) && defined(__APPLE__)
    return LLADA_GEMM_PATH_NEON;   // every Apple arm64 CPU has the dot-product instructions
#elif defined(__aarch64__) && defined(__linux__)
    // The NEON gemm needs the dot-product extension; no other kernel has a NEON path.
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) ? LLADA_GEMM_PATH_NEON : LLADA_GEMM_PATH_SCALAR;
#else
    return LLADA_GEMM_PATH_SCALAR;
#endif
}

int llada_cpu_detect(void) {
    static int detected = -1;   // detection is idempotent, so a race only repeats it
    int path = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (path < 0) {
        path = detect();
        __atomic_store_n(&detected, path, __ATOMIC_RELAXED);
    }
    return path;
}

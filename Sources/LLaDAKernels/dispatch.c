// Runtime CPU dispatch: detect once; a caller may lower the level for the whole process
// (llada_set_cpu_level: the CLI's --kernel-path, tests, benchmarks).
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

static int chosen_level = LLADA_GEMM_PATH_AUTO;

int llada_cpu_level(void) {
    int level = __atomic_load_n(&chosen_level, __ATOMIC_RELAXED);
    return level != LLADA_GEMM_PATH_AUTO ? level : llada_cpu_detect();
}

int llada_set_cpu_level(int path) {
    // Only a level the CPU runs: a higher one would execute instructions it does not have.
    if (path != LLADA_GEMM_PATH_AUTO && !llada_gemm_path_supported(path)) return -1;
    __atomic_store_n(&chosen_level, path, __ATOMIC_RELAXED);
    return llada_cpu_level();
}

const char *llada_kernels_path(void) { return llada_gemm_path_name(llada_cpu_level()); }

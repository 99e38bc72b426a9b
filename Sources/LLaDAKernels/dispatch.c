// Runtime CPU dispatch: detect once, allow an environment override for tests and benchmarks.
#include "LLaDAKernels.h"
#include "dispatch.h"
#include <stdlib.h>
#include <string.h>
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

static int chosen_level = -1;

int llada_cpu_level(void) {
    int level = __atomic_load_n(&chosen_level, __ATOMIC_RELAXED);
    if (level >= 0) return level;
    level = llada_cpu_detect();
    const char *forced = getenv("LLADA_KERNELS");
    if (forced) {
        // A forced path can only lower the level: running an unsupported path would crash.
        int wanted = level;
        if (strcmp(forced, "scalar") == 0) wanted = LLADA_GEMM_PATH_SCALAR;
        else if (strcmp(forced, "avx2") == 0) wanted = LLADA_GEMM_PATH_AVX2;
        else if (strcmp(forced, "avx512") == 0) wanted = LLADA_GEMM_PATH_AVX512;
        else if (strcmp(forced, "neon") == 0) wanted = LLADA_GEMM_PATH_NEON;
        if (wanted < level) level = wanted;
    }
    __atomic_store_n(&chosen_level, level, __ATOMIC_RELAXED);
    return level;
}

const char *llada_kernels_path(void) { return llada_gemm_path_name(llada_cpu_level()); }

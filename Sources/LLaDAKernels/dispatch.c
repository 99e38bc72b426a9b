// Runtime CPU dispatch: detect once, allow an environment override for tests and benchmarks.
#include "LLaDAKernels.h"
#include "dispatch.h"
#include <stdlib.h>
#include <string.h>

static int detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    int level = LLADA_CPU_SCALAR;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        level = LLADA_CPU_AVX2;
    if (level == LLADA_CPU_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
        level = LLADA_CPU_AVX512;
    return level;
#elif defined(__aarch64__)
    return LLADA_CPU_NEON;
#else
    return LLADA_CPU_SCALAR;
#endif
}

static int chosen_level = -1;

int llada_cpu_level(void) {
    int level = __atomic_load_n(&chosen_level, __ATOMIC_RELAXED);
    if (level >= 0) return level;
    level = detect();
    const char *forced = getenv("LLADA_KERNELS");
    if (forced) {
        // A forced path can only lower the level: running an unsupported path would crash.
        int wanted = level;
        if (strcmp(forced, "scalar") == 0) wanted = LLADA_CPU_SCALAR;
        else if (strcmp(forced, "avx2") == 0) wanted = LLADA_CPU_AVX2;
        else if (strcmp(forced, "avx512") == 0) wanted = LLADA_CPU_AVX512;
        else if (strcmp(forced, "neon") == 0) wanted = LLADA_CPU_NEON;
        if (wanted < level) level = wanted;
    }
    __atomic_store_n(&chosen_level, level, __ATOMIC_RELAXED);
    return level;
}

const char *llada_kernels_path(void) {
    switch (llada_cpu_level()) {
    case LLADA_CPU_AVX512: return "avx512";
    case LLADA_CPU_AVX2: return "avx2";
    case LLADA_CPU_NEON: return "neon";
    default: return "scalar";
    }
}

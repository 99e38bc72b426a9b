#ifndef LLADA_DISPATCH_H
#define LLADA_DISPATCH_H

// Ordered levels: a level implies every lower one (AVX2 here also means FMA and F16C).
enum {
    LLADA_CPU_SCALAR = 0,
    LLADA_CPU_NEON = 1,
    LLADA_CPU_AVX2 = 2,
    LLADA_CPU_AVX512 = 3,   // F, BW, VL and VNNI
};

/// The level chosen once per process: the best the CPU has, lowered by LLADA_KERNELS=scalar|avx2|avx512.
int llada_cpu_level(void);

#endif

#ifndef LLADA_DISPATCH_H
#define LLADA_DISPATCH_H

// Every kernel (gemm, exp_rows, convert) picks its code with the one CPU-path enum,
// LLADA_GEMM_PATH_* in llada_gemm.h. Its values are ordered: on x86_64 a path implies every
// lower one (AVX512 includes AVX2, which includes FMA and F16C).
#include "LLaDAKernels.h"

// llada_cpu_detect (llada_gemm.h) is the only CPU-feature probe besides crc32c.c's SSE4.2 check,
// a different feature.

#endif

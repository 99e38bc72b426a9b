#ifndef LLADA_COMPUTE_H
#define LLADA_COMPUTE_H

// A compute context: what a loaded model computes with, held by it and passed to every call that
// runs on threads (compute.c). It owns a persistent thread pool (workers created with it, parked
// between calls) and the kernel level its products, attention, softmax and SwiGLU run at. Two
// contexts share nothing: their products run side by side. One context runs one product at a
// time: generations sharing a model share its context and interleave their products.
#include "llada_gemm.h"

#ifdef __cplusplus
extern "C" {
#endif

/// `threads`: the pool's threads, the caller counted as one (0 = one per online CPU). `level`: a
/// LLADA_GEMM_PATH_* this CPU runs, or AUTO for the best it has. NULL when the CPU cannot run
/// `level` or memory runs out. Results are bit-identical for every thread count and level.
llada_compute *llada_compute_create(int threads, int level);
/// Stops the pool's threads and frees the context (no call may be running on it).
void llada_compute_free(llada_compute *compute);
int llada_compute_threads(const llada_compute *compute);
/// The level it runs at (never AUTO).
int llada_compute_level(const llada_compute *compute);

#ifdef __cplusplus
}
#endif

#endif

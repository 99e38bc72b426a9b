#ifndef LLADA_COMPUTE_INTERNAL_H
#define LLADA_COMPUTE_INTERNAL_H

// Kept apart from gemm_internal.h, which stays free of libc headers (see there).
#include <pthread.h>
#include <time.h>
#include "gemm_internal.h"
#include "llada_compute.h"

// A compute context (compute.c, public as an opaque llada_compute): its pool, its level, and the
// products' scratch memory, so contexts never share state.
struct llada_compute {
    llada_pool *pool;
    int level;                    // never LLADA_GEMM_PATH_AUTO
    const gemm_path *gemm;        // the products' code at `level`
    pthread_mutex_t gemm_lock;    // one product at a time: it owns the scratch and the pool's job
    void *scratch;                // quantized / transposed activations, reused across calls
    size_t scratch_bytes;
};

// The context's scratch memory, grown as needed; NULL if it cannot be allocated. Called with
// its gemm_lock held (gemm.c).
void *llada_compute_scratch(llada_compute *compute, size_t bytes);

// Monotonic seconds: the timing of the probes (peak.c, bandwidth.c).
static inline double llada_now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#endif

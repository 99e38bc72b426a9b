// Compute contexts (llada_compute.h): each owns its thread pool, level and scratch memory, so
// nothing a product needs is process-wide.
#include "compute_internal.h"
#include "dispatch.h"
#include <stdlib.h>

llada_compute *llada_compute_create(int threads, int level) {
    if (level == LLADA_GEMM_PATH_AUTO) level = llada_cpu_detect();
    // Only a level the CPU runs: a higher one would execute instructions it does not have.
    if (!llada_gemm_path_supported(level)) return NULL;
    llada_compute *compute = (llada_compute *)calloc(1, sizeof *compute);
    if (!compute) return NULL;
    compute->pool = llada_pool_create(threads);
    if (!compute->pool) {
        free(compute);
        return NULL;
    }
    compute->level = level;
    compute->gemm = llada_gemm_path_for_level(level);
    pthread_mutex_init(&compute->gemm_lock, NULL);
    return compute;
}

void llada_compute_free(llada_compute *compute) {
    if (!compute) return;
    llada_pool_free(compute->pool);
    pthread_mutex_destroy(&compute->gemm_lock);
    free(compute->scratch);
    free(compute);
}

int llada_compute_threads(const llada_compute *compute) { return llada_pool_threads(compute->pool); }

int llada_compute_level(const llada_compute *compute) { return compute->level; }

// The memory read bandwidth of the machine, measured on the pool's threads at once: what a step
// that streams weights (LLaDA 2's experts, a dense model's matrices at one row) is bounded by.
// Each thread sums its own slice of a buffer far larger than the caches, with 8 independent
// 64-bit accumulators (the loads, not the adds, are the limit); a pass is every thread reading
// its slice once, timed around the pool's run. The best pass counts (others' load only slows one).
#include "LLaDAKernels.h"
#include "compute_internal.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint64_t *words;
    size_t count;
    size_t threads;
    uint64_t sums[256];
} read_job;

static void read_task(void *ctx, size_t task) {
    read_job *job = (read_job *)ctx;
    size_t per = job->count / job->threads / 8 * 8;
    const uint64_t *p = job->words + task * per;
    uint64_t a[8] = {0};
    for (size_t i = 0; i < per; i += 8) {
        for (int k = 0; k < 8; k++) a[k] += p[i + k];
    }
    uint64_t sum = 0;
    for (int k = 0; k < 8; k++) sum += a[k];
    if (task < 256) job->sums[task] = sum;
}

double llada_memory_bandwidth(llada_compute *compute, size_t bytes, double seconds) {
    size_t threads = (size_t)llada_pool_threads(compute->pool);
    if (threads > 256) threads = 256;
    if (threads == 0 || bytes < 64 * threads) return 0;
    uint64_t *words = NULL;
    if (posix_memalign((void **)&words, 64, bytes) != 0) return 0;
    // Every page written first, so the passes read memory, not the zero page.
    memset(words, 1, bytes);
    read_job job = {.words = words, .count = bytes / 8, .threads = threads};
    size_t read = job.count / threads / 8 * 8 * threads * 8;
    double best = 0, start = llada_now_seconds();
    do {
        double t0 = llada_now_seconds();
        llada_pool_run(compute->pool, threads, read_task, &job);
        double elapsed = llada_now_seconds() - t0;
        if (elapsed > 0 && (double)read / elapsed > best) best = (double)read / elapsed;
    } while (llada_now_seconds() - start < seconds);
    // The sums keep the reads from being optimised away.
    volatile uint64_t sink = 0;
    for (size_t t = 0; t < threads; t++) sink += job.sums[t];
    (void)sink;
    free(words);
    return best;
}

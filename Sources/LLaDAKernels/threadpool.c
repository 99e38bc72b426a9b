// A persistent thread pool, one per compute context (compute.c): its workers are created with it
// and park between calls. Tasks are handed out by an atomic counter, so which thread runs a task varies,
// but every task writes its own outputs with a fixed computation: results never depend on the
// thread count or the schedule.
//
// The caller runs tasks too and waits only for tasks, not for workers: on a loaded machine a
// parked worker may take a scheduler tick to wake, and by then the caller may have done all
// the work. Workers therefore *join* a job before touching it, and the caller *closes* the job
// (once no worker is inside) before reusing the job fields; a late worker finds it closed.
// Both go through one atomic word: generation << 32 | closed << 31 | workers inside.
#include "gemm_internal.h"
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

// How long a parked worker polls before sleeping. A forward pass calls the pool every few tens
// of µs, so a short poll saves the futex wake-up; it is kept short because the cores are shared
// with OpenBLAS's threads (and, on a dev box, everything else).
#define SPIN_ITERATIONS 4000    // pause is ~20–65 cycles on recent x86: some tens of µs

#define CLOSED (1ull << 31)
#define INSIDE_MASK (CLOSED - 1)
#define GENERATION(word) ((uint32_t)((word) >> 32))

struct llada_pool {
    pthread_mutex_t run_lock;     // one job at a time
    pthread_mutex_t lock;
    pthread_cond_t wake;          // parked workers wait for a new generation
    pthread_cond_t finished;      // the caller waits for done == count (spurious wake-ups are fine)
    pthread_t *threads;
    int nworkers;                 // threads besides the caller
    int sleepers;                 // workers waiting on `wake` (atomic; changed under lock)
    int quit;
    uint64_t word;                // atomic: generation | closed | inside
    // The current job: written while the previous one is closed, read only after joining.
    pool_task_fn fn;
    void *ctx;
    size_t count;
    size_t next;                  // atomic: next task to hand out
    size_t done;                  // atomic: tasks finished
};

// Runs tasks until none are left; returns 1 if this thread finished the job's last task.
static int run_tasks(llada_pool *pool) {
    size_t count = pool->count, mine = 0;
    for (;;) {
        size_t task = __atomic_fetch_add(&pool->next, 1, __ATOMIC_RELAXED);
        if (task >= count) break;
        pool->fn(pool->ctx, task);
        mine++;
    }
    return mine && __atomic_add_fetch(&pool->done, mine, __ATOMIC_ACQ_REL) == count;
}

static void *worker_main(void *arg) {
    llada_pool *pool = (llada_pool *)arg;
    uint32_t seen = 0;
    for (;;) {
        uint64_t word = __atomic_load_n(&pool->word, __ATOMIC_ACQUIRE);
        for (int i = 0; GENERATION(word) == seen && i < SPIN_ITERATIONS; i++) {
            CPU_RELAX();
            word = __atomic_load_n(&pool->word, __ATOMIC_ACQUIRE);
        }
        if (GENERATION(word) == seen) {
            pthread_mutex_lock(&pool->lock);
            __atomic_add_fetch(&pool->sleepers, 1, __ATOMIC_SEQ_CST);
            while (GENERATION(word = __atomic_load_n(&pool->word, __ATOMIC_SEQ_CST)) == seen &&
                   !__atomic_load_n(&pool->quit, __ATOMIC_ACQUIRE))
                pthread_cond_wait(&pool->wake, &pool->lock);
            __atomic_sub_fetch(&pool->sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&pool->lock);
        }
        if (__atomic_load_n(&pool->quit, __ATOMIC_ACQUIRE)) return NULL;
        seen = GENERATION(word);
        // Join unless the caller has already closed this generation.
        int joined = 0;
        while (GENERATION(word) == seen && !(word & CLOSED)) {
            if (__atomic_compare_exchange_n(&pool->word, &word, word + 1, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                joined = 1;
                break;
            }
        }
        if (!joined) continue;
        int last = run_tasks(pool);
        // Leave before waking the caller: woken on this core, it would otherwise wait for us.
        __atomic_sub_fetch(&pool->word, 1, __ATOMIC_RELEASE);
        if (last) {   // touches only the persistent lock / condition, never the job
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->finished);
            pthread_mutex_unlock(&pool->lock);
        }
    }
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

llada_pool *llada_pool_create(int threads) {
    int want = threads > 0 ? threads : online_cpus();
    llada_pool *pool = (llada_pool *)calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->finished, NULL);
    pool->word = CLOSED;   // new workers start having seen generation 0
    pool->threads = (pthread_t *)calloc((size_t)(want > 1 ? want - 1 : 1), sizeof(pthread_t));
    if (!pool->threads) {
        free(pool);
        return NULL;
    }
    for (int i = 0; i < want - 1; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0) break;   // fewer threads, same results
        pool->nworkers++;
    }
    return pool;
}

void llada_pool_free(llada_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->run_lock);   // waits for a job still running (a caller's bug, but not a crash)
    pthread_mutex_lock(&pool->lock);
    __atomic_store_n(&pool->quit, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->nworkers; i++) pthread_join(pool->threads[i], NULL);
    pthread_mutex_unlock(&pool->run_lock);
    free(pool->threads);
    pthread_mutex_destroy(&pool->run_lock);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->finished);
    free(pool);
}

int llada_pool_threads(const llada_pool *pool) { return pool->nworkers + 1; }

void llada_pool_run(llada_pool *pool, size_t count, pool_task_fn fn, void *ctx) {
    if (count == 0) return;
    pthread_mutex_lock(&pool->run_lock);
    if (count == 1 || pool->nworkers == 0) {
        for (size_t t = 0; t < count; t++) fn(ctx, t);
        pthread_mutex_unlock(&pool->run_lock);
        return;
    }
    // The previous generation is closed with nobody inside: the job fields are ours.
    pool->fn = fn;
    pool->ctx = ctx;
    pool->count = count;
    __atomic_store_n(&pool->next, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&pool->done, 0, __ATOMIC_RELAXED);
    uint64_t generation = (uint64_t)(GENERATION(__atomic_load_n(&pool->word, __ATOMIC_RELAXED)) + 1);
    if ((uint32_t)generation == 0) generation = 1;   // 0 is what new workers have seen
    __atomic_store_n(&pool->word, generation << 32, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&pool->sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }

    (void)run_tasks(pool);

    for (int i = 0; i < SPIN_ITERATIONS && __atomic_load_n(&pool->done, __ATOMIC_ACQUIRE) != count; i++) CPU_RELAX();
    if (__atomic_load_n(&pool->done, __ATOMIC_ACQUIRE) != count) {
        pthread_mutex_lock(&pool->lock);
        while (__atomic_load_n(&pool->done, __ATOMIC_ACQUIRE) != count) pthread_cond_wait(&pool->finished, &pool->lock);
        pthread_mutex_unlock(&pool->lock);
    }
    // Close the generation. Workers still inside have no task left and are about to leave.
    uint64_t word = __atomic_load_n(&pool->word, __ATOMIC_ACQUIRE);
    for (int spins = 0;; spins++) {
        if ((word & INSIDE_MASK) == 0) {
            if (__atomic_compare_exchange_n(&pool->word, &word, word | CLOSED, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                break;
            continue;
        }
        if (spins > SPIN_ITERATIONS) sched_yield();   // an inside worker lost its core: let it finish
        else CPU_RELAX();
        word = __atomic_load_n(&pool->word, __ATOMIC_ACQUIRE);
    }
    pthread_mutex_unlock(&pool->run_lock);
}

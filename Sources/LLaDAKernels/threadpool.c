// Persistent thread pool: workers are created once (and again only when the count changes) and
// park between calls. Tasks are handed out by an atomic counter, so which thread runs a task
// varies, but every task writes its own outputs with a fixed computation: results never depend
// on the thread count or the schedule.
#include "gemm_internal.h"
#include <pthread.h>
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

// How long a parked thread polls before sleeping on the condition variable. A forward pass calls
// the pool back to back (a few µs apart), so a short poll saves the futex wake-up; it is kept
// short because the cores are shared with OpenBLAS's threads (and, on a dev box, everything else).
#define SPIN_ITERATIONS 4000    // pause is ~20–65 cycles on recent x86: some tens of µs

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;          // workers wait for a new generation
    pthread_cond_t done;          // the caller waits for active == 0
    pthread_t *threads;
    int nworkers;                 // threads besides the caller
    unsigned generation;          // bumped (under lock, atomically) for each job and for shutdown
    int quit;
    // The current job: written before the generation bump, read after observing it.
    pool_task_fn fn;
    void *ctx;
    size_t count;
    size_t next;                  // atomic
    int active;                   // atomic: workers still running the job
} pool_t;

static pool_t pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER,
};
static int configured = 0;        // requested total threads, 0 = online CPUs
static int started = -1;          // total threads of the running pool, -1 = not started
static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;   // also serializes llada_pool_run

static void run_tasks(void) {
    size_t count = pool.count;
    pool_task_fn fn = pool.fn;
    void *ctx = pool.ctx;
    for (;;) {
        size_t task = __atomic_fetch_add(&pool.next, 1, __ATOMIC_RELAXED);
        if (task >= count) break;
        fn(ctx, task);
    }
}

static void *worker_main(void *arg) {
    (void)arg;
    unsigned seen = 0;
    for (;;) {
        unsigned gen = __atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE);
        for (int i = 0; gen == seen && i < SPIN_ITERATIONS; i++) {
            CPU_RELAX();
            gen = __atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE);
        }
        if (gen == seen) {
            pthread_mutex_lock(&pool.lock);
            while ((gen = __atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE)) == seen)
                pthread_cond_wait(&pool.wake, &pool.lock);
            pthread_mutex_unlock(&pool.lock);
        }
        seen = gen;
        if (__atomic_load_n(&pool.quit, __ATOMIC_ACQUIRE)) return NULL;
        run_tasks();
        if (__atomic_sub_fetch(&pool.active, 1, __ATOMIC_ACQ_REL) == 0) {
            // Signal under the lock: the caller checks `active` under it before waiting.
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.lock);
        }
    }
}

static int online_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void stop_workers(void) {
    if (pool.nworkers == 0) return;
    pthread_mutex_lock(&pool.lock);
    __atomic_store_n(&pool.quit, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&pool.generation, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < pool.nworkers; i++) pthread_join(pool.threads[i], NULL);
    free(pool.threads);
    pool.threads = NULL;
    pool.nworkers = 0;
    pool.quit = 0;
}

// Called with config_lock held.
static void ensure_started(void) {
    int want = configured > 0 ? configured : online_cpus();
    if (started == want) return;
    stop_workers();
    // New workers start having seen generation 0, so reset it before any of them runs.
    __atomic_store_n(&pool.generation, 0, __ATOMIC_RELEASE);
    pool.threads = (pthread_t *)calloc((size_t)(want - 1 > 0 ? want - 1 : 1), sizeof(pthread_t));
    int made = 0;
    for (int i = 0; i < want - 1; i++) {
        if (pthread_create(&pool.threads[i], NULL, worker_main, NULL) != 0) break;
        made++;
    }
    pool.nworkers = made;
    started = want;
}

int llada_pool_set_threads(int count) {
    pthread_mutex_lock(&config_lock);
    configured = count > 0 ? count : 0;
    ensure_started();
    int total = pool.nworkers + 1;
    pthread_mutex_unlock(&config_lock);
    return total;
}

int llada_pool_threads(void) {
    pthread_mutex_lock(&config_lock);
    ensure_started();
    int total = pool.nworkers + 1;
    pthread_mutex_unlock(&config_lock);
    return total;
}

void llada_pool_run(size_t count, pool_task_fn fn, void *ctx) {
    if (count == 0) return;
    pthread_mutex_lock(&config_lock);
    ensure_started();
    if (count == 1 || pool.nworkers == 0) {
        for (size_t t = 0; t < count; t++) fn(ctx, t);
        pthread_mutex_unlock(&config_lock);
        return;
    }
    pool.fn = fn;
    pool.ctx = ctx;
    pool.count = count;
    __atomic_store_n(&pool.next, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.active, pool.nworkers, __ATOMIC_RELAXED);
    pthread_mutex_lock(&pool.lock);
    __atomic_add_fetch(&pool.generation, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    run_tasks();

    for (int i = 0; i < SPIN_ITERATIONS && __atomic_load_n(&pool.active, __ATOMIC_ACQUIRE) != 0; i++) CPU_RELAX();
    if (__atomic_load_n(&pool.active, __ATOMIC_ACQUIRE) != 0) {
        pthread_mutex_lock(&pool.lock);
        while (__atomic_load_n(&pool.active, __ATOMIC_ACQUIRE) != 0) pthread_cond_wait(&pool.done, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
    }
    pthread_mutex_unlock(&config_lock);
}

// The routed experts of a mixture-of-experts layer as one product (llada_gemm_experts in
// llada_gemm.h): rows grouped by expert, each expert's matrices read once, by one task at a time.
#include "llada_gemm.h"
#include "compute_internal.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    llada_gemm_type type;
    const gemm_path *path;
    size_t products, n, k, nb;
    const void *const *packed;      // [expert × products]
    const float *x;
    float *const *y;                // [products]
    int8_t *xq;
    float *xd;
    int32_t *xc;
    int32_t offset;
    // Row tiles (≤ the path's tile height), expert after expert; expert e's are
    // [first_tile[e], first_tile[e + 1]).
    size_t *tile_m0, *tile_h, *first_tile;
    size_t tiles, quant_tiles_per_task;
    // Experts with rows, and the tasks: (active expert, product, run of groups_per_task groups).
    size_t *active, active_count;
    size_t groups, groups_per_task, runs;
} experts_job;

static void experts_quant_task(void *ctx, size_t task) {
    experts_job *job = (experts_job *)ctx;
    size_t t0 = task * job->quant_tiles_per_task, t1 = t0 + job->quant_tiles_per_task;
    if (t1 > job->tiles) t1 = job->tiles;
    for (size_t t = t0; t < t1; t++) {
        size_t m0 = job->tile_m0[t], h = job->tile_h[t];
        job->path->quant(job->x + m0 * job->k, h, job->k, 0, h, job->offset, job->xq + m0 * job->k,
                         job->xd + m0 * job->nb, job->xc + m0 * job->nb);
    }
}

static void experts_task(void *ctx, size_t task) {
    const experts_job *job = (const experts_job *)ctx;
    size_t per_expert = job->products * job->runs;
    size_t expert = job->active[task / per_expert], rest = task % per_expert;
    size_t product = rest / job->runs, run = rest % job->runs;
    size_t g0 = run * job->groups_per_task, g1 = g0 + job->groups_per_task;
    if (g1 > job->groups) g1 = job->groups;
    size_t record = gemm_quant_record_bytes(job->type);
    gemm_args a;
    memset(&a, 0, sizeof a);
    a.type = job->type;
    a.n = job->n;
    a.k = job->k;
    a.nb = job->nb;
    a.wq = (const uint8_t *)job->packed[expert * job->products + product];
    a.ws = (const uint16_t *)(a.wq + a.nb * record);
    a.wq_group = a.nb * (record + GEMM_NR * 2);
    a.ws_group = a.wq_group / 2;
    gemm_tile_fn tile = job->path->tile[job->type];
    // Each group of the expert's columns serves all of its row tiles while it is in cache.
    for (size_t g = g0; g < g1; g++)
        for (size_t t = job->first_tile[expert]; t < job->first_tile[expert + 1]; t++) {
            size_t m0 = job->tile_m0[t], h = job->tile_h[t];
            gemm_args p = a;
            p.m = h;
            p.xq = job->xq + m0 * job->k;
            p.xd = job->xd + m0 * job->nb;
            p.xc = job->xc + m0 * job->nb;
            p.x = job->x + m0 * job->k;
            p.y = job->y[product] + m0 * job->n;
            tile(&p, g, 0, h);
        }
}

void llada_gemm_experts(llada_compute *compute, llada_gemm_type type, size_t experts, size_t products, const void *const *packed,
                        size_t n, size_t k, const float *x, const size_t *offsets, float *const *y) {
    if (products == 0 || products > LLADA_GEMM_MANY_MAX) abort();
    size_t m = offsets[experts];
    if (m == 0 || n == 0) return;
    if (type == LLADA_GEMM_F16 || k == 0) {
        // No activation panel to share: one product per expert.
        for (size_t e = 0; e < experts; e++) {
            size_t rows = offsets[e + 1] - offsets[e];
            if (rows == 0) continue;
            size_t widths[LLADA_GEMM_MANY_MAX];
            float *outputs[LLADA_GEMM_MANY_MAX];
            for (size_t p = 0; p < products; p++) {
                widths[p] = n;
                outputs[p] = y[p] + offsets[e] * n;
            }
            llada_gemm_many(compute, type, products, packed + e * products, widths, k, x + offsets[e] * k, rows, outputs);
        }
        return;
    }
    if (type != LLADA_GEMM_Q8_0 && type != LLADA_GEMM_Q4_0) abort();
    if (k % GEMM_QK != 0) abort();

    experts_job job;
    memset(&job, 0, sizeof job);
    job.type = type;
    job.products = products;
    job.n = n;
    job.k = k;
    job.nb = k / GEMM_QK;
    job.packed = packed;
    job.x = x;
    job.y = y;
    job.groups = gemm_groups_of(n);
    size_t *index = malloc(sizeof(size_t) * (3 * m + 2 * experts + 1));
    if (!index) abort();
    job.tile_m0 = index;
    job.tile_h = index + m;
    job.active = index + 2 * m;
    job.first_tile = index + 2 * m + experts;

    pthread_mutex_lock(&compute->gemm_lock);
    job.path = compute->gemm;
    job.offset = job.path->offset[type];
    size_t mr = (size_t)job.path->mr[type];
    // Each expert's rows in tiles of near-equal height ≤ mr, as llada_gemm cuts a pass.
    for (size_t e = 0; e < experts; e++) {
        job.first_tile[e] = job.tiles;
        size_t r0 = offsets[e], rows = offsets[e + 1] - r0;
        if (rows == 0) continue;
        job.active[job.active_count++] = e;
        size_t count = (rows + mr - 1) / mr, base = rows / count, extra = rows % count;
        for (size_t t = 0, start = r0; t < count; t++) {
            size_t h = base + (t < extra ? 1 : 0);
            job.tile_m0[job.tiles] = start;
            job.tile_h[job.tiles++] = h;
            start += h;
        }
    }
    job.first_tile[experts] = job.tiles;

    size_t q_bytes = (m * k + 63) & ~(size_t)63, d_bytes = (m * job.nb * 4 + 63) & ~(size_t)63;
    uint8_t *buffer = (uint8_t *)llada_compute_scratch(compute, q_bytes + 2 * d_bytes);
    if (!buffer) abort();
    job.xq = (int8_t *)buffer;
    job.xd = (float *)(buffer + q_bytes);
    job.xc = (int32_t *)(buffer + q_bytes + d_bytes);
    int threads = llada_pool_threads(compute->pool);
    size_t parts = m * k >= (1u << 16) ? (size_t)threads * 2 : 1;
    job.quant_tiles_per_task = (job.tiles + parts - 1) / parts;
    llada_pool_run(compute->pool, (job.tiles + job.quant_tiles_per_task - 1) / job.quant_tiles_per_task, experts_quant_task, &job);

    // A task is one expert's matrix (or a run of its column groups when there are too few
    // experts to keep every thread busy): its weights are streamed once, front to back.
    size_t all_groups = job.active_count * products * job.groups, want = (size_t)threads * 16;
    job.groups_per_task = all_groups / want > 0 ? all_groups / want : 1;
    if (job.groups_per_task > job.groups) job.groups_per_task = job.groups;
    job.runs = (job.groups + job.groups_per_task - 1) / job.groups_per_task;
    llada_pool_run(compute->pool, job.active_count * products * job.runs, experts_task, &job);
    pthread_mutex_unlock(&compute->gemm_lock);
    free(index);
}

// Quantized / f16 matrix multiply: repacking, path dispatch, the driver that splits the work
// over the thread pool, the scalar path and the on-disk reference. The SIMD paths are in
// gemm_avx2.c, gemm_avx512.c, gemm_neon.c; the layouts and the arithmetic are in llada_gemm.h.
#pragma STDC FP_CONTRACT OFF
#include "llada_gemm.h"
#include "dispatch.h"
#include "compute_internal.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

// MARK: - Layout

// Callers pass only the three kernel types (f32 runs through sgemm); anything else is a bug.
static void require_kernel_type(llada_gemm_type type) {
    if (type != LLADA_GEMM_Q8_0 && type != LLADA_GEMM_Q4_0 && type != LLADA_GEMM_F16) abort();
}

static size_t groups_of(size_t n) { return gemm_groups_of(n); }

static size_t quant_record_bytes(llada_gemm_type type) { return gemm_quant_record_bytes(type); }

size_t llada_repack_size(llada_gemm_type type, size_t n, size_t k) {
    require_kernel_type(type);
    size_t groups = groups_of(n);
    if (type == LLADA_GEMM_F16) return groups * k * GEMM_NR * 2;
    size_t nb = k / GEMM_QK;
    return groups * nb * (quant_record_bytes(type) + GEMM_NR * 2);
}

size_t llada_repack_group_bytes(llada_gemm_type type, size_t k) { return llada_repack_size(type, GEMM_NR, k); }

#define HUGE_PAGE ((size_t)2 << 20)

static size_t round_up(size_t value, size_t unit) { return (value + unit - 1) / unit * unit; }

void *llada_packed_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
#if defined(__linux__)
    if (bytes >= HUGE_PAGE) {
        // Map one huge page more than needed, keep a 2 MiB-aligned window, unmap the rest.
        size_t length = round_up(bytes, HUGE_PAGE), total = length + HUGE_PAGE;
        uint8_t *raw = (uint8_t *)mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) return NULL;
        uint8_t *aligned = (uint8_t *)round_up((size_t)raw, HUGE_PAGE);
        if (aligned > raw) munmap(raw, (size_t)(aligned - raw));
        if (raw + total > aligned + length) munmap(aligned + length, (size_t)(raw + total - (aligned + length)));
        madvise(aligned, length, MADV_HUGEPAGE);   // advice only: without THP this is plain memory
        return aligned;
    }
#endif
    return aligned_alloc(64, round_up(bytes, 64));
}

void llada_packed_free(void *memory, size_t bytes) {
    if (!memory) return;
    if (bytes == 0) bytes = 1;
#if defined(__linux__)
    if (bytes >= HUGE_PAGE) {
        munmap(memory, round_up(bytes, HUGE_PAGE));
        return;
    }
#endif
    free(memory);
}

typedef struct {
    llada_gemm_type type;
    const uint8_t *src;
    uint8_t *dst;
    size_t n, k, groups, per_task;
} repack_job;

static void repack_group(const repack_job *job, size_t g) {
    size_t n = job->n, k = job->k;
    if (job->type == LLADA_GEMM_F16) {
        const uint16_t *src = (const uint16_t *)job->src;
        uint16_t *dst = (uint16_t *)job->dst + g * k * GEMM_NR;
        for (size_t c = 0; c < k; c++)
            for (size_t j = 0; j < GEMM_NR; j++) {
                size_t row = g * GEMM_NR + j;
                dst[c * GEMM_NR + j] = row < n ? src[row * k + c] : 0;
            }
        return;
    }
    size_t nb = k / GEMM_QK;
    size_t record = quant_record_bytes(job->type);
    size_t block_bytes = job->type == LLADA_GEMM_Q4_0 ? 18 : 34;
    uint8_t *quants = job->dst + g * nb * (record + GEMM_NR * 2);
    uint16_t *scales = (uint16_t *)(quants + nb * record);
    for (size_t b = 0; b < nb; b++) {
        uint8_t *wq = quants + b * record;
        for (size_t j = 0; j < GEMM_NR; j++) {
            size_t row = g * GEMM_NR + j;
            if (row >= n) {   // padding rows: zero weights with a zero scale
                scales[b * GEMM_NR + j] = 0;
                for (size_t v = 0; v < record / 64; v++)
                    memset(wq + v * 64 + 4 * j, job->type == LLADA_GEMM_Q4_0 ? 0x88 : 0x80, 4);
                continue;
            }
            const uint8_t *block = job->src + (row * nb + b) * block_bytes;
            memcpy(&scales[b * GEMM_NR + j], block, 2);
            const uint8_t *q = block + 2;
            if (job->type == LLADA_GEMM_Q8_0) {
                for (size_t t = 0; t < 8; t++)
                    for (size_t i = 0; i < 4; i++) wq[t * 64 + 4 * j + i] = q[4 * t + i] ^ 0x80;
            } else {
                uint8_t u[32];
                for (size_t i = 0; i < 16; i++) {
                    u[i] = q[i] & 0x0F;
                    u[i + 16] = q[i] >> 4;
                }
                for (size_t v = 0; v < 4; v++)
                    for (size_t i = 0; i < 4; i++)
                        wq[v * 64 + 4 * j + i] = (uint8_t)(u[8 * v + i] | (u[8 * v + 4 + i] << 4));
            }
        }
    }
}

static void repack_task(void *ctx, size_t task) {
    const repack_job *job = (const repack_job *)ctx;
    size_t g1 = (task + 1) * job->per_task;
    if (g1 > job->groups) g1 = job->groups;
    for (size_t g = task * job->per_task; g < g1; g++) repack_group(job, g);
}

static void repack(llada_compute *compute, llada_gemm_type type, const void *src, void *dst, size_t n, size_t k) {
    repack_job job = {type, (const uint8_t *)src, (uint8_t *)dst, n, k, groups_of(n), 0};
    job.per_task = job.groups / 64 + 1;
    llada_pool_run(compute->pool, (job.groups + job.per_task - 1) / job.per_task, repack_task, &job);
}

void llada_repack_serial(llada_gemm_type type, const void *src, void *dst, size_t n, size_t k) {
    require_kernel_type(type);
    repack_job job = {type, (const uint8_t *)src, (uint8_t *)dst, n, k, groups_of(n), 0};
    for (size_t g = 0; g < job.groups; g++) repack_group(&job, g);
}

void llada_unrepack(llada_gemm_type type, const void *packed, void *dst, size_t n, size_t k) {
    require_kernel_type(type);
    const uint8_t *src = (const uint8_t *)packed;
    uint8_t *out = (uint8_t *)dst;
    if (type == LLADA_GEMM_F16) {
        for (size_t row = 0; row < n; row++)
            for (size_t c = 0; c < k; c++)
                memcpy(out + (row * k + c) * 2, src + ((row / GEMM_NR) * k * GEMM_NR + c * GEMM_NR + row % GEMM_NR) * 2, 2);
        return;
    }
    size_t nb = k / GEMM_QK, record = quant_record_bytes(type);
    size_t block_bytes = type == LLADA_GEMM_Q4_0 ? 18 : 34;
    for (size_t row = 0; row < n; row++) {
        size_t g = row / GEMM_NR, j = row % GEMM_NR;
        const uint8_t *quants = src + g * nb * (record + GEMM_NR * 2);
        const uint8_t *scales = quants + nb * record;
        for (size_t b = 0; b < nb; b++) {
            uint8_t *block = out + (row * nb + b) * block_bytes;
            const uint8_t *wq = quants + b * record;
            memcpy(block, scales + (b * GEMM_NR + j) * 2, 2);
            if (type == LLADA_GEMM_Q8_0) {
                for (size_t t = 0; t < 8; t++)
                    for (size_t i = 0; i < 4; i++) block[2 + 4 * t + i] = wq[t * 64 + 4 * j + i] ^ 0x80;
            } else {
                uint8_t u[32];
                for (size_t v = 0; v < 4; v++)
                    for (size_t i = 0; i < 4; i++) {
                        uint8_t byte = wq[v * 64 + 4 * j + i];
                        u[8 * v + i] = byte & 0x0F;
                        u[8 * v + 4 + i] = byte >> 4;
                    }
                for (size_t i = 0; i < 16; i++) block[2 + i] = (uint8_t)(u[i] | (u[i + 16] << 4));
            }
        }
    }
}

void llada_repack_q8_0(llada_compute *compute, const void *blocks, void *dst, size_t n, size_t k) {
    repack(compute, LLADA_GEMM_Q8_0, blocks, dst, n, k);
}
void llada_repack_q4_0(llada_compute *compute, const void *blocks, void *dst, size_t n, size_t k) {
    repack(compute, LLADA_GEMM_Q4_0, blocks, dst, n, k);
}
void llada_repack_f16(llada_compute *compute, const uint16_t *halves, void *dst, size_t n, size_t k) {
    repack(compute, LLADA_GEMM_F16, halves, dst, n, k);
}

// MARK: - Scalar path (the reference for the SIMD paths: same layout, same operation order)

static void quantize_scalar(const float *x, size_t m, size_t k, size_t r0, size_t r1, int32_t offset, int8_t *xq,
                            float *xd, int32_t *xc) {
    size_t nb = k / GEMM_QK;
    for (size_t r = r0; r < r1; r++)
        for (size_t b = 0; b < nb; b++) {
            const float *src = x + r * k + b * GEMM_QK;
            float amax = 0;
            int finite = 1;
            for (size_t i = 0; i < GEMM_QK; i++) {
                amax = fmaxf(amax, fabsf(src[i]));
                finite &= fabsf(src[i]) <= 3.4028234e38f;
            }
            if (!finite) amax = INFINITY;
            float d, id;
            gemm_block_scale(amax, &d, &id);
            int8_t *dst = xq + (b * m + r) * GEMM_QK;
            int32_t sum = 0;
            for (size_t i = 0; i < GEMM_QK; i++) {
                float v = rintf(src[i] * id);
                v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
                if (v != v) v = 0;   // inf · 0 in a non-finite block (whose d is NaN anyway)
                dst[i] = (int8_t)v;
                sum += dst[i];
            }
            xd[b * m + r] = d;
            xc[b * m + r] = -offset * sum;
        }
}

static void tile_quant_scalar(const gemm_args *a, size_t g, size_t m0, size_t mr) {
    int q4 = a->type == LLADA_GEMM_Q4_0;
    size_t record = q4 ? 256 : 512;
    const uint8_t *wq = a->wq + g * a->wq_group;
    const uint16_t *ws = a->ws + g * a->ws_group;
    size_t cols = a->n - g * GEMM_NR < GEMM_NR ? a->n - g * GEMM_NR : GEMM_NR;
    for (size_t r = m0; r < m0 + mr; r++)
        for (size_t j = 0; j < cols; j++) {
            float acc = 0;
            for (size_t b = 0; b < a->nb; b++) {
                const uint8_t *wb = wq + b * record;
                const int8_t *xb = a->xq + (b * a->m + r) * GEMM_QK;
                int32_t dot = 0;
                for (size_t t = 0; t < 8; t++)
                    for (size_t i = 0; i < 4; i++) {
                        int w = q4 ? ((wb[(t >> 1) * 64 + 4 * j + i] >> ((t & 1) * 4)) & 0x0F) - 8
                                   : (int)wb[t * 64 + 4 * j + i] - 128;
                        dot += w * xb[4 * t + i];
                    }
                float s = gemm_half_to_float(ws[b * GEMM_NR + j]) * a->xd[b * a->m + r];
                acc = fmaf((float)dot, s, acc);
            }
            a->y[r * a->n + g * GEMM_NR + j] = acc;
        }
}

static void tile_f16_scalar(const gemm_args *a, size_t g, size_t m0, size_t mr) {
    const uint16_t *w = (const uint16_t *)a->wq + g * a->k * GEMM_NR;
    size_t cols = a->n - g * GEMM_NR < GEMM_NR ? a->n - g * GEMM_NR : GEMM_NR;
    for (size_t r = m0; r < m0 + mr; r++)
        for (size_t j = 0; j < cols; j++) {
            float acc = 0;
            for (size_t c = 0; c < a->k; c++)
                acc = fmaf(gemm_half_to_float(w[c * GEMM_NR + j]), a->xt[c * a->m + r], acc);
            a->y[r * a->n + g * GEMM_NR + j] = acc;
        }
}

const gemm_path gemm_path_scalar = {
    .tile = {[LLADA_GEMM_Q8_0] = tile_quant_scalar, [LLADA_GEMM_Q4_0] = tile_quant_scalar, [LLADA_GEMM_F16] = tile_f16_scalar},
    .mr = {[LLADA_GEMM_Q8_0] = 4, [LLADA_GEMM_Q4_0] = 4, [LLADA_GEMM_F16] = 4},
    .offset = {[LLADA_GEMM_Q8_0] = 128, [LLADA_GEMM_Q4_0] = 8},
    .quant = quantize_scalar,
};

// MARK: - Reference on the on-disk bytes

void llada_gemm_reference(llada_gemm_type type, const void *weights, size_t n, size_t k, const float *x, size_t m,
                          float *y) {
    require_kernel_type(type);
    const uint8_t *w = (const uint8_t *)weights;
    if (type == LLADA_GEMM_F16) {
        const uint16_t *h = (const uint16_t *)weights;
        for (size_t r = 0; r < m; r++)
            for (size_t o = 0; o < n; o++) {
                float acc = 0;
                for (size_t c = 0; c < k; c++) acc = fmaf(gemm_half_to_float(h[o * k + c]), x[r * k + c], acc);
                y[r * n + o] = acc;
            }
        return;
    }
    size_t nb = k / GEMM_QK;
    int8_t *xq = (int8_t *)malloc(m * k + 1);
    float *xd = (float *)malloc(m * nb * sizeof(float) + 1);
    int32_t *xc = (int32_t *)malloc(m * nb * sizeof(int32_t) + 1);
    quantize_scalar(x, m, k, 0, m, 0, xq, xd, xc);
    size_t block_bytes = type == LLADA_GEMM_Q4_0 ? 18 : 34;
    for (size_t r = 0; r < m; r++)
        for (size_t o = 0; o < n; o++) {
            float acc = 0;
            for (size_t b = 0; b < nb; b++) {
                const uint8_t *block = w + (o * nb + b) * block_bytes;
                uint16_t dbits;
                memcpy(&dbits, block, 2);
                const int8_t *xb = xq + (b * m + r) * GEMM_QK;
                int32_t dot = 0;
                for (size_t i = 0; i < GEMM_QK; i++) {
                    int wi = type == LLADA_GEMM_Q8_0 ? (int)(int8_t)block[2 + i]
                                                     : (int)((i < 16 ? block[2 + i] & 0x0F : block[2 + i - 16] >> 4)) - 8;
                    dot += wi * xb[i];
                }
                float s = gemm_half_to_float(dbits) * xd[b * m + r];
                acc = fmaf((float)dot, s, acc);
            }
            y[r * n + o] = acc;
        }
    free(xq);
    free(xd);
    free(xc);
}

// MARK: - Paths

int llada_gemm_path_supported(int path) {
    int hw = llada_cpu_detect();
    if (path == LLADA_GEMM_PATH_SCALAR) return 1;
#if defined(LLADA_NEON_EMULATION)
    if (path == LLADA_GEMM_PATH_NEON) return 1;   // development build: NEON through SIMDe
#endif
#if defined(__aarch64__)
    return path == LLADA_GEMM_PATH_NEON && hw == LLADA_GEMM_PATH_NEON;
#else
    return (path == LLADA_GEMM_PATH_AVX2 || path == LLADA_GEMM_PATH_AVX512) && path <= hw;
#endif
}

const char *llada_gemm_path_name(int path) {
    switch (path) {
    case LLADA_GEMM_PATH_SCALAR: return "scalar";
    case LLADA_GEMM_PATH_NEON: return "neon";
    case LLADA_GEMM_PATH_AVX2: return "avx2";
    case LLADA_GEMM_PATH_AVX512: return "avx512";
    default: return "unknown";
    }
}

static const gemm_path *path_table(int path) {
    switch (path) {
#if defined(__x86_64__)
    case LLADA_GEMM_PATH_AVX2: return &gemm_path_avx2;
    case LLADA_GEMM_PATH_AVX512: return &gemm_path_avx512;
#endif
#if defined(__aarch64__) || defined(LLADA_NEON_EMULATION)
    case LLADA_GEMM_PATH_NEON: return &gemm_path_neon;
#endif
    default: return &gemm_path_scalar;
    }
}

// The products' code at `level`: the NEON level on a CPU without the NEON gemm (a SIMDe
// development build) runs scalar, as the other kernels do.
const gemm_path *llada_gemm_path_for_level(int level) {
    if (level == LLADA_GEMM_PATH_NEON && llada_cpu_detect() != LLADA_GEMM_PATH_NEON) level = LLADA_GEMM_PATH_SCALAR;
    return path_table(level);
}


// MARK: - Driver

typedef struct {
    gemm_args args;           // the first product's; the others differ only in weights, n and y
    gemm_args more[LLADA_GEMM_MANY_MAX];
    size_t products;
    size_t group_end[LLADA_GEMM_MANY_MAX];   // column groups of products 0 … i, cumulative
    const gemm_path *path;
    gemm_tile_fn tile;
    int mr;
    size_t groups, groups_per_task, m_chunks, rows_per_chunk, tiles;
    size_t quant_tiles_per_task;   // activation quantization
    size_t transpose_per_task;     // f16: columns of x transposed per task
    int32_t offset;
} gemm_job;

// f16: x [m × k] → xt [k × m], so a tile's rows at one k are adjacent (reading x itself, the
// rows of a tile sit k·4 bytes apart: with k a multiple of 1024 they share one L1 set).
static void transpose_task(void *ctx, size_t task) {
    gemm_job *job = (gemm_job *)ctx;
    gemm_args *a = &job->args;
    size_t c0 = task * job->transpose_per_task, c1 = c0 + job->transpose_per_task;
    if (c1 > a->k) c1 = a->k;
    float *xt = (float *)a->xt;
    for (size_t r0 = 0; r0 < a->m; r0 += 16) {
        size_t r1 = r0 + 16 < a->m ? r0 + 16 : a->m;
        for (size_t c = c0; c < c1; c++)
            for (size_t r = r0; r < r1; r++) xt[c * a->m + r] = a->x[r * a->k + c];
    }
}

// Rows are cut into chunks of rows_per_chunk (a multiple of mr when there are several; the last
// may be shorter) and each chunk into tiles of near-equal height ≤ mr (32 rows with mr 12 → 11,
// 11, 10), so no tile runs mostly empty. Tiles are numbered chunk after chunk; tile t covers rows [*m0, *m0 + *h).
static size_t tiles_per_full_chunk(const gemm_job *job) {
    return (job->rows_per_chunk + (size_t)job->mr - 1) / (size_t)job->mr;
}

static void tile_rows(const gemm_job *job, size_t t, size_t *m0, size_t *h) {
    size_t per_chunk = tiles_per_full_chunk(job);
    size_t chunk = t / per_chunk, local = t % per_chunk;
    size_t r0 = chunk * job->rows_per_chunk, r1 = r0 + job->rows_per_chunk;
    if (r1 > job->args.m) r1 = job->args.m;
    size_t rows = r1 - r0, tiles = (rows + (size_t)job->mr - 1) / (size_t)job->mr;
    size_t base = rows / tiles, extra = rows % tiles;
    *m0 = r0 + local * base + (local < extra ? local : extra);
    *h = base + (local < extra ? 1 : 0);
}

static size_t chunk_tile_count(const gemm_job *job, size_t chunk) {
    size_t r0 = chunk * job->rows_per_chunk, r1 = r0 + job->rows_per_chunk;
    if (r1 > job->args.m) r1 = job->args.m;
    return (r1 - r0 + (size_t)job->mr - 1) / (size_t)job->mr;
}

// The quantized activations are stored tile by tile: the tile of rows [m0, m0 + h) is its own
// block-major panel at xq + m0·k (block b of its row r at (b·h + r)·32), with its scales at
// xd + m0·nb. A tile's kernel then reads one contiguous stream instead of 32·h bytes out of every
// 32·m (at m = 640, a new 4 KiB page per block, which the hardware prefetchers do not follow).
static gemm_args tile_args(const gemm_args *a, size_t m0, size_t h) {
    gemm_args t = *a;
    t.m = h;
    t.xq = a->xq + m0 * a->k;
    t.xd = a->xd + m0 * a->nb;
    t.xc = a->xc + m0 * a->nb;
    t.x = a->x + m0 * a->k;
    t.y = a->y + m0 * a->n;
    return t;
}

static void quant_task(void *ctx, size_t task) {
    gemm_job *job = (gemm_job *)ctx;
    const gemm_args *a = &job->args;
    size_t t0 = task * job->quant_tiles_per_task, t1 = t0 + job->quant_tiles_per_task;
    if (t1 > job->tiles) t1 = job->tiles;
    for (size_t t = t0; t < t1; t++) {
        size_t m0, h;
        tile_rows(job, t, &m0, &h);
        gemm_args p = tile_args(a, m0, h);
        job->path->quant(p.x, h, a->k, 0, h, job->offset, (int8_t *)p.xq, (float *)p.xd, (int32_t *)p.xc);
    }
}

// Task = (a run of groups) × (a chunk of rows); inside, each group's weights are reused by all
// row tiles of the chunk, and the chunk's activations by all its groups.
static void gemm_task(void *ctx, size_t task) {
    const gemm_job *job = (const gemm_job *)ctx;
    size_t gi = task / job->m_chunks, mi = task % job->m_chunks;
    size_t g0 = gi * job->groups_per_task, g1 = g0 + job->groups_per_task;
    if (g1 > job->groups) g1 = job->groups;
    size_t first_tile = mi * tiles_per_full_chunk(job), tiles = chunk_tile_count(job, mi);
    int quantized = job->args.type != LLADA_GEMM_F16;
    size_t product = 0;
    for (size_t g = g0; g < g1; g++) {
        while (g >= job->group_end[product]) product++;
        const gemm_args *a = &job->more[product];
        size_t local = product ? g - job->group_end[product - 1] : g;
        for (size_t t = first_tile; t < first_tile + tiles; t++) {
            size_t m0, h;
            tile_rows(job, t, &m0, &h);
            if (quantized) {
                gemm_args p = tile_args(a, m0, h);
                job->tile(&p, local, 0, h);
            } else {
                job->tile(a, local, m0, h);
            }
        }
    }
}

static void *scratch_for(llada_compute *compute, size_t bytes) { return llada_compute_scratch(compute, bytes); }

void *llada_compute_scratch(llada_compute *compute, size_t bytes) {
    if (bytes > compute->scratch_bytes) {
        free(compute->scratch);
        size_t want = bytes + bytes / 4;
        compute->scratch = aligned_alloc(64, (want + 63) & ~(size_t)63);
        compute->scratch_bytes = compute->scratch ? want : 0;
    }
    return compute->scratch;
}

void llada_gemm(llada_compute *compute, llada_gemm_type type, const void *packed, size_t n, size_t k, const float *x,
                size_t m, float *y) {
    llada_gemm_many(compute, type, 1, &packed, &n, k, x, m, &y);
}

void llada_gemm_many(llada_compute *compute, llada_gemm_type type, size_t products, const void *const *packed, const size_t *n, size_t k,
                     const float *x, size_t m, float *const *y) {
    require_kernel_type(type);
    if (products == 0 || products > LLADA_GEMM_MANY_MAX) abort();
    size_t total_n = 0;
    for (size_t i = 0; i < products; i++) total_n += n[i];
    if (m == 0 || total_n == 0) return;
    if (k == 0) {
        for (size_t i = 0; i < products; i++) memset(y[i], 0, m * n[i] * sizeof(float));
        return;
    }
    pthread_mutex_lock(&compute->gemm_lock);
    gemm_job job;
    memset(&job, 0, sizeof job);
    job.path = compute->gemm;
    job.tile = job.path->tile[type];
    job.mr = job.path->mr[type];
    gemm_args *a = &job.args;
    a->type = type;
    a->m = m;
    a->n = n[0];
    a->k = k;
    a->nb = k / GEMM_QK;
    a->x = x;
    a->y = y[0];
    a->wq = (const uint8_t *)packed[0];
    job.products = products;
    for (size_t i = 0; i < products; i++) job.group_end[i] = (i ? job.group_end[i - 1] : 0) + groups_of(n[i]);
    job.groups = job.group_end[products - 1];
    int threads = llada_pool_threads(compute->pool);

    // The schedule first: the activations are quantized into its tiles. Enough tasks for the
    // dynamic schedule to even out busy cores (≈16 per thread); when there are few column
    // groups, also split the rows (in whole tiles). Long quantized passes are cut into chunks
    // of about GEMM_CHUNK_ROWS whatever the groups, so a chunk's activations stay in L2 while
    // the task's groups go by (at 640 rows × 4096 they are 2.7 MB).
    size_t want = (size_t)threads * 16;
    job.groups_per_task = job.groups / want > 0 ? job.groups / want : 1;
    size_t group_tasks = (job.groups + job.groups_per_task - 1) / job.groups_per_task;
    size_t mr = (size_t)job.mr, all_tiles = (m + mr - 1) / mr;
    size_t chunks = 1;
    if (group_tasks < (size_t)threads * 4 && m > mr) chunks = ((size_t)threads * 4 + group_tasks - 1) / group_tasks;
    if (type != LLADA_GEMM_F16 && m > GEMM_CHUNK_ROWS + GEMM_CHUNK_ROWS / 2) {
        size_t by_size = (m + GEMM_CHUNK_ROWS - 1) / GEMM_CHUNK_ROWS;
        if (by_size > chunks) chunks = by_size;
    }
    if (chunks > all_tiles) chunks = all_tiles;
    size_t tiles_per_chunk = (all_tiles + chunks - 1) / chunks;
    job.rows_per_chunk = chunks > 1 ? tiles_per_chunk * mr : m;
    job.m_chunks = (m + job.rows_per_chunk - 1) / job.rows_per_chunk;
    job.tiles = 0;
    for (size_t c = 0; c < job.m_chunks; c++) job.tiles += chunk_tile_count(&job, c);

    if (type != LLADA_GEMM_F16) {
        size_t record = quant_record_bytes(type);
        a->wq_group = a->nb * (record + GEMM_NR * 2);
        a->ws = (const uint16_t *)(a->wq + a->nb * record);
        a->ws_group = a->wq_group / 2;
        size_t blocks = m * a->nb;
        size_t q_bytes = (m * k + 63) & ~(size_t)63, d_bytes = (blocks * 4 + 63) & ~(size_t)63;
        uint8_t *buffer = (uint8_t *)scratch_for(compute, q_bytes + 2 * d_bytes);
        if (!buffer) abort();
        a->xq = (const int8_t *)buffer;
        a->xd = (const float *)(buffer + q_bytes);
        a->xc = (const int32_t *)(buffer + q_bytes + d_bytes);
        job.offset = job.path->offset[type];
        // Quantizing is O(m·k) against the multiply's O(m·n·k): split it only when it is large.
        size_t parts = m * k >= (1u << 16) ? (size_t)threads * 2 : 1;
        job.quant_tiles_per_task = (job.tiles + parts - 1) / parts;
        llada_pool_run(compute->pool, (job.tiles + job.quant_tiles_per_task - 1) / job.quant_tiles_per_task, quant_task, &job);
    } else {
        a->wq_group = k * GEMM_NR * 2;
        if (m == 1) {
            a->xt = x;
        } else {
            float *xt = (float *)scratch_for(compute, m * k * sizeof(float));
            if (!xt) abort();
            a->xt = xt;
            size_t per = m * k >= (1u << 16) ? (k + (size_t)threads * 4 - 1) / ((size_t)threads * 4) : k;
            job.transpose_per_task = per;
            llada_pool_run(compute->pool, (k + per - 1) / per, transpose_task, &job);
        }
    }

    // The other products share the activations; their weights (laid out alike) and outputs are their own.
    for (size_t i = 0; i < products; i++) {
        gemm_args *b = &job.more[i];
        *b = *a;
        b->n = n[i];
        b->y = y[i];
        b->wq = (const uint8_t *)packed[i];
        if (type != LLADA_GEMM_F16) b->ws = (const uint16_t *)(b->wq + (size_t)((const uint8_t *)a->ws - a->wq));
    }

    llada_pool_run(compute->pool, group_tasks * job.m_chunks, gemm_task, &job);
    pthread_mutex_unlock(&compute->gemm_lock);
}

#ifndef LLADA_GEMM_INTERNAL_H
#define LLADA_GEMM_INTERNAL_H

// Shared between gemm.c and the per-ISA kernel files. Deliberately free of libc headers so
// gemm_neon.c can be syntax-checked for aarch64 with -ffreestanding on a machine without an
// aarch64 sysroot.
#include <stddef.h>
#include <stdint.h>
#include "llada_gemm.h"

#define GEMM_NR 16          // weight rows per interleaved group (= lanes of one zmm of int32)
#define GEMM_QK 32          // weights per quant block
#define GEMM_PREFETCH 2048  // bytes ahead in the weight stream that the kernels prefetch
#define GEMM_CHUNK_ROWS 128 // rows of a long pass that share one activation panel in L2 (gemm.c)

// Column groups of n weight rows; bytes of one block's quants in a group (q4_0 / q8_0).
static inline size_t gemm_groups_of(size_t n) { return (n + GEMM_NR - 1) / GEMM_NR; }
static inline size_t gemm_quant_record_bytes(int type) { return type == LLADA_GEMM_Q4_0 ? 256 : 512; }

// One call's operands, after activation quantization. See llada_gemm.h for the weight layouts.
typedef struct {
    int type;                 // llada_gemm_type
    size_t m, n, k, nb;       // nb = k / 32
    const uint8_t *wq;        // quants (q8/q4) or halves (f16) of group 0
    const uint16_t *ws;       // fp16 scales of group 0 (q8/q4)
    size_t wq_group;          // bytes from one group to the next (quants and scales)
    size_t ws_group;          // halves from one group's scales to the next's
    // Quantized activations, block-major: block b of row r at xq + (b*m + r)*32.
    const int8_t *xq;
    const float *xd;          // scale of block b of row r at xd[b*m + r]
    const int32_t *xc;        // -offset · Σq of block b of row r at xc[b*m + r]
    const float *x;           // f32 activations [m × k]
    const float *xt;          // f16 weights only: x transposed, [k × m]
    float *y;                 // [m × n]
} gemm_args;

// Computes y[m0 .. m0+mr) × columns of group g, for 1 <= mr <= the path's tile height.
typedef void (*gemm_tile_fn)(const gemm_args *a, size_t g, size_t m0, size_t mr);

// Quantizes rows [r0, r1) of x [m × k] into the block-major buffers of `a`; `offset` is the
// unsigned bias the path adds to weight quants (128 / 8) or 0 when it multiplies signed values.
typedef void (*gemm_quant_fn)(const float *x, size_t m, size_t k, size_t r0, size_t r1, int32_t offset,
                              int8_t *xq, float *xd, int32_t *xc);

typedef struct {
    gemm_tile_fn tile[LLADA_GEMM_TYPE_COUNT];   // indexed by llada_gemm_type (NULL for f32)
    int mr[LLADA_GEMM_TYPE_COUNT];              // tile height per type
    int32_t offset[LLADA_GEMM_TYPE_COUNT];      // activation-sum offset for q8, q4
    gemm_quant_fn quant;
} gemm_path;

// Activation-block scale from its max |x|: d = amax/127 and inverse id = 127/amax; a block
// too small for 127/amax to be finite is treated as zero. A non-finite block (inf / NaN in x)
// gets d = NaN and q = 0, so the outputs of its row come out NaN, as an f32 product's would.
// Every path uses this exact function.
static inline void gemm_block_scale(float amax, float *d, float *id) {
    if (!(amax <= 3.4028234e38f)) {   // inf or NaN
        *id = 0.0f;
        *d = __builtin_nanf("");
        return;
    }
    float inv = amax > 0 ? 127.0f / amax : 0.0f;
    if (!(inv <= 3.4028234e38f)) inv = 0.0f;
    *id = inv;
    *d = inv != 0.0f ? amax / 127.0f : 0.0f;
}

static inline float gemm_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {
        int shift = 0;
        while ((mantissa & 0x400) == 0) { mantissa <<= 1; shift++; }
        mantissa &= 0x3ff;
        bits = sign | ((uint32_t)(113 - shift) << 23) | (mantissa << 13);
    }
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

extern const gemm_path gemm_path_scalar;
const gemm_path *llada_gemm_path_for_level(int level);   // gemm.c
#if defined(__x86_64__)
extern const gemm_path gemm_path_avx2;
extern const gemm_path gemm_path_avx512;
#endif
#if defined(__aarch64__) || defined(LLADA_NEON_EMULATION)
extern const gemm_path gemm_path_neon;
#endif

// A thread pool (threadpool.c). Tasks 0..<count run on the pool's threads plus the caller;
// returns when all are done. One job at a time: a second caller waits for the first.
typedef void (*pool_task_fn)(void *ctx, size_t task);
typedef struct llada_pool llada_pool;
llada_pool *llada_pool_create(int threads);   // total threads with the caller; 0 = online CPUs; NULL if out of memory
void llada_pool_free(llada_pool *pool);
int llada_pool_threads(const llada_pool *pool);
void llada_pool_run(llada_pool *pool, size_t count, pool_task_fn fn, void *ctx);

#endif

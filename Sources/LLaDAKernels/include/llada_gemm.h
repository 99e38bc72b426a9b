#ifndef LLADA_GEMM_H
#define LLADA_GEMM_H

// Y[m × n] = X[m × k] · Wᵀ for weights W [n × k] in q8_0, q4_0 or f16, on repacked weights.
//
// On-disk formats (llada_quant.h, docs/packed-format.md): blocks of 32 along k; row r is k/32
// consecutive blocks. q8_0 = fp16 d | int8 q[32]; q4_0 = fp16 d | uint8 qs[16] with
// u[i] = qs[i] & 15, u[i+16] = qs[i] >> 4, w = d·(u − 8). f16 = plain IEEE halves [n × k].
//
// Repacked layout (what llada_repack_* writes, what the kernels read; also stored as is in packed
// files, "layout 1" in docs/packed-format.md). Rows are taken in groups of 16 (G = ceil(n/16)
// groups, the last padded with zero rows); nb = k/32. Groups follow one another, each
// self-contained, so the repack of rows 16a … 16b−1 is bytes [a·S, b·S) of the whole
// (S = llada_repack_group_bytes):
//   q8_0: group g = nb quant records of 512 bytes, then nb scale records of 16 fp16.
//         Quant record b is 8 vectors of 64 bytes; in vector t byte 4j+i is
//         q[16g+j][32b+4t+i] + 128 (unsigned, so vpdpbusd can take it). Scale record b holds d
//         of rows 16g … 16g+15.
//   q4_0: the same with 256-byte quant records: 4 vectors of 64 bytes; in vector v byte 4j+i
//         holds u[16g+j][32b+8v+i] in its low nibble and u[16g+j][32b+8v+4+i] in its high one
//         (so the low nibbles of vector v are "vector t = 2v" of the q8 layout, the high t = 2v+1).
//   f16:  group g = k records of 16 halves: record c = W[16g … 16g+15][c].
// Padding rows have zero scales and zero weights (quant bytes 0x80 / 0x88, halves 0).
// Every group starts 64-byte aligned when the buffer is (group sizes are multiples of 64 when k
// is a multiple of 64, as in LLaDA; otherwise of 32). Repacked size = llada_repack_size.
//
// Arithmetic (identical on every path, so every path is bit-exact with the scalar one):
//   q8/q4: each 32-block of an activation row is quantized with amax = max|x|, d = amax/127,
//     q = clamp(rint(x · (127/amax)), −127, 127) (round to nearest even; d = 0 and q = 0 for an
//     all-zero block). The block product is the exact integer Σ w_q·q; then per output
//     acc = fma((float)dot, (f32)d_w · d_x, acc) over the blocks in order, from acc = 0.
//     Activation rounding moves each x by at most d_x/2 = amax/254, so
//     |y − y_f32(dequantized W)| ≤ Σ_b (amax_b/254)·Σ_{i∈b}|w_i| plus f32 rounding of the sum.
//   f16: acc = fma(w, x, acc) over c = 0 … k−1 in order, from acc = 0 (no activation rounding).
// A non-finite activation makes every output of its row non-finite (its blocks get d = NaN).
// Results assume the default (round-to-nearest-even) FP mode.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// The one numbering of weight types: the packed file's tensor records, the Swift `WeightType`
// (whose raw values these are) and the kernels. f32 is stored but never multiplied here (it
// runs through sgemm); passing it to a kernel aborts.
typedef enum {
    LLADA_GEMM_F32 = 0,
    LLADA_GEMM_F16 = 1,
    LLADA_GEMM_Q8_0 = 2,
    LLADA_GEMM_Q4_0 = 3,
} llada_gemm_type;
#define LLADA_GEMM_TYPE_COUNT 4

/// Bytes of the repacked weights of an [n × k] matrix (k % 32 == 0 for q8_0 / q4_0).
size_t llada_repack_size(llada_gemm_type type, size_t n, size_t k);
/// Bytes of one group of 16 rows: the repack of n rows is ceil(n/16) of them.
size_t llada_repack_group_bytes(llada_gemm_type type, size_t k);

/// Memory for repacked weights, 64-byte aligned. On Linux, buffers of 2 MiB and more are 2 MiB
/// aligned and advised for transparent huge pages: streaming weights then misses the TLB once per
/// 2 MiB instead of every 4 KiB (1.2–1.5× at M ≤ 8, where the kernels wait on memory).
/// NULL on failure. Release with llada_packed_free and the same byte count.
void *llada_packed_alloc(size_t bytes);
void llada_packed_free(void *memory, size_t bytes);

/// A compute context: a thread pool and a kernel level (llada_compute.h). Every call that runs
/// on threads takes one; contexts share nothing.
typedef struct llada_compute llada_compute;

/// On-disk blocks / halves [n × k] → repacked layout. `dst` holds llada_repack_size bytes and
/// should be 64-byte aligned (any alignment works; misaligned vectors split cache lines).
/// Runs on the context's pool.
void llada_repack_q8_0(llada_compute *compute, const void *blocks, void *dst, size_t n, size_t k);
void llada_repack_q4_0(llada_compute *compute, const void *blocks, void *dst, size_t n, size_t k);
void llada_repack_f16(llada_compute *compute, const uint16_t *halves, void *dst, size_t n, size_t k);
/// The same repack on the calling thread only, for callers that run their own parallelism
/// (the converter's chunk workers).
void llada_repack_serial(llada_gemm_type type, const void *src, void *dst, size_t n, size_t k);
/// The inverse: repacked weights of an [n × k] matrix → on-disk blocks / halves (padding rows
/// dropped). Single-threaded; for tools, tests and the dequantize path.
void llada_unrepack(llada_gemm_type type, const void *packed, void *dst, size_t n, size_t k);

/// y[m × n] = x[m × k] · Wᵀ with W repacked; rows of x and y are contiguous (strides k and n).
/// Runs at the context's level on its pool; calls on one context run one at a time, calls on
/// different contexts side by side.
void llada_gemm(llada_compute *compute, llada_gemm_type type, const void *packed, size_t n, size_t k, const float *x, size_t m, float *y);

/// Several products of the same activations, y_i[m × n_i] = x[m × k] · W_iᵀ for i < products
/// (at most LLADA_GEMM_MANY_MAX), all of one type: the activations are quantized once and the
/// column groups of every matrix share one schedule, so q/k/v or ff_proj/up_proj run as one product
/// of their summed width. Each y_i is what llada_gemm gives for W_i alone, bit for bit.
#define LLADA_GEMM_MANY_MAX 4
void llada_gemm_many(llada_compute *compute, llada_gemm_type type, size_t products, const void *const *packed, const size_t *n, size_t k,
                     const float *x, size_t m, float *const *y);

/// The routed experts of a mixture-of-experts layer as one call (llama.cpp's mul_mat_id on the
/// CPU): `x` holds the layer's rows grouped by expert, expert e's rows at [offsets[e],
/// offsets[e + 1]) (offsets has experts + 1 entries; an expert may have none). For each of
/// `products` matrices per expert (gate and up share their rows),
/// y_p[offsets[e] ..< offsets[e + 1]] = x[those rows] · W_{e,p}ᵀ, W_{e,p} = packed[e·products + p],
/// all [n × k] of one type. The activations are quantized once; each task streams one expert's
/// matrix (or a run of its column groups) once for all of that expert's rows, and the tasks of
/// different experts run side by side. Each row is bit for bit what llada_gemm gives for that
/// expert alone.
void llada_gemm_experts(llada_compute *compute, llada_gemm_type type, size_t experts, size_t products, const void *const *packed,
                        size_t n, size_t k, const float *x, const size_t *offsets, float *const *y);

/// The same result computed directly from the on-disk bytes, single-threaded scalar code: the
/// reference the repack and every path are tested against (bit-exact).
void llada_gemm_reference(llada_gemm_type type, const void *weights, size_t n, size_t k, const float *x, size_t m,
                          float *y);

/// CPU paths, the one enum of every kernel (gemm, exp_rows, attention, conversions). A compute
/// context runs at the level it was created with; the best the CPU has is llada_cpu_detect.
enum {
    LLADA_GEMM_PATH_AUTO = -1,
    LLADA_GEMM_PATH_SCALAR = 0,
    LLADA_GEMM_PATH_NEON = 1,     ///< aarch64 with the dot-product extension
    LLADA_GEMM_PATH_AVX2 = 2,     ///< AVX2 + FMA + F16C
    LLADA_GEMM_PATH_AVX512 = 3,   ///< AVX-512 F/BW/VL + VNNI
};
/// 1 if `path` can run on this CPU.
int llada_gemm_path_supported(int path);
/// The best path this CPU runs, detected once per process.
int llada_cpu_detect(void);
const char *llada_gemm_path_name(int path);

/// Operations per second (a multiply-add counts two) of the context's int8 instruction run back
/// to back on every thread of its pool at once for about `seconds` (peak.c): the ceiling
/// `llada bench` measures each step's floor against. 0 where the level has no probe (scalar, neon).
double llada_int8_peak_ops(llada_compute *compute, double seconds);

/// Bytes per second the context's pool reads from memory, every thread summing its slice of a
/// `bytes` buffer at once, best pass over about `seconds` (bandwidth.c): the ceiling a step that
/// streams weights is measured against. 0 if the buffer cannot be allocated.
double llada_memory_bandwidth(llada_compute *compute, size_t bytes, double seconds);

#ifdef __cplusplus
}
#endif

#endif

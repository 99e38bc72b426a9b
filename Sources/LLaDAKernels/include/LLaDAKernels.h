#ifndef LLADA_KERNELS_H
#define LLADA_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "llada_quant.h"

#ifdef __cplusplus
extern "C" {
#endif

// Element conversions to f32. Each dispatches once to the best path this CPU has;
// the *_scalar twins are the reference the SIMD paths are tested against.
void llada_bf16_to_f32(const uint16_t *src, float *dst, size_t count);
void llada_f16_to_f32(const uint16_t *src, float *dst, size_t count);
void llada_f32_to_f16(const float *src, uint16_t *dst, size_t count);
void llada_bf16_to_f32_scalar(const uint16_t *src, float *dst, size_t count);
void llada_f16_to_f32_scalar(const uint16_t *src, float *dst, size_t count);
void llada_f32_to_f16_scalar(const float *src, uint16_t *dst, size_t count);

// Row-wise ops of the forward pass, written so the compiler vectorises them.
/// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i], for `rows` rows of length n.
void llada_rms_norm(const float *x, const float *weight, float *out, size_t rows, size_t n, float eps);
/// gate[i] = silu(gate[i]) * up[i]
void llada_swiglu(float *gate, const float *up, size_t count);
/// In-place softmax of one row.
void llada_softmax_row(float *row, size_t n);
// The two above run at the best level this CPU has. They evaluate exp with one polynomial on
// every path (exp_rows.c), so each SIMD path is bit-identical to its scalar twin; `path` is an
// LLADA_GEMM_PATH_* value the CPU supports (NEON runs the scalar code), a compute context's level.
void llada_swiglu_scalar(float *gate, const float *up, size_t count);
void llada_softmax_row_scalar(float *row, size_t n);
void llada_swiglu_path(float *gate, const float *up, size_t count, int path);
void llada_softmax_row_path(float *row, size_t n, int path);

/// One attention head over keys and values stored as f16 rows (the KV cache), read in place:
/// out[i] = Σ_j softmax_j(scale · q_i·k_j) · v_j for nq query rows (q_stride floats apart) over nk
/// keys (k, v: rows of head_dim halves, kv_stride halves apart); out rows out_stride apart. `work`
/// holds llada_attention_work_floats(nq, nk, head_dim) floats. Every path performs the same
/// operations (attention.c), so each is bit-identical to the scalar path; without `path`, the best
/// this CPU has.
size_t llada_attention_work_floats(size_t nq, size_t nk, size_t head_dim);
void llada_attention_f16(const float *q, size_t q_stride, size_t nq, const uint16_t *k, const uint16_t *v, size_t kv_stride,
                         size_t nk, size_t head_dim, float scale, float *out, size_t out_stride, float *work);
void llada_attention_f16_path(const float *q, size_t q_stride, size_t nq, const uint16_t *k, const uint16_t *v,
                              size_t kv_stride, size_t nk, size_t head_dim, float scale, float *out, size_t out_stride,
                              float *work, int path);

#ifdef __cplusplus
}
#endif

#include "llada_gemm.h"   // quantized / f16 matrix multiply (issue 4)
#include "llada_compute.h"   // a thread pool and a kernel level, one per loaded model
#include "llada_interrupt.h"   // Ctrl-C: stop generation between layers

#endif

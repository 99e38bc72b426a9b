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
// The two above evaluate exp with one polynomial on every path (exp_rows.c), so each SIMD path
// is bit-identical to its scalar twin; `path` is an LLADA_GEMM_PATH_* value the CPU supports
// (NEON runs the scalar code).
void llada_swiglu_scalar(float *gate, const float *up, size_t count);
void llada_softmax_row_scalar(float *row, size_t n);
void llada_swiglu_path(float *gate, const float *up, size_t count, int path);
void llada_softmax_row_path(float *row, size_t n, int path);

/// Name of the SIMD path the dispatcher chose ("avx512", "avx2", "neon", "scalar").
const char *llada_kernels_path(void);

#ifdef __cplusplus
}
#endif

#include "llada_gemm.h"   // quantized / f16 matrix multiply (issue 4)
#include "llada_interrupt.h"   // Ctrl-C: stop generation between layers

#endif

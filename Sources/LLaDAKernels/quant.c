// Scalar reference quantizers for the packed file's block formats (see include/llada_quant.h and
// docs/packed-format.md). These define the formats: faster kernels must reproduce them bit for bit.
#include "llada_quant.h"
#include "LLaDAKernels.h"
#include "dispatch.h"
#include "quant_internal.h"
#include <math.h>
#include <string.h>

// A fused multiply-add would round differently from the separate operations on some machines;
// the converter must produce the same bytes everywhere, so contraction is off in this file.
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

// MARK: q8_0

llada_quant_status llada_quantize_q8_0(const float *src, uint8_t *dst, size_t count, size_t *bad_index) {
    size_t bad = first_nonfinite(src, count);
    if (bad < count) { if (bad_index) *bad_index = bad; return LLADA_QUANT_NONFINITE; }
    for (size_t b = 0; b < count / LLADA_QBLOCK; b++) {
        const float *x = src + b * LLADA_QBLOCK;
        uint8_t *out = dst + b * LLADA_Q8_0_BYTES;
        size_t at;
        float amax = block_absmax(x, &at);
        uint16_t half = to_f16(amax / 127.0f);
        if (!is_finite_half(half)) { if (bad_index) *bad_index = b * LLADA_QBLOCK + at; return LLADA_QUANT_RANGE; }
        float d = from_f16(half);
        float id = d != 0 ? 1.0f / d : 0.0f;
        store_u16(out, half);
        for (size_t i = 0; i < LLADA_QBLOCK; i++) {
            float q = round_even(x[i] * id);
            q = q > 127 ? 127 : (q < -127 ? -127 : q);
            out[2 + i] = (uint8_t)(int8_t)q;
        }
    }
    return LLADA_QUANT_OK;
}

void llada_dequantize_q8_0(const uint8_t *src, float *dst, size_t count) {
    for (size_t b = 0; b < count / LLADA_QBLOCK; b++) {
        const uint8_t *block = src + b * LLADA_Q8_0_BYTES;
        float d = from_f16(load_u16(block));
        for (size_t i = 0; i < LLADA_QBLOCK; i++) dst[b * LLADA_QBLOCK + i] = d * (float)(int8_t)block[2 + i];
    }
}

// MARK: q4_0

/// Quantizes one block with scale `d` (values clamped to [lo, 7]) and returns the squared error
/// of the dequantized block; also Σ w·q and Σ q² for the least-squares refit.
static double q4_try(const float *x, float d, int lo, int8_t *q, double *sum_wq, double *sum_qq) {
    float id = 1.0f / d;
    double err = 0, wq = 0, qq = 0;
    for (size_t i = 0; i < LLADA_QBLOCK; i++) {
        float v = round_even(x[i] * id);
        v = v > 7 ? 7 : (v < lo ? (float)lo : v);
        q[i] = (int8_t)v;
        double e = (double)x[i] - (double)(d * v);
        err += e * e;
        wq += (double)x[i] * v;
        qq += (double)v * v;
    }
    *sum_wq = wq;
    *sum_qq = qq;
    return err;
}

llada_quant_status llada_quantize_q4_0_scalar(const float *src, uint8_t *dst, size_t count, llada_q4_method method,
                                              size_t *bad_index) {
    size_t bad = first_nonfinite(src, count);
    if (bad < count) { if (bad_index) *bad_index = bad; return LLADA_QUANT_NONFINITE; }
    int8_t q[LLADA_QBLOCK], best_q[LLADA_QBLOCK];
    for (size_t b = 0; b < count / LLADA_QBLOCK; b++) {
        const float *x = src + b * LLADA_QBLOCK;
        uint8_t *out = dst + b * LLADA_Q4_0_BYTES;
        size_t at;
        float amax = block_absmax(x, &at);
        uint16_t base_half = to_f16(amax / 7.0f);
        if (!is_finite_half(base_half)) { if (bad_index) *bad_index = b * LLADA_QBLOCK + at; return LLADA_QUANT_RANGE; }
        memset(best_q, 0, sizeof best_q);
        uint16_t best_half = 0;   // d = 0, all values 0: the result when no candidate scale is usable
        double wq, qq;
        if (method == LLADA_Q4_MAXABS) {
            float d = from_f16(base_half);
            if (d != 0) {
                q4_try(x, d, -7, best_q, &wq, &qq);
                best_half = base_half;
            }
        } else {
            float m = x[at];
            double best_err = INFINITY;
            for (size_t k = 0; k < sizeof q4_taus / sizeof q4_taus[0]; k++) {
                uint16_t half = to_f16(-m / q4_taus[k]);
                float d = from_f16(half);
                if (d == 0 || !is_finite_half(half)) continue;
                double err = q4_try(x, d, -8, q, &wq, &qq);
                if (err < best_err) { best_err = err; best_half = half; memcpy(best_q, q, sizeof q); }
                // Least-squares refit of the scale for this assignment, then re-quantize with it.
                if (qq == 0) continue;
                uint16_t refit_half = to_f16((float)(wq / qq));
                float refit = from_f16(refit_half);
                if (refit == 0 || !is_finite_half(refit_half)) continue;
                err = q4_try(x, refit, -8, q, &wq, &qq);
                if (err < best_err) { best_err = err; best_half = refit_half; memcpy(best_q, q, sizeof q); }
            }
        }
        q4_store(out, best_half, best_q);
    }
    return LLADA_QUANT_OK;
}

/// The scale search has a vectorised twin (quant_avx2.c) that gives the same bytes.
llada_quant_status llada_quantize_q4_0(const float *src, uint8_t *dst, size_t count, llada_q4_method method,
                                       size_t *bad_index) {
#if defined(__x86_64__)
    if (method == LLADA_Q4_SEARCH && llada_cpu_detect() >= LLADA_GEMM_PATH_AVX2)
        return llada_quantize_q4_0_avx2(src, dst, count, bad_index);
#endif
    return llada_quantize_q4_0_scalar(src, dst, count, method, bad_index);
}

void llada_dequantize_q4_0(const uint8_t *src, float *dst, size_t count) {
    for (size_t b = 0; b < count / LLADA_QBLOCK; b++) {
        const uint8_t *block = src + b * LLADA_Q4_0_BYTES;
        float d = from_f16(load_u16(block));
        float *y = dst + b * LLADA_QBLOCK;
        for (size_t i = 0; i < 16; i++) {
            y[i] = d * (float)((int)(block[2 + i] & 0x0f) - 8);
            y[i + 16] = d * (float)((int)(block[2 + i] >> 4) - 8);
        }
    }
}

double llada_q4_0_block_sse(const float *src, const uint8_t *block) {
    float y[LLADA_QBLOCK];
    llada_dequantize_q4_0(block, y, LLADA_QBLOCK);
    double err = 0;
    for (size_t i = 0; i < LLADA_QBLOCK; i++) {
        double e = (double)src[i] - (double)y[i];
        err += e * e;
    }
    return err;
}

// MARK: byte shuffle

void llada_shuffle_bytes(const uint8_t *src, uint8_t *dst, size_t records, size_t record_size) {
    for (size_t r = 0; r < records; r++) {
        for (size_t k = 0; k < record_size; k++) dst[k * records + r] = src[r * record_size + k];
    }
}

void llada_unshuffle_bytes(const uint8_t *src, uint8_t *dst, size_t records, size_t record_size) {
    for (size_t k = 0; k < record_size; k++) {
        const uint8_t *plane = src + k * records;
        for (size_t r = 0; r < records; r++) dst[r * record_size + k] = plane[r];
    }
}

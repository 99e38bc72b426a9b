// aarch64 NEON path with the dot-product extension (sdot). Same layout and lane scheme as the
// x86 paths: a 16-row group is 4 int32x4 column vectors; sdot-by-lane multiplies 16 weight
// bytes (4 k of 4 rows) with 4 activation bytes picked from a register holding 16 of them.
// sdot is signed × signed, so the weights are turned back into signed values (q8: u ^ 0x80,
// q4: nibble − 8) and no activation-sum offset is needed.
// Checked on the x86 development machine in two ways: it compiles for aarch64
//   clang --target=aarch64-linux-gnu -ffreestanding -c -ISources/LLaDAKernels/include \
//         Sources/LLaDAKernels/gemm_neon.c
// and, built with -DLLADA_NEON_EMULATION against SIMDe's portable NEON (libsimde-dev), it runs on
// x86 as an extra path that the bit-exactness checks cover (docs/kernels.md).
#pragma STDC FP_CONTRACT OFF
#include "gemm_internal.h"

#if defined(__aarch64__) || defined(LLADA_NEON_EMULATION)
#if defined(LLADA_NEON_EMULATION)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>
#define TDOT
// SIMDe 0.7 lacks FCVTNS; the same rounding (to nearest, ties to even) in two steps.
static inline int32x4_t emulated_vcvtnq_s32_f32(float32x4_t v) { return vcvtq_s32_f32(vrndnq_f32(v)); }
#define vcvtnq_s32_f32 emulated_vcvtnq_s32_f32
#else
#include <arm_neon.h>
#define TDOT __attribute__((target("dotprod")))
#endif

#define INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("clang loop unroll(full)")

#define MR_QUANT 2   // 2 rows × 4 vectors × (int + float accumulators) = 16 of 32 registers
#define MR_F16 4

INLINE void store_cols(float *y, const float32x4_t v[4], size_t cols) {
    if (cols >= 16) {
        UNROLL for (int q = 0; q < 4; q++) vst1q_f32(y + 4 * q, v[q]);
        return;
    }
    float tmp[16];
    UNROLL for (int q = 0; q < 4; q++) vst1q_f32(tmp + 4 * q, v[q]);
    for (size_t j = 0; j < cols; j++) y[j] = tmp[j];
}

// Weight vector t (4 k of all 16 rows) as signed bytes, one int8x16 per 4 rows.
INLINE void load_weights(const int Q4, const uint8_t *wq, int t, int8x16_t w[4]) {
    UNROLL for (int q = 0; q < 4; q++) {
        if (Q4) {
            uint8x16_t p = vld1q_u8(wq + 64 * (t >> 1) + 16 * q);
            uint8x16_t u = (t & 1) ? vshrq_n_u8(p, 4) : vandq_u8(p, vdupq_n_u8(0x0F));
            w[q] = vsubq_s8(vreinterpretq_s8_u8(u), vdupq_n_s8(8));
        } else {
            w[q] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(wq + 64 * t + 16 * q), vdupq_n_u8(0x80)));
        }
    }
}

// The lane argument of vdotq_laneq_s32 must be a constant, hence a macro per step t.
#define DOT_STEP(t)                                                                           \
    do {                                                                                      \
        int8x16_t w[4];                                                                       \
        load_weights(Q4, wq, t, w);                                                           \
        UNROLL for (int r = 0; r < MR; r++)                                                   \
            UNROLL for (int q = 0; q < 4; q++)                                                \
                dot[r][q] = vdotq_laneq_s32(dot[r][q], w[q], xv[r][(t) >> 2], (t) & 3);       \
    } while (0)

INLINE TDOT void quant_tile(const int MR, const int Q4, const gemm_args *a, size_t g, size_t m0) {
    const size_t M = a->m, nb = a->nb, record = Q4 ? 256 : 512;
    const uint8_t *wq = a->wq + g * a->wq_group;
    const uint16_t *ws = a->ws + g * a->ws_group;
    const int8_t *xq = a->xq + m0 * 32;
    const float *xd = a->xd + m0;
    float32x4_t acc[MR_QUANT][4];
    UNROLL for (int r = 0; r < MR; r++) UNROLL for (int q = 0; q < 4; q++) acc[r][q] = vdupq_n_f32(0);
    for (size_t b = 0; b < nb; b++) {
        int32x4_t dot[MR_QUANT][4];
        int8x16_t xv[MR_QUANT][2];
        UNROLL for (int i = 0; i < (Q4 ? 4 : 8); i++) __builtin_prefetch(wq + GEMM_PREFETCH + 64 * i);
        UNROLL for (int r = 0; r < MR; r++) {
            xv[r][0] = vld1q_s8(xq + 32 * r);
            xv[r][1] = vld1q_s8(xq + 32 * r + 16);
            UNROLL for (int q = 0; q < 4; q++) dot[r][q] = vdupq_n_s32(0);
        }
        DOT_STEP(0); DOT_STEP(1); DOT_STEP(2); DOT_STEP(3);
        DOT_STEP(4); DOT_STEP(5); DOT_STEP(6); DOT_STEP(7);
        float32x4_t dw[4];
        UNROLL for (int q = 0; q < 4; q++) dw[q] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(ws + 4 * q)));
        UNROLL for (int r = 0; r < MR; r++) {
            float32x4_t dx = vdupq_n_f32(xd[r]);
            UNROLL for (int q = 0; q < 4; q++)
                acc[r][q] = vfmaq_f32(acc[r][q], vcvtq_f32_s32(dot[r][q]), vmulq_f32(dw[q], dx));
        }
        wq += record;
        ws += 16;
        xq += 32 * M;
        xd += M;
    }
    size_t cols = a->n - g * 16;
    UNROLL for (int r = 0; r < MR; r++) store_cols(a->y + (m0 + r) * a->n + g * 16, acc[r], cols);
}

INLINE void f16_tile(const int MR, const gemm_args *a, size_t g, size_t m0) {
    const size_t k = a->k;
    const uint16_t *w = (const uint16_t *)a->wq + g * k * 16;
    const float *x = a->xt + m0;
    float32x4_t acc[MR_F16][4];
    UNROLL for (int r = 0; r < MR; r++) UNROLL for (int q = 0; q < 4; q++) acc[r][q] = vdupq_n_f32(0);
    for (size_t c = 0; c < k; c++) {
        float32x4_t wv[4];
        UNROLL for (int q = 0; q < 4; q++) wv[q] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(w + 16 * c + 4 * q)));
        UNROLL for (int r = 0; r < MR; r++) {
            float32x4_t xv = vdupq_n_f32(x[c * a->m + r]);
            UNROLL for (int q = 0; q < 4; q++) acc[r][q] = vfmaq_f32(acc[r][q], wv[q], xv);
        }
    }
    size_t cols = a->n - g * 16;
    UNROLL for (int r = 0; r < MR; r++) store_cols(a->y + (m0 + r) * a->n + g * 16, acc[r], cols);
}

static TDOT void q8_1(const gemm_args *a, size_t g, size_t m0) { quant_tile(1, 0, a, g, m0); }
static TDOT void q8_2(const gemm_args *a, size_t g, size_t m0) { quant_tile(2, 0, a, g, m0); }
static TDOT void q4_1(const gemm_args *a, size_t g, size_t m0) { quant_tile(1, 1, a, g, m0); }
static TDOT void q4_2(const gemm_args *a, size_t g, size_t m0) { quant_tile(2, 1, a, g, m0); }
static void f16_1(const gemm_args *a, size_t g, size_t m0) { f16_tile(1, a, g, m0); }
static void f16_2(const gemm_args *a, size_t g, size_t m0) { f16_tile(2, a, g, m0); }
static void f16_3(const gemm_args *a, size_t g, size_t m0) { f16_tile(3, a, g, m0); }
static void f16_4(const gemm_args *a, size_t g, size_t m0) { f16_tile(4, a, g, m0); }

static void tile_q8(const gemm_args *a, size_t g, size_t m0, size_t mr) { (mr == 2 ? q8_2 : q8_1)(a, g, m0); }
static void tile_q4(const gemm_args *a, size_t g, size_t m0, size_t mr) { (mr == 2 ? q4_2 : q4_1)(a, g, m0); }
static void tile_f16(const gemm_args *a, size_t g, size_t m0, size_t mr) {
    switch (mr) {
    case 1: f16_1(a, g, m0); break;
    case 2: f16_2(a, g, m0); break;
    case 3: f16_3(a, g, m0); break;
    default: f16_4(a, g, m0); break;
    }
}

static void quantize(const float *x, size_t m, size_t k, size_t r0, size_t r1, int32_t offset, int8_t *xq, float *xd,
                     int32_t *xc) {
    const size_t nb = k / 32;
    for (size_t r = r0; r < r1; r++)
        for (size_t b = 0; b < nb; b++) {
            const float *src = x + r * k + b * 32;
            float32x4_t v[8];
            float32x4_t am = vdupq_n_f32(0);
            uint32x4_t finite = vdupq_n_u32(~0u);
            UNROLL for (int i = 0; i < 8; i++) {
                v[i] = vld1q_f32(src + 4 * i);
                float32x4_t a = vabsq_f32(v[i]);
                am = vmaxq_f32(am, a);
                finite = vandq_u32(finite, vcleq_f32(a, vdupq_n_f32(3.4028234e38f)));   // false for NaN
            }
            float d, id;
            gemm_block_scale(vminvq_u32(finite) ? vmaxvq_f32(am) : __builtin_inff(), &d, &id);
            int32x4_t sum = vdupq_n_s32(0);
            int16x8_t q16[4];
            UNROLL for (int i = 0; i < 4; i++) {
                // vcvtnq rounds to nearest, ties to even: the scalar path's rintf in the default mode.
                int32x4_t a0 = vcvtnq_s32_f32(vmulq_n_f32(v[2 * i], id));
                int32x4_t a1 = vcvtnq_s32_f32(vmulq_n_f32(v[2 * i + 1], id));
                a0 = vminq_s32(vmaxq_s32(a0, vdupq_n_s32(-127)), vdupq_n_s32(127));
                a1 = vminq_s32(vmaxq_s32(a1, vdupq_n_s32(-127)), vdupq_n_s32(127));
                sum = vaddq_s32(sum, vaddq_s32(a0, a1));
                q16[i] = vcombine_s16(vmovn_s32(a0), vmovn_s32(a1));
            }
            int8_t *dst = xq + (b * m + r) * 32;
            vst1q_s8(dst, vcombine_s8(vmovn_s16(q16[0]), vmovn_s16(q16[1])));
            vst1q_s8(dst + 16, vcombine_s8(vmovn_s16(q16[2]), vmovn_s16(q16[3])));
            xd[b * m + r] = d;
            xc[b * m + r] = -offset * vaddvq_s32(sum);
        }
}

const gemm_path gemm_path_neon = {
    .tile = {[LLADA_GEMM_Q8_0] = tile_q8, [LLADA_GEMM_Q4_0] = tile_q4, [LLADA_GEMM_F16] = tile_f16},
    .mr = {[LLADA_GEMM_Q8_0] = MR_QUANT, [LLADA_GEMM_Q4_0] = MR_QUANT, [LLADA_GEMM_F16] = MR_F16},
    .offset = {[LLADA_GEMM_Q8_0] = 0, [LLADA_GEMM_Q4_0] = 0},
    .quant = quantize,
};

#endif

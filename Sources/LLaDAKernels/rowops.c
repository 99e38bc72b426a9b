// Row-wise operations of the forward pass (the ones built on exp are in exp_rows.c). Plain C that
// the compiler vectorises at -O2/-O3; accumulations that decide accuracy (the RMS) are in double.
#include "LLaDAKernels.h"
#include <math.h>

void llada_rms_norm(const float *x, const float *weight, float *out, size_t rows, size_t n, float eps) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * n;
        double sum = 0;
        for (size_t i = 0; i < n; i++) sum += (double)row[i] * row[i];
        // The reference: x * rsqrt(mean(x^2) + eps) in f32, then weight * x.
        float variance = (float)(sum / (double)n);
        float scale = 1.0f / sqrtf(variance + eps);
        float *dst = out + r * n;
        for (size_t i = 0; i < n; i++) dst[i] = weight[i] * (row[i] * scale);
    }
}

/* ReduceMean over a contiguous run of axes, seen as [outer, red, inner]. */
#include "kernels/cpu/kc_private.h"

void kc_reduce_mean_ref(const float *x, float *y, int64_t outer, int64_t red, int64_t inner) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double acc = 0;
            for (int64_t r = 0; r < red; r++)
                acc += x[(o * red + r) * inner + i];
            y[o * inner + i] = (float)(acc / (double)red);
        }
}

void kc_reduce_mean(const kc_ctx *ctx, const float *x, float *y, int64_t outer, int64_t red,
                    int64_t inner) {
    float inv = 1.f / (float)red;
#pragma omp parallel for num_threads(ctx->nthreads)                                                \
    schedule(static) if (outer * red * inner > 32768)
    for (int64_t o = 0; o < outer; o++) {
        float *restrict yo = y + o * inner;
        const float *xo = x + o * red * inner;
        if (inner == 1) {
            float acc = 0.f;
            for (int64_t r = 0; r < red; r++)
                acc += xo[r];
            yo[0] = acc * inv;
            continue;
        }
        for (int64_t i = 0; i < inner; i++)
            yo[i] = 0.f;
        for (int64_t r = 0; r < red; r++) {
            const float *restrict xr = xo + r * inner;
            for (int64_t i = 0; i < inner; i++)
                yo[i] += xr[i];
        }
        for (int64_t i = 0; i < inner; i++)
            yo[i] *= inv;
    }
}

/* Pooling over NCHW planes: global average, windowed average and max. */
#include <float.h>

#include "kernels/cpu/kc_private.h"

/* Sum of one plane in double. Float accumulation loses too much here: the SE
 * blocks of PP-OCRv4 detection average planes of 44,160 values whose mean is
 * small against the values, and the error of the mean scales a whole channel
 * (on linn.png a float sum with 8 lanes moved the final probability map by
 * 3.7e-5 against a float64 evaluation of the model; double by 1e-9). 16
 * independent accumulators keep the adds throughput-bound, not latency-bound. */
static inline __attribute__((always_inline)) double plane_sum(const float *restrict x, int64_t n) {
    double a[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++)
            a[j] += (double)x[i + j];
    double s = 0;
    for (; i < n; i++)
        s += (double)x[i];
    for (int j = 0; j < 16; j++)
        s += a[j];
    return s;
}

__attribute__((target("avx2"))) static double plane_sum_avx2(const float *x, int64_t n) {
    return plane_sum(x, n);
}

static double plane_sum_base(const float *x, int64_t n) {
    return plane_sum(x, n);
}

void kc_global_avg_pool(const kc_ctx *ctx, const float *x, float *y, int64_t planes, int64_t hw) {
    int avx2 = __builtin_cpu_supports("avx2");
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static) if (planes * hw > 32768)
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = x + p * hw;
        double s = avx2 ? plane_sum_avx2(xp, hw) : plane_sum_base(xp, hw);
        y[p] = (float)(s / (double)hw);
    }
}

static void pool_plane(const kc_pool_shape *s, const float *x, float *y, int is_max) {
    for (int oy = 0; oy < s->h_out; oy++)
        for (int ox = 0; ox < s->w_out; ox++) {
            int y0 = oy * s->sh - s->pad_t, x0 = ox * s->sw - s->pad_l;
            float acc = is_max ? -FLT_MAX : 0.f;
            int cnt = 0;
            for (int ky = 0; ky < s->kh; ky++)
                for (int kx = 0; kx < s->kw; kx++) {
                    int iy = y0 + ky, ix = x0 + kx;
                    if (iy < 0 || iy >= s->h_in || ix < 0 || ix >= s->w_in) continue;
                    float v = x[(size_t)iy * s->w_in + ix];
                    if (is_max)
                        acc = v > acc ? v : acc;
                    else
                        acc += v;
                    cnt++;
                }
            if (!is_max) {
                /* count_include_pad counts the padded window, clipped to the
                 * padded input like ONNX Runtime does. */
                int div = cnt;
                if (s->count_include_pad) {
                    int ye = y0 + s->kh, xe = x0 + s->kw;
                    int yl = s->h_in + s->pad_t, xl = s->w_in + s->pad_l;
                    div = ((ye < yl ? ye : yl) - y0) * ((xe < xl ? xe : xl) - x0);
                }
                acc = div > 0 ? acc / (float)div : 0.f;
            }
            y[(size_t)oy * s->w_out + ox] = acc;
        }
}

void kc_avg_pool_ref(const kc_pool_shape *s, const float *x, float *y) {
    for (int64_t p = 0; p < s->planes; p++)
        pool_plane(s, x + p * s->h_in * s->w_in, y + p * s->h_out * s->w_out, 0);
}

void kc_max_pool_ref(const kc_pool_shape *s, const float *x, float *y) {
    for (int64_t p = 0; p < s->planes; p++)
        pool_plane(s, x + p * s->h_in * s->w_in, y + p * s->h_out * s->w_out, 1);
}

/* Average over windows that all lie inside the plane (no padding): the same
 * sums in the same order as pool_plane, without its bounds checks (the
 * recognizer's 3x2 pool took 2 % of its int8 time in pool_plane). */
static void avg_pool_inside(const kc_pool_shape *s, const float *x, float *y) {
    float div = (float)(s->kh * s->kw);
    for (int oy = 0; oy < s->h_out; oy++) {
        float *restrict yr = y + (size_t)oy * s->w_out;
        for (int ox = 0; ox < s->w_out; ox++)
            yr[ox] = 0.f;
        /* tap by tap across the row: each output still adds its taps in
         * pool_plane's order, and the loop over outputs vectorizes */
        for (int ky = 0; ky < s->kh; ky++)
            for (int kx = 0; kx < s->kw; kx++) {
                const float *restrict xr = x + (size_t)(oy * s->sh + ky) * s->w_in + kx;
                for (int ox = 0; ox < s->w_out; ox++)
                    yr[ox] += xr[(size_t)ox * s->sw];
            }
        for (int ox = 0; ox < s->w_out; ox++)
            yr[ox] /= div;
    }
}

/* Pools are a small share of the models' time: the fast versions add
 * threads over planes, and skip the bounds checks where no window needs them. */
void kc_avg_pool(const kc_ctx *ctx, const kc_pool_shape *s, const float *x, float *y) {
    int inside = s->pad_t == 0 && s->pad_l == 0 && s->h_out > 0 && s->w_out > 0 &&
                 (s->h_out - 1) * s->sh + s->kh <= s->h_in &&
                 (s->w_out - 1) * s->sw + s->kw <= s->w_in;
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static)
    for (int64_t p = 0; p < s->planes; p++) {
        if (inside)
            avg_pool_inside(s, x + p * s->h_in * s->w_in, y + p * s->h_out * s->w_out);
        else
            pool_plane(s, x + p * s->h_in * s->w_in, y + p * s->h_out * s->w_out, 0);
    }
}

/* 2x2 stride 2 without padding (the common case): no bounds checks. */
static void max_pool_2x2(const kc_pool_shape *s, const float *x, float *y) {
    for (int oy = 0; oy < s->h_out; oy++) {
        const float *r0 = x + (size_t)(2 * oy) * s->w_in, *r1 = r0 + s->w_in;
        float *yr = y + (size_t)oy * s->w_out;
        for (int ox = 0; ox < s->w_out; ox++) {
            float a = r0[2 * ox] > r0[2 * ox + 1] ? r0[2 * ox] : r0[2 * ox + 1];
            float b = r1[2 * ox] > r1[2 * ox + 1] ? r1[2 * ox] : r1[2 * ox + 1];
            yr[ox] = a > b ? a : b;
        }
    }
}

void kc_max_pool(const kc_ctx *ctx, const kc_pool_shape *s, const float *x, float *y) {
    int fast = s->kh == 2 && s->kw == 2 && s->sh == 2 && s->sw == 2 && s->pad_t == 0 &&
               s->pad_l == 0 && 2 * s->h_out <= s->h_in && 2 * s->w_out <= s->w_in;
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static)
    for (int64_t p = 0; p < s->planes; p++) {
        if (fast)
            max_pool_2x2(s, x + p * s->h_in * s->w_in, y + p * s->h_out * s->w_out);
        else
            pool_plane(s, x + p * s->h_in * s->w_in, y + p * s->h_out * s->w_out, 1);
    }
}

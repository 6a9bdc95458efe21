/* Depthwise convolution: one channel at a time, copied into a zero-padded
 * plane so that the inner loops have no bounds checks and vectorize; the
 * 3x3 and 5x5 cases get their own fully unrolled loops. */
#include <string.h>

#include "kernels/cpu/kc_private.h"

/* Width of a padded row; stride-2 rows hold the even columns, then the odd
 * ones, each half (wp + 1) / 2 wide, so that the taps load contiguous floats
 * (a stride-2 gather cost more than the multiply-adds). */
static size_t dw_pitch(const kc_conv_shape *s) {
    size_t wp = (size_t)s->w_in + s->pad_l + s->pad_r + s->sw;
    return s->sw == 2 ? (wp + 1) / 2 * 2 : wp;
}

size_t kc_conv_dw_workspace(const kc_conv_shape *s) {
    size_t hp = (size_t)s->h_in + s->pad_t + s->pad_b + s->sh;
    return hp * dw_pitch(s) + 16; /* slack for the vector tail of the last row */
}

/* One output row: out[ox] = sum w[ky][kx] * xp[row ky][ox*SW + kx]. Eight
 * outputs at a time stay in registers for all K*K taps, so each input is
 * loaded once per tap and each output stored once. K and SW are constants in
 * the callers, so the loops unroll. With SW == 2 the rows are split in even
 * and odd halves (dw_pitch): column ox*2 + kx is at (kx & 1) * half + ox + kx / 2. */
typedef float kc_v8 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void load8(kc_v8 *v, const float *p) {
    memcpy(v, p, sizeof(*v));
}

/* Where tap kx of output column ox starts in a row (see dw_pitch). */
static inline __attribute__((always_inline)) size_t tap_col(int SW, size_t half, int ox, int kx) {
    return SW == 2 ? (size_t)(kx & 1) * half + (size_t)ox + (size_t)(kx >> 1) : (size_t)ox + kx;
}

static inline __attribute__((always_inline)) void dw_row(const float *restrict xp, size_t wp,
                                                         size_t half, const float *restrict w,
                                                         int K, int SW, float *restrict out,
                                                         int w_out) {
    int ox = 0;
    /* Four independent accumulators: one alone would wait on the FMA
     * latency at every tap. */
    for (; ox + 32 <= w_out; ox += 32) {
        kc_v8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                const float *p = xp + (size_t)ky * wp + tap_col(SW, half, ox, kx);
                float wv = w[ky * K + kx];
                kc_v8 v0, v1, v2, v3;
                load8(&v0, p);
                load8(&v1, p + 8);
                load8(&v2, p + 16);
                load8(&v3, p + 24);
                a0 += wv * v0;
                a1 += wv * v1;
                a2 += wv * v2;
                a3 += wv * v3;
            }
        memcpy(out + ox, &a0, sizeof(a0));
        memcpy(out + ox + 8, &a1, sizeof(a1));
        memcpy(out + ox + 16, &a2, sizeof(a2));
        memcpy(out + ox + 24, &a3, sizeof(a3));
    }
    /* Then 8 at a time; the last 1-7 outputs as a full vector too: their
     * taps read up to 7 floats past the row, into the next one or the
     * plane's slack, and only the valid lanes are stored. */
    for (; ox < w_out; ox += 8) {
        kc_v8 acc = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                kc_v8 v;
                load8(&v, xp + (size_t)ky * wp + tap_col(SW, half, ox, kx));
                acc += w[ky * K + kx] * v;
            }
        if (w_out - ox >= 8) {
            memcpy(out + ox, &acc, sizeof(acc));
        } else {
            float lanes[8];
            memcpy(lanes, &acc, sizeof(acc));
            memcpy(out + ox, lanes, sizeof(float) * (size_t)(w_out - ox));
        }
    }
}

/* Any kernel size and stride (kh may differ from kw). */
static void dw_row_generic(const float *restrict xp, size_t wp, size_t half,
                           const float *restrict w, int kh, int kw, int sw, float *restrict out,
                           int w_out) {
    for (int ox = 0; ox < w_out; ox++)
        out[ox] = 0.f;
    for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++) {
            float wv = w[ky * kw + kx];
            if (sw == 2) {
                const float *xs = xp + (size_t)ky * wp + tap_col(2, half, 0, kx);
                for (int ox = 0; ox < w_out; ox++)
                    out[ox] += wv * xs[ox];
            } else {
                const float *xs = xp + (size_t)ky * wp + kx;
                for (int ox = 0; ox < w_out; ox++)
                    out[ox] += wv * xs[(size_t)ox * sw];
            }
        }
}

/* Input row -> padded row split in even and odd columns (dw_pitch). */
static inline __attribute__((always_inline)) void
split_row(float *restrict d, size_t half, const float *restrict src, int n, int pad_l) {
    /* src[i] lands at padded column pad_l + i */
    float *ev = d + (size_t)((pad_l + 1) >> 1), *od = d + half + (size_t)(pad_l >> 1);
    const float *se = src + (pad_l & 1), *so = src + !(pad_l & 1);
    int ne = (n - (pad_l & 1) + 1) / 2, no = (n - !(pad_l & 1) + 1) / 2;
    for (int j = 0; j < ne; j++)
        ev[j] = se[2 * j];
    for (int j = 0; j < no; j++)
        od[j] = so[2 * j];
}

/* One channel plane: copy into the interior of the zero-padded plane `xp`
 * (its borders were zeroed once per call), then row by row, each row finished
 * by the epilogue while it is in L1. Inlined into two wrappers below, one
 * compiled for AVX2+FMA, chosen at run time. */
static inline __attribute__((always_inline)) void dw_plane(const kc_conv_shape *s, const float *xc,
                                                           const float *wc, const kc_epilogue *ep,
                                                           int c, float *xp, float *yc) {
    size_t wp = dw_pitch(s), half = wp / 2;
    for (int iy = 0; iy < s->h_in; iy++) {
        float *d = xp + (size_t)(iy + s->pad_t) * wp;
        if (s->sw == 2)
            split_row(d, half, xc + (size_t)iy * s->w_in, s->w_in, s->pad_l);
        else
            memcpy(d + s->pad_l, xc + (size_t)iy * s->w_in, sizeof(float) * s->w_in);
    }
    int sq = s->kh == s->kw;
    for (int oy = 0; oy < s->h_out; oy++) {
        const float *xr = xp + (size_t)oy * s->sh * wp;
        float *out = yc + (size_t)oy * s->w_out;
        if (sq && s->kh == 3 && s->sw == 1)
            dw_row(xr, wp, half, wc, 3, 1, out, s->w_out);
        else if (sq && s->kh == 3 && s->sw == 2)
            dw_row(xr, wp, half, wc, 3, 2, out, s->w_out);
        else if (sq && s->kh == 5 && s->sw == 1)
            dw_row(xr, wp, half, wc, 5, 1, out, s->w_out);
        else if (sq && s->kh == 5 && s->sw == 2)
            dw_row(xr, wp, half, wc, 5, 2, out, s->w_out);
        else
            dw_row_generic(xr, wp, half, wc, s->kh, s->kw, s->sw, out, s->w_out);
        kc_epilogue_row(ep, c, out, (size_t)s->w_out);
    }
}

__attribute__((target("avx2,fma"))) static void dw_plane_avx2(const kc_conv_shape *s,
                                                              const float *xc, const float *wc,
                                                              const kc_epilogue *ep, int c,
                                                              float *xp, float *yc) {
    dw_plane(s, xc, wc, ep, c, xp, yc);
}

static void dw_plane_base(const kc_conv_shape *s, const float *xc, const float *wc,
                          const kc_epilogue *ep, int c, float *xp, float *yc) {
    dw_plane(s, xc, wc, ep, c, xp, yc);
}

void kc_conv_dw(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *w,
                const kc_epilogue *ep, float *y) {
    size_t hw_in = (size_t)s->h_in * s->w_in, hw_out = (size_t)s->h_out * s->w_out;
    long planes = (long)s->n * s->c_out;
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int nt = kc_threads_for(ctx, (double)planes * hw_out * s->kh * s->kw);
#pragma omp parallel num_threads(nt)
    {
        /* Each thread zeroes its padded plane once; the planes only rewrite
         * the interior, so the borders stay zero. */
        float *xp = ctx->scratch + (size_t)kc_thread_id() * ctx->scratch_per_thread;
        memset(xp, 0, sizeof(float) * kc_conv_dw_workspace(s));
#pragma omp for schedule(static)
        for (long p = 0; p < planes; p++) {
            int c = (int)(p % s->c_out);
            (avx2 ? dw_plane_avx2 : dw_plane_base)(s, x + (size_t)p * hw_in,
                                                   w + (size_t)c * s->kh * s->kw, ep, c, xp,
                                                   y + (size_t)p * hw_out);
        }
    }
}

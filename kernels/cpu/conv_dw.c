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
    return hp * dw_pitch(s) + 48; /* slack: conv_dw_row16.h reads up to 32 floats past a row */
}

/* Where tap kx of output column ox starts in a row (see dw_pitch). */
static inline __attribute__((always_inline)) size_t tap_col(int SW, size_t half, int ox, int kx) {
    return SW == 2 ? (size_t)(kx & 1) * half + (size_t)ox + (size_t)(kx >> 1) : (size_t)ox + kx;
}

/* The outputs of a row of w_out in blocks of up to four vectors of L lanes:
 * the full blocks, then one of 1-4 vectors for the rest (each vector its
 * own chain of multiply-adds; one vector at a time, the tail's single chain
 * set the pace). BLOCK(V, ox, n) computes V vectors from column ox and
 * stores n outputs; every row kernel below drives its blocks so. */
#define DW_ROW_BLOCKS(L, BLOCK, w_out)                                                             \
    do {                                                                                           \
        int ox_ = 0;                                                                               \
        for (; ox_ + 4 * (L) <= (w_out); ox_ += 4 * (L))                                           \
            BLOCK(4, ox_, 4 * (L));                                                                \
        int rest_ = (w_out)-ox_;                                                                   \
        if (rest_ > 3 * (L))                                                                       \
            BLOCK(4, ox_, rest_);                                                                  \
        else if (rest_ > 2 * (L))                                                                  \
            BLOCK(3, ox_, rest_);                                                                  \
        else if (rest_ > (L))                                                                      \
            BLOCK(2, ox_, rest_);                                                                  \
        else if (rest_ > 0)                                                                        \
            BLOCK(1, ox_, rest_);                                                                  \
    } while (0)

/* The row kernel in 16 lanes (AVX-512: twice the multiply-adds per
 * instruction, where the CPU's FMA units are 512 bits wide; conv_dw_row16.h),
 * in 8 (AVX2+FMA, conv_dw_row8.h), both with the epilogue in their stores,
 * and in 8 lanes of GCC vectors for the baseline build (conv_dw_row.h). */
typedef float kc_v8 __attribute__((vector_size(32)));
typedef float kc_v16 __attribute__((vector_size(64)));
#define DW_VEC   kc_v8
#define DW_L     8
#define DW_ROW   dw_row8
#define DW_BLOCK dw_block8
#include "kernels/cpu/conv_dw_row.h"
#undef DW_VEC
#undef DW_L
#undef DW_ROW
#undef DW_BLOCK
/* A channel's epilogue as scalars, for the row kernels that apply it as they
 * store (`on` 0: none): v + bias, the activation, fma(v, sc, sh), as
 * epilogue_row in act.c does it. */
typedef struct {
    int on, kind;
    float bias, a, b, sc, sh;
} dw_post;

static dw_post dw_post_of(const kc_epilogue *ep, int c) {
    dw_post p = {0, 0, 0.f, 0.f, 0.f, 1.f, 0.f};
    if (!ep || (!ep->bias && ep->act.kind == KC_ACT_NONE && !ep->post_scale && !ep->post_shift))
        return p;
    int pc = ep->post_n == 1 ? 0 : c;
    p.on = 1;
    p.kind = (int)ep->act.kind;
    p.bias = ep->bias ? ep->bias[c] : 0.f;
    p.a = ep->act.a;
    p.b = ep->act.b;
    p.sc = ep->post_scale ? ep->post_scale[pc] : 1.f;
    p.sh = ep->post_shift ? ep->post_shift[pc] : 0.f;
    return p;
}

#include "kernels/cpu/conv_dw_row16.h"
#include "kernels/cpu/conv_dw_row8.h"

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

/* n floats from s to d in vectors of `wide` ? 16 : 8 (a memcpy call per
 * row of 80 floats took 5 % of the int8 recognizer's time). The empty asm
 * on the index keeps GCC from turning the loops back into that call. */
static inline __attribute__((always_inline)) void
copy_row(float *restrict d, const float *restrict s, int n, int wide) {
    int i = 0;
    if (wide)
        for (; i + 16 <= n; i += 16) {
            kc_v16 v;
            memcpy(&v, s + i, sizeof(v));
            __asm__("" : "+r"(i));
            memcpy(d + i, &v, sizeof(v));
        }
    for (; i + 8 <= n; i += 8) {
        kc_v8 v;
        memcpy(&v, s + i, sizeof(v));
        __asm__("" : "+r"(i));
        memcpy(d + i, &v, sizeof(v));
    }
    for (; i < n; i++) {
        d[i] = s[i];
        __asm__("" : "+r"(i));
    }
}

/* Output values the epilogue takes per call: the rows it finishes are
 * still in L1, and a call per row of 80 cost as much as the values. */
enum { EPI_CHUNK = 2048 };

/* One channel plane: copy into the interior of the zero-padded plane `xp`
 * (its borders were zeroed once per call), then row by row, the epilogue run
 * on each few rows while they are in L1. Inlined into three wrappers below
 * (AVX-512 with 16-lane rows, AVX2+FMA and baseline with 8-lane rows),
 * chosen at run time. */
static inline __attribute__((always_inline)) void dw_plane(const kc_conv_shape *s, const float *xc,
                                                           const float *wc, const kc_epilogue *ep,
                                                           int c, float *xp, float *yc,
                                                           kc_simd level) {
    int wide = level == KC_SIMD_AVX512;
    size_t wp = dw_pitch(s), half = wp / 2;
    for (int iy = 0; iy < s->h_in; iy++) {
        float *d = xp + (size_t)(iy + s->pad_t) * wp;
        if (s->sw == 2)
            split_row(d, half, xc + (size_t)iy * s->w_in, s->w_in, s->pad_l);
        else
            copy_row(d + s->pad_l, xc + (size_t)iy * s->w_in, s->w_in, wide);
    }
    int done = 0; /* rows the epilogue has finished */
    int sq = s->kh == s->kw;
    /* the AVX-512 and AVX2 rows apply the epilogue as they store (not a
     * Sigmoid) */
    int fused = level != KC_SIMD_BASE && sq && (s->kh == 3 || s->kh == 5) &&
                (s->sw == 1 || s->sw == 2) && !(ep && ep->act.kind == KC_ACT_SIGMOID);
    dw_post pe = dw_post_of(fused ? ep : NULL, c);
#define DW_ROWS(K, SW)                                                                             \
    (level == KC_SIMD_AVX512 ? dw16_row_k##K##s##SW(xr, wp, half, wc, &pe, out, s->w_out)          \
     : level == KC_SIMD_AVX2 ? dw8_row_k##K##s##SW(xr, wp, half, wc, &pe, out, s->w_out)           \
                             : dw_row8(xr, wp, half, wc, K, SW, out, s->w_out))
    for (int oy = 0; oy < s->h_out; oy++) {
        const float *xr = xp + (size_t)oy * s->sh * wp;
        float *out = yc + (size_t)oy * s->w_out;
        if (sq && s->kh == 3 && s->sw == 1)
            DW_ROWS(3, 1);
        else if (sq && s->kh == 3 && s->sw == 2)
            DW_ROWS(3, 2);
        else if (sq && s->kh == 5 && s->sw == 1)
            DW_ROWS(5, 1);
        else if (sq && s->kh == 5 && s->sw == 2)
            DW_ROWS(5, 2);
        else
            dw_row_generic(xr, wp, half, wc, s->kh, s->kw, s->sw, out, s->w_out);
        if (!fused && ((oy + 1 - done) * s->w_out >= EPI_CHUNK || oy + 1 == s->h_out)) {
            kc_epilogue_row(ep, c, yc + (size_t)done * s->w_out,
                            (size_t)(oy + 1 - done) * s->w_out);
            done = oy + 1;
        }
    }
}

#undef DW_ROWS

__attribute__((target("avx512f,avx2,fma"))) static void
dw_plane_avx512(const kc_conv_shape *s, const float *xc, const float *wc, const kc_epilogue *ep,
                int c, float *xp, float *yc) {
    dw_plane(s, xc, wc, ep, c, xp, yc, KC_SIMD_AVX512);
}

__attribute__((target("avx2,fma"))) static void dw_plane_avx2(const kc_conv_shape *s,
                                                              const float *xc, const float *wc,
                                                              const kc_epilogue *ep, int c,
                                                              float *xp, float *yc) {
    dw_plane(s, xc, wc, ep, c, xp, yc, KC_SIMD_AVX2);
}

static void dw_plane_base(const kc_conv_shape *s, const float *xc, const float *wc,
                          const kc_epilogue *ep, int c, float *xp, float *yc) {
    dw_plane(s, xc, wc, ep, c, xp, yc, KC_SIMD_BASE);
}

void kc_conv_dw(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *w,
                const kc_epilogue *ep, float *y) {
    size_t hw_in = (size_t)s->h_in * s->w_in, hw_out = (size_t)s->h_out * s->w_out;
    long planes = (long)s->n * s->c_out;
    static void (*const build[])(const kc_conv_shape *, const float *, const float *,
                                 const kc_epilogue *, int, float *,
                                 float *) = {[KC_SIMD_BASE] = dw_plane_base,
                                             [KC_SIMD_AVX2] = dw_plane_avx2,
                                             [KC_SIMD_AVX512] = dw_plane_avx512};
    void (*plane)(const kc_conv_shape *, const float *, const float *, const kc_epilogue *, int,
                  float *, float *) = build[kc_simd_level()];
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
            plane(s, x + (size_t)p * hw_in, w + (size_t)c * s->kh * s->kw, ep, c, xp,
                  y + (size_t)p * hw_out);
        }
    }
}

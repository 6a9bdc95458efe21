/* 2-D convolution, NCHW: the naive reference and the fast path, which sends
 * depthwise convs to conv_dw.c and everything else to SGEMM (kc_gemm), 1x1
 * convs straight on the input and the rest through a small per-thread im2col
 * tile. The epilogue runs inside the GEMM, on each block of the output while
 * it is still in registers or cache. */
#include <string.h>

#include "kernels/cpu/kc_private.h"

void kc_conv2d_ref(const kc_conv_shape *s, const float *x, const float *w, const kc_epilogue *ep,
                   float *y) {
    int cig = s->c_in / s->group, cog = s->c_out / s->group;
    size_t hw_out = (size_t)s->h_out * s->w_out;
    for (int n = 0; n < s->n; n++)
        for (int co = 0; co < s->c_out; co++) {
            int g = co / cog;
            float *yp = y + ((size_t)n * s->c_out + co) * hw_out;
            for (int oy = 0; oy < s->h_out; oy++)
                for (int ox = 0; ox < s->w_out; ox++) {
                    double acc = 0;
                    for (int ci = 0; ci < cig; ci++)
                        for (int ky = 0; ky < s->kh; ky++)
                            for (int kx = 0; kx < s->kw; kx++) {
                                int iy = oy * s->sh - s->pad_t + ky * s->dh;
                                int ix = ox * s->sw - s->pad_l + kx * s->dw;
                                if (iy < 0 || iy >= s->h_in || ix < 0 || ix >= s->w_in) continue;
                                size_t xi = (((size_t)n * s->c_in + g * cig + ci) * s->h_in + iy) *
                                                s->w_in +
                                            ix;
                                size_t wi = (((size_t)co * cig + ci) * s->kh + ky) * s->kw + kx;
                                acc += (double)x[xi] * w[wi];
                            }
                    yp[(size_t)oy * s->w_out + ox] = (float)acc;
                }
            kc_epilogue_row(ep, co, yp, hw_out);
        }
}

static int conv_is_dw(const kc_conv_shape *s) {
    return s->group > 1 && s->group == s->c_in && s->group == s->c_out && s->dh == 1 && s->dw == 1;
}

static int conv_is_1x1(const kc_conv_shape *s) {
    return s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->pad_t == 0 && s->pad_l == 0 &&
           s->pad_b == 0 && s->pad_r == 0;
}

/* Output rows per im2col tile: about 128K floats of columns (L2-sized), at
 * least one row. SGEMM runs near peak from ~128 columns up. */
static int conv_tile_rows(const kc_conv_shape *s) {
    size_t k = (size_t)(s->c_in / s->group) * s->kh * s->kw;
    size_t r = 131072 / (k * (size_t)s->w_out + 1);
    if (r < 1) r = 1;
    if (r > (size_t)s->h_out) r = (size_t)s->h_out;
    return (int)r;
}

/* Stride-1 convs with enough input channels run as one GEMM per tap on a
 * zero-padded copy of the input rows (the "shifted GEMM"): no 9x/25x im2col
 * traffic, ~1% extra flops for the padding columns that are computed and
 * dropped. */
static int conv_is_shift(const kc_conv_shape *s) {
    return !conv_is_dw(s) && !conv_is_1x1(s) && s->sh == 1 && s->sw == 1 && s->dh == 1 &&
           s->dw == 1 && s->c_in / s->group >= 8 && s->kh * s->kw > 1;
}

/* Output rows per shifted-GEMM tile: the padded input rows of one tile
 * (c_in/group x (rows + kh - 1) x padded width) about 512 KiB. */
static int shift_tile_rows(const kc_conv_shape *s) {
    size_t wp = (size_t)s->w_in + s->pad_l + s->pad_r;
    size_t per_row = (size_t)(s->c_in / s->group) * wp;
    size_t rows = 131072 / (per_row ? per_row : 1);
    rows = rows > (size_t)s->kh ? rows - (size_t)(s->kh - 1) : 1;
    if (rows > (size_t)s->h_out) rows = (size_t)s->h_out;
    return (int)rows;
}

size_t kc_conv2d_packed_size(const kc_conv_shape *s) {
    if (kc_conv_wino_ok(s)) return kc_conv_wino_packed_size(s);
    return conv_is_shift(s) ? (size_t)s->c_out * (s->c_in / s->group) * s->kh * s->kw : 0;
}

void kc_conv2d_pack(const kc_conv_shape *s, const float *w, float *packed) {
    if (kc_conv_wino_ok(s)) {
        kc_conv_wino_pack(s, w, packed);
        return;
    }
    int cig = s->c_in / s->group, cog = s->c_out / s->group, kk = s->kh * s->kw;
    /* packed[g][co][tap][ci] from w[g*cog + co][ci][tap]: row co of one GEMM
     * over all taps, or of one GEMM per tap (A = packed + tap*cig, lda = kk*cig) */
    for (int g = 0; g < s->group; g++)
        for (int co = 0; co < cog; co++)
            for (int t = 0; t < kk; t++)
                for (int ci = 0; ci < cig; ci++)
                    packed[(((size_t)g * cog + co) * kk + t) * cig + ci] =
                        w[(((size_t)g * cog + co) * cig + ci) * kk + t];
}

size_t kc_conv2d_workspace(const kc_conv_shape *s) {
    if (conv_is_dw(s)) return kc_conv_dw_workspace(s);
    if (conv_is_1x1(s)) return 0;
    size_t k = (size_t)(s->c_in / s->group) * s->kh * s->kw;
    size_t im2col = k * (size_t)conv_tile_rows(s) * (size_t)s->w_out;
    if (kc_conv_wino_ok(s)) {
        size_t wino = kc_conv_wino_workspace(s);
        return wino > im2col ? wino : im2col;
    }
    if (!conv_is_shift(s)) return im2col;
    size_t wp = (size_t)s->w_in + s->pad_l + s->pad_r, r = (size_t)shift_tile_rows(s);
    size_t shift = (size_t)(s->c_in / s->group) * (r + s->kh - 1) * wp + (size_t)s->kw + 16 +
                   (size_t)(s->c_out / s->group) * r * wp +
                   /* the row table of the implicit im2col (int, float-sized) */
                   (size_t)(s->c_in / s->group) * s->kh * s->kw;
    /* Either path may run (packed weights are optional): room for both. */
    return shift > im2col ? shift : im2col;
}

/* One tile of the shifted GEMM: output rows oy0 .. oy0+nr-1 of image n,
 * group g. `buf` holds the padded input rows, then the output tile. */
static void conv_shift_tile(const kc_conv_shape *s, const float *xg, const float *pw, int oy0,
                            int nr, float *buf, const kc_epilogue *ep, int c0, float *yg) {
    int cig = s->c_in / s->group, cog = s->c_out / s->group, kk = s->kh * s->kw;
    int wp = s->w_in + s->pad_l + s->pad_r, rows = nr + s->kh - 1;
    size_t plane = (size_t)rows * wp;
    float *xpad = buf, *ct = buf + (size_t)cig * plane + s->kw + 16;
    for (int ci = 0; ci < cig; ci++)
        for (int r = 0; r < rows; r++) {
            float *d = xpad + ci * plane + (size_t)r * wp;
            int iy = oy0 - s->pad_t + r;
            if (iy < 0 || iy >= s->h_in) {
                memset(d, 0, sizeof(float) * (size_t)wp);
                continue;
            }
            memset(d, 0, sizeof(float) * (size_t)s->pad_l);
            memcpy(d + s->pad_l, xg + ((size_t)ci * s->h_in + iy) * s->w_in,
                   sizeof(float) * (size_t)s->w_in);
            memset(d + s->pad_l + s->w_in, 0, sizeof(float) * (size_t)s->pad_r);
        }
    /* The last taps read up to kw-1 floats past the last plane: garbage that
     * lands in dropped columns, but it must be memory we own. */
    memset(xpad + (size_t)cig * plane, 0, sizeof(float) * (size_t)(s->kw + 16));
    int ncols = nr * wp;
    /* One GEMM over all taps: row (t, ci) of B is channel ci of the tile
     * shifted by tap t. Without it, one GEMM per tap accumulating into ct. */
    int *brow = (int *)(ct + (size_t)cog * ncols);
    for (int t = 0; t < kk; t++)
        for (int ci = 0; ci < cig; ci++)
            brow[t * cig + ci] = (int)(ci * plane + (size_t)(t / s->kw) * wp + t % s->kw);
    if (!kc_gemm_rows(cog, ncols, kk * cig, pw, kk * cig, xpad, brow, ct, ncols, ep, c0))
        for (int t = 0; t < kk; t++) {
            int ky = t / s->kw, kx = t % s->kw;
            kc_gemm(cog, ncols, cig, pw + (size_t)t * cig, kk * cig, xpad + (size_t)ky * wp + kx,
                    (int)plane, t > 0, ct, ncols, t == kk - 1 ? ep : NULL, c0);
        }
    size_t hw = (size_t)s->h_out * s->w_out;
    for (int co = 0; co < cog; co++)
        for (int r = 0; r < nr; r++)
            memcpy(yg + (size_t)co * hw + (size_t)(oy0 + r) * s->w_out,
                   ct + (size_t)co * ncols + (size_t)r * wp, sizeof(float) * (size_t)s->w_out);
}

/* im2col of output rows oy0 .. oy0+nr-1 of one image and group: row
 * (ci, ky, kx) of `col` holds the input pixels that tap meets, zeros where it
 * meets padding. Whole row segments are copied at once. */
static void conv_im2col_rows(const kc_conv_shape *s, const float *x, int oy0, int nr, float *col) {
    int cig = s->c_in / s->group, wo = s->w_out;
    size_t cols = (size_t)nr * wo;
    for (int ci = 0; ci < cig; ci++)
        for (int ky = 0; ky < s->kh; ky++)
            for (int kx = 0; kx < s->kw; kx++) {
                float *dst = col + ((size_t)(ci * s->kh + ky) * s->kw + kx) * cols;
                const float *xc = x + (size_t)ci * s->h_in * s->w_in;
                int off = kx * s->dw - s->pad_l; /* ix = ox*sw + off */
                int lo = off >= 0 ? 0 : (-off + s->sw - 1) / s->sw;
                int hi = s->w_in - 1 - off < 0 ? 0 : (s->w_in - 1 - off) / s->sw + 1;
                if (lo > wo) lo = wo;
                if (hi > wo) hi = wo;
                if (hi < lo) hi = lo;
                for (int r = 0; r < nr; r++) {
                    float *d = dst + (size_t)r * wo;
                    int iy = (oy0 + r) * s->sh - s->pad_t + ky * s->dh;
                    if (iy < 0 || iy >= s->h_in) {
                        memset(d, 0, sizeof(float) * (size_t)wo);
                        continue;
                    }
                    const float *src = xc + (size_t)iy * s->w_in + off;
                    for (int ox = 0; ox < lo; ox++)
                        d[ox] = 0.f;
                    if (s->sw == 1)
                        memcpy(d + lo, src + lo, sizeof(float) * (size_t)(hi - lo));
                    else
                        for (int ox = lo; ox < hi; ox++)
                            d[ox] = src[ox * s->sw];
                    for (int ox = hi; ox < wo; ox++)
                        d[ox] = 0.f;
                }
            }
}

void kc_conv2d(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *w,
               const float *packed, const kc_epilogue *ep, float *y) {
    if (conv_is_dw(s)) {
        kc_conv_dw(ctx, s, x, w, ep, y);
        return;
    }
    if (packed && kc_conv_wino_ok(s)) {
        kc_conv_wino(ctx, s, x, packed, ep, y);
        return;
    }
    if (packed && conv_is_shift(s)) {
        int cig = s->c_in / s->group, cog = s->c_out / s->group, kk = s->kh * s->kw;
        int per = shift_tile_rows(s);
        if (ctx->nthreads > 1) {
            int want = (s->h_out + ctx->nthreads * 2 - 1) / (ctx->nthreads * 2);
            per = want < per ? (want < 1 ? 1 : want) : per;
        }
        int ntiles = (s->h_out + per - 1) / per;
        long total = (long)s->n * s->group * ntiles;
        int nt = kc_threads_for(ctx, (double)s->n * s->c_out * s->h_out * s->w_out * cig * kk);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (long t = 0; t < total; t++) {
            int tile = (int)(t % ntiles), g = (int)(t / ntiles % s->group),
                n = (int)(t / ntiles / s->group);
            int oy0 = tile * per, nr = s->h_out - oy0 < per ? s->h_out - oy0 : per;
            const float *xg = x + ((size_t)n * s->c_in + (size_t)g * cig) * s->h_in * s->w_in;
            float *yg = y + ((size_t)n * s->c_out + (size_t)g * cog) * s->h_out * s->w_out;
            float *buf = ctx->scratch + (size_t)kc_thread_id() * ctx->scratch_per_thread;
            conv_shift_tile(s, xg, packed + (size_t)g * cog * kk * cig, oy0, nr, buf, ep, g * cog,
                            yg);
        }
        return;
    }
    int cig = s->c_in / s->group, cog = s->c_out / s->group;
    int k = cig * s->kh * s->kw;
    int hw = s->h_out * s->w_out;
    int is1x1 = conv_is_1x1(s);
    /* 1x1: column tiles straight on the input. Others: tiles of whole output
     * rows through the im2col buffer. */
    int unit = is1x1 ? 1 : s->w_out;
    int per = is1x1 ? 1024 : conv_tile_rows(s);
    int units = is1x1 ? hw : s->h_out;
    if (ctx->nthreads > 1) {
        /* Enough tiles that every thread gets work even on small maps. */
        int want = (units + ctx->nthreads * 2 - 1) / (ctx->nthreads * 2);
        if (is1x1) want = (want + 15) / 16 * 16 < 64 ? 64 : (want + 15) / 16 * 16;
        if (want < per) per = want < 1 ? 1 : want;
    }
    int ntiles = (units + per - 1) / per;
    long total = (long)s->n * s->group * ntiles;
    int nt = kc_threads_for(ctx, (double)s->n * s->c_out * hw * k);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (long t = 0; t < total; t++) {
        int tile = (int)(t % ntiles);
        int g = (int)(t / ntiles % s->group);
        int n = (int)(t / ntiles / s->group);
        int u0 = tile * per, nu = units - u0 < per ? units - u0 : per;
        int p0 = u0 * unit, nc = nu * unit;
        const float *xg = x + ((size_t)n * s->c_in + (size_t)g * cig) * s->h_in * s->w_in;
        float *yg = y + ((size_t)n * s->c_out + (size_t)g * cog) * hw + p0;
        const float *wg = w + (size_t)g * cog * k;
        if (is1x1) {
            kc_gemm(cog, nc, k, wg, k, xg + p0, hw, 0, yg, hw, ep, g * cog);
        } else {
            float *col = ctx->scratch + (size_t)kc_thread_id() * ctx->scratch_per_thread;
            conv_im2col_rows(s, xg, u0, nu, col);
            kc_gemm(cog, nc, k, wg, k, col, nc, 0, yg, hw, ep, g * cog);
        }
    }
}

/* ConvTranspose (NCHW, weights [Cin, Cout/group, kh, kw]). The fast path is
 * one SGEMM per image and group, cols = W^T x, scattered back (col2im) in
 * blocks of input rows so the column buffer stays small; when the windows
 * tile the output, the scatter is a plain interleaving copy with the
 * epilogue on each finished row. */
#include <string.h>

#include "kernels/cpu/kc_private.h"

void kc_deconv2d_ref(const kc_conv_shape *s, const float *x, const float *w, const kc_epilogue *ep,
                     float *y) {
    int cig = s->c_in / s->group, cog = s->c_out / s->group;
    size_t hw_out = (size_t)s->h_out * s->w_out;
    memset(y, 0, sizeof(float) * hw_out * s->c_out * s->n);
    for (int n = 0; n < s->n; n++)
        for (int ci = 0; ci < s->c_in; ci++) {
            int g = ci / cig;
            for (int iy = 0; iy < s->h_in; iy++)
                for (int ix = 0; ix < s->w_in; ix++) {
                    float xv = x[(((size_t)n * s->c_in + ci) * s->h_in + iy) * s->w_in + ix];
                    for (int co = 0; co < cog; co++)
                        for (int ky = 0; ky < s->kh; ky++)
                            for (int kx = 0; kx < s->kw; kx++) {
                                int oy = iy * s->sh - s->pad_t + ky * s->dh;
                                int ox = ix * s->sw - s->pad_l + kx * s->dw;
                                if (oy < 0 || oy >= s->h_out || ox < 0 || ox >= s->w_out) continue;
                                float wv = w[(((size_t)ci * cog + co) * s->kh + ky) * s->kw + kx];
                                y[(((size_t)n * s->c_out + g * cog + co) * s->h_out + oy) *
                                      s->w_out +
                                  ox] += xv * wv;
                            }
                }
        }
    for (int n = 0; n < s->n; n++)
        for (int co = 0; co < s->c_out; co++)
            kc_epilogue_row(ep, co, y + ((size_t)n * s->c_out + co) * hw_out, hw_out);
}

/* Input rows per block: about 256 KiB of columns. */
static int deconv_block_rows(const kc_conv_shape *s) {
    size_t per_row = (size_t)(s->c_out / s->group) * s->kh * s->kw * s->w_in;
    size_t r = 65536 / (per_row ? per_row : 1);
    if (r < 1) r = 1;
    if (r > (size_t)s->h_in) r = (size_t)s->h_in;
    return (int)r;
}

/* Windows that tile the output exactly (stride == kernel, no dilation, no
 * padding, PP-OCRv4 det's k2 s2 upsampling): every output value gets one
 * contribution, so the columns are written in place, no zeroing, no adds. */
static int deconv_is_tiling(const kc_conv_shape *s) {
    return s->sh == s->kh && s->sw == s->kw && s->dh == 1 && s->dw == 1 && s->pad_t == 0 &&
           s->pad_l == 0 && s->h_out == s->h_in * s->sh && s->w_out == s->w_in * s->sw;
}

size_t kc_deconv2d_workspace(const kc_conv_shape *s) {
    size_t col = (size_t)(s->c_out / s->group) * s->kh * s->kw * s->w_in * deconv_block_rows(s);
    /* the tiling path's weights, transposed for a plain GEMM */
    size_t wt = (size_t)(s->c_out / s->group) * s->kh * s->kw * (s->c_in / s->group);
    return col + (deconv_is_tiling(s) ? wt : 0);
}

/* The tiling case, one block of input rows: wt holds W^T [(co,ky,kx)][ci]. */
static void deconv_tiling_block(const kc_conv_shape *s, const float *xg, int hw_in, const float *wt,
                                int iy0, int nr, const kc_epilogue *ep, int c0, float *col,
                                float *yg) {
    int cig = s->c_in / s->group, cog = s->c_out / s->group, kh = s->kh, kw = s->kw;
    int ncols = nr * s->w_in;
    size_t hw_out = (size_t)s->h_out * s->w_out;
    kc_gemm(cog * kh * kw, ncols, cig, wt, cig, xg, hw_in, 0, col, ncols, NULL, 0);
    for (int co = 0; co < cog; co++) {
        float *yc = yg + (size_t)co * hw_out;
        for (int r = 0; r < nr; r++)
            for (int ky = 0; ky < kh; ky++) {
                float *yr = yc + (size_t)((iy0 + r) * kh + ky) * s->w_out;
                const float *cr = col + ((size_t)(co * kh + ky) * kw) * ncols + (size_t)r * s->w_in;
                if (kw == 2) {
                    const float *c1 = cr + ncols;
                    for (int ix = 0; ix < s->w_in; ix++) {
                        yr[2 * ix] = cr[ix];
                        yr[2 * ix + 1] = c1[ix];
                    }
                } else {
                    for (int kx = 0; kx < kw; kx++)
                        for (int ix = 0; ix < s->w_in; ix++)
                            yr[ix * kw + kx] = cr[(size_t)kx * ncols + ix];
                }
                kc_epilogue_row(ep, c0 + co, yr, (size_t)s->w_out);
            }
    }
}

static void deconv_tiling(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *w,
                          const kc_epilogue *ep, float *y) {
    int cig = s->c_in / s->group, cog = s->c_out / s->group, kk = s->kh * s->kw;
    size_t hw_out = (size_t)s->h_out * s->w_out, hw_in = (size_t)s->h_in * s->w_in;
    int rows = deconv_block_rows(s);
    int nblk = (s->h_in + rows - 1) / rows;
    size_t colsz = (size_t)cog * kk * s->w_in * rows;
    long total = (long)s->n * s->group * nblk;
#pragma omp parallel num_threads(ctx->nthreads)
    {
        float *col = ctx->scratch + (size_t)kc_thread_id() * ctx->scratch_per_thread;
        float *wt = col + colsz;
        int wt_group = -1;
#pragma omp for schedule(dynamic, 1)
        for (long t = 0; t < total; t++) {
            int b = (int)(t % nblk), g = (int)(t / nblk % s->group), n = (int)(t / nblk / s->group);
            if (g != wt_group) { /* W[ci][(co,ky,kx)] -> wt[(co,ky,kx)][ci] */
                const float *wg = w + (size_t)g * cig * cog * kk;
                for (int ci = 0; ci < cig; ci++)
                    for (int j = 0; j < cog * kk; j++)
                        wt[(size_t)j * cig + ci] = wg[(size_t)ci * cog * kk + j];
                wt_group = g;
            }
            int iy0 = b * rows, nr = s->h_in - iy0 < rows ? s->h_in - iy0 : rows;
            const float *xg =
                x + ((size_t)n * s->c_in + (size_t)g * cig) * hw_in + (size_t)iy0 * s->w_in;
            float *yg = y + ((size_t)n * s->c_out + (size_t)g * cog) * hw_out;
            deconv_tiling_block(s, xg, (int)hw_in, wt, iy0, nr, ep, g * cog, col, yg);
        }
    }
}

void kc_deconv2d(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *w,
                 const kc_epilogue *ep, float *y) {
    if (deconv_is_tiling(s)) {
        deconv_tiling(ctx, s, x, w, ep, y);
        return;
    }
    int cig = s->c_in / s->group, cog = s->c_out / s->group;
    size_t hw_out = (size_t)s->h_out * s->w_out, hw_in = (size_t)s->h_in * s->w_in;
    int rows = deconv_block_rows(s);
    int nblk = (s->h_in + rows - 1) / rows;
    int kk = s->kh * s->kw;
    /* Blocks write disjoint output rows only when windows cannot overlap. */
    int disjoint = s->sh >= s->kh * s->dh;
    int nt = disjoint ? ctx->nthreads : 1;
    memset(y, 0, sizeof(float) * hw_out * s->c_out * s->n);
    long total = (long)s->n * s->group * nblk;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (long t = 0; t < total; t++) {
        int b = (int)(t % nblk), g = (int)(t / nblk % s->group), n = (int)(t / nblk / s->group);
        int iy0 = b * rows, nr = s->h_in - iy0 < rows ? s->h_in - iy0 : rows;
        int ncols = nr * s->w_in;
        float *col = ctx->scratch + (size_t)kc_thread_id() * ctx->scratch_per_thread;
        const float *xg =
            x + ((size_t)n * s->c_in + (size_t)g * cig) * hw_in + (size_t)iy0 * s->w_in;
        const float *wg = w + (size_t)g * cig * cog * kk;
        /* col[(co,ky,kx)][j] = sum_ci w[ci][(co,ky,kx)] * x[ci][j] */
        kc_sgemm(1, 0, cog * kk, ncols, cig, wg, cog * kk, xg, (int)hw_in, 0.f, col, ncols);
        float *yg = y + ((size_t)n * s->c_out + (size_t)g * cog) * hw_out;
        for (int co = 0; co < cog; co++)
            for (int ky = 0; ky < s->kh; ky++)
                for (int kx = 0; kx < s->kw; kx++) {
                    const float *cr = col + ((size_t)(co * s->kh + ky) * s->kw + kx) * ncols;
                    float *yc = yg + (size_t)co * hw_out;
                    for (int r = 0; r < nr; r++) {
                        int oy = (iy0 + r) * s->sh - s->pad_t + ky * s->dh;
                        if (oy < 0 || oy >= s->h_out) continue;
                        float *yr = yc + (size_t)oy * s->w_out;
                        const float *c = cr + (size_t)r * s->w_in;
                        for (int ix = 0; ix < s->w_in; ix++) {
                            int ox = ix * s->sw - s->pad_l + kx * s->dw;
                            if (ox >= 0 && ox < s->w_out) yr[ox] += c[ix];
                        }
                    }
                }
    }
    if (ep) {
        long planes = (long)s->n * s->c_out;
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static)
        for (long p = 0; p < planes; p++)
            kc_epilogue_row(ep, (int)(p % s->c_out), y + (size_t)p * hw_out, hw_out);
    }
}

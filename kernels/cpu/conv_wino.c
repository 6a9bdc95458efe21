/* 3x3 stride-1 convolution by Winograd's F(2x2, 3x3): each 2x2 block of
 * output ("tile") comes from a 4x4 block of input through 16 products
 * instead of 36, so the GEMMs do 2.25x fewer multiply-adds. PP-OCRv4 det's
 * 96 -> 24 channel 3x3 convs at a quarter of the page's resolution were a
 * third of its time. The transforms only add, subtract and halve (the
 * weights, once), so the results stay within float rounding of the direct
 * sum (the op tests hold them to the same bound).
 *
 * Per image, tiles are taken in blocks of up to wino_block() along a tile row:
 *   V[pos][ci][t] = (B^T d B)[pos]   d: the 4x4 input block of tile t
 *   M[pos] = U[pos] x V[pos]         U[pos][co][ci] = (G g G^T)[pos], packed
 *   y tile = A^T M A, then the epilogue, row by row.
 * The transforms run on 8 tiles at once (vector extensions, AVX2 build). */
#include <string.h>

#include "kernels/cpu/kc_private.h"

typedef float v8 __attribute__((vector_size(32)));

/* Tiles per block (a multiple of 8): V and M for one block near 512 KiB. */
static int wino_block(const kc_conv_shape *s) {
    int b = 131072 / (16 * (s->c_in + s->c_out)) / 8 * 8;
    return b < 8 ? 8 : b > 256 ? 256 : b;
}

int kc_conv_wino_ok(const kc_conv_shape *s) {
#if defined(__x86_64__)
    int cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    int cpu = 0;
#endif
    /* Few channels: the transforms would cost more than the products saved. */
    return cpu && s->kh == 3 && s->kw == 3 && s->sh == 1 && s->sw == 1 && s->dh == 1 &&
           s->dw == 1 && s->group == 1 && s->c_in >= 16 && s->c_out >= 8;
}

size_t kc_conv_wino_packed_size(const kc_conv_shape *s) {
    return (size_t)16 * s->c_out * s->c_in;
}

void kc_conv_wino_pack(const kc_conv_shape *s, const float *w, float *u) {
    size_t plane = (size_t)s->c_out * s->c_in;
    for (int co = 0; co < s->c_out; co++)
        for (int ci = 0; ci < s->c_in; ci++) {
            const float *g = w + ((size_t)co * s->c_in + ci) * 9;
            /* G g G^T with G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1], in double */
            double t[4][3];
            for (int j = 0; j < 3; j++) {
                t[0][j] = g[j];
                t[1][j] = 0.5 * ((double)g[j] + g[3 + j] + g[6 + j]);
                t[2][j] = 0.5 * ((double)g[j] - g[3 + j] + g[6 + j]);
                t[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; i++) {
                double r[4] = {t[i][0], 0.5 * (t[i][0] + t[i][1] + t[i][2]),
                               0.5 * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
                for (int j = 0; j < 4; j++)
                    u[(size_t)(i * 4 + j) * plane + (size_t)co * s->c_in + ci] = (float)r[j];
            }
        }
}

size_t kc_conv_wino_workspace(const kc_conv_shape *s) {
    /* V and M, then 4 x 24 floats for an input block at the image's edge */
    return (size_t)16 * (s->c_in + s->c_out) * wino_block(s) + 96;
}

/* The transforms below are compiled for AVX2 (v8 values cross function
 * boundaries, which changes the ABI otherwise); only kc_conv_wino_ok CPUs
 * reach them. */
#pragma GCC push_options
#pragma GCC target("avx2,fma")

static inline __attribute__((always_inline)) v8 ld(const float *p) {
    v8 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline __attribute__((always_inline)) void st(float *p, v8 v) {
    memcpy(p, &v, sizeof(v));
}

/* Input transform of 8 tiles from 4 padded rows r[0..3], tile k starting at
 * column 2k: V[pos] for the 8 tiles, 8 apart in v (pos-major, stride vs). */
static inline __attribute__((always_inline)) void in_tf8(const float *const r[4], float *v,
                                                         size_t vs) {
    /* __builtin_shufflevector, not GCC's __builtin_shuffle: both GCC (12+) and
     * clang have it, and the fuzz build (tests/fuzz) is clang's. */
#define EVEN(x, y) __builtin_shufflevector(x, y, 0, 2, 4, 6, 8, 10, 12, 14)
#define ODD(x, y)  __builtin_shufflevector(x, y, 1, 3, 5, 7, 9, 11, 13, 15)
    v8 h[4][4];
    for (int i = 0; i < 4; i++) {
        v8 a = ld(r[i]), b = ld(r[i] + 8), c = ld(r[i] + 2), d = ld(r[i] + 10);
        v8 c0 = EVEN(a, b), c1 = ODD(a, b);
        v8 c2 = EVEN(c, d), c3 = ODD(c, d);
        /* d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] */
        h[i][0] = c0 - c2;
        h[i][1] = c1 + c2;
        h[i][2] = c2 - c1;
        h[i][3] = c1 - c3;
    }
    for (int j = 0; j < 4; j++) {
        st(v + (size_t)(0 * 4 + j) * vs, h[0][j] - h[2][j]);
        st(v + (size_t)(1 * 4 + j) * vs, h[1][j] + h[2][j]);
        st(v + (size_t)(2 * 4 + j) * vs, h[2][j] - h[1][j]);
        st(v + (size_t)(3 * 4 + j) * vs, h[1][j] - h[3][j]);
    }
}

/* Output transform of 8 tiles: m[pos] 8 tiles apart by ms; out0/out1 get
 * the 16 values of the tiles' two output rows. */
static inline __attribute__((always_inline)) void out_tf8(const float *m, size_t ms, float *out0,
                                                          float *out1) {
    v8 s0[4], s1[4];
    for (int j = 0; j < 4; j++) { /* A^T = [1 1 1 0; 0 1 -1 -1] over rows */
        v8 a = ld(m + (size_t)j * ms), b = ld(m + (size_t)(4 + j) * ms);
        v8 c = ld(m + (size_t)(8 + j) * ms), d = ld(m + (size_t)(12 + j) * ms);
        s0[j] = a + b + c;
        s1[j] = b - c - d;
    }
    v8 y00 = s0[0] + s0[1] + s0[2], y01 = s0[1] - s0[2] - s0[3];
    v8 y10 = s1[0] + s1[1] + s1[2], y11 = s1[1] - s1[2] - s1[3];
#define LO(x, y) __builtin_shufflevector(x, y, 0, 8, 1, 9, 2, 10, 3, 11)
#define HI(x, y) __builtin_shufflevector(x, y, 4, 12, 5, 13, 6, 14, 7, 15)
    st(out0, LO(y00, y01));
    st(out0 + 8, HI(y00, y01));
    st(out1, LO(y10, y11));
    st(out1 + 8, HI(y10, y11));
}

/* Rows for the input transform of 8 tiles whose input block starts at
 * (iy0, ix0): pointers into the image when the 4 x 18 floats lie inside it,
 * else into `pad`, a zero-padded copy. */
static inline __attribute__((always_inline)) void tile_rows(const kc_conv_shape *s, const float *xc,
                                                            int iy0, int ix0, float *pad,
                                                            const float *r[4]) {
    enum { W = 18 };
    if (iy0 >= 0 && iy0 + 4 <= s->h_in && ix0 >= 0 && ix0 + W <= s->w_in) {
        for (int i = 0; i < 4; i++)
            r[i] = xc + (size_t)(iy0 + i) * s->w_in + ix0;
        return;
    }
    int lo = ix0 < 0 ? -ix0 : 0, hi = s->w_in - ix0;
    if (hi > W) hi = W;
    if (hi < lo) hi = lo;
    for (int i = 0; i < 4; i++) {
        /* plain loops: memset/memcpy calls cost more than these few floats */
        float *d = pad + i * 24;
        int iy = iy0 + i, a = iy >= 0 && iy < s->h_in ? lo : W, b = a == W ? W : hi;
        ptrdiff_t row = (ptrdiff_t)(a == W ? 0 : iy) * s->w_in + ix0;
        for (int j = 0; j < 24; j++)
            d[j] = 0.f;
        for (int j = a; j < b; j++)
            d[j] = xc[row + j];
        r[i] = d;
    }
}

/* One block: tiles tx0 .. tx0+nt-1 of tile row ty of one image. */
static inline __attribute__((always_inline)) void
wino_block_run(const kc_conv_shape *s, const float *x, const float *u, int ty, int tx0, int nt,
               int wb, float *buf, const kc_epilogue *ep, float *y) {
    int ci_n = s->c_in, co_n = s->c_out, nt8 = (nt + 7) / 8 * 8;
    float *v = buf, *m = v + (size_t)16 * ci_n * wb, *pad = m + (size_t)16 * co_n * wb;
    size_t hw_in = (size_t)s->h_in * s->w_in;
    size_t vs = (size_t)ci_n * wb, ms = (size_t)co_n * wb;
    int iy0 = 2 * ty - s->pad_t, ix0 = 2 * tx0 - s->pad_l;
    for (int ci = 0; ci < ci_n; ci++)
        for (int k = 0; k < nt8; k += 8) {
            const float *r[4];
            tile_rows(s, x + (size_t)ci * hw_in, iy0, ix0 + 2 * k, pad, r);
            in_tf8(r, v + (size_t)ci * wb + k, vs);
        }
    for (int pos = 0; pos < 16; pos++)
        kc_gemm(co_n, nt8, ci_n, u + (size_t)pos * co_n * ci_n, ci_n, v + (size_t)pos * vs, wb, 0,
                m + (size_t)pos * ms, wb, NULL, 0);
    size_t hw_out = (size_t)s->h_out * s->w_out;
    int oy = 2 * ty, ox = 2 * tx0, two = s->h_out - oy >= 2;
    int cols = s->w_out - ox < 2 * nt ? s->w_out - ox : 2 * nt;
    float *o0 = pad, *o1 = pad + 16; /* a group of 8 tiles that reaches past the image */
    for (int co = 0; co < co_n; co++) {
        float *y0 = y + (size_t)co * hw_out + (size_t)oy * s->w_out + ox, *y1 = y0 + s->w_out;
        for (int k = 0; k < nt8; k += 8) {
            int c0 = 2 * k, n = cols - c0 < 16 ? cols - c0 : 16;
            if (n == 16 && two) {
                out_tf8(m + (size_t)co * wb + k, ms, y0 + c0, y1 + c0);
                continue;
            }
            out_tf8(m + (size_t)co * wb + k, ms, o0, o1);
            if (n <= 0) continue;
            memcpy(y0 + c0, o0, sizeof(float) * (size_t)n);
            if (two) memcpy(y1 + c0, o1, sizeof(float) * (size_t)n);
        }
        kc_epilogue_row(ep, co, y0, (size_t)cols);
        if (two) kc_epilogue_row(ep, co, y1, (size_t)cols);
    }
}

static void wino_block_avx2(const kc_conv_shape *s, const float *x, const float *u, int ty, int tx0,
                            int nt, int wb, float *buf, const kc_epilogue *ep, float *y) {
    wino_block_run(s, x, u, ty, tx0, nt, wb, buf, ep, y);
}

#pragma GCC pop_options

void kc_conv_wino(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *u,
                  const kc_epilogue *ep, float *y) {
    int wb = wino_block(s);
    int tiles_y = (s->h_out + 1) / 2, tiles_x = (s->w_out + 1) / 2;
    int nb = (tiles_x + wb - 1) / wb;
    long total = (long)s->n * tiles_y * nb;
    int nt = kc_threads_for(ctx, (double)s->n * s->c_out * s->h_out * s->w_out * s->c_in * 4);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (long t = 0; t < total; t++) {
        int b = (int)(t % nb), ty = (int)(t / nb % tiles_y), n = (int)(t / nb / tiles_y);
        int tx0 = b * wb, cnt = tiles_x - tx0 < wb ? tiles_x - tx0 : wb;
        float *buf = ctx->scratch + (size_t)kc_thread_id() * ctx->scratch_per_thread;
        wino_block_avx2(s, x + (size_t)n * s->c_in * s->h_in * s->w_in, u, ty, tx0, cnt, wb, buf,
                        ep, y + (size_t)n * s->c_out * s->h_out * s->w_out);
    }
}

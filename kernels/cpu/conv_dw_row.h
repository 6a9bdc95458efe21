/* One output row of the depthwise conv (conv_dw.c), for one vector width
 * of GCC vectors: the baseline build's (the AVX2 and AVX-512 builds use
 * conv_dw_row8.h and conv_dw_row16.h, the same sums in the same order).
 * The includer defines DW_VEC (a GCC vector of floats), DW_L (its lanes),
 * DW_ROW and DW_BLOCK (the functions' names); tap_col and DW_ROW_BLOCKS come
 * from conv_dw.c.
 *
 * out[ox] = sum w[ky][kx] * xp[row ky][ox*SW + kx]. Up to four vectors of
 * outputs stay in registers for all K*K taps, so each input is loaded once
 * per tap and each output stored once. From 5x5 up each vector keeps two
 * sums, of the even and of the odd kernel rows, added at the end: a row's
 * taps are one chain of dependent multiply-adds, and with four chains the FMA
 * latency, not the units, set the pace (5x5 planes 10-15 % faster; 3x3
 * ones, whose chains are short, 10 % slower with two sums). K and SW are constants in the callers,
 * so the loops unroll. With SW == 2 the rows are split in even and odd halves (dw_pitch): column
 * ox*2 + kx is at (kx & 1) * half + ox + kx / 2. */

/* V vectors of outputs from column ox, n of them stored; the taps of a
 * partly stored vector read up to DW_L - 1 floats past the row, into the next
 * one or the plane's slack. */
static inline __attribute__((always_inline)) void DW_BLOCK(const float *restrict xp, size_t wp,
                                                           size_t half, const float *restrict w,
                                                           int K, int SW, int V,
                                                           float *restrict out, int ox, int n) {
    DW_VEC a[2][4] = {{{0}}};
#pragma GCC unroll 8
    for (int ky = 0; ky < K; ky++)
#pragma GCC unroll 8
        for (int kx = 0; kx < K; kx++) {
            const float *p = xp + (size_t)ky * wp + tap_col(SW, half, ox, kx);
            float wv = w[ky * K + kx];
#pragma GCC unroll 4
            for (int u = 0; u < V; u++) {
                DW_VEC v;
                memcpy(&v, p + u * DW_L, sizeof(v));
                a[K >= 5 ? ky & 1 : 0][u] += wv * v;
            }
        }
#pragma GCC unroll 4
    for (int u = 0; u < V; u++) {
        DW_VEC s = a[0][u] + a[1][u];
        int left = n - u * DW_L;
        if (left >= DW_L) {
            memcpy(out + ox + u * DW_L, &s, sizeof(s));
        } else {
            float lanes[DW_L];
            memcpy(lanes, &s, sizeof(s));
            memcpy(out + ox + u * DW_L, lanes, sizeof(float) * (size_t)left);
        }
    }
}

static inline __attribute__((always_inline)) void DW_ROW(const float *restrict xp, size_t wp,
                                                         size_t half, const float *restrict w,
                                                         int K, int SW, float *restrict out,
                                                         int w_out) {
#define DW_ROW_B(V, ox, n) DW_BLOCK(xp, wp, half, w, K, SW, V, out, ox, n)
    DW_ROW_BLOCKS(DW_L, DW_ROW_B, w_out);
#undef DW_ROW_B
}

/* The depthwise row kernel (conv_dw.c) in 16 lanes, for the AVX-512 build:
 * out[ox] = sum w[ky][kx] * xp[row ky][ox*SW + kx], as conv_dw_row.h's, with
 * the same sums in the same order (the same bits). It loads each kernel row's
 * inputs once, V + 1 vectors a block, and makes the K shifted copies a tap
 * needs with valignd: the unaligned load per tap crossed a cache line but
 * for the first tap and ran at 55 GMAC/s (5x5), this at 95. The epilogue
 * (bias, activation, post-affine: kc_epilogue_row's values) is applied as
 * the outputs are stored. tap_col comes from conv_dw.c; the loads read up
 * to 32 floats past the row (the plane's slack, conv_dw.c). */
#include <immintrin.h>

#include "kernels/cpu/act_simd.h"

#define DW16_TGT __attribute__((target("avx512f,avx2,fma")))

/* hi:lo shifted down by s lanes (s a constant in the callers). */
static inline __attribute__((always_inline)) DW16_TGT __m512 dw16_shift(__m512 hi, __m512 lo,
                                                                        int s) {
#define DW16_ALIGN(k)                                                                              \
    _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), k))
    switch (s) {
    case 1:
        return DW16_ALIGN(1);
    case 2:
        return DW16_ALIGN(2);
    case 3:
        return DW16_ALIGN(3);
    case 4:
        return DW16_ALIGN(4);
    default:
        return lo;
    }
#undef DW16_ALIGN
}

/* V vectors of outputs from column ox, n of them stored (as DW_BLOCK). */
static inline __attribute__((always_inline)) DW16_TGT void
dw16_block(const float *restrict xp, size_t wp, size_t half, const float *restrict w, const int K,
           const int SW, const int V, const dw_post *pe, float *restrict out, int ox, int n) {
    __m512 a[2][4];
    for (int u = 0; u < 4; u++)
        a[0][u] = a[1][u] = _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int ky = 0; ky < K; ky++) {
        /* row ky's inputs of each parity (one with SW == 1), V + 1 vectors */
        __m512 in[2][5];
        for (int par = 0; par < 2; par++) {
            if (par && SW != 2) break;
            const float *p = xp + (size_t)ky * wp + tap_col(SW, half, ox, par);
#pragma GCC unroll 5
            for (int u = 0; u <= V; u++)
                in[par][u] = _mm512_loadu_ps(p + 16 * u);
        }
        int s = K >= 5 ? ky & 1 : 0;
#pragma GCC unroll 8
        for (int kx = 0; kx < K; kx++) {
            __m512 wv = _mm512_set1_ps(w[ky * K + kx]);
            int par = SW == 2 ? kx & 1 : 0, sh = SW == 2 ? kx >> 1 : kx;
#pragma GCC unroll 4
            for (int u = 0; u < V; u++)
                a[s][u] = _mm512_fmadd_ps(wv, dw16_shift(in[par][u + 1], in[par][u], sh), a[s][u]);
        }
    }
#pragma GCC unroll 4
    for (int u = 0; u < V; u++) {
        /* conv_dw_row.h adds the odd rows' sum to the even ones' when K >= 5,
         * and a zero otherwise: the same bits */
        __m512 v = _mm512_add_ps(a[0][u], a[1][u]);
        if (pe->on) /* the broadcasts are loop-invariant: hoisted out of the row */
            v = _mm512_fmadd_ps(kc_act16(pe->kind, _mm512_add_ps(v, _mm512_set1_ps(pe->bias)),
                                         _mm512_set1_ps(pe->a), _mm512_set1_ps(pe->b)),
                                _mm512_set1_ps(pe->sc), _mm512_set1_ps(pe->sh));
        int left = n - u * 16;
        _mm512_mask_storeu_ps(out + ox + u * 16,
                              (__mmask16)(left >= 16 ? 0xffff : (1u << left) - 1), v);
    }
}

/* One output row, the epilogue `pe` (dw_post) applied as it is stored. */
static inline __attribute__((always_inline)) DW16_TGT void
dw16_row(const float *restrict xp, size_t wp, size_t half, const float *restrict w, const int K,
         const int SW, const dw_post *pe, float *restrict out, int w_out) {
#define DW16_B(V, ox, n) dw16_block(xp, wp, half, w, K, SW, V, pe, out, ox, n)
    DW_ROW_BLOCKS(16, DW16_B, w_out);
#undef DW16_B
}

/* One function per kernel size and stride, so that K and SW are constants. */
#define DW16_ROW_FN(NAME, K, SW)                                                                   \
    DW16_TGT static void NAME(const float *xp, size_t wp, size_t half, const float *w,             \
                              const dw_post *pe, float *out, int w_out) {                          \
        dw16_row(xp, wp, half, w, K, SW, pe, out, w_out);                                          \
    }
DW16_ROW_FN(dw16_row_k3s1, 3, 1)
DW16_ROW_FN(dw16_row_k3s2, 3, 2)
DW16_ROW_FN(dw16_row_k5s1, 5, 1)
DW16_ROW_FN(dw16_row_k5s2, 5, 2)
#undef DW16_ROW_FN

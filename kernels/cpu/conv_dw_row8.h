/* The depthwise row kernel (conv_dw.c) in 8 lanes, for the AVX2+FMA build:
 * conv_dw_row.h's sums, in its order (the same bits), with the conv's
 * epilogue (bias, activation, post-affine: kc_epilogue_row's values) applied
 * as the outputs are stored instead of in a pass of its own. The baseline
 * build keeps conv_dw_row.h. tap_col comes from conv_dw.c. */
#include <immintrin.h>

#include "kernels/cpu/act_simd.h"

#define DW8_TGT __attribute__((target("avx2,fma")))

/* V vectors of outputs from column ox, n of them stored (as DW_BLOCK). */
static inline __attribute__((always_inline)) DW8_TGT void
dw8_block(const float *restrict xp, size_t wp, size_t half, const float *restrict w, const int K,
          const int SW, const int V, const dw_post *pe, float *restrict out, int ox, int n) {
    __m256 a[2][4];
    for (int u = 0; u < 4; u++)
        a[0][u] = a[1][u] = _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int ky = 0; ky < K; ky++)
#pragma GCC unroll 8
        for (int kx = 0; kx < K; kx++) {
            const float *p = xp + (size_t)ky * wp + tap_col(SW, half, ox, kx);
            __m256 wv = _mm256_set1_ps(w[ky * K + kx]);
            int s = K >= 5 ? ky & 1 : 0;
#pragma GCC unroll 4
            for (int u = 0; u < V; u++)
                a[s][u] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 8 * u), a[s][u]);
        }
#pragma GCC unroll 4
    for (int u = 0; u < V; u++) {
        __m256 v = _mm256_add_ps(a[0][u], a[1][u]);
        if (pe->on) /* the broadcasts are loop-invariant: hoisted out of the row */
            v = _mm256_fmadd_ps(kc_act8(pe->kind, _mm256_add_ps(v, _mm256_set1_ps(pe->bias)),
                                        _mm256_set1_ps(pe->a), _mm256_set1_ps(pe->b)),
                                _mm256_set1_ps(pe->sc), _mm256_set1_ps(pe->sh));
        int left = n - u * 8;
        if (left >= 8) {
            _mm256_storeu_ps(out + ox + u * 8, v);
        } else {
            float lanes[8];
            _mm256_storeu_ps(lanes, v);
            memcpy(out + ox + u * 8, lanes, sizeof(float) * (size_t)left);
        }
    }
}

/* One output row, the epilogue `pe` (dw_post) applied as it is stored. */
static inline __attribute__((always_inline)) DW8_TGT void
dw8_row(const float *restrict xp, size_t wp, size_t half, const float *restrict w, const int K,
        const int SW, const dw_post *pe, float *restrict out, int w_out) {
#define DW8_B(V, ox, n) dw8_block(xp, wp, half, w, K, SW, V, pe, out, ox, n)
    DW_ROW_BLOCKS(8, DW8_B, w_out);
#undef DW8_B
}

/* One function per kernel size and stride, so that K and SW are constants. */
#define DW8_ROW_FN(NAME, K, SW)                                                                    \
    DW8_TGT static void NAME(const float *xp, size_t wp, size_t half, const float *w,              \
                             const dw_post *pe, float *out, int w_out) {                           \
        dw8_row(xp, wp, half, w, K, SW, pe, out, w_out);                                           \
    }
DW8_ROW_FN(dw8_row_k3s1, 3, 1)
DW8_ROW_FN(dw8_row_k3s2, 3, 2)
DW8_ROW_FN(dw8_row_k5s1, 5, 1)
DW8_ROW_FN(dw8_row_k5s2, 5, 2)
#undef DW8_ROW_FN

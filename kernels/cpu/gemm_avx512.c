/* SGEMM for AVX-512 CPUs, C = A*B + beta*C, row-major, no transposes: quire's
 * own kernel so that the conv and MatMul GEMMs run at AVX-512 speed whatever
 * OpenBLAS kernel family the environment pins (OPENBLAS_CORETYPE). B is
 * packed in panels of 32 columns; an 8x32 block of C lives in 16 registers
 * while A is broadcast from memory. Compiled for AVX-512F via the target
 * attribute only; kc_sgemm uses it when the CPU has AVX-512F. */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/kc_private.h"

enum { MR = 8, NR = 32, KC = 256, NC = 128 };

/* C[0..mr) x [0..nc) (+)= A[0..mr) x Bp, kc steps; mask for the last panel. */
static inline __attribute__((always_inline, target("avx512f"))) void
micro(int mr, int kc, const float *a, int lda, const float *bp, int bs, float *c, int ldc,
      int accumulate, float beta, __mmask16 m0, __mmask16 m1) {
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
        /* Masked loads: B may be the caller's matrix, whose last panel ends
         * before 32 columns. */
        __m512 b0 = _mm512_maskz_loadu_ps(m0, bp + (size_t)p * bs);
        __m512 b1 = _mm512_maskz_loadu_ps(m1, bp + (size_t)p * bs + 16);
        for (int r = 0; r < MR; r++) {
            if (r < mr) {
                __m512 av = _mm512_set1_ps(a[(size_t)r * lda + p]);
                acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
            }
        }
    }
    for (int r = 0; r < MR; r++) {
        if (r >= mr) break;
        float *cr = c + (size_t)r * ldc;
        __m512 c0 = acc[r][0], c1 = acc[r][1];
        if (accumulate) {
            c0 = _mm512_add_ps(c0, _mm512_maskz_loadu_ps(m0, cr));
            c1 = _mm512_add_ps(c1, _mm512_maskz_loadu_ps(m1, cr + 16));
        } else if (beta != 0.f) {
            c0 = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m0, cr), c0);
            c1 = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m1, cr + 16), c1);
        }
        _mm512_mask_storeu_ps(cr, m0, c0);
        _mm512_mask_storeu_ps(cr + 16, m1, c1);
    }
}

/* One instantiation per row count so that the row loop unrolls. */
#define MICRO_CASE(R)                                                                              \
    case R:                                                                                        \
        micro(R, kc, a, lda, bp, bs, c, ldc, accumulate, beta, m0, m1);                            \
        break;

__attribute__((target("avx512f"))) static void micro_any(int mr, int kc, const float *a, int lda,
                                                         const float *bp, int bs, float *c, int ldc,
                                                         int accumulate, float beta, __mmask16 m0,
                                                         __mmask16 m1) {
    switch (mr) {
        MICRO_CASE(1)
        MICRO_CASE(2)
        MICRO_CASE(3)
        MICRO_CASE(4)
        MICRO_CASE(5)
        MICRO_CASE(6)
        MICRO_CASE(7)
        MICRO_CASE(8)
    }
}

/* Packs B[p0..p0+kc) x [j0..j0+nc) into panels of NR columns, zero-padded. */
static void pack_b(const float *b, int ldb, int kc, int nc, float *bp) {
    for (int j = 0; j < nc; j += NR) {
        int w = nc - j < NR ? nc - j : NR;
        float *dst = bp + (size_t)j * kc;
        for (int p = 0; p < kc; p++) {
            const float *src = b + (size_t)p * ldb + j;
            float *d = dst + (size_t)p * NR;
            memcpy(d, src, sizeof(float) * (size_t)w);
            for (int q = w; q < NR; q++)
                d[q] = 0.f;
        }
    }
}

__attribute__((target("avx512f"))) void kc_sgemm_avx512(int m, int n, int k, const float *a,
                                                        int lda, const float *b, int ldb,
                                                        float beta, float *c, int ldc,
                                                        const kc_epilogue *ep, int c0) {
    _Alignas(64) float bp[KC * NC];
    if (k == 0) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                c[(size_t)i * ldc + j] = beta == 0.f ? 0.f : beta * c[(size_t)i * ldc + j];
        for (int i = 0; ep && i < m; i++)
            kc_epilogue_row(ep, c0 + i, c + (size_t)i * ldc, (size_t)n);
        return;
    }
    /* Few rows of A: each B element is used by at most 4 micro-tiles, so
     * packing B would cost as much as reading it; read it in place. */
    int direct = m <= 4 * MR;
    for (int j0 = 0; j0 < n; j0 += NC) {
        int nc = n - j0 < NC ? n - j0 : NC;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = k - p0 < KC ? k - p0 : KC;
            if (!direct) pack_b(b + (size_t)p0 * ldb + j0, ldb, kc, nc, bp);
            for (int jp = 0; jp < nc; jp += NR) {
                int w = nc - jp < NR ? nc - jp : NR;
                __mmask16 m0 = (__mmask16)(w >= 16 ? 0xffff : (1u << w) - 1);
                __mmask16 m1 = (__mmask16)(w <= 16 ? 0 : (w >= 32 ? 0xffff : (1u << (w - 16)) - 1));
                const float *panel = direct ? b + (size_t)p0 * ldb + j0 + jp : bp + (size_t)jp * kc;
                int bs = direct ? ldb : NR;
                for (int i = 0; i < m; i += MR) {
                    int mr = m - i < MR ? m - i : MR;
                    micro_any(mr, kc, a + (size_t)i * lda + p0, lda, panel, bs,
                              c + (size_t)i * ldc + j0 + jp, ldc, p0 > 0, beta, m0, m1);
                }
            }
        }
        /* The block's epilogue while its columns are in cache (a pass over
         * the whole of C afterwards read it back from memory: 8 % of a
         * page's time). */
        for (int i = 0; ep && i < m; i++)
            kc_epilogue_row(ep, c0 + i, c + (size_t)i * ldc + j0, (size_t)nc);
    }
}

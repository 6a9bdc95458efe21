/* The body of the two 256-bit int8 GEMMs (qgemm_avxvnni.c, qgemm_avx2.c),
 * which differ only in their dot-product step. The includer defines TGT (the
 * target attribute), DOT(acc, x, w) (acc += the 4-byte dot products of u8 x
 * and s8 w, per s32 lane) and FN (the function's name). A 6x16 block of C
 * lives in 12 registers; the last panel's loads and stores are masked
 * (vpmaskmovd: one 32-bit lane is one column's four K values). */
#pragma once

enum { MR = 6, NR = 16 };

static inline __attribute__((always_inline)) TGT __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

static inline __attribute__((always_inline)) TGT void micro(const int R, int kq, const int8_t *w,
                                                            int ldw, const uint8_t *x, int xs,
                                                            const float *sc, const float *of,
                                                            float *c, int ldc, int wd) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(wd), lanes);
    const __m256i k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(wd - 8), lanes);
    int full = wd >= NR;
    __m256i acc[MR][2];
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    for (int p = 0; p < kq; p++) {
        const uint8_t *xq = x + (size_t)p * xs;
        __m256i b0, b1;
        if (full) {
            b0 = _mm256_loadu_si256((const __m256i *)xq);
            b1 = _mm256_loadu_si256((const __m256i *)(xq + 32));
        } else {
            b0 = _mm256_maskload_epi32((const int *)xq, k0);
            b1 = _mm256_maskload_epi32((const int *)(xq + 32), k1);
        }
        for (int r = 0; r < MR; r++) {
            if (r < R) {
                __m256i a = bcast4(w + (size_t)r * ldw + 4 * p);
                acc[r][0] = DOT(acc[r][0], b0, a);
                acc[r][1] = DOT(acc[r][1], b1, a);
            }
        }
    }
    for (int r = 0; r < MR; r++) {
        if (r >= R) break;
        __m256 s = _mm256_set1_ps(sc[r]), o = _mm256_set1_ps(of[r]);
        __m256 v0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][0]), s, o);
        __m256 v1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[r][1]), s, o);
        float *cr = c + (size_t)r * ldc;
        if (full) {
            _mm256_storeu_ps(cr, v0);
            _mm256_storeu_ps(cr + 8, v1);
        } else {
            _mm256_maskstore_ps(cr, k0, v0);
            _mm256_maskstore_ps(cr + 8, k1, v1);
        }
    }
}

#define MICRO_CASE(R)                                                                              \
    case R:                                                                                        \
        micro(R, kq, w, ldw, x, xs, sc, of, c, ldc, wd);                                           \
        break;

TGT static void micro_any(int mr, int kq, const int8_t *w, int ldw, const uint8_t *x, int xs,
                          const float *sc, const float *of, float *c, int ldc, int wd) {
    switch (mr) {
        MICRO_CASE(1)
        MICRO_CASE(2)
        MICRO_CASE(3)
        MICRO_CASE(4)
        MICRO_CASE(5)
        MICRO_CASE(6)
    }
}

TGT void FN(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x, const float *scale,
            const float *offset, float *c, int ldc) {
    for (int j = 0; j < n; j += NR) {
        int wd = n - j < NR ? n - j : NR;
        for (int i = 0; i < m; i += MR) {
            int mr = m - i < MR ? m - i : MR;
            micro_any(mr, kq, w + (size_t)i * ldw, ldw, x + (size_t)j * 4, n * 4, scale + i,
                      offset + i, c + (size_t)i * ldc + j, ldc, wd);
        }
    }
}

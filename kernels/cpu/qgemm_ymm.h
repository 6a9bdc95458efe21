/* The body of the two 256-bit int8 GEMMs (qgemm_avxvnni.c, qgemm_avx2.c),
 * which differ only in their dot-product step. The includer defines TGT (the
 * target attribute), DOT(acc, x, w) (acc += the 4-byte dot products of u8 x
 * and s8 w, per s32 lane) and FN (the function's name). A 6x16 block of C
 * lives in 12 of the 16 registers; the last panel's loads and stores are
 * masked (vpmaskmovd: one 32-bit lane is one column's four K values). */
#pragma once

#include "kernels/cpu/act_simd.h"

enum { MR = 6, NR = 16 };

static inline __attribute__((always_inline)) TGT __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* The lanes of a panel `wd` columns wide, as vpmaskmovd masks. */
static inline __attribute__((always_inline)) TGT void lane_masks(int wd, __m256i *k0, __m256i *k1) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    *k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(wd), lanes);
    *k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(wd - 8), lanes);
}

/* A panel's dequantization: its rows' (ws, nsum, bias from row 0) and its
 * 16 columns' scales and zero points, loaded once per block; the post
 * (kc_qpost) as plain values (as in qgemm_avx512vnni.c). */
typedef struct {
    const float *ws, *nsum, *bias;
    __m256 a0, a1, z0, z1;
    __m256 pa, pb;
    const float *sc, *sh;
    int scstep, shstep, aff;
} panel;

/* kc_qdeq_one on 8 lanes: fma(fma(z, nsum, acc), ws * a, bias). */
static inline __attribute__((always_inline)) TGT __m256 deq(__m256i acc, __m256 a, __m256 z,
                                                            __m256 ns, __m256 ws, __m256 b) {
    return _mm256_fmadd_ps(_mm256_fmadd_ps(z, ns, _mm256_cvtepi32_ps(acc)), _mm256_mul_ps(ws, a),
                           b);
}

static inline __attribute__((always_inline)) TGT void store_row(const int KIND, float *cr,
                                                                __m256i a0, __m256i a1,
                                                                const panel *pn, int r, int full,
                                                                int wd) {
    __m256 ws = _mm256_set1_ps(pn->ws[r]), ns = _mm256_set1_ps(pn->nsum[r]);
    __m256 b = _mm256_set1_ps(pn->bias[r]);
    __m256 v0 = kc_act8(KIND, deq(a0, pn->a0, pn->z0, ns, ws, b), pn->pa, pn->pb);
    __m256 v1 = kc_act8(KIND, deq(a1, pn->a1, pn->z1, ns, ws, b), pn->pa, pn->pb);
    if (pn->aff) {
        __m256 sc = _mm256_set1_ps(pn->sc[r * pn->scstep]);
        __m256 sh = _mm256_set1_ps(pn->sh[r * pn->shstep]);
        v0 = _mm256_fmadd_ps(v0, sc, sh);
        v1 = _mm256_fmadd_ps(v1, sc, sh);
    }
    if (full) {
        _mm256_storeu_ps(cr, v0);
        _mm256_storeu_ps(cr + 8, v1);
    } else {
        __m256i k0, k1;
        lane_masks(wd, &k0, &k1);
        _mm256_maskstore_ps(cr, k0, v0);
        _mm256_maskstore_ps(cr + 8, k1, v1);
    }
}

/* Row r's two accumulators, named so that GCC keeps them in registers (an
 * array of them was also stored to the stack on every step). */
#define ROW_DOT(r)                                                                                 \
    if (R > r) {                                                                                   \
        __m256i a = bcast4(w + (size_t)(r)*ldw + 4 * p);                                           \
        c##r##0 = DOT(c##r##0, b0, a);                                                             \
        c##r##1 = DOT(c##r##1, b1, a);                                                             \
    }
#define ROW_STORE(r)                                                                               \
    if (R > r) store_row(KIND, c + (size_t)(r)*ldc, c##r##0, c##r##1, &col, r, FULL, wd);

/* FULL: a whole panel, plain loads; else masked ones, whose masks take two
 * more registers (the rare last panel pays some spills). */
static inline __attribute__((always_inline)) TGT void
micro(const int R, const int KIND, const int FULL, int kq, const int8_t *w, int ldw,
      const uint8_t *x, int xs, const kc_qdeq *dq, const panel *rows, int i0, int j0, float *c,
      int ldc, int wd) {
    __m256i k0 = _mm256_setzero_si256(), k1 = k0;
    if (!FULL) lane_masks(wd, &k0, &k1);
    __m256i z = _mm256_setzero_si256();
    __m256i c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
    __m256i c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
    for (int p = 0; p < kq; p++) {
        const uint8_t *xq = x + (size_t)p * xs;
        __m256i b0, b1;
        if (FULL) {
            b0 = _mm256_loadu_si256((const __m256i *)xq);
            b1 = _mm256_loadu_si256((const __m256i *)(xq + 32));
        } else {
            b0 = _mm256_maskload_epi32((const int *)xq, k0);
            b1 = _mm256_maskload_epi32((const int *)(xq + 32), k1);
        }
        ROW_DOT(0)
        ROW_DOT(1)
        ROW_DOT(2)
        ROW_DOT(3)
        ROW_DOT(4)
        ROW_DOT(5)
    }
    panel col = *rows;
    col.ws += i0;
    col.nsum += i0;
    col.bias += i0;
    col.sc += i0 * col.scstep;
    col.sh += i0 * col.shstep;
    if (FULL) {
        col.a0 = _mm256_loadu_ps(dq->a + j0);
        col.a1 = _mm256_loadu_ps(dq->a + j0 + 8);
        col.z0 = _mm256_loadu_ps(dq->z + j0);
        col.z1 = _mm256_loadu_ps(dq->z + j0 + 8);
    } else {
        lane_masks(wd, &k0, &k1);
        col.a0 = _mm256_maskload_ps(dq->a + j0, k0);
        col.a1 = _mm256_maskload_ps(dq->a + j0 + 8, k1);
        col.z0 = _mm256_maskload_ps(dq->z + j0, k0);
        col.z1 = _mm256_maskload_ps(dq->z + j0 + 8, k1);
    }
    ROW_STORE(0)
    ROW_STORE(1)
    ROW_STORE(2)
    ROW_STORE(3)
    ROW_STORE(4)
    ROW_STORE(5)
}

/* The micro kernels of one activation kind, by rows and full or not. */
#define MICRO_CASE(R, KIND)                                                                        \
    case R:                                                                                        \
        if (wd >= NR)                                                                              \
            micro(R, KIND, 1, kq, w, ldw, x, xs, dq, pn, i0, j0, c, ldc, wd);                      \
        else                                                                                       \
            micro(R, KIND, 0, kq, w, ldw, x, xs, dq, pn, i0, j0, c, ldc, wd);                      \
        break;
#define MICRO_KIND(NAME, KIND)                                                                     \
    TGT static void NAME(int mr, int kq, const int8_t *w, int ldw, const uint8_t *x, int xs,       \
                         const kc_qdeq *dq, const panel *pn, int i0, int j0, float *c, int ldc,    \
                         int wd) {                                                                 \
        switch (mr) {                                                                              \
            MICRO_CASE(1, KIND)                                                                    \
            MICRO_CASE(2, KIND)                                                                    \
            MICRO_CASE(3, KIND)                                                                    \
            MICRO_CASE(4, KIND)                                                                    \
            MICRO_CASE(5, KIND)                                                                    \
            MICRO_CASE(6, KIND)                                                                    \
        }                                                                                          \
    }
KC_QGEMM_KINDS(MICRO_KIND)

TGT void FN(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x, const kc_qdeq *dq,
            float *c, int ldc) {
    typedef void (*micro_fn)(int, int, const int8_t *, int, const uint8_t *, int, const kc_qdeq *,
                             const panel *, int, int, float *, int, int);
    static const micro_fn by_kind[] = KC_QGEMM_BY_KIND;
    kc_qpost post = kc_qpost_of(dq->post);
    __m256 zero = _mm256_setzero_ps();
    panel pn = {dq->ws,
                dq->nsum,
                dq->bias,
                zero,
                zero,
                zero,
                zero,
                _mm256_set1_ps(post.a),
                _mm256_set1_ps(post.b),
                post.sc,
                post.sh,
                post.scstep,
                post.shstep,
                post.aff};
    micro_fn micro_rows = by_kind[post.kind];
    for (int j = 0; j < n; j += NR) {
        int wd = n - j < NR ? n - j : NR;
        for (int i = 0; i < m; i += MR) {
            int mr = m - i < MR ? m - i : MR;
            micro_rows(mr, kq, w + (size_t)i * ldw, ldw, x + (size_t)j * 4, n * 4, dq, &pn, i, j,
                       c + (size_t)i * ldc + j, ldc, wd);
        }
    }
    if (post.rest) kc_qpost_rows(dq->post, m, n, c, ldc);
}

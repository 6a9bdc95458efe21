/* The int8 GEMM on AVX-512 VNNI (kc_int8.h's contract): vpdpbusd does 64
 * u8 x s8 multiply-adds into 16 s32 lanes per instruction, four times
 * an fp32 FMA's work. An 8x32 block of C lives in 16 registers: each step
 * loads two 16-column vectors of the packed activations (4 K values per
 * lane) and broadcasts 4 weight bytes per row. The packed tile has exactly n
 * columns, so the last panel's loads are masked. Compiled for AVX-512 VNNI
 * via the target attribute only. */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/act_simd.h"
#include "kernels/cpu/kc_int8_private.h"

#if defined(__x86_64__)

#define TGT __attribute__((target("avx512f,avx512bw,avx512vnni")))
enum { MR = 8, NR = 32 };

static inline __attribute__((always_inline)) TGT __m512i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* Row r's two accumulators, named so that GCC keeps them in registers (an
 * array of them was also stored to the stack on every step). */
#define ROW_DOT(r)                                                                                 \
    if (R > r) {                                                                                   \
        __m512i a = bcast4(w + (size_t)(r)*ldw + 4 * p);                                           \
        c##r##0 = _mm512_dpbusd_epi32(c##r##0, b0, a);                                             \
        c##r##1 = _mm512_dpbusd_epi32(c##r##1, b1, a);                                             \
    }
#define ROW_STORE(r)                                                                               \
    if (R > r) store_row(KIND, c + (size_t)(r)*ldc, c##r##0, c##r##1, &col, r, m0, m1);

/* A panel's dequantization: its rows' (ws, nsum, bias from row 0) and its
 * 32 columns' scales and zero points, loaded once per block; the post
 * (kc_qpost) as plain values, so that the stores to C, which might alias
 * kc_qdeq's, do not reload them: its activation's parameters broadcast. */
typedef struct {
    const float *ws, *nsum, *bias;
    __m512 a0, a1, z0, z1;
    __m512 pa, pb;
    const float *sc, *sh;
    int scstep, shstep, aff;
} panel;

/* kc_qdeq_one on 16 lanes: fma(fma(z, nsum, acc), ws * a, bias). */
static inline __attribute__((always_inline)) TGT __m512 deq(__m512i acc, __m512 a, __m512 z,
                                                            __m512 ns, __m512 ws, __m512 b) {
    return _mm512_fmadd_ps(_mm512_fmadd_ps(z, ns, _mm512_cvtepi32_ps(acc)), _mm512_mul_ps(ws, a),
                           b);
}

/* Row r's two vectors: dequantized, activated, post-affine fma(v, sc, sh)
 * (kc_epilogue_row's order). */
static inline __attribute__((always_inline)) TGT void store_row(const int KIND, float *cr,
                                                                __m512i a0, __m512i a1,
                                                                const panel *pn, int r,
                                                                __mmask16 m0, __mmask16 m1) {
    __m512 ws = _mm512_set1_ps(pn->ws[r]), ns = _mm512_set1_ps(pn->nsum[r]);
    __m512 b = _mm512_set1_ps(pn->bias[r]);
    __m512 v0 = deq(a0, pn->a0, pn->z0, ns, ws, b), v1 = deq(a1, pn->a1, pn->z1, ns, ws, b);
    v0 = kc_act16(KIND, v0, pn->pa, pn->pb);
    v1 = kc_act16(KIND, v1, pn->pa, pn->pb);
    if (pn->aff) {
        __m512 sc = _mm512_set1_ps(pn->sc[r * pn->scstep]);
        __m512 sh = _mm512_set1_ps(pn->sh[r * pn->shstep]);
        v0 = _mm512_fmadd_ps(v0, sc, sh);
        v1 = _mm512_fmadd_ps(v1, sc, sh);
    }
    _mm512_mask_storeu_ps(cr, m0, v0);
    _mm512_mask_storeu_ps(cr + 16, m1, v1);
}

static inline __attribute__((always_inline)) TGT void
micro(const int R, const int KIND, int kq, const int8_t *w, int ldw, const uint8_t *x, int xs,
      const kc_qdeq *dq, const panel *rows, int i0, int j0, float *c, int ldc, __mmask16 m0,
      __mmask16 m1) {
    __m512i z = _mm512_setzero_si512();
    __m512i c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
    __m512i c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
    for (int p = 0; p < kq; p++) {
        const uint8_t *xq = x + (size_t)p * xs;
        __m512i b0 = _mm512_maskz_loadu_epi32(m0, xq);
        __m512i b1 = _mm512_maskz_loadu_epi32(m1, xq + 64);
        ROW_DOT(0)
        ROW_DOT(1)
        ROW_DOT(2)
        ROW_DOT(3)
        ROW_DOT(4)
        ROW_DOT(5)
        ROW_DOT(6)
        ROW_DOT(7)
    }
    panel col = *rows;
    col.ws += i0;
    col.nsum += i0;
    col.bias += i0;
    col.sc += i0 * col.scstep;
    col.sh += i0 * col.shstep;
    col.a0 = _mm512_maskz_loadu_ps(m0, dq->a + j0);
    col.a1 = _mm512_maskz_loadu_ps(m1, dq->a + j0 + 16);
    col.z0 = _mm512_maskz_loadu_ps(m0, dq->z + j0);
    col.z1 = _mm512_maskz_loadu_ps(m1, dq->z + j0 + 16);
    ROW_STORE(0)
    ROW_STORE(1)
    ROW_STORE(2)
    ROW_STORE(3)
    ROW_STORE(4)
    ROW_STORE(5)
    ROW_STORE(6)
    ROW_STORE(7)
}

/* The micro kernels of one activation kind, by rows. */
#define MICRO_CASE(R, KIND)                                                                        \
    case R:                                                                                        \
        micro(R, KIND, kq, w, ldw, x, xs, dq, pn, i0, j0, c, ldc, m0, m1);                         \
        break;
#define MICRO_KIND(NAME, KIND)                                                                     \
    TGT static void NAME(int mr, int kq, const int8_t *w, int ldw, const uint8_t *x, int xs,       \
                         const kc_qdeq *dq, const panel *pn, int i0, int j0, float *c, int ldc,    \
                         __mmask16 m0, __mmask16 m1) {                                             \
        switch (mr) {                                                                              \
            MICRO_CASE(1, KIND)                                                                    \
            MICRO_CASE(2, KIND)                                                                    \
            MICRO_CASE(3, KIND)                                                                    \
            MICRO_CASE(4, KIND)                                                                    \
            MICRO_CASE(5, KIND)                                                                    \
            MICRO_CASE(6, KIND)                                                                    \
            MICRO_CASE(7, KIND)                                                                    \
            MICRO_CASE(8, KIND)                                                                    \
        }                                                                                          \
    }
KC_QGEMM_KINDS(MICRO_KIND)

TGT void kc_qgemm_avx512vnni(int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
                             const kc_qdeq *dq, float *c, int ldc) {
    typedef void (*micro_fn)(int, int, const int8_t *, int, const uint8_t *, int, const kc_qdeq *,
                             const panel *, int, int, float *, int, __mmask16, __mmask16);
    static const micro_fn by_kind[] = KC_QGEMM_BY_KIND;
    kc_qpost post = kc_qpost_of(dq->post);
    panel pn = {dq->ws,
                dq->nsum,
                dq->bias,
                _mm512_setzero_ps(),
                _mm512_setzero_ps(),
                _mm512_setzero_ps(),
                _mm512_setzero_ps(),
                _mm512_set1_ps(post.a),
                _mm512_set1_ps(post.b),
                post.sc,
                post.sh,
                post.scstep,
                post.shstep,
                post.aff};
    micro_fn micro_rows = by_kind[post.kind];
    /* Column panels outside: one panel (kq * 128 bytes) stays in L1 while
     * the weight rows stream past it. */
    for (int j = 0; j < n; j += NR) {
        int wd = n - j < NR ? n - j : NR;
        __mmask16 m0 = (__mmask16)(wd >= 16 ? 0xffff : (1u << wd) - 1);
        __mmask16 m1 = (__mmask16)(wd <= 16 ? 0 : wd >= 32 ? 0xffff : (1u << (wd - 16)) - 1);
        for (int i = 0; i < m; i += MR) {
            int mr = m - i < MR ? m - i : MR;
            micro_rows(mr, kq, w + (size_t)i * ldw, ldw, x + (size_t)j * 4, n * 4, dq, &pn, i, j,
                       c + (size_t)i * ldc + j, ldc, m0, m1);
        }
    }
    if (post.rest) kc_qpost_rows(dq->post, m, n, c, ldc);
}

/* Four rows of 16 floats to 16 packed int32s: byte q of lane j is row q's
 * u8 of column j. */
TGT void kc_qpack_quad_avx512(const float *const *x, int n, const float *sinv, const float *inv,
                              const float *zp5, float amax, uint8_t *d) {
    const __m512 lo = _mm512_setzero_ps(), hi = _mm512_set1_ps(amax);
    for (int j = 0; j < n; j += 16) {
        __mmask16 k = (__mmask16)(n - j >= 16 ? 0xffff : (1u << (n - j)) - 1);
        __m512i acc = _mm512_setzero_si512();
        __m512 iv = _mm512_maskz_loadu_ps(k, inv + j), z = _mm512_maskz_loadu_ps(k, zp5 + j);
        for (int q = 0; q < 4; q++) {
            if (!x[q]) continue;
            __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x[q] + j), _mm512_set1_ps(sinv[q]));
            __m512 t = _mm512_fmadd_ps(v, iv, z);
            t = _mm512_min_ps(_mm512_max_ps(t, lo), hi); /* max(NaN, 0) is 0 */
            acc = _mm512_or_si512(acc, _mm512_slli_epi32(_mm512_cvttps_epi32(t), 8 * q));
        }
        _mm512_mask_storeu_epi32(d + (size_t)j * 4, k, acc);
    }
}

/* Four vectors (64 columns) a step, so that each row's load is 256
 * contiguous bytes and the 8 running extremes stay in registers. The rows
 * lie a plane apart and usually come from L3 (the layer before wrote them):
 * the hardware did not prefetch them, so the row 8 ahead is prefetched here
 * (this pass went from 5.8 % to 4.1 % of the int8 recognizer's samples).
 * Sweeping whole rows with the extremes in L1 instead was 2x slower (masked
 * stores do not forward to the next row's masked loads). */
TGT void kc_qrange_avx512(const float *x, int ldx, int k, int n, const float *sinv, float *lo,
                          float *hi) {
    for (int j = 0; j < n; j += 64) {
        __mmask16 m[4];
        __m512 l[4], h[4];
        for (int v = 0; v < 4; v++) {
            int left = n - j - 16 * v;
            m[v] = (__mmask16)(left >= 16 ? 0xffff : left <= 0 ? 0 : (1u << left) - 1);
            l[v] = h[v] = _mm512_setzero_ps();
        }
        for (int r = 0; r < k; r++) {
            const float *xr = x + (size_t)r * ldx + j;
            __m512 s = _mm512_set1_ps(sinv ? sinv[r] : 1.f);
            if (r + 8 < k)
                for (int v = 0; v < 4; v++)
                    _mm_prefetch((const char *)(xr + 8 * (size_t)ldx + 16 * v), _MM_HINT_T0);
            for (int v = 0; v < 4; v++) {
                __m512 t = _mm512_mul_ps(_mm512_maskz_loadu_ps(m[v], xr + 16 * v), s);
                l[v] = _mm512_min_ps(t, l[v]);
                h[v] = _mm512_max_ps(t, h[v]);
            }
        }
        for (int v = 0; v < 4; v++) {
            _mm512_mask_storeu_ps(lo + j + 16 * v, m[v], l[v]);
            _mm512_mask_storeu_ps(hi + j + 16 * v, m[v], h[v]);
        }
    }
}

#endif

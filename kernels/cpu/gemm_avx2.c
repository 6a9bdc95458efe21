/* SGEMM for AVX2+FMA CPUs with the conv epilogue applied in registers:
 * C = A*B (+ C), row-major, no transposes, then row i gets the epilogue of
 * channel c0 + i. OpenBLAS, called per conv tile, first zeroes C in its own
 * pass (beta = 0), packs both operands and leaves the epilogue to another
 * pass over C: on the recognizer and the classifier those three passes took
 * a third of the time. Here a 6x16 block of C lives in 12 registers, A is
 * broadcast from memory, B is packed in panels of 16 columns (or read in
 * place when A has few rows) and the block is written once, finished.
 * Compiled for AVX2+FMA via the target attribute only; the dispatcher in
 * threads.c calls it when the CPU has both. */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/kc_private.h"

enum { MR = 6, NR = 16, KC = 256, NC = 128, MC = 96 };

/* The epilogue of one row, gathered once per block: y = act(v + bias) * sc + sh. */
typedef struct {
    float bias, sc, sh;
} row_epi;

typedef struct {
    int kind; /* KC_ACT_*, or -1: no epilogue in registers */
    float a, b;
} block_epi;

static inline __attribute__((always_inline, target("avx2,fma"))) __m256
epi_apply(__m256 v, row_epi r, const block_epi *e) {
    v = _mm256_add_ps(v, _mm256_set1_ps(r.bias));
    __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.f);
    switch (e->kind) {
    case KC_ACT_RELU:
        v = _mm256_max_ps(v, zero);
        break;
    case KC_ACT_CLIP:
        v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(e->a)), _mm256_set1_ps(e->b));
        break;
    case KC_ACT_HARD_SIGMOID: {
        __m256 t = _mm256_fmadd_ps(_mm256_set1_ps(e->a), v, _mm256_set1_ps(e->b));
        v = _mm256_min_ps(_mm256_max_ps(t, zero), one);
        break;
    }
    case KC_ACT_HARD_SWISH: {
        __m256 t = _mm256_fmadd_ps(_mm256_set1_ps(e->a), v, _mm256_set1_ps(e->b));
        v = _mm256_mul_ps(v, _mm256_min_ps(_mm256_max_ps(t, zero), one));
        break;
    }
    default:
        break;
    }
    return _mm256_fmadd_ps(v, _mm256_set1_ps(r.sc), _mm256_set1_ps(r.sh));
}

/* Row r of the block: store (after the epilogue) or accumulate into C. */
static inline __attribute__((always_inline, target("avx2,fma"))) void
store_row(float *cr, __m256 c0, __m256 c1, int w, int accumulate, const row_epi *re,
          const block_epi *e) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(w), lanes);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(w - 8), lanes);
    int full = w >= NR;
    if (accumulate) {
        c0 = _mm256_add_ps(c0, full ? _mm256_loadu_ps(cr) : _mm256_maskload_ps(cr, m0));
        c1 = _mm256_add_ps(c1, full ? _mm256_loadu_ps(cr + 8) : _mm256_maskload_ps(cr + 8, m1));
    }
    if (e->kind >= 0) {
        c0 = epi_apply(c0, *re, e);
        c1 = epi_apply(c1, *re, e);
    }
    if (full) {
        _mm256_storeu_ps(cr, c0);
        _mm256_storeu_ps(cr + 8, c1);
    } else {
        _mm256_maskstore_ps(cr, m0, c0);
        _mm256_maskstore_ps(cr + 8, m1, c1);
    }
}

/* C[0..R) x [0..w) (+)= A[0..R) x panel, kc steps; the panel is 16 floats
 * wide (packed and zero-padded when w < 16), rows bs floats apart. The
 * accumulators are named variables, not an array: GCC kept an array's
 * registers but also stored them to the stack on every step. */
#define ROW_FMA(r)                                                                                 \
    if (R > r) {                                                                                   \
        __m256 av = _mm256_broadcast_ss(a + (size_t)(r)*lda + p);                                  \
        c##r##0 = _mm256_fmadd_ps(av, b0, c##r##0);                                                \
        c##r##1 = _mm256_fmadd_ps(av, b1, c##r##1);                                                \
    }
#define ROW_STORE(r)                                                                               \
    if (R > r) store_row(c + (size_t)(r)*ldc, c##r##0, c##r##1, w, accumulate, re + (r), e);

static inline __attribute__((always_inline, target("avx2,fma"))) void
micro(const int R, int kc, const float *a, int lda, const float *bp, int bs, float *c, int ldc,
      int w, int accumulate, const row_epi *re, const block_epi *e) {
    __m256 z = _mm256_setzero_ps();
    __m256 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
    __m256 c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
    for (int p = 0; p < kc; p++) {
        const float *bq = bp + (size_t)p * bs;
        __m256 b0 = _mm256_loadu_ps(bq), b1 = _mm256_loadu_ps(bq + 8);
        ROW_FMA(0)
        ROW_FMA(1)
        ROW_FMA(2)
        ROW_FMA(3)
        ROW_FMA(4)
        ROW_FMA(5)
    }
    ROW_STORE(0)
    ROW_STORE(1)
    ROW_STORE(2)
    ROW_STORE(3)
    ROW_STORE(4)
    ROW_STORE(5)
}

/* One instantiation per row count, so that the loops unroll and the
 * accumulators stay in registers. */
#define MICRO_CASE(R)                                                                              \
    case R:                                                                                        \
        micro(R, kc, a, lda, bp, bs, c, ldc, w, accumulate, re, e);                                \
        break;

__attribute__((target("avx2,fma"))) static void micro_any(int mr, int kc, const float *a, int lda,
                                                          const float *bp, int bs, float *c,
                                                          int ldc, int w, int accumulate,
                                                          const row_epi *re, const block_epi *e) {
    switch (mr) {
        MICRO_CASE(1)
        MICRO_CASE(2)
        MICRO_CASE(3)
        MICRO_CASE(4)
        MICRO_CASE(5)
        MICRO_CASE(6)
    }
}

/* B as rows: row p starts at b + rows[p] when rows is given (an implicit
 * im2col: the conv's taps over a padded input tile), else at b + p * ldb. */
typedef struct {
    const float *b;
    int ldb;
    const int *rows;
} b_rows;

static inline const float *b_row(const b_rows *B, int p) {
    return B->b + (B->rows ? B->rows[p] : (ptrdiff_t)p * B->ldb);
}

/* Packs B[p0..p0+kc) x [j0..j0+nc) into panels of NR columns, zero-padded. */
__attribute__((target("avx2,fma"))) static void pack_b(const b_rows *B, int p0, int j0, int kc,
                                                       int nc, float *bp) {
    for (int j = 0; j < nc; j += NR) {
        int w = nc - j < NR ? nc - j : NR;
        float *dst = bp + (size_t)j * kc;
        if (w == NR) {
            for (int p = 0; p < kc; p++) {
                const float *src = b_row(B, p0 + p) + j0 + j;
                _mm256_store_ps(dst + (size_t)p * NR, _mm256_loadu_ps(src));
                _mm256_store_ps(dst + (size_t)p * NR + 8, _mm256_loadu_ps(src + 8));
            }
            continue;
        }
        for (int p = 0; p < kc; p++) {
            const float *src = b_row(B, p0 + p) + j0 + j;
            float *d = dst + (size_t)p * NR;
            for (int q = 0; q < NR; q++)
                d[q] = q < w ? src[q] : 0.f;
        }
    }
}

/* The epilogues that have a register form; the others (sigmoid) run on the
 * finished rows through kc_epilogue_row. */
static int epi_in_registers(const kc_epilogue *ep) {
    return ep && ep->act.kind != KC_ACT_SIGMOID;
}

static row_epi row_epi_of(const kc_epilogue *ep, int ch) {
    row_epi r = {0.f, 1.f, 0.f};
    if (ep->bias) r.bias = ep->bias[ch];
    int pc = ep->post_n == 1 ? 0 : ch;
    if (ep->post_scale) r.sc = ep->post_scale[pc];
    if (ep->post_shift) r.sh = ep->post_shift[pc];
    return r;
}

__attribute__((target("avx2,fma"))) static void gemm(int m, int n, int k, const float *a, int lda,
                                                     const b_rows *B, int accumulate, float *c,
                                                     int ldc, const kc_epilogue *ep, int c0) {
    _Alignas(64) float bp[KC * NC];
    if (k == 0) {
        for (int i = 0; i < m; i++) {
            float *cr = c + (size_t)i * ldc;
            if (!accumulate) memset(cr, 0, sizeof(float) * (size_t)n);
            if (ep) kc_epilogue_row(ep, c0 + i, cr, (size_t)n);
        }
        return;
    }
    block_epi none = {-1, 0.f, 0.f}, fused = none;
    if (epi_in_registers(ep)) fused = (block_epi){(int)ep->act.kind, ep->act.a, ep->act.b};
    /* Few rows of A: each B element is used by at most 4 micro-tiles, so
     * packing B would cost as much as reading it; read it in place. */
    int direct = m <= 4 * MR && !B->rows;
    for (int j0 = 0; j0 < n; j0 += NC) {
        int nc = n - j0 < NC ? n - j0 : NC;
        for (int p0 = 0; p0 < k; p0 += KC) {
            int kc = k - p0 < KC ? k - p0 : KC, last = p0 + kc == k;
            if (!direct) pack_b(B, p0, j0, kc, nc, bp);
            for (int i0 = 0; i0 < m; i0 += MC) {
                int i1 = m - i0 < MC ? m : i0 + MC;
                for (int jp = 0; jp < nc; jp += NR) {
                    int w = nc - jp < NR ? nc - jp : NR;
                    const float *panel = bp + (size_t)jp * kc;
                    int bs = NR;
                    if (direct && w == NR) {
                        panel = b_row(B, p0) + j0 + jp;
                        bs = B->ldb;
                    } else if (direct) { /* a narrow last panel: padded, so loads need no mask */
                        pack_b(B, p0, j0 + jp, kc, w, bp + (size_t)jp * kc);
                    }
                    for (int i = i0; i < i1; i += MR) {
                        int mr = i1 - i < MR ? i1 - i : MR;
                        row_epi re[MR];
                        if (last && fused.kind >= 0)
                            for (int r = 0; r < mr; r++)
                                re[r] = row_epi_of(ep, c0 + i + r);
                        float *cb = c + (size_t)i * ldc + j0 + jp;
                        micro_any(mr, kc, a + (size_t)i * lda + p0, lda, panel, bs, cb, ldc, w,
                                  accumulate || p0 > 0, re, last ? &fused : &none);
                        if (last && ep && fused.kind < 0)
                            for (int r = 0; r < mr; r++)
                                kc_epilogue_row(ep, c0 + i + r, cb + (size_t)r * ldc, (size_t)w);
                    }
                }
            }
        }
    }
}

void kc_sgemm_avx2(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                   int accumulate, float *c, int ldc, const kc_epilogue *ep, int c0) {
    b_rows B = {b, ldb, NULL};
    gemm(m, n, k, a, lda, &B, accumulate, c, ldc, ep, c0);
}

void kc_sgemm_rows_avx2(int m, int n, int k, const float *a, int lda, const float *b,
                        const int *rows, float *c, int ldc, const kc_epilogue *ep, int c0) {
    b_rows B = {b, 0, rows};
    gemm(m, n, k, a, lda, &B, 0, c, ldc, ep, c0);
}

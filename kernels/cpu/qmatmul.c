/* int8 MatMul with a constant B (kc_int8.h): B's columns packed once as
 * u8 with their own scales, A's rows quantized per row as s8 on each call,
 * then one kc_qgemm per chunk of columns. Per-row and per-column scales are
 * what kept the 1x1 convs' text (kc_int8.h).
 *
 * C is computed ROWS rows at a time into a block of scratch that stays in
 * L2, the post (bias, softmax) runs on each row there, and the rows go to C
 * with streaming stores. Written in place, the recognizer's classifier
 * (rows of 6,625 floats: every 32-column piece of a row a cache line apart
 * from the next row's) ran at 100 GMAC/s, its stores waiting on the lines'
 * reads; through the block, 200 (144 rows x 120 x 6,625, bench/RESULTS.md). */
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/cpu/kc_int8.h"
#include "kernels/cpu/kc_private.h"

enum { ROWS = 16 }; /* a block of 16 x 6,625 floats is 424 KB */

static size_t chunk_bytes(int k) {
    return (size_t)(k + 3) / 4 * 4 * KC_QMAT_COLS;
}

/* Bytes of B's packed chunks, rounded up to 64 (the column scales follow). */
static size_t packed_bytes(int k, int n) {
    size_t chunks = (size_t)(n + KC_QMAT_COLS - 1) / KC_QMAT_COLS;
    return (chunks * chunk_bytes(k) + 63) / 64 * 64;
}

size_t kc_qmatb_size(int k, int n) {
    return packed_bytes(k, n) + 2 * sizeof(float) * (size_t)n;
}

void kc_qmatb_pack(kc_qgemm_path p, int k, int n, const float *b, void *mem, kc_qmatb *out) {
    size_t packed = packed_bytes(k, n);
    uint8_t *xp = mem;
    float *a = (float *)((char *)mem + packed), *z = a + n;
    for (int j0 = 0; j0 < n; j0 += KC_QMAT_COLS) {
        int nc = n - j0 < KC_QMAT_COLS ? n - j0 : KC_QMAT_COLS;
        kc_qpack_act(p, b + j0, n, k, nc, NULL, kc_qgemm_act_max(p),
                     xp + (size_t)(j0 / KC_QMAT_COLS) * chunk_bytes(k), a + j0, z + j0);
    }
    *out = (kc_qmatb){k, n, (k + 3) / 4, xp, a, z};
}

static size_t round64(size_t b) {
    return (b + 63) / 64 * 64;
}

/* The workspace: A quantized, then the block of ROWS rows of C, then one
 * row per thread for the softmax's output. */
static size_t block_floats(int rows, int n) {
    return (size_t)(rows < ROWS ? rows : ROWS) * (size_t)n;
}

size_t kc_qmatmul_workspace(int rows, int k, int n, int threads) {
    return round64(kc_qweights_size(rows, k, 1)) + round64(sizeof(float) * block_floats(rows, n)) +
           (size_t)(threads > 1 ? threads : 1) * round64(sizeof(float) * (size_t)n);
}

#if defined(__x86_64__)
/* n floats to d: streaming stores where d is 64-byte aligned and the CPU
 * has AVX-512 (the lines are written whole, so none is read first). */
__attribute__((target("avx512f"))) static void stream_avx512(float *d, const float *s, size_t n) {
    size_t i = 0;
    for (; i < n && ((uintptr_t)(d + i) & 63); i++)
        d[i] = s[i];
    for (; i + 16 <= n; i += 16)
        _mm512_stream_ps(d + i, _mm512_loadu_ps(s + i));
    for (; i < n; i++)
        d[i] = s[i];
}
#endif

static void stream_rows(float *d, const float *s, size_t n) {
#if defined(__x86_64__)
    if (kc_simd_level() == KC_SIMD_AVX512) {
        stream_avx512(d, s, n);
        return;
    }
#endif
    memcpy(d, s, sizeof(float) * n);
}

/* Row r of the block: bias, softmax (into `row`), out to C. */
static void post_row(const kc_qmat_post *post, int n, float *br, float *row, float *cr) {
    if (post && post->bias)
        for (int j = 0; j < n; j++)
            br[j] = br[j] + post->bias[j];
    if (post && post->softmax) {
        kc_softmax_row(br, row, n);
        br = row;
    }
    stream_rows(cr, br, (size_t)n);
}

void kc_qmatmul(const kc_ctx *ctx, kc_qgemm_path p, int rows, const float *a, const kc_qmatb *qb,
                const kc_qmat_post *post, void *ws, float *c) {
    if (rows <= 0 || qb->n <= 0) return;
    int n = qb->n;
    kc_qweights qa;
    kc_qweights_pack(rows, qb->k, a, NULL, NULL, kc_qgemm_weight_max(p), 1, ws, &qa);
    float *block = (float *)((char *)ws + round64(kc_qweights_size(rows, qb->k, 1)));
    float *rowbuf = (float *)((char *)block + round64(sizeof(float) * block_floats(rows, n)));
    size_t row_stride = round64(sizeof(float) * (size_t)n) / sizeof(float);
    int chunks = (n + KC_QMAT_COLS - 1) / KC_QMAT_COLS;
    int nt = kc_threads_for(ctx, (double)rows * qb->k * n / 4);
    for (int r0 = 0; r0 < rows; r0 += ROWS) {
        int nr = rows - r0 < ROWS ? rows - r0 : ROWS;
#pragma omp parallel num_threads(nt)
        {
#pragma omp for schedule(static)
            for (int ch = 0; ch < chunks; ch++) {
                int j0 = ch * KC_QMAT_COLS, nc = n - j0 < KC_QMAT_COLS ? n - j0 : KC_QMAT_COLS;
                kc_qdeq dq = {qa.ws + r0, qa.nsum + r0, qa.bias + r0, qb->a + j0, qb->z + j0, NULL};
                kc_qgemm(p, nr, nc, qb->kq, qa.w + (size_t)r0 * qa.kp, qa.kp,
                         qb->xp + (size_t)ch * chunk_bytes(qb->k), &dq, block + j0, n);
            }
            float *row = rowbuf + (size_t)kc_thread_id() * row_stride;
#pragma omp for schedule(static) nowait
            for (int r = 0; r < nr; r++)
                post_row(post, n, block + (size_t)r * n, row, c + (size_t)(r0 + r) * n);
#if defined(__x86_64__)
            _mm_sfence(); /* each thread's streamed lines land before C is read */
#endif
        }
    }
}

/* int8 MatMul with a constant B (kc_int8.h): B's columns packed once as
 * u8 with their own scales, A's rows quantized per row as s8 on each call,
 * then one kc_qgemm per chunk of columns writing C in place. Per-row and
 * per-column scales are what kept the 1x1 convs' text (kc_int8.h). */
#include "kernels/cpu/kc_int8.h"
#include "kernels/cpu/kc_private.h"

enum { ROWS = 64 };

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

size_t kc_qmatmul_workspace(int rows, int k) {
    return (kc_qweights_size(rows, k, 1) + 63) / 64 * 64;
}

void kc_qmatmul(const kc_ctx *ctx, kc_qgemm_path p, int rows, const float *a, const kc_qmatb *qb,
                void *ws, float *c) {
    if (rows <= 0 || qb->n <= 0) return;
    kc_qweights qa;
    kc_qweights_pack(rows, qb->k, a, NULL, NULL, kc_qgemm_weight_max(p), 1, ws, &qa);
    int chunks = (qb->n + KC_QMAT_COLS - 1) / KC_QMAT_COLS;
    int nt = kc_threads_for(ctx, (double)rows * qb->k * qb->n / 4);
    /* ROWS rows of C at a time, every chunk of B across them: C is written
     * block by block (the recognizer's 320 x 120 x 6,625 classifier ran at
     * about 200 GMAC/s so, 130-150 writing a column stripe of every row) */
    for (int r0 = 0; r0 < rows; r0 += ROWS) {
        int nr = rows - r0 < ROWS ? rows - r0 : ROWS;
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int ch = 0; ch < chunks; ch++) {
            int j0 = ch * KC_QMAT_COLS, nc = qb->n - j0 < KC_QMAT_COLS ? qb->n - j0 : KC_QMAT_COLS;
            kc_qdeq dq = {qa.ws + r0, qa.nsum + r0, qa.bias + r0, qb->a + j0, qb->z + j0, NULL};
            kc_qgemm(p, nr, nc, qb->kq, qa.w + (size_t)r0 * qa.kp, qa.kp,
                     qb->xp + (size_t)ch * chunk_bytes(qb->k), &dq, c + (size_t)r0 * qb->n + j0,
                     qb->n);
        }
    }
}

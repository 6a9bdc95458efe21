/* MatMul: batched row-major C = A x B. The fast path calls SGEMM per batch
 * (threads over batches), or, when B is one matrix shared by every batch
 * (linear layers), one tall SGEMM whose rows are split across threads. */
#include "kernels/cpu/kc_private.h"

void kc_matmul_ref(const kc_matmul_shape *s, const float *a, const float *b, float *c) {
    for (int64_t bi = 0; bi < s->batch; bi++) {
        const float *ab = a + bi * s->a_stride, *bb = b + bi * s->b_stride;
        float *cb = c + bi * s->m * s->n;
        for (int64_t i = 0; i < s->m; i++)
            for (int64_t j = 0; j < s->n; j++) {
                double acc = 0;
                for (int64_t k = 0; k < s->k; k++)
                    acc += (double)ab[i * s->k + k] * bb[k * s->n + j];
                cb[i * s->n + j] = (float)acc;
            }
    }
}

void kc_matmul(const kc_ctx *ctx, const kc_matmul_shape *s, const float *a, const float *b,
               float *c) {
    int n = (int)s->n, k = (int)s->k;
    if (s->b_stride == 0 && s->a_stride == s->m * s->k) {
        /* A's batches are contiguous: one [batch*M, K] matrix. */
        int64_t rows = s->batch * s->m;
        int64_t per = (rows + ctx->nthreads - 1) / ctx->nthreads;
        if (per < 16) per = 16;
        int64_t nblk = (rows + per - 1) / per;
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static)
        for (int64_t bl = 0; bl < nblk; bl++) {
            int64_t r0 = bl * per, nr = rows - r0 < per ? rows - r0 : per;
            kc_sgemm(0, 0, (int)nr, n, k, a + r0 * k, k, b, n, 0.f, c + r0 * n, n);
        }
        return;
    }
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static)
    for (int64_t bi = 0; bi < s->batch; bi++)
        kc_sgemm(0, 0, (int)s->m, n, k, a + bi * s->a_stride, k, b + bi * s->b_stride, n, 0.f,
                 c + bi * s->m * s->n, n);
}

/* MatMul through cuBLAS: row-major C = A * B for every batch in one strided
 * batched SGEMM. cuBLAS is column-major, so it computes C^T = B^T * A^T, which
 * is the same bytes. A stride of 0 repeats one matrix for every batch. The
 * handle's math mode (ctx.c) keeps FP32 unless TF32 was asked for. */
#include "kernels/cuda/kcu_private.h"

q_status kcu_matmul(kcu_ctx *c, const kc_matmul_shape *s, const float *a, const float *b,
                    float *y) {
    if (s->m > INT32_MAX || s->n > INT32_MAX || s->k > INT32_MAX || s->batch > INT32_MAX)
        return Q_FAIL(Q_ERR_UNSUPPORTED, "MatMul dimensions above 2^31 on CUDA");
    int m = (int)s->m, n = (int)s->n, k = (int)s->k;
    const float one = 1.f, zero = 0.f;
    if (s->batch == 0 || m == 0 || n == 0) return Q_OK;
    if (k == 0) return kcu_memset0(c, y, (size_t)(s->batch * s->m * s->n) * sizeof(float));
    KCU_BLAS(cublasSgemmStridedBatched(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, b, n,
                                       (long long)s->b_stride, a, k, (long long)s->a_stride, &zero,
                                       y, n, (long long)s->m * s->n, (int)s->batch));
    return Q_OK;
}

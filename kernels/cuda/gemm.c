/* MatMul through cuBLAS: row-major C = A * B for every batch in one strided
 * batched SGEMM. cuBLAS is column-major, so it computes C^T = B^T * A^T, which
 * is the same bytes. A stride of 0 repeats one matrix for every batch.
 *
 * Precision: the compute type is named in the call rather than left to the
 * handle. With TF32 off it is CUBLAS_COMPUTE_32F under CUBLAS_DEFAULT_MATH
 * (ctx.c): float32 inputs, products and sums, as the CPU backend computes.
 * CUBLAS_DEFAULT_MATH may pick tensor-core kernels only where they keep at
 * least the requested precision, which float32 data never allows (TF32 has a
 * 10-bit mantissa), and it enables no BF16x9 emulation (that needs the
 * EMULATED math mode or compute type). CUBLAS_PEDANTIC_MATH (the prescribed
 * precision in every phase) would add nothing for float32 data and may cost
 * faster kernels. With TF32 on (QUIRE_CUDA_TF32=1) the call asks for
 * CUBLAS_COMPUTE_32F_FAST_TF32 and the handle for CUBLAS_TF32_TENSOR_OP_MATH;
 * NVIDIA_TF32_OVERRIDE=0 in the environment can only turn TF32 off. */
#include "kernels/cuda/kcu_private.h"

q_status kcu_matmul(kcu_ctx *c, const kc_matmul_shape *s, const float *a, const float *b,
                    float *y) {
    if (s->m > INT32_MAX || s->n > INT32_MAX || s->k > INT32_MAX || s->batch > INT32_MAX)
        return Q_FAIL(Q_ERR_UNSUPPORTED, "MatMul dimensions above 2^31 on CUDA");
    int m = (int)s->m, n = (int)s->n, k = (int)s->k;
    const float one = 1.f, zero = 0.f;
    if (s->batch == 0 || m == 0 || n == 0) return Q_OK;
    if (k == 0) return kcu_memset0(c, y, (size_t)(s->batch * s->m * s->n) * sizeof(float));
    cublasComputeType_t ct = c->tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    KCU_BLAS(cublasGemmStridedBatchedEx(
        c->blas, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, b, CUDA_R_32F, n, (long long)s->b_stride,
        a, CUDA_R_32F, k, (long long)s->a_stride, &zero, y, CUDA_R_32F, n, (long long)s->m * s->n,
        (int)s->batch, ct, CUBLAS_GEMM_DEFAULT));
    return Q_OK;
}

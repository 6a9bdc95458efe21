/* What the C files of kernels/cuda share: the context, the CUDA/cuDNN/cuBLAS
 * headers and the conversion of their status codes into q_status. Not for
 * the .cu files (they see kcu_launch.h only). */
#pragma once

/* cuDNN 9 marks the whole legacy convolution API (descriptors, Find, the fused
 * bias+activation call) deprecated in favour of the graph API; the warnings
 * are opt-in (CUDNN_WARN_DEPRECATED) and we do not opt in. The legacy API is
 * still supported in cuDNN 9; moving to the graph API is the way forward when
 * a cuDNN release removes it. */
#undef CUDNN_WARN_DEPRECATED
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "kernels/cuda/kcu.h"
#include "kernels/cuda/kcu_launch.h"

enum { KCU_STAGE_BYTES = 8 << 20 }; /* each of the two pinned staging halves */

typedef struct kcu_conv_algo kcu_conv_algo; /* conv.c's cache entries */

struct kcu_ctx {
    kcu_device dev;
    int tf32;
    cudaStream_t stream;
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    void *scratch;
    size_t scratch_bytes;
    /* Two pinned halves used in turn, each with the event of its last copy. */
    unsigned char *stage[2];
    cudaEvent_t stage_done[2];
    int stage_used[2];
    /* Convolution algorithms by shape (conv.c). */
    kcu_conv_algo *algos;
    int nalgos, cap_algos;
    size_t ws_limit;
    int conv_find;
};

/* Status conversion: record the failing call and its library's message. */
q_status kcu_fail_cuda(cudaError_t e, const char *what, const char *file, int line);
q_status kcu_fail_dnn(cudnnStatus_t e, const char *what, const char *file, int line);
q_status kcu_fail_blas(cublasStatus_t e, const char *what, const char *file, int line);
#define KCU_CUDA(call)                                                                             \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) return kcu_fail_cuda(e_, #call, __FILE__, __LINE__);                \
    } while (0)
#define KCU_DNN(call)                                                                              \
    do {                                                                                           \
        cudnnStatus_t e_ = (call);                                                                 \
        if (e_ != CUDNN_STATUS_SUCCESS) return kcu_fail_dnn(e_, #call, __FILE__, __LINE__);        \
    } while (0)
#define KCU_BLAS(call)                                                                             \
    do {                                                                                           \
        cublasStatus_t e_ = (call);                                                                \
        if (e_ != CUBLAS_STATUS_SUCCESS) return kcu_fail_blas(e_, #call, __FILE__, __LINE__);      \
    } while (0)
/* After a launcher: its cudaGetLastError() result. */
#define KCU_LAUNCH(call)                                                                           \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        return e_ == cudaSuccess ? Q_OK : kcu_fail_cuda(e_, #call, __FILE__, __LINE__);            \
    } while (0)

void kcu_conv_cache_free(kcu_ctx *c); /* conv.c */

/* The CUDA context: device discovery, one stream with its cuDNN and cuBLAS
 * handles, device memory, pinned staging for host copies, the scratch buffer,
 * and the conversion of CUDA/cuDNN/cuBLAS status codes into q_status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/kcu_private.h"

q_status kcu_fail_cuda(cudaError_t e, const char *what, const char *file, int line) {
    return q_fail(Q_ERR_LIB, "cuda", file, line, "%s: %s (%s)", what, cudaGetErrorString(e),
                  cudaGetErrorName(e));
}

q_status kcu_fail_dnn(cudnnStatus_t e, const char *what, const char *file, int line) {
    return q_fail(Q_ERR_LIB, "cudnn", file, line, "%s: %s", what, cudnnGetErrorString(e));
}

q_status kcu_fail_blas(cublasStatus_t e, const char *what, const char *file, int line) {
    return q_fail(Q_ERR_LIB, "cublas", file, line, "%s: %s", what, cublasGetStatusString(e));
}

q_status kcu_devices(kcu_device *out, int cap, int *count) {
    int n = 0; /* cudaGetDeviceCount leaves it untouched when it fails */
    *count = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError(); /* clear the recorded error: later calls start clean */
        return Q_FAIL_LIB(Q_ERR_UNSUPPORTED, "cuda", "no usable GPU (cudaGetDeviceCount: %s)",
                          cudaGetErrorString(e));
    }
    if (n <= 0)
        return Q_FAIL_LIB(Q_ERR_UNSUPPORTED, "cuda",
                          "no usable GPU (the CUDA driver sees no device%s)",
                          getenv("CUDA_VISIBLE_DEVICES") ? "; CUDA_VISIBLE_DEVICES is set" : "");
    for (int i = 0; i < n && i < cap; i++) {
        struct cudaDeviceProp p;
        KCU_CUDA(cudaGetDeviceProperties(&p, i));
        memset(&out[i], 0, sizeof(out[i]));
        out[i].index = i;
        snprintf(out[i].name, sizeof(out[i].name), "%s", p.name);
        out[i].memory_bytes = p.totalGlobalMem;
        out[i].cc_major = p.major;
        out[i].cc_minor = p.minor;
    }
    *count = n;
    return Q_OK;
}

static size_t env_size(const char *name, size_t def) {
    const char *s = getenv(name);
    if (!s || !*s) return def;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    return *end ? def : (size_t)v;
}

q_status kcu_ctx_new(int device, kcu_ctx **out) {
    *out = NULL;
    kcu_device devs[64];
    int n;
    q_status st = kcu_devices(devs, (int)Q_ARRAY_LEN(devs), &n);
    if (st) return st;
    if (n > (int)Q_ARRAY_LEN(devs)) n = (int)Q_ARRAY_LEN(devs);
    kcu_ctx *c = calloc(1, sizeof(*c));
    if (!c) return Q_FAIL(Q_ERR_NOMEM, "out of memory creating the CUDA context");
    c->dev = devs[(device < 0 ? -device : device) % n];
    const char *tf = getenv("QUIRE_CUDA_TF32");
    c->tf32 = tf && !strcmp(tf, "1");
    c->ws_limit = env_size("QUIRE_CUDA_WORKSPACE_MB", 256) << 20;
    const char *find = getenv("QUIRE_CUDA_CONV_FIND");
    c->conv_find = !(find && !strcmp(find, "0"));
    cudaError_t e;
    cudnnStatus_t de;
    cublasStatus_t be;
    if ((e = cudaSetDevice(c->dev.index)) != cudaSuccess) {
        st = kcu_fail_cuda(e, "cudaSetDevice", __FILE__, __LINE__);
        goto fail;
    }
    if ((e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)) != cudaSuccess) {
        st = kcu_fail_cuda(e, "cudaStreamCreate", __FILE__, __LINE__);
        goto fail;
    }
    for (int i = 0; i < 2; i++)
        if ((e = cudaEventCreateWithFlags(&c->stage_done[i], cudaEventDisableTiming)) !=
            cudaSuccess) {
            st = kcu_fail_cuda(e, "cudaEventCreate", __FILE__, __LINE__);
            goto fail;
        }
    if ((de = cudnnCreate(&c->dnn)) != CUDNN_STATUS_SUCCESS) {
        c->dnn = NULL;
        st = kcu_fail_dnn(de, "cudnnCreate", __FILE__, __LINE__);
        goto fail;
    }
    if ((de = cudnnSetStream(c->dnn, c->stream)) != CUDNN_STATUS_SUCCESS) {
        st = kcu_fail_dnn(de, "cudnnSetStream", __FILE__, __LINE__);
        goto fail;
    }
    if ((be = cublasCreate(&c->blas)) != CUBLAS_STATUS_SUCCESS) {
        c->blas = NULL;
        st = kcu_fail_blas(be, "cublasCreate", __FILE__, __LINE__);
        goto fail;
    }
    /* CUBLAS_DEFAULT_MATH keeps FP32 GEMMs in FP32; TF32 only when asked
     * (gemm.c also names the compute type in each call). */
    if ((be = cublasSetStream(c->blas, c->stream)) != CUBLAS_STATUS_SUCCESS ||
        (be = cublasSetMathMode(c->blas, c->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                 : CUBLAS_DEFAULT_MATH)) != CUBLAS_STATUS_SUCCESS) {
        st = kcu_fail_blas(be, "cublasSetStream/MathMode", __FILE__, __LINE__);
        goto fail;
    }
    *out = c;
    return Q_OK;
fail:
    kcu_ctx_free(c);
    return st;
}

void kcu_ctx_free(kcu_ctx *c) {
    if (!c) return;
    if (c->stream) cudaStreamSynchronize(c->stream);
    kcu_conv_cache_free(c);
    if (c->blas) cublasDestroy(c->blas);
    if (c->dnn) cudnnDestroy(c->dnn);
    for (int i = 0; i < 2; i++) {
        if (c->stage[i]) cudaFreeHost(c->stage[i]);
        if (c->stage_done[i]) cudaEventDestroy(c->stage_done[i]);
    }
    if (c->scratch) cudaFree(c->scratch);
    if (c->stream) cudaStreamDestroy(c->stream);
    free(c);
}

const kcu_device *kcu_ctx_device(const kcu_ctx *c) {
    return &c->dev;
}

int kcu_ctx_tf32(const kcu_ctx *c) {
    return c->tf32;
}

void *kcu_alloc(kcu_ctx *c, size_t bytes) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        cudaGetLastError();
        Q_FAIL_LIB(Q_ERR_NOMEM, "cuda", "cannot allocate %zu bytes on %s: %s", bytes, c->dev.name,
                   cudaGetErrorString(e));
        return NULL;
    }
    return p;
}

void kcu_free(kcu_ctx *c, void *p) {
    (void)c;
    if (p) cudaFree(p);
}

static q_status stage_get(kcu_ctx *c, int i) {
    if (!c->stage[i]) KCU_CUDA(cudaHostAlloc((void **)&c->stage[i], KCU_STAGE_BYTES, 0));
    /* The half may still feed a queued copy: wait for it. */
    if (c->stage_used[i]) KCU_CUDA(cudaEventSynchronize(c->stage_done[i]));
    c->stage_used[i] = 0;
    return Q_OK;
}

q_status kcu_upload(kcu_ctx *c, void *dst, const void *src, size_t bytes) {
    q_status st;
    for (size_t off = 0, k = 0; off < bytes; off += KCU_STAGE_BYTES, k++) {
        int i = (int)(k & 1);
        size_t n = bytes - off < KCU_STAGE_BYTES ? bytes - off : KCU_STAGE_BYTES;
        if ((st = stage_get(c, i))) return st;
        memcpy(c->stage[i], (const char *)src + off, n);
        KCU_CUDA(
            cudaMemcpyAsync((char *)dst + off, c->stage[i], n, cudaMemcpyHostToDevice, c->stream));
        KCU_CUDA(cudaEventRecord(c->stage_done[i], c->stream));
        c->stage_used[i] = 1;
    }
    return Q_OK;
}

q_status kcu_download(kcu_ctx *c, void *dst, const void *src, size_t bytes) {
    q_status st;
    /* Chunk k copies into half k&1 while the host unpacks chunk k-1. */
    size_t prev_off = 0, prev_n = 0;
    int prev = -1;
    for (size_t off = 0, k = 0; off < bytes; off += KCU_STAGE_BYTES, k++) {
        int i = (int)(k & 1);
        size_t n = bytes - off < KCU_STAGE_BYTES ? bytes - off : KCU_STAGE_BYTES;
        if ((st = stage_get(c, i))) return st;
        KCU_CUDA(cudaMemcpyAsync(c->stage[i], (const char *)src + off, n, cudaMemcpyDeviceToHost,
                                 c->stream));
        KCU_CUDA(cudaEventRecord(c->stage_done[i], c->stream));
        c->stage_used[i] = 1;
        if (prev >= 0) {
            KCU_CUDA(cudaEventSynchronize(c->stage_done[prev]));
            c->stage_used[prev] = 0;
            memcpy((char *)dst + prev_off, c->stage[prev], prev_n);
        }
        prev = i;
        prev_off = off;
        prev_n = n;
    }
    if (prev >= 0) {
        KCU_CUDA(cudaEventSynchronize(c->stage_done[prev]));
        c->stage_used[prev] = 0;
        memcpy((char *)dst + prev_off, c->stage[prev], prev_n);
    }
    /* Kernel errors surface at the first synchronisation: report them here. */
    KCU_CUDA(cudaGetLastError());
    return Q_OK;
}

q_status kcu_memset0(kcu_ctx *c, void *dst, size_t bytes) {
    KCU_CUDA(cudaMemsetAsync(dst, 0, bytes, c->stream));
    return Q_OK;
}

q_status kcu_copy(kcu_ctx *c, void *dst, const void *src, size_t bytes) {
    if (dst != src) KCU_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, c->stream));
    return Q_OK;
}

q_status kcu_sync(kcu_ctx *c) {
    KCU_CUDA(cudaStreamSynchronize(c->stream));
    KCU_CUDA(cudaGetLastError());
    return Q_OK;
}

q_status kcu_reserve(kcu_ctx *c, size_t bytes) {
    if (bytes <= c->scratch_bytes) return Q_OK;
    /* The old buffer may be in use by queued work. */
    KCU_CUDA(cudaStreamSynchronize(c->stream));
    void *p = kcu_alloc(c, bytes);
    if (!p) return q_errcode();
    if (c->scratch) cudaFree(c->scratch);
    c->scratch = p;
    c->scratch_bytes = bytes;
    return Q_OK;
}

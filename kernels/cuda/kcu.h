/* kcu: the CUDA kernels of quire's inference engine -- the twin of kc.h. Plain
 * functions on device float arrays with explicit sizes; shapes use kc.h's
 * structs so that a CPU op and its CUDA op read the same description. All work
 * is queued on the context's one stream; errors of CUDA, cuDNN and cuBLAS are
 * converted to q_status where they happen (never an abort).
 * This header includes no CUDA header: callers need none. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernels/cpu/kc.h"
#include "util/util.h"

typedef struct kcu_ctx kcu_ctx;

/* ---- devices --------------------------------------------------------------- */
typedef struct {
    int index;
    char name[256];
    size_t memory_bytes; /* total device memory */
    int cc_major, cc_minor;
} kcu_device;

/* The visible GPUs: fills up to `cap` entries and sets *count to how many
 * there are. With none (no driver, no device, CUDA_VISIBLE_DEVICES empty) it
 * returns Q_ERR_UNSUPPORTED, *count = 0 and a one-line reason. */
q_status kcu_devices(kcu_device *out, int cap, int *count);

/* ---- context: one device, one stream, cuDNN and cuBLAS handles ------------- */
/* Opens device `device` modulo the number of visible GPUs. TF32 stays off
 * unless the environment sets QUIRE_CUDA_TF32=1 (for measurements). */
q_status kcu_ctx_new(int device, kcu_ctx **out);
void kcu_ctx_free(kcu_ctx *c); /* NULL-safe; waits for queued work */
const kcu_device *kcu_ctx_device(const kcu_ctx *c);
int kcu_ctx_tf32(const kcu_ctx *c);

/* Device memory. kcu_alloc returns NULL on failure (error recorded). */
void *kcu_alloc(kcu_ctx *c, size_t bytes);
void kcu_free(kcu_ctx *c, void *p); /* NULL-safe */
/* Host <-> device copies through the context's pinned staging buffers. The
 * upload returns once `src` may be reused (the copy itself may still be
 * queued); the download returns when `dst` holds the data. */
q_status kcu_upload(kcu_ctx *c, void *dst, const void *src, size_t bytes);
q_status kcu_download(kcu_ctx *c, void *dst, const void *src, size_t bytes);
q_status kcu_memset0(kcu_ctx *c, void *dst, size_t bytes);
q_status kcu_copy(kcu_ctx *c, void *dst, const void *src, size_t bytes); /* device to device */
/* Waits for the queued work; reports an asynchronous kernel error. */
q_status kcu_sync(kcu_ctx *c);
/* Makes the scratch buffer at least `bytes` long (plan time). */
q_status kcu_reserve(kcu_ctx *c, size_t bytes);

/* ---- convolution (cuDNN) ------------------------------------------------------
 * Same shapes and epilogue as kc_conv2d / kc_deconv2d; every pointer, the
 * epilogue's arrays too, is device memory. The cuDNN algorithm is chosen once
 * per shape (cudnnFind, or the heuristics with QUIRE_CUDA_CONV_FIND=0), within
 * the workspace limit QUIRE_CUDA_WORKSPACE_MB (default 256), and cached in the
 * context. kcu_conv2d_workspace makes that choice and returns the scratch bytes
 * the conv needs; call it at plan time and kcu_reserve the maximum. */
q_status kcu_conv2d_workspace(kcu_ctx *c, const kc_conv_shape *s, size_t *bytes);
q_status kcu_conv2d(kcu_ctx *c, const kc_conv_shape *s, const float *x, const float *w,
                    const kc_epilogue *ep, float *y);
q_status kcu_deconv2d_workspace(kcu_ctx *c, const kc_conv_shape *s, size_t *bytes);
q_status kcu_deconv2d(kcu_ctx *c, const kc_conv_shape *s, const float *x, const float *w,
                      const kc_epilogue *ep, float *y);

/* ---- matrix multiply (cuBLAS, strided batched) ------------------------------- */
q_status kcu_matmul(kcu_ctx *c, const kc_matmul_shape *s, const float *a, const float *b, float *y);

/* ---- elementwise ----------------------------------------------------------------
 * As kc_binary / kc_unary; dims aligned to the output's ndim by the caller. */
q_status kcu_binary(kcu_ctx *c, kc_bin_op op, int ndim, const int64_t *out_dims, const float *a,
                    const int64_t *a_dims, const float *b, const int64_t *b_dims, float *y);
q_status kcu_unary(kcu_ctx *c, kc_un_op op, kc_act act, const float *x, float *y, size_t n);
/* y = act(x + bias[c]) * post_scale[c] + post_shift[c] in place, y NCHW with
 * `channels` channels of `inner` values each and `n` images (kc_epilogue). */
q_status kcu_epilogue(kcu_ctx *c, const kc_epilogue *ep, float *y, int64_t n, int channels,
                      int64_t inner);
/* BatchNormalization (inference): y = x * sc + sh with sc = g / sqrt(var + eps)
 * and sh = b - mean * sc per channel, as the CPU backend computes it. */
q_status kcu_batch_norm(kcu_ctx *c, const float *x, const float *g, const float *b,
                        const float *mean, const float *var, float eps, float *y, int64_t n,
                        int channels, int64_t inner);

/* ---- softmax, reductions, pooling, resize ---------------------------------------- */
q_status kcu_softmax(kcu_ctx *c, const float *x, float *y, int64_t rows, int64_t cols);
q_status kcu_reduce_mean(kcu_ctx *c, const float *x, float *y, int64_t outer, int64_t red,
                         int64_t inner);
q_status kcu_global_avg_pool(kcu_ctx *c, const float *x, float *y, int64_t planes, int64_t hw);
q_status kcu_avg_pool(kcu_ctx *c, const kc_pool_shape *s, const float *x, float *y);
q_status kcu_max_pool(kcu_ctx *c, const kc_pool_shape *s, const float *x, float *y);
q_status kcu_resize_nearest(kcu_ctx *c, const kc_resize_shape *s, const float *x, float *y);

/* ---- data movement (float32 only) ---------------------------------------------- */
q_status kcu_transpose(kcu_ctx *c, const float *x, float *y, int ndim, const int64_t *in_dims,
                       const int *perm);
q_status kcu_slice(kcu_ctx *c, const float *x, float *y, int ndim, const int64_t *in_dims,
                   const int64_t *out_dims, const int64_t *starts, const int64_t *steps);
q_status kcu_concat_part(kcu_ctx *c, const float *x, float *y, int64_t outer, int64_t x_axis,
                         int64_t y_axis, int64_t at, int64_t inner);

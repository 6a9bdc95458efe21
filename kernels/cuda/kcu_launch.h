/* The launchers of kernels/cuda's .cu kernels: one small function per kernel
 * that queues it on a stream and returns cudaGetLastError(). Shared by the .cu
 * files (definitions) and the C glue (callers); C linkage. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime.h>

#include "kernels/cpu/kc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dims and element strides (0 = broadcast) of up to KC_MAX_DIMS axes, passed
 * to kernels by value. */
typedef struct {
    int ndim;
    int64_t dims[KC_MAX_DIMS];
    int64_t sa[KC_MAX_DIMS];
    int64_t sb[KC_MAX_DIMS];
} kcu_nd;

cudaError_t kcu_launch_unary(cudaStream_t st, kc_un_op op, kc_act act, const float *x, float *y,
                             int64_t n);
cudaError_t kcu_launch_epilogue(cudaStream_t st, const kc_epilogue *ep, float *y, int64_t n,
                                int channels, int64_t inner);
cudaError_t kcu_launch_batch_norm(cudaStream_t st, const float *x, const float *g, const float *b,
                                  const float *mean, const float *var, float eps, float *y,
                                  int64_t n, int channels, int64_t inner);
/* y[i] = op(a[..], b[..]) over nd.dims with nd.sa / nd.sb the input strides. */
cudaError_t kcu_launch_binary(cudaStream_t st, kc_bin_op op, const kcu_nd *nd, const float *a,
                              const float *b, float *y);
cudaError_t kcu_launch_softmax(cudaStream_t st, const float *x, float *y, int64_t rows,
                               int64_t cols);
cudaError_t kcu_launch_reduce_mean(cudaStream_t st, const float *x, float *y, int64_t outer,
                                   int64_t red, int64_t inner);
cudaError_t kcu_launch_global_avg_pool(cudaStream_t st, const float *x, float *y, int64_t planes,
                                       int64_t hw);
cudaError_t kcu_launch_pool(cudaStream_t st, const kc_pool_shape *s, int is_max, const float *x,
                            float *y);
cudaError_t kcu_launch_resize_nearest(cudaStream_t st, const kc_resize_shape *s, const float *x,
                                      float *y);
/* y[i] = x[base + sum_d idx_d * nd.sa[d]] over the output dims nd.dims: a
 * transpose (sa = the permuted input strides) or a slice (sa = input stride
 * times step, base = the start element); nd.sb is unused. */
cudaError_t kcu_launch_gather_nd(cudaStream_t st, const kcu_nd *nd, int64_t base, const float *x,
                                 float *y);
cudaError_t kcu_launch_concat_part(cudaStream_t st, const float *x, float *y, int64_t outer,
                                   int64_t x_axis, int64_t y_axis, int64_t at, int64_t inner);
/* Copies planes of h x w into planes of hp x wp at (top, left), zeros elsewhere:
 * the asymmetric padding that cuDNN's convolution descriptor cannot express. */
cudaError_t kcu_launch_pad(cudaStream_t st, const float *x, float *y, int64_t planes, int h, int w,
                           int hp, int wp, int top, int left);
/* Crops planes of hf x wf to ho x wo starting at (top, left); outside the
 * source reads as zero (a transposed conv's output_padding). */
cudaError_t kcu_launch_crop(cudaStream_t st, const float *x, float *y, int64_t planes, int hf,
                            int wf, int ho, int wo, int top, int left);

#ifdef __cplusplus
}
#endif

/* Data movement: strided gathers (Transpose, Slice), Concat, and the pad and
 * crop copies behind asymmetric conv padding: the twins of
 * kernels/cpu/shape_ops.c. One thread per output element. */
#include "kernels/cuda/kcu_cu.h"

static __global__ void gather_nd_kernel(kcu_nd nd, int64_t base, const float *x, float *y,
                                        int64_t n) {
    KCU_FOR(i, n) {
        int64_t rem = i, off = base;
        for (int d = nd.ndim - 1; d >= 0; d--) {
            off += rem % nd.dims[d] * nd.sa[d];
            rem /= nd.dims[d];
        }
        y[i] = x[off];
    }
}

extern "C" cudaError_t kcu_launch_gather_nd(cudaStream_t st, const kcu_nd *nd, int64_t base,
                                            const float *x, float *y) {
    int64_t n = 1;
    for (int d = 0; d < nd->ndim; d++)
        n *= nd->dims[d];
    if (n <= 0) return cudaSuccess;
    gather_nd_kernel<<<kcu_blocks(n), KCU_THREADS, 0, st>>>(*nd, base, x, y, n);
    return cudaGetLastError();
}

static __global__ void concat_kernel(const float *x, float *y, int64_t outer, int64_t xrow,
                                     int64_t yrow, int64_t at) {
    KCU_FOR(i, outer * xrow) {
        int64_t o = i / xrow, r = i % xrow;
        y[o * yrow + at + r] = x[i];
    }
}

extern "C" cudaError_t kcu_launch_concat_part(cudaStream_t st, const float *x, float *y,
                                              int64_t outer, int64_t x_axis, int64_t y_axis,
                                              int64_t at, int64_t inner) {
    int64_t n = outer * x_axis * inner;
    if (n <= 0) return cudaSuccess;
    concat_kernel<<<kcu_blocks(n), KCU_THREADS, 0, st>>>(x, y, outer, x_axis * inner,
                                                         y_axis * inner, at * inner);
    return cudaGetLastError();
}

/* y (hp x wp planes) = x placed at (top, left), zeros around. */
static __global__ void pad_kernel(const float *x, float *y, int64_t planes, int h, int w, int hp,
                                  int wp, int top, int left) {
    KCU_FOR(i, planes * hp * wp) {
        int ox = (int)(i % wp), oy = (int)((i / wp) % hp);
        int64_t p = i / ((int64_t)hp * wp);
        int iy = oy - top, ix = ox - left;
        y[i] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(p * h + iy) * w + ix] : 0.f;
    }
}

extern "C" cudaError_t kcu_launch_pad(cudaStream_t st, const float *x, float *y, int64_t planes,
                                      int h, int w, int hp, int wp, int top, int left) {
    int64_t n = planes * hp * wp;
    if (n <= 0) return cudaSuccess;
    pad_kernel<<<kcu_blocks(n), KCU_THREADS, 0, st>>>(x, y, planes, h, w, hp, wp, top, left);
    return cudaGetLastError();
}

/* The crop is the pad with a negative offset. */
extern "C" cudaError_t kcu_launch_crop(cudaStream_t st, const float *x, float *y, int64_t planes,
                                       int hf, int wf, int ho, int wo, int top, int left) {
    return kcu_launch_pad(st, x, y, planes, hf, wf, ho, wo, -top, -left);
}

/* ReduceMean over a contiguous run of axes seen as [outer, red, inner], and
 * GlobalAveragePool: the twins of kernels/cpu/reduce.c and pool.c. Sums
 * accumulate in double, as the CPU's GlobalAveragePool does. */
#include "kernels/cuda/kcu_cu.h"

/* inner > 1: one thread per output, the red loop strided by inner (coalesced
 * across threads). */
static __global__ void reduce_mean_cols_kernel(const float *x, float *y, int64_t outer, int64_t red,
                                               int64_t inner) {
    KCU_FOR(i, outer * inner) {
        int64_t o = i / inner, k = i % inner;
        const float *xp = x + o * red * inner + k;
        double acc = 0;
        for (int64_t r = 0; r < red; r++)
            acc += xp[r * inner];
        y[i] = (float)(acc / (double)red);
    }
}

/* One block per row of `len` contiguous values: y[row] = sum / len. */
static __global__ void row_mean_kernel(const float *x, float *y, int64_t rows, int64_t len) {
    __shared__ double part[KCU_THREADS];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * len;
        double acc = 0;
        for (int64_t c = threadIdx.x; c < len; c += blockDim.x)
            acc += xr[c];
        part[threadIdx.x] = acc;
        __syncthreads();
        for (int s = KCU_THREADS / 2; s > 0; s >>= 1) {
            if ((int)threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
            __syncthreads();
        }
        if (threadIdx.x == 0) y[r] = (float)(part[0] / (double)len);
        __syncthreads();
    }
}

static cudaError_t row_mean(cudaStream_t st, const float *x, float *y, int64_t rows, int64_t len) {
    if (rows <= 0) return cudaSuccess;
    unsigned grid = (unsigned)(rows < (1 << 20) ? rows : (1 << 20));
    row_mean_kernel<<<grid, KCU_THREADS, 0, st>>>(x, y, rows, len);
    return cudaGetLastError();
}

extern "C" cudaError_t kcu_launch_reduce_mean(cudaStream_t st, const float *x, float *y,
                                              int64_t outer, int64_t red, int64_t inner) {
    if (outer * inner <= 0 || red <= 0) return cudaSuccess;
    if (inner == 1) return row_mean(st, x, y, outer, red);
    reduce_mean_cols_kernel<<<kcu_blocks(outer * inner), KCU_THREADS, 0, st>>>(x, y, outer, red,
                                                                               inner);
    return cudaGetLastError();
}

extern "C" cudaError_t kcu_launch_global_avg_pool(cudaStream_t st, const float *x, float *y,
                                                  int64_t planes, int64_t hw) {
    if (hw <= 0) return cudaSuccess;
    return row_mean(st, x, y, planes, hw);
}

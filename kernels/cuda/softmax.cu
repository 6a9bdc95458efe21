/* Softmax over the last axis of a [rows, cols] view, max-subtracted: the twin
 * of kernels/cpu/softmax.c. One block per row; the row's max and sum are
 * block reductions. */
#include <float.h>

#include "kernels/cuda/kcu_cu.h"

/* Reduces v over the block (max or sum); every thread gets the result. */
static __device__ float block_reduce(float v, int is_max) {
    __shared__ float part[KCU_THREADS / 32];
    for (int o = 16; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = is_max ? fmaxf(v, u) : v + u;
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads(); /* part[] may still be read by a previous call */
    if (lane == 0) part[warp] = v;
    __syncthreads();
    v = is_max ? -FLT_MAX : 0.f;
    for (int w = 0; w < KCU_THREADS / 32; w++)
        v = is_max ? fmaxf(v, part[w]) : v + part[w];
    return v;
}

static __global__ void softmax_kernel(const float *x, float *y, int64_t rows, int64_t cols) {
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float mx = -FLT_MAX;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
            mx = fmaxf(mx, xr[c]);
        mx = block_reduce(mx, 1);
        float sum = 0.f;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
            float e = expf(xr[c] - mx);
            yr[c] = e;
            sum += e;
        }
        float inv = 1.f / block_reduce(sum, 0);
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
            yr[c] *= inv;
    }
}

extern "C" cudaError_t kcu_launch_softmax(cudaStream_t st, const float *x, float *y, int64_t rows,
                                          int64_t cols) {
    if (rows <= 0 || cols <= 0) return cudaSuccess;
    unsigned grid = (unsigned)(rows < (1 << 20) ? rows : (1 << 20));
    softmax_kernel<<<grid, KCU_THREADS, 0, st>>>(x, y, rows, cols);
    return cudaGetLastError();
}

/* Broadcast binary ops: the twin of kernels/cpu/eltwise.c's kc_binary. The
 * host side (ops.c) has merged the axes, so most calls index one or two dims;
 * same-shape operands take the flat kernel. */
#include "kernels/cuda/kcu_cu.h"

static __device__ __forceinline__ float bin_one(int op, float a, float b) {
    switch (op) {
    case KC_BIN_ADD:
        return a + b;
    case KC_BIN_SUB:
        return a - b;
    case KC_BIN_MUL:
        return a * b;
    case KC_BIN_DIV:
        return a / b;
    default:
        return powf(a, b);
    }
}

static __global__ void binary_flat_kernel(int op, const float *a, const float *b, float *y,
                                          int64_t n) {
    KCU_FOR(i, n) {
        y[i] = bin_one(op, a[i], b[i]);
    }
}

static __global__ void binary_nd_kernel(int op, kcu_nd nd, const float *a, const float *b, float *y,
                                        int64_t n) {
    KCU_FOR(i, n) {
        int64_t rem = i, ai = 0, bi = 0;
        for (int d = nd.ndim - 1; d >= 0; d--) {
            int64_t k = rem % nd.dims[d];
            rem /= nd.dims[d];
            ai += k * nd.sa[d];
            bi += k * nd.sb[d];
        }
        y[i] = bin_one(op, a[ai], b[bi]);
    }
}

extern "C" cudaError_t kcu_launch_binary(cudaStream_t st, kc_bin_op op, const kcu_nd *nd,
                                         const float *a, const float *b, float *y) {
    int64_t n = 1;
    for (int d = 0; d < nd->ndim; d++)
        n *= nd->dims[d];
    if (n <= 0) return cudaSuccess;
    if (nd->ndim == 1 && nd->sa[0] == 1 && nd->sb[0] == 1)
        binary_flat_kernel<<<kcu_blocks(n), KCU_THREADS, 0, st>>>((int)op, a, b, y, n);
    else
        binary_nd_kernel<<<kcu_blocks(n), KCU_THREADS, 0, st>>>((int)op, *nd, a, b, y, n);
    return cudaGetLastError();
}

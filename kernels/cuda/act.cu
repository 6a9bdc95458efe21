/* Activations, the conv epilogue (bias, activation, post-affine in one pass)
 * and inference BatchNormalization: the twins of kernels/cpu/act.c. */
#include "kernels/cuda/kcu_cu.h"

static __global__ void unary_kernel(int sqrt_op, int kind, float a, float b, const float *x,
                                    float *y, int64_t n) {
    KCU_FOR(i, n) {
        y[i] = sqrt_op ? sqrtf(x[i]) : kcu_act(kind, a, b, x[i]);
    }
}

extern "C" cudaError_t kcu_launch_unary(cudaStream_t st, kc_un_op op, kc_act act, const float *x,
                                        float *y, int64_t n) {
    if (n <= 0) return cudaSuccess;
    unary_kernel<<<kcu_blocks(n), KCU_THREADS, 0, st>>>(op == KC_UN_SQRT, (int)act.kind, act.a,
                                                        act.b, x, y, n);
    return cudaGetLastError();
}

/* post_n: 0 none, 1 one scalar, else per channel. */
static __global__ void epilogue_kernel(const float *bias, int kind, float a, float b,
                                       const float *ps, const float *pt, int post_n, float *y,
                                       int64_t total, int channels, int64_t inner) {
    KCU_FOR(i, total) {
        int c = (int)((i / inner) % channels);
        float v = y[i] + (bias ? bias[c] : 0.f);
        v = kcu_act(kind, a, b, v);
        int pc = post_n == 1 ? 0 : c;
        float sc = ps ? ps[pc] : 1.f, sh = pt ? pt[pc] : 0.f;
        y[i] = v * sc + sh;
    }
}

extern "C" cudaError_t kcu_launch_epilogue(cudaStream_t st, const kc_epilogue *ep, float *y,
                                           int64_t n, int channels, int64_t inner) {
    int64_t total = n * channels * inner;
    if (total <= 0) return cudaSuccess;
    epilogue_kernel<<<kcu_blocks(total), KCU_THREADS, 0, st>>>(
        ep->bias, (int)ep->act.kind, ep->act.a, ep->act.b, ep->post_scale, ep->post_shift,
        ep->post_n, y, total, channels, inner);
    return cudaGetLastError();
}

static __global__ void batch_norm_kernel(const float *x, const float *g, const float *b,
                                         const float *mu, const float *var, float eps, float *y,
                                         int64_t total, int channels, int64_t inner) {
    KCU_FOR(i, total) {
        int c = (int)((i / inner) % channels);
        float sc = g[c] / sqrtf(var[c] + eps), sh = b[c] - mu[c] * sc;
        y[i] = x[i] * sc + sh;
    }
}

extern "C" cudaError_t kcu_launch_batch_norm(cudaStream_t st, const float *x, const float *g,
                                             const float *b, const float *mean, const float *var,
                                             float eps, float *y, int64_t n, int channels,
                                             int64_t inner) {
    int64_t total = n * channels * inner;
    if (total <= 0) return cudaSuccess;
    batch_norm_kernel<<<kcu_blocks(total), KCU_THREADS, 0, st>>>(x, g, b, mean, var, eps, y, total,
                                                                 channels, inner);
    return cudaGetLastError();
}

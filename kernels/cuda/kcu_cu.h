/* Helpers shared by the .cu files: launch geometry and the activation
 * functions, written as kernels/cpu/act.c writes them. */
#pragma once

#include <stdint.h>

#include "kernels/cuda/kcu_launch.h"

enum { KCU_THREADS = 256 };

/* Blocks for a grid-stride loop over n items (capped; the loop covers the rest). */
static inline unsigned kcu_blocks(int64_t n) {
    int64_t b = (n + KCU_THREADS - 1) / KCU_THREADS;
    return (unsigned)(b < 1 ? 1 : (b > (1 << 20) ? (1 << 20) : b));
}

#define KCU_FOR(i, n)                                                                              \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)gridDim.x * blockDim.x)

static __device__ __forceinline__ float kcu_act(int kind, float a, float b, float v) {
    switch (kind) {
    case KC_ACT_RELU:
        return v > 0.f ? v : 0.f;
    case KC_ACT_CLIP: {
        float t = v < a ? a : v;
        return t > b ? b : t;
    }
    case KC_ACT_HARD_SIGMOID: {
        float t = a * v + b;
        float u = t < 0.f ? 0.f : t;
        return u > 1.f ? 1.f : u;
    }
    case KC_ACT_HARD_SWISH: {
        float t = a * v + b;
        float u = t < 0.f ? 0.f : t;
        return v * (u > 1.f ? 1.f : u);
    }
    case KC_ACT_SIGMOID:
        return 1.f / (1.f + expf(-v));
    default:
        return v;
    }
}

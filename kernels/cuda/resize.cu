/* Resize, nearest neighbour over the last two axes of NCHW, with ONNX's
 * coordinate transformation and rounding modes: the twin of
 * kernels/cpu/resize.c (resize_src is the same function). */
#include "kernels/cuda/kcu_cu.h"

static __device__ int resize_src(const kc_resize_shape &s, int o, int in, int out, float scale) {
    float x;
    switch (s.coord) {
    case KC_COORD_ASYMMETRIC:
        x = (float)o / scale;
        break;
    case KC_COORD_ALIGN_CORNERS:
        x = out > 1 ? (float)o * (float)(in - 1) / (float)(out - 1) : 0.f;
        break;
    case KC_COORD_PYTORCH_HALF_PIXEL:
        x = out > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.f;
        break;
    case KC_COORD_HALF_PIXEL:
    default:
        x = ((float)o + 0.5f) / scale - 0.5f;
        break;
    }
    int i;
    switch (s.nearest) {
    case KC_NEAREST_FLOOR:
        i = (int)floorf(x);
        break;
    case KC_NEAREST_CEIL:
        i = (int)ceilf(x);
        break;
    case KC_NEAREST_ROUND_PREFER_CEIL:
        i = (int)floorf(x + 0.5f);
        break;
    case KC_NEAREST_ROUND_PREFER_FLOOR:
    default:
        i = (x == floorf(x) + 0.5f) ? (int)floorf(x) : (int)roundf(x);
        break;
    }
    return i < 0 ? 0 : (i >= in ? in - 1 : i);
}

static __global__ void resize_kernel(kc_resize_shape s, const float *x, float *y) {
    int64_t total = s.planes * s.h_out * s.w_out;
    KCU_FOR(i, total) {
        int ox = (int)(i % s.w_out);
        int oy = (int)((i / s.w_out) % s.h_out);
        int64_t p = i / ((int64_t)s.w_out * s.h_out);
        int iy = resize_src(s, oy, s.h_in, s.h_out, s.scale_h);
        int ix = resize_src(s, ox, s.w_in, s.w_out, s.scale_w);
        y[i] = x[(p * s.h_in + iy) * s.w_in + ix];
    }
}

extern "C" cudaError_t kcu_launch_resize_nearest(cudaStream_t st, const kc_resize_shape *s,
                                                 const float *x, float *y) {
    int64_t total = s->planes * s->h_out * s->w_out;
    if (total <= 0) return cudaSuccess;
    resize_kernel<<<kcu_blocks(total), KCU_THREADS, 0, st>>>(*s, x, y);
    return cudaGetLastError();
}

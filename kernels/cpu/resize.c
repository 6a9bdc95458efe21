/* Resize, nearest neighbour, over the last two axes of NCHW, with ONNX's
 * coordinate transformation and rounding modes. */
#include <math.h>
#include <string.h>

#include "kernels/cpu/kc_private.h"

static int resize_src(const kc_resize_shape *s, int o, int in, int out, float scale) {
    float x;
    switch (s->coord) {
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
    switch (s->nearest) {
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

void kc_resize_nearest_ref(const kc_resize_shape *s, const float *x, float *y) {
    for (int64_t p = 0; p < s->planes; p++)
        for (int oy = 0; oy < s->h_out; oy++)
            for (int ox = 0; ox < s->w_out; ox++) {
                int iy = resize_src(s, oy, s->h_in, s->h_out, s->scale_h);
                int ix = resize_src(s, ox, s->w_in, s->w_out, s->scale_w);
                y[(p * s->h_out + oy) * s->w_out + ox] = x[(p * s->h_in + iy) * s->w_in + ix];
            }
}

enum { RESIZE_MAX_W = 8192 };

void kc_resize_nearest(const kc_ctx *ctx, const kc_resize_shape *s, const float *x, float *y) {
    if (s->w_out > RESIZE_MAX_W) {
        kc_resize_nearest_ref(s, x, y);
        return;
    }
    int xi[RESIZE_MAX_W];
    for (int ox = 0; ox < s->w_out; ox++)
        xi[ox] = resize_src(s, ox, s->w_in, s->w_out, s->scale_w);
#pragma omp parallel for num_threads(ctx->nthreads) schedule(static)
    for (int64_t p = 0; p < s->planes; p++) {
        int prev = -1;
        for (int oy = 0; oy < s->h_out; oy++) {
            int iy = resize_src(s, oy, s->h_in, s->h_out, s->scale_h);
            float *yr = y + (p * s->h_out + oy) * s->w_out;
            if (iy == prev) {
                /* Same source row as the previous output row: copy it. */
                memcpy(yr, yr - s->w_out, sizeof(float) * s->w_out);
                continue;
            }
            prev = iy;
            const float *xr = x + (p * s->h_in + iy) * s->w_in;
            for (int ox = 0; ox < s->w_out; ox++)
                yr[ox] = xr[xi[ox]];
        }
    }
}

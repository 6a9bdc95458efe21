/* Max and average pooling over NCHW planes, one thread per output: the twin of
 * kernels/cpu/pool.c's pool_plane (same window clipping and divisor). */
#include <float.h>

#include "kernels/cuda/kcu_cu.h"

static __global__ void pool_kernel(kc_pool_shape s, int is_max, const float *x, float *y) {
    int64_t total = s.planes * s.h_out * s.w_out;
    KCU_FOR(i, total) {
        int ox = (int)(i % s.w_out);
        int oy = (int)((i / s.w_out) % s.h_out);
        int64_t p = i / ((int64_t)s.w_out * s.h_out);
        const float *xp = x + p * s.h_in * s.w_in;
        int y0 = oy * s.sh - s.pad_t, x0 = ox * s.sw - s.pad_l;
        float acc = is_max ? -FLT_MAX : 0.f;
        int cnt = 0;
        for (int ky = 0; ky < s.kh; ky++)
            for (int kx = 0; kx < s.kw; kx++) {
                int iy = y0 + ky, ix = x0 + kx;
                if (iy < 0 || iy >= s.h_in || ix < 0 || ix >= s.w_in) continue;
                float v = xp[(int64_t)iy * s.w_in + ix];
                acc = is_max ? (v > acc ? v : acc) : acc + v;
                cnt++;
            }
        if (!is_max) {
            int div = cnt;
            if (s.count_include_pad) {
                int ye = y0 + s.kh, xe = x0 + s.kw;
                int yl = s.h_in + s.pad_t, xl = s.w_in + s.pad_l;
                div = ((ye < yl ? ye : yl) - y0) * ((xe < xl ? xe : xl) - x0);
            }
            acc = div > 0 ? acc / (float)div : 0.f;
        }
        y[i] = acc;
    }
}

extern "C" cudaError_t kcu_launch_pool(cudaStream_t st, const kc_pool_shape *s, int is_max,
                                       const float *x, float *y) {
    int64_t total = s->planes * s->h_out * s->w_out;
    if (total <= 0) return cudaSuccess;
    pool_kernel<<<kcu_blocks(total), KCU_THREADS, 0, st>>>(*s, is_max, x, y);
    return cudaGetLastError();
}

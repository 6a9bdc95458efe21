/* Declarations shared between the CPU kernel files only (not part of kc.h). */
#pragma once

#include <stddef.h>
#include <string.h>

#include "kernels/cpu/kc.h"

#ifdef _OPENMP
#include <omp.h>
static inline int kc_thread_id(void) {
    return omp_get_thread_num();
}
#else
static inline int kc_thread_id(void) {
    return 0;
}
#endif

/* Which build of the kernels compiled three times (depthwise conv, epilogue,
 * activations, softmax) runs: AVX-512 where the GEMMs use it (the CPU has
 * AVX-512F, QUIRE_NO_AVX512 and QUIRE_GEMM=openblas are unset), else AVX2 if
 * the CPU has AVX2 and FMA, else the baseline. Read once (kc_init_threads);
 * a kernel indexes its builds by it. */
typedef enum { KC_SIMD_BASE, KC_SIMD_AVX2, KC_SIMD_AVX512 } kc_simd;
kc_simd kc_simd_level(void);
/* kc_softmax of one row (x and y must not overlap), in this CPU's build. */
void kc_softmax_row(const float *x, float *y, int64_t cols);

/* Threads worth waking for `macs` multiply-adds: one per KC_MACS_PER_THREAD,
 * at most ctx->nthreads. Waking a team costs tens of microseconds (far more on
 * a VM whose other vCPU is not running), which is a small layer's whole work:
 * the classifier at 8x3x48x192 ran slower on 2 threads than on 1. */
#define KC_MACS_PER_THREAD 1e6
static inline int kc_threads_for(const kc_ctx *ctx, double macs) {
    double t = macs / KC_MACS_PER_THREAD;
    return t >= ctx->nthreads ? ctx->nthreads : t < 1 ? 1 : (int)t;
}

/* exp(x) in float, branch-free so that loops calling it vectorize (libm's
 * expf does not without -ffast-math). Range reduction x = k ln2 + r with
 * |r| <= ln2/2, then a degree-6 Taylor polynomial: relative error about
 * 2e-7, inputs clamped to [-87, 88]. */
static inline float kc_expf(float x) {
    /* Written so that NaN fails both tests and becomes -87 here (no UB in
     * the integer conversion below); it is put back at the end. */
    float c = x > -87.f ? x : -87.f;
    c = c < 88.f ? c : 88.f;
    float kf = c * 1.44269504088896341f + 12582912.f; /* round to nearest by the 1.5*2^23 trick */
    kf -= 12582912.f;
    float r = c - kf * 0.693145751953125f - kf * 1.428606765330187045e-06f;
    float p = 1.f + r * (1.f + r * (0.5f + r * (0.166666672f +
                                                r * (0.0416666679f +
                                                     r * (0.00833333377f + r * 0.00138888892f)))));
    uint32_t bits = (uint32_t)((int32_t)kf + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof(scale));
    return x == x ? p * scale : x;
}

/* gemm_avx512.c: C = A*B + beta*C (row-major, no transposes), then the
 * epilogue of channel c0 + i on row i where ep is not NULL; only call it when
 * the CPU has AVX-512F. */
void kc_sgemm_avx512(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                     float beta, float *c, int ldc, const kc_epilogue *ep, int c0);

/* gemm_avx2.c: kc_gemm's kernel, and the same with row p of B at b + rows[p];
 * only call them when the CPU has AVX2 and FMA. */
void kc_sgemm_avx2(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                   int accumulate, float *c, int ldc, const kc_epilogue *ep, int c0);
void kc_sgemm_rows_avx2(int m, int n, int k, const float *a, int lda, const float *b,
                        const int *rows, float *c, int ldc, const kc_epilogue *ep, int c0);

/* conv_wino.c: 3x3 stride-1 convs by Winograd F(2x2, 3x3); kc_conv_wino_ok
 * says whether this shape takes that path (it depends on the channels and
 * the kernel, never on the image size, so packed weights stay valid). */
int kc_conv_wino_ok(const kc_conv_shape *s);
size_t kc_conv_wino_packed_size(const kc_conv_shape *s);
void kc_conv_wino_pack(const kc_conv_shape *s, const float *w, float *u);
size_t kc_conv_wino_workspace(const kc_conv_shape *s);
void kc_conv_wino(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *u,
                  const kc_epilogue *ep, float *y);

/* conv_dw.c: depthwise conv (group == c_in == c_out), dilation 1. */
void kc_conv_dw(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *w,
                const kc_epilogue *ep, float *y);
size_t kc_conv_dw_workspace(const kc_conv_shape *s);

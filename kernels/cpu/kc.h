/* kc: the CPU kernels of quire's inference engine. Plain functions on raw
 * float arrays with explicit sizes; they know nothing of graphs or files.
 * Every op has a `_ref` version (naive, obviously right) and, where time goes,
 * a fast version that the tests compare against it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KC_MAX_DIMS 8

/* Threads and scratch for the fast kernels. `scratch` holds `nthreads` slices
 * of `scratch_per_thread` floats each (see the *_workspace functions). */
typedef struct {
    int nthreads;
    float *scratch;
    size_t scratch_per_thread; /* floats */
} kc_ctx;

/* Once per process: makes OpenBLAS single-threaded (quire's own OpenMP
 * threads split every GEMM, so the two thread pools never compete for the same
 * cores) and picks the GEMM kernel (quire's AVX-512 one where the CPU has it,
 * unless QUIRE_NO_AVX512 is set). Thread-safe; later calls do nothing. */
void kc_init_threads(void);
/* The GEMM kernel family in use (for logs and benchmarks). */
const char *kc_blas_core(void);

/* ---- activations and the conv epilogue ---------------------------------- */
typedef enum {
    KC_ACT_NONE,
    KC_ACT_RELU,
    KC_ACT_CLIP,         /* clamp(x, a, b) */
    KC_ACT_HARD_SIGMOID, /* clamp(a*x + b, 0, 1) */
    KC_ACT_HARD_SWISH,   /* x * clamp(a*x + b, 0, 1) */
    KC_ACT_SIGMOID,
} kc_act_kind;

typedef struct {
    kc_act_kind kind;
    float a, b;
} kc_act;

/* What a conv does to each output value of channel c after accumulation:
 * y = act(acc + bias[c]) * post_scale[c] + post_shift[c]; NULL arrays are
 * skipped. `post_n` is 1 when post_* are one scalar for every channel. */
typedef struct {
    const float *bias;
    kc_act act;
    const float *post_scale, *post_shift;
    int post_n;
} kc_epilogue;

/* Applies the epilogue of channel c to n contiguous values in place. */
void kc_epilogue_row(const kc_epilogue *ep, int c, float *y, size_t n);
void kc_act_apply(kc_act act, float *y, size_t n);

/* ---- convolution (NCHW, weights [Cout, Cin/group, kh, kw]) -------------- */
typedef struct {
    int n, c_in, h_in, w_in;
    int c_out, h_out, w_out;
    int kh, kw, sh, sw, dh, dw;
    int pad_t, pad_l, pad_b, pad_r;
    int group;
} kc_conv_shape;

void kc_conv2d_ref(const kc_conv_shape *s, const float *x, const float *w, const kc_epilogue *ep,
                   float *y);
/* Floats of scratch per thread that kc_conv2d needs. */
size_t kc_conv2d_workspace(const kc_conv_shape *s);
/* Weights repacked once for the fast path (one matrix per kernel tap for
 * stride-1 convs, so they run as shifted GEMMs without im2col). Returns the
 * floats kc_conv2d_pack writes, 0 when the conv uses `w` as it is. */
size_t kc_conv2d_packed_size(const kc_conv_shape *s);
void kc_conv2d_pack(const kc_conv_shape *s, const float *w, float *packed);
/* `packed` is NULL or kc_conv2d_pack's output for the same shape and weights. */
void kc_conv2d(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *w,
               const float *packed, const kc_epilogue *ep, float *y);

/* ConvTranspose: weights [Cin, Cout/group, kh, kw]; shape fields as for conv
 * with h_out/w_out the transposed output size (pads already applied). */
void kc_deconv2d_ref(const kc_conv_shape *s, const float *x, const float *w, const kc_epilogue *ep,
                     float *y);
size_t kc_deconv2d_workspace(const kc_conv_shape *s);
void kc_deconv2d(const kc_ctx *ctx, const kc_conv_shape *s, const float *x, const float *w,
                 const kc_epilogue *ep, float *y);

/* ---- matrix multiply -----------------------------------------------------
 * C[b] = A[b] (M x K) * B[b] (K x N), row-major; a_stride/b_stride are the
 * element distances between batches (0 broadcasts one matrix to all). */
typedef struct {
    int64_t batch, m, n, k;
    int64_t a_stride, b_stride;
} kc_matmul_shape;
void kc_matmul_ref(const kc_matmul_shape *s, const float *a, const float *b, float *c);
void kc_matmul(const kc_ctx *ctx, const kc_matmul_shape *s, const float *a, const float *b,
               float *c);
/* C = A * B + beta * C on one thread (used by the conv kernels): quire's
 * own kernels or OpenBLAS. Call kc_init_threads first. */
void kc_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);
/* C = A * B (+ C when accumulate), no transposes, on one thread; then, when
 * ep is not NULL, row i of C gets the epilogue of channel c0 + i. */
void kc_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, int accumulate,
             float *c, int ldc, const kc_epilogue *ep, int c0);
/* kc_gemm (no accumulation) with row p of B at b + rows[p]: an implicit
 * im2col. Returns 0 without doing anything when this CPU's GEMM cannot
 * (no AVX2); the caller then runs one GEMM per row range. */
int kc_gemm_rows(int m, int n, int k, const float *a, int lda, const float *b, const int *rows,
                 float *c, int ldc, const kc_epilogue *ep, int c0);

/* ---- elementwise -----------------------------------------------------------
 * Binary ops broadcast NumPy style; shapes are given aligned to the output's
 * ndim (leading 1s added by the caller). */
typedef enum { KC_BIN_ADD, KC_BIN_SUB, KC_BIN_MUL, KC_BIN_DIV, KC_BIN_POW } kc_bin_op;
void kc_binary_ref(kc_bin_op op, int ndim, const int64_t *out_dims, const float *a,
                   const int64_t *a_dims, const float *b, const int64_t *b_dims, float *y);
void kc_binary(const kc_ctx *ctx, kc_bin_op op, int ndim, const int64_t *out_dims, const float *a,
               const int64_t *a_dims, const float *b, const int64_t *b_dims, float *y);

typedef enum { KC_UN_SQRT, KC_UN_ACT } kc_un_op;
/* y = f(x) for n values; x may equal y. KC_UN_ACT applies `act`. */
void kc_unary_ref(kc_un_op op, kc_act act, const float *x, float *y, size_t n);
void kc_unary(const kc_ctx *ctx, kc_un_op op, kc_act act, const float *x, float *y, size_t n);

/* ---- softmax and reductions ---------------------------------------------- */
void kc_softmax_ref(const float *x, float *y, int64_t rows, int64_t cols);
void kc_softmax(const kc_ctx *ctx, const float *x, float *y, int64_t rows, int64_t cols);
/* y[o, i] = mean over r of x[o, r, i] */
void kc_reduce_mean_ref(const float *x, float *y, int64_t outer, int64_t red, int64_t inner);
void kc_reduce_mean(const kc_ctx *ctx, const float *x, float *y, int64_t outer, int64_t red,
                    int64_t inner);

/* ---- pooling (NCHW) ------------------------------------------------------- */
typedef struct {
    int64_t planes; /* N * C */
    int h_in, w_in, h_out, w_out;
    int kh, kw, sh, sw, pad_t, pad_l;
    int count_include_pad;
} kc_pool_shape;
void kc_global_avg_pool(const kc_ctx *ctx, const float *x, float *y, int64_t planes, int64_t hw);
void kc_avg_pool_ref(const kc_pool_shape *s, const float *x, float *y);
void kc_max_pool_ref(const kc_pool_shape *s, const float *x, float *y);
void kc_avg_pool(const kc_ctx *ctx, const kc_pool_shape *s, const float *x, float *y);
void kc_max_pool(const kc_ctx *ctx, const kc_pool_shape *s, const float *x, float *y);

/* ---- resize (nearest, NCHW over the last two axes) ------------------------ */
typedef enum {
    KC_COORD_HALF_PIXEL,
    KC_COORD_ASYMMETRIC,
    KC_COORD_ALIGN_CORNERS,
    KC_COORD_PYTORCH_HALF_PIXEL,
} kc_coord_mode;
typedef enum {
    KC_NEAREST_ROUND_PREFER_FLOOR,
    KC_NEAREST_ROUND_PREFER_CEIL,
    KC_NEAREST_FLOOR,
    KC_NEAREST_CEIL,
} kc_nearest_mode;
typedef struct {
    int64_t planes;
    int h_in, w_in, h_out, w_out;
    float scale_h, scale_w; /* output / input */
    kc_coord_mode coord;
    kc_nearest_mode nearest;
} kc_resize_shape;
void kc_resize_nearest_ref(const kc_resize_shape *s, const float *x, float *y);
void kc_resize_nearest(const kc_ctx *ctx, const kc_resize_shape *s, const float *x, float *y);

/* ---- data movement --------------------------------------------------------
 * Element size is given in bytes so that shape arithmetic (int64) can use
 * the same code. */
void kc_transpose(const kc_ctx *ctx, const void *x, void *y, size_t elem, int ndim,
                  const int64_t *in_dims, const int *perm);
/* y = x[starts[d] + i * steps[d]] for every output index i. */
void kc_slice(const void *x, void *y, size_t elem, int ndim, const int64_t *in_dims,
              const int64_t *out_dims, const int64_t *starts, const int64_t *steps);
/* Copies one concat input into its place: x is [outer, x_axis * inner], y is
 * [outer, y_axis * inner] and x lands at offset `at` along the axis. */
void kc_concat_part(const void *x, void *y, size_t elem, int64_t outer, int64_t x_axis,
                    int64_t y_axis, int64_t at, int64_t inner);

/* kc_int8: the int8 kernels of the CPU backend. u8 activations times s8
 * weights (per output channel, symmetric, in [-127, 127]; activations in
 * [0, 255], or [0, 127] on the AVX2 path) accumulate in s32, then a float
 * epilogue dequantizes. Activations are quantized per column (one pixel's
 * channels: a column of the GEMM's right-hand side) as they are packed, with
 * that column's own range: scale a[j] and zero point z[j]. Then
 *   y[i][j] = fma(fma(z[j], nsum[i], acc[i][j]), ws[i] * a[j], bias[i])
 * with ws[i] the weight scale of row i and nsum[i] = -rowsum(wq[i]),
 * followed by the conv's kc_epilogue (its activation and post-affine; the
 * bias is already in). Per-column ranges were measured to keep the text:
 * one scale per tensor, even calibrated, changed 1 % of the recognizer's
 * characters with every 1x1 conv in int8; per column, 0.08 % (bench/RESULTS.md).
 * Input channels may be smoothed (SmoothQuant, Xiao et al. 2022): channel c
 * of x is divided by s[c] as it is quantized and column c of W multiplied by
 * s[c] before it is, which leaves the product unchanged.
 * Layouts: weights row-major [M][Kp] s8 with Kp = K rounded up to 4 (zeros
 * past K); activations packed [Kp/4][N][4] u8 (four consecutive K values
 * of one column side by side: what vpdpbusd and vpmaddubsw multiply). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernels/cpu/kc.h"

/* The int8 GEMM paths. KC_QGEMM_REF is the plain C twin every SIMD path is
 * tested against (and the path of CPUs without AVX2). KC_QGEMM_AVX2 uses
 * vpmaddubsw, whose int16 pair sums saturate: its activations stay in
 * [0, 127] (kc_qgemm_act_max), which with weights in [-127, 127] cannot
 * saturate (2 * 127 * 127 = 32258). The bit goes from the activations, not
 * the weights, because the recognizer's text measured to lose far more to
 * coarser weights than to coarser activations (bench/RESULTS.md). */
typedef enum {
    KC_QGEMM_REF,
    KC_QGEMM_AVX2,
    KC_QGEMM_AVXVNNI,
    KC_QGEMM_AVX512VNNI,
    KC_QGEMM_NPATHS
} kc_qgemm_path;

/* The path kc_qgemm uses on this CPU: AVX-512 VNNI unless QUIRE_NO_AVX512
 * is set, else AVX-VNNI, else AVX2, else the reference. QUIRE_NO_VNNI=1
 * skips both VNNI paths (with QUIRE_NO_AVX512=1, which also moves the fp32
 * GEMM to AVX2, a VNNI CPU runs as an AVX2-only one would). Read once. */
kc_qgemm_path kc_qgemm_best(void);
const char *kc_qgemm_name(kc_qgemm_path p);
/* 1 when this CPU can run path p. */
int kc_qgemm_available(kc_qgemm_path p);
/* The largest |weight| path p multiplies exactly: 127 on every path. */
int kc_qgemm_weight_max(kc_qgemm_path p);
/* The largest activation path p multiplies exactly: 127 for AVX2, else 255. */
int kc_qgemm_act_max(kc_qgemm_path p);

/* The dequantization of one GEMM (see the top of this file): per row of W,
 * its scale, its negated sum and the bias; per column of X, its scale and
 * zero point (as floats). `post` (NULL: none) is what follows: row i gets
 * channel i's activation and post-affine of kc_epilogue_row (post->bias is
 * not added: `bias` holds it), applied as each block of C is stored, while
 * it is in registers (a second pass over C took 4 % of the int8
 * recognizer's time); the same values as kc_epilogue_row's. */
typedef struct {
    const float *ws, *nsum, *bias; /* [m] */
    const float *a, *z;            /* [n] */
    const kc_epilogue *post;
} kc_qdeq;

/* C (M x N floats, row stride ldc) = dequantized W (M x Kp, row stride ldw
 * bytes) x X (packed [kq][n][4], kq = Kp/4), on one thread, with path p
 * (which must be available). */
void kc_qgemm(kc_qgemm_path p, int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
              const kc_qdeq *dq, float *c, int ldc);

/* Quantizes rows [0, k) x columns [0, n) of the float matrix x (row stride
 * ldx), row r times sinv[r] (NULL: 1), into the packed layout in [0, amax]
 * (kc_qgemm_act_max of the path that multiplies them; 1..255), each column
 * j with its own range: writes a[j] = range / amax, z[j] (kc_qdeq's) and
 * q = clamp(trunc(fma(x * sinv[r], 1 / a[j], z[j] + 0.5)), 0, amax); rows
 * k .. Kp-1 are zero. A column's range always holds 0 (zeros stay exact);
 * non-finite values give a column of scale 1 (its outputs are garbage, as in
 * float, but defined). Path p picks the SIMD packer (every path writes the
 * same bytes for the same amax). */
void kc_qpack_act(kc_qgemm_path p, const float *x, int ldx, int k, int n, const float *sinv,
                  int amax, uint8_t *xp, float *a, float *z);

/* A conv's (or GEMM's) weights in int8 with their dequantization, in one
 * or two planes. Two planes hold what 8 bits per weight lose: plane 0 is
 * q0 = round(w / ws) in [-qmax, qmax], plane 1 the rest in steps 2 * qmax
 * times finer, q1 = round((w / ws - q0) * 2 * qmax), so that
 * w ~ ws * (q0 + q1 / (2 * qmax)): about 15 bits for twice the int8 work
 * (the recognizer's text measured to need more than 8 bits of weight in
 * most of its 1x1 convs; bench/RESULTS.md). */
typedef struct {
    int m, k, kp, planes;
    int8_t *w;   /* [planes][m][kp] */
    float *ws;   /* [planes][m] */
    float *nsum; /* [planes][m] */
    float *bias; /* [planes][m]: plane 1's is 0 */
    float *sinv; /* [k]: 1 / s[c], what kc_qpack_act multiplies row c by; NULL: no smoothing */
} kc_qweights;

/* Bytes of the one block kc_qweights_pack fills. */
size_t kc_qweights_size(int m, int k, int planes);
/* Quantizes float weights w [m][k], column c times smooth[c] (NULL: no
 * smoothing), per row to [-qmax, qmax] in `planes` (1 or 2) planes into
 * `mem` (kc_qweights_size bytes, 64-byte aligned), with `bias` (NULL = 0). */
void kc_qweights_pack(int m, int k, const float *w, const float *bias, const float *smooth,
                      int qmax, int planes, void *mem, kc_qweights *out);

/* A 1x1 conv (stride 1, no padding, group 1) in int8 on path p: x is
 * quantized tile by tile into scratch, then each tile is one kc_qgemm per
 * weight plane (summed) and the epilogue `ep` (whose bias is ignored: qw
 * has it). */
size_t kc_qconv1x1_workspace(const kc_conv_shape *s, int planes); /* floats per thread */
void kc_qconv1x1(const kc_ctx *ctx, kc_qgemm_path p, const kc_conv_shape *s, const float *x,
                 const kc_qweights *qw, const kc_epilogue *ep, float *y);

/* A MatMul C [rows, n] = A [rows, k] x B [k, n] whose B is constant (a
 * linear layer: the recognizer's 120 x 6,625 classifier), with the roles of
 * kc_qgemm swapped so that C comes out row-major as it is: A's rows are the
 * "weights" (quantized per row, symmetric, as each call runs), B's columns
 * the "activations" (quantized per column once, kc_qmatb_pack). B is packed
 * in chunks of KC_QMAT_COLS columns, each chunk [kq][cols][4]. */
enum { KC_QMAT_COLS = 256 };
typedef struct {
    int k, n, kq;
    const uint8_t *xp;  /* chunk c at xp + c * kq * KC_QMAT_COLS * 4 */
    const float *a, *z; /* [n] */
} kc_qmatb;

/* Bytes of the block kc_qmatb_pack fills. */
size_t kc_qmatb_size(int k, int n);
/* B [k, n] for path p into `mem` (kc_qmatb_size bytes, 64-byte aligned). */
void kc_qmatb_pack(kc_qgemm_path p, int k, int n, const float *b, void *mem, kc_qmatb *out);
/* What kc_qmatmul does to each row of C after the product: adds `bias`
 * [n] (NULL: none), then takes the softmax over the row (softmax != 0):
 * the recognizer's classifier, its Add and its Softmax in one pass over rows
 * still in cache, with the values the Add and Softmax kernels give. */
typedef struct {
    const float *bias;
    int softmax;
} kc_qmat_post;

/* Bytes of scratch kc_qmatmul needs for `rows` rows of A, k x n, on up to
 * `threads` threads. */
size_t kc_qmatmul_workspace(int rows, int k, int n, int threads);
/* C = post(A x B) on path p (post NULL: none); `ws` is kc_qmatmul_workspace
 * bytes, 64-byte aligned. Chunks of B's columns are split across ctx's
 * threads. */
void kc_qmatmul(const kc_ctx *ctx, kc_qgemm_path p, int rows, const float *a, const kc_qmatb *qb,
                const kc_qmat_post *post, void *ws, float *c);

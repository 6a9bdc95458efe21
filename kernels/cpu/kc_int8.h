/* kc_int8: the int8 kernels of the CPU backend. u8 activations (per tensor,
 * asymmetric: scale + zero point) times s8 weights (per output channel,
 * symmetric) accumulate in s32, then a float epilogue dequantizes:
 *   y[i][j] = fma((float)acc[i][j], scale[i], offset[i])
 * with scale[i] = w_scale[i] * a_scale and offset[i] = bias[i] -
 * a_zp * rowsum(wq[i]) * scale[i], followed by the conv's kc_epilogue (its
 * activation and post-affine; the bias is already in offset).
 * Input channels may be smoothed (SmoothQuant, Xiao et al. 2022): channel c
 * of x is divided by s[c] as it is quantized and column c of W multiplied by
 * s[c] before it is, which leaves the product unchanged but evens out the
 * channels' ranges, so that one activation scale fits them all.
 * Layouts: weights row-major [M][Kp] s8 with Kp = K rounded up to 4 (zeros
 * past K); activations packed [Kp/4][N][4] u8 (four consecutive K values
 * of one column side by side: what vpdpbusd and vpmaddubsw multiply). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernels/cpu/kc.h"

/* The int8 GEMM paths. KC_QGEMM_REF is the plain C twin every SIMD path is
 * tested against (and the path of CPUs without AVX2). KC_QGEMM_AVX2 uses
 * vpmaddubsw, whose int16 pair sums saturate: its weights must stay in
 * [-64, 63] (kc_qgemm_weight_max), which then cannot saturate
 * (2 * 255 * 64 = 32640). */
typedef enum {
    KC_QGEMM_REF,
    KC_QGEMM_AVX2,
    KC_QGEMM_AVXVNNI,
    KC_QGEMM_AVX512VNNI,
    KC_QGEMM_NPATHS
} kc_qgemm_path;

/* The path kc_qgemm uses on this CPU: AVX-512 VNNI unless QUIRE_NO_AVX512
 * is set, else AVX-VNNI, else AVX2, else the reference. */
kc_qgemm_path kc_qgemm_best(void);
const char *kc_qgemm_name(kc_qgemm_path p);
/* 1 when this CPU can run path p. */
int kc_qgemm_available(kc_qgemm_path p);
/* The largest |weight| path p multiplies exactly: 63 for AVX2, else 127. */
int kc_qgemm_weight_max(kc_qgemm_path p);

/* C (M x N floats, row stride ldc) = dequantized W (M x Kp, row stride ldw
 * bytes) x X (packed [kq][n][4], kq = Kp/4), on one thread, with path p
 * (which must be available). */
void kc_qgemm(kc_qgemm_path p, int m, int n, int kq, const int8_t *w, int ldw, const uint8_t *x,
              const float *scale, const float *offset, float *c, int ldc);

/* Quantizes rows [0, k) x columns [0, n) of the float matrix x (row stride
 * ldx) into the packed layout: q = clamp(round(x * inv[r]) + zp, 0, 255)
 * for row r (rounding half up); rows k .. Kp-1 are zero. Path p picks the
 * SIMD packer (every path writes the same bytes). */
void kc_qpack_act(kc_qgemm_path p, const float *x, int ldx, int k, int n, const float *inv, int zp,
                  uint8_t *xp);

/* A conv's (or GEMM's) weights in int8 with their dequantization. */
typedef struct {
    int m, k, kp;
    int8_t *w;     /* [m][kp] */
    float *scale;  /* [m] */
    float *offset; /* [m] */
    float *a_inv;  /* [k]: 1 / (a_scale * s[c]), what kc_qpack_act multiplies row c by */
    float a_scale;
    int a_zp;
} kc_qweights;

/* Bytes of the one block kc_qweights_pack fills. */
size_t kc_qweights_size(int m, int k);
/* Quantizes float weights w [m][k], column c times smooth[c] (NULL: no
 * smoothing), per row to [-qmax, qmax] into `mem` (kc_qweights_size bytes,
 * 64-byte aligned) and folds `bias` (NULL = 0) and the activation zero point
 * into the offsets. a_scale and a_zp quantize the smoothed activations. */
void kc_qweights_pack(int m, int k, const float *w, const float *bias, const float *smooth,
                      float a_scale, int a_zp, int qmax, void *mem, kc_qweights *out);

/* A 1x1 conv (stride 1, no padding, group 1) in int8 on path p: x is
 * quantized tile by tile into scratch, then each tile is one kc_qgemm and the
 * epilogue `ep` (whose bias is ignored: it is in qw's offsets). */
size_t kc_qconv1x1_workspace(const kc_conv_shape *s); /* floats per thread */
void kc_qconv1x1(const kc_ctx *ctx, kc_qgemm_path p, const kc_conv_shape *s, const float *x,
                 const kc_qweights *qw, const kc_epilogue *ep, float *y);

/* The int8 GEMM on AVX2 (kc_int8.h's contract): vpmaddubsw multiplies u8
 * by s8 and adds pairs into int16, vpmaddwd by ones adds those pairs into
 * s32: 32 multiply-adds in three instructions. vpmaddubsw saturates its
 * int16 sums, so this path's activations stay in [0, 127]
 * (kc_qgemm_act_max) with weights in [-127, 127]: 2 * 127 * 127 = 32258
 * never saturates, and the result is exact, like the reference's. Compiled
 * for AVX2 via the target attribute only. */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/kc_int8_private.h"

#if defined(__x86_64__)

#define TGT __attribute__((target("avx2,fma")))
#define DOT(acc, x, w)                                                                             \
    _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), _mm256_set1_epi16(1)))
#define FN kc_qgemm_avx2
#include "kernels/cpu/qgemm_ymm.h"

/* Four rows of 8 floats to 8 packed int32s (byte q of lane j: row q's u8 of
 * column j); the AVX2 (amax 127) and AVX-VNNI (255) paths' packer. */
TGT void kc_qpack_quad_avx2(const float *const *x, int n, const float *sinv, const float *inv,
                            const float *zp5, float amax, uint8_t *d) {
    const __m256 lo = _mm256_setzero_ps(), hi = _mm256_set1_ps(amax);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int j = 0; j < n; j += 8) {
        __m256i k = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - j), lanes);
        __m256i acc = _mm256_setzero_si256();
        __m256 iv = _mm256_maskload_ps(inv + j, k), z = _mm256_maskload_ps(zp5 + j, k);
        for (int q = 0; q < 4; q++) {
            if (!x[q]) continue;
            __m256 v = _mm256_mul_ps(_mm256_maskload_ps(x[q] + j, k), _mm256_set1_ps(sinv[q]));
            __m256 t = _mm256_fmadd_ps(v, iv, z);
            t = _mm256_min_ps(_mm256_max_ps(t, lo), hi); /* max(NaN, 0) is 0 */
            acc = _mm256_or_si256(acc, _mm256_slli_epi32(_mm256_cvttps_epi32(t), 8 * q));
        }
        _mm256_maskstore_epi32((int *)(d + (size_t)j * 4), k, acc);
    }
}

/* Four vectors (32 columns) a step, the 8 running extremes in registers;
 * the row 8 ahead prefetched as in kc_qrange_avx512. */
TGT void kc_qrange_avx2(const float *x, int ldx, int k, int n, const float *sinv, float *lo,
                        float *hi) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int j = 0; j < n; j += 32) {
        __m256i m[4];
        __m256 l[4], h[4];
        for (int v = 0; v < 4; v++) {
            m[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - j - 8 * v), lanes);
            l[v] = h[v] = _mm256_setzero_ps();
        }
        for (int r = 0; r < k; r++) {
            const float *xr = x + (size_t)r * ldx + j;
            __m256 s = _mm256_set1_ps(sinv ? sinv[r] : 1.f);
            if (r + 8 < k) /* as kc_qrange_avx512 */
                for (int v = 0; v < 4; v += 2)
                    _mm_prefetch((const char *)(xr + 8 * (size_t)ldx + 8 * v), _MM_HINT_T0);
            for (int v = 0; v < 4; v++) {
                __m256 t = _mm256_mul_ps(_mm256_maskload_ps(xr + 8 * v, m[v]), s);
                l[v] = _mm256_min_ps(t, l[v]);
                h[v] = _mm256_max_ps(t, h[v]);
            }
        }
        for (int v = 0; v < 4; v++) {
            _mm256_maskstore_ps(lo + j + 8 * v, m[v], l[v]);
            _mm256_maskstore_ps(hi + j + 8 * v, m[v], h[v]);
        }
    }
}

#endif

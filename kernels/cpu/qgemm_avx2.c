/* The int8 GEMM on AVX2 (kc_int8.h's contract): vpmaddubsw multiplies u8
 * by s8 and adds pairs into int16, vpmaddwd by ones adds those pairs into
 * s32: 32 multiply-adds in three instructions. vpmaddubsw saturates its
 * int16 sums, so this path's weights stay in [-64, 63]
 * (kc_qgemm_weight_max): 2 * 255 * 64 = 32640 never saturates, and the
 * result is exact, like the reference's. Compiled for AVX2 via the target
 * attribute only. */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/kc_int8_private.h"

#if defined(__x86_64__)

#define TGT __attribute__((target("avx2,fma")))
#define DOT(acc, x, w)                                                                             \
    _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), _mm256_set1_epi16(1)))
#define FN kc_qgemm_avx2
#include "kernels/cpu/qgemm_ymm.h"

#endif

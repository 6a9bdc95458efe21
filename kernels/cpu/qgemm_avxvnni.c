/* The int8 GEMM on AVX-VNNI (kc_int8.h's contract): the VEX-coded,
 * 256-bit vpdpbusd of CPUs without AVX-512 (Alder Lake and later, Zen 5),
 * 32 u8 x s8 multiply-adds per instruction. A 6x16 block of C lives in 12
 * registers, as in gemm_avx2.c. Compiled for AVX-VNNI via the target
 * attribute only. */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/kc_int8_private.h"

#if defined(__x86_64__)

#define TGT            __attribute__((target("avx2,fma,avxvnni")))
#define DOT(acc, x, w) _mm256_dpbusd_avx_epi32(acc, x, w)
#define FN             kc_qgemm_avxvnni
#include "kernels/cpu/qgemm_ymm.h"

#endif

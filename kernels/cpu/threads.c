/* Thread policy and GEMM dispatch of the CPU kernels. OpenBLAS runs
 * single-threaded inside each call and quire's OpenMP loops split the work,
 * so the two pools never fight over the same cores (oversubscription costs
 * 2-10x on small machines). Plain (non-transposed) GEMMs go to quire's own
 * AVX-512 kernel when the CPU has AVX-512F: it runs at that speed whatever
 * kernel family OpenBLAS was pinned to (OPENBLAS_CORETYPE). */
#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>

#include "kernels/cpu/kc_private.h"

static int use_avx512;

static void blas_setup(void) {
    openblas_set_num_threads(1);
#if defined(__x86_64__)
    /* QUIRE_NO_AVX512=1 keeps every GEMM in OpenBLAS (comparisons, debugging). */
    use_avx512 = __builtin_cpu_supports("avx512f") && !getenv("QUIRE_NO_AVX512");
#endif
}

void kc_init_threads(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, blas_setup);
}

const char *kc_blas_core(void) {
    kc_init_threads();
    return use_avx512 ? "quire-avx512" : openblas_get_corename();
}

void kc_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc) {
    if (use_avx512 && !trans_a && !trans_b) {
        kc_sgemm_avx512(m, n, k, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
}

/* nn_bench: times one model at one input shape on one backend (cpu or cuda),
 * for the GPU benchmarks. The input is read from a .npy file (the same bytes
 * ONNX Runtime gets); the output of the first run is written as .npy for the
 * comparison. Prints one line: "median_ms=.. best_ms=.. images_per_s=..".
 * Each timed run is a whole nn_model_run: upload, kernels, download. Built by
 * the main build (bench/gpu/CMakeLists.txt) as build/nn_bench, next to quire
 * and libquire_cuda.so. Exits 2 on a usage error, 1 when a step fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int cpu = argc >= 5 && !strcmp(argv[4], "cpu"), cuda = argc >= 5 && !strcmp(argv[4], "cuda");
    if (argc < 5 || argc > 7 || !(cpu || cuda)) {
        fprintf(stderr, "usage: nn_bench MODEL.onnx IN.npy OUT.npy cpu|cuda [REPEAT [THREADS]]\n");
        return 2;
    }
    int repeat = argc > 5 ? atoi(argv[5]) : 20, threads = argc > 6 ? atoi(argv[6]) : 1;
    if (repeat < 1) repeat = 1;
    if (threads < 1) threads = 1;
    nn_options o = {.backend = cuda ? NN_BACKEND_CUDA : NN_BACKEND_CPU, .threads = threads};
    nn_model *m = NULL;
    float *x = NULL;
    double *t = calloc((size_t)repeat, sizeof(double));
    nn_shape xs, ys;
    const float *y;
    int rc = 1;
    if (!t || nn_model_load(argv[1], &o, &m) || nn_npy_read(argv[2], &x, &xs)) goto done;
    double t0 = q_now();
    if (nn_model_run(m, x, &xs, &y, &ys) || nn_npy_write(argv[3], y, &ys)) goto done;
    double first = q_now() - t0;
    if (nn_model_run(m, x, &xs, &y, &ys)) goto done; /* warm-up after the plan */
    for (int r = 0; r < repeat; r++) {
        double s = q_now();
        if (nn_model_run(m, x, &xs, &y, &ys)) goto done;
        t[r] = q_now() - s;
    }
    qsort(t, (size_t)repeat, sizeof(double), cmp_double);
    double med = t[repeat / 2];
    printf("median_ms=%.3f best_ms=%.3f first_ms=%.1f images_per_s=%.1f backend=%s\n", med * 1e3,
           t[0] * 1e3, first * 1e3, (double)xs.dims[0] / med, nn_model_backend(m));
    rc = 0;
done:
    if (rc) fprintf(stderr, "nn_bench: %s\n", q_errmsg());
    nn_model_free(m);
    free(x);
    free(t);
    return rc;
}

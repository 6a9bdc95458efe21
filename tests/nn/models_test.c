/* The three PP-OCRv4 models end to end on random inputs: output shapes,
 * finite values, probabilities in [0,1], softmax rows summing to 1, the fused
 * graph equal to the unfused one, 2 threads equal to 1, and a clear error for
 * a wrong input shape. Exits 77 when models/cache is missing. */
#include "nn/nn.h"
#include "tests/nn/test_util.h"

static int failures;

static void expect(int cond, const char *model, const char *what) {
    if (!cond) {
        failures++;
        printf("FAIL %s: %s (%s)\n", model, what, q_errmsg());
    }
}

static int run(const char *path, int threads, int no_fuse, const float *x, const nn_shape *s,
               float **out, nn_shape *ys) {
    nn_options o = {.backend = NN_BACKEND_CPU, .threads = threads, .no_fuse = no_fuse};
    nn_model *m = NULL;
    const float *y;
    *out = NULL;
    if (nn_model_load(path, &o, &m) || nn_model_run(m, x, s, &y, ys)) {
        nn_model_free(m);
        return -1;
    }
    size_t n = 1;
    for (int i = 0; i < ys->ndim; i++)
        n *= (size_t)ys->dims[i];
    *out = malloc(n * sizeof(float));
    memcpy(*out, y, n * sizeof(float));
    /* A second run of the same shape reuses the cached plan: same result. */
    const float *y2;
    nn_shape ys2;
    int same = nn_model_run(m, x, s, &y2, &ys2) == Q_OK && !memcmp(y2, *out, n * sizeof(float));
    nn_model_free(m);
    return same ? 0 : -2;
}

static double max_abs(const float *a, const float *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e = fmax(e, fabs((double)a[i] - b[i]));
    return e;
}

static void test_model(const char *file, nn_shape in, nn_shape want, int softmax_last) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", QUIRE_MODELS_DIR, file);
    size_t nx = 1, ny = 1;
    for (int i = 0; i < in.ndim; i++)
        nx *= (size_t)in.dims[i];
    for (int i = 0; i < want.ndim; i++)
        ny *= (size_t)want.dims[i];
    float *x = malloc(nx * sizeof(float)), *y = NULL, *yu = NULL, *y2 = NULL;
    tu_fill(x, nx, -1, 1);
    nn_shape ys;
    int rc = run(path, 1, 0, x, &in, &y, &ys);
    expect(rc == 0, file, rc == -2 ? "a second run differs" : "loads and runs");
    if (!y) goto done;
    int shape_ok = ys.ndim == want.ndim;
    for (int i = 0; shape_ok && i < ys.ndim; i++)
        shape_ok = ys.dims[i] == want.dims[i];
    expect(shape_ok, file, "output shape");
    if (!shape_ok) goto done;
    int finite = 1, in01 = 1;
    for (size_t i = 0; i < ny; i++) {
        finite &= isfinite(y[i]) != 0;
        in01 &= y[i] >= 0.f && y[i] <= 1.f;
    }
    expect(finite, file, "finite output");
    expect(in01, file, "probabilities in [0, 1]");
    if (softmax_last) {
        size_t cols = (size_t)want.dims[want.ndim - 1];
        double worst = 0;
        for (size_t r = 0; r < ny / cols; r++) {
            double s = 0;
            for (size_t c = 0; c < cols; c++)
                s += y[r * cols + c];
            worst = fmax(worst, fabs(s - 1));
        }
        expect(worst < 1e-4, file, "softmax rows sum to 1");
    }
    nn_shape yus, y2s;
    expect(run(path, 1, 1, x, &in, &yu, &yus) == 0 && max_abs(y, yu, ny) < 1e-4, file,
           "fused graph equals the unfused graph within 1e-4");
    expect(run(path, 2, 0, x, &in, &y2, &y2s) == 0 && max_abs(y, y2, ny) < 1e-5, file,
           "2 threads equal 1 thread within 1e-5");
    /* A wrong input shape: a clear usage error naming what is expected. */
    nn_model *m = NULL;
    const float *yy;
    nn_shape bad = in, ys3;
    bad.dims[1] = 4;
    if (nn_model_load(path, NULL, &m) == Q_OK) {
        q_status st = nn_model_run(m, x, &bad, &yy, &ys3);
        expect(st == Q_ERR_USAGE && strstr(q_errmsg(), "expects"), file,
               "wrong input shape is a usage error");
        printf("%s: wrong shape -> %s\n", file, q_errmsg());
    }
    nn_model_free(m);
done:
    free(x);
    free(y);
    free(yu);
    free(y2);
}

int main(void) {
    tu_seed_init();
    FILE *f = fopen(QUIRE_MODELS_DIR "/ch_PP-OCRv4_det_infer.onnx", "rb");
    if (!f) {
        printf("models not found in %s: skipped\n", QUIRE_MODELS_DIR);
        return 77;
    }
    fclose(f);
    test_model("ch_PP-OCRv4_det_infer.onnx", (nn_shape){4, {1, 3, 320, 256}},
               (nn_shape){4, {1, 1, 320, 256}}, 0);
    test_model("ch_ppocr_mobile_v2.0_cls_infer.onnx", (nn_shape){4, {8, 3, 48, 192}},
               (nn_shape){2, {8, 2}}, 1);
    test_model("ch_PP-OCRv4_rec_infer.onnx", (nn_shape){4, {2, 3, 48, 320}},
               (nn_shape){3, {2, 40, 6625}}, 1);
    printf("%s\n", failures ? "FAILED" : "all models ok");
    return failures ? 1 : 0;
}

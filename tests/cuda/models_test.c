/* The three PP-OCRv4 models on the CUDA backend against the CPU backend on the
 * same random inputs, at batch 1 and a larger batch: max abs error <= 1e-3
 * with TF32 off (QUIRE_CUDA_TF32=1 reports the error without failing). On
 * CUDA, a run of another shape (a second plan sharing the uploaded weights) and
 * then the first shape again must give the same bytes. Exits 77 without a GPU
 * (1 under QUIRE_TEST_REQUIRE_GPU=1) or without the models.
 * Arguments: model keys to run (det, rec, cls; default all); --gpu-check
 * exits 0 with a usable GPU and 77 (or 1, as above) without (for sanitize.sh). */
#include "nn/nn.h"
#include "tests/cuda/gpu_required.h"
#include "tests/nn/test_util.h"

static int failures;

static size_t numel(const nn_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)s->dims[i];
    return n;
}

/* Runs `path` on backend `be`; the output is copied to a malloc'ed buffer. */
static float *run(const char *path, nn_backend_kind be, const float *x, const nn_shape *xs,
                  nn_shape *ys, int twice) {
    nn_options o = {.backend = be, .threads = 2};
    nn_model *m = NULL;
    const float *y;
    float *out = NULL;
    if (nn_model_load(path, &o, &m) || nn_model_run(m, x, xs, &y, ys)) goto done;
    out = malloc(numel(ys) * sizeof(float));
    memcpy(out, y, numel(ys) * sizeof(float));
    if (twice) {
        /* A second shape (a second plan, the same device weights), then the
         * first shape again from the plan cache: the same bytes. */
        nn_shape ys2, one = *xs;
        one.dims[0] = 1;
        if (xs->dims[0] > 1 && nn_model_run(m, x, &one, &y, &ys2)) {
            printf("FAIL %s: batch 1 after batch %lld (%s)\n", path, (long long)xs->dims[0],
                   q_errmsg());
            failures++;
        }
        if (nn_model_run(m, x, xs, &y, &ys2) || memcmp(y, out, numel(ys) * sizeof(float))) {
            printf("FAIL %s: a second run differs or fails (%s)\n", path, q_errmsg());
            failures++;
        }
    }
done:
    if (!out) printf("%s on %s: %s\n", path, be == NN_BACKEND_CPU ? "cpu" : "cuda", q_errmsg());
    nn_model_free(m);
    return out;
}

static void test_model(const char *file, nn_shape xs, int tf32) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", QUIRE_MODELS_DIR, file);
    size_t nx = numel(&xs);
    float *x = malloc(nx * sizeof(float));
    tu_fill(x, nx, -1, 1);
    nn_shape ycs, ygs;
    double t0 = q_now();
    float *yc = run(path, NN_BACKEND_CPU, x, &xs, &ycs, 0);
    double t1 = q_now();
    float *yg = run(path, NN_BACKEND_CUDA, x, &xs, &ygs, 1);
    double t2 = q_now();
    if (!yc || !yg || ycs.ndim != ygs.ndim || numel(&ycs) != numel(&ygs)) {
        printf("FAIL %s batch %lld: runs or shapes differ\n", file, (long long)xs.dims[0]);
        failures++;
    } else {
        double e = 0;
        size_t n = numel(&ycs), bad = 0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)yc[i] - yg[i]);
            if (!(d <= 1e-3)) bad++;
            if (!(d <= e)) e = d; /* NaN wins */
        }
        int ok = e <= 1e-3;
        printf("%s %s batch %lld: max abs error %.3g over %zu values (%zu above 1e-3)%s; "
               "cpu %.0f ms, cuda %.0f ms (load + first run)\n",
               ok ? "ok  " : (tf32 ? "TF32" : "FAIL"), file, (long long)xs.dims[0], e, n, bad,
               tf32 ? " [TF32 on]" : "", (t1 - t0) * 1e3, (t2 - t1) * 1e3);
        if (!ok && !tf32) failures++;
    }
    free(x);
    free(yc);
    free(yg);
}

static int wanted(int argc, char **argv, const char *key) {
    if (argc < 2) return 1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], key)) return 1;
    return 0;
}

int main(int argc, char **argv) {
    nn_gpu_info g;
    int n;
    if (nn_gpu_list(&g, 1, &n)) return cuda_test_no_gpu(q_errmsg());
    if (argc > 1 && !strcmp(argv[1], "--gpu-check")) return 0;
    printf("gpu: %s (compute capability %d.%d)\n", g.name, g.cc_major, g.cc_minor);
    FILE *f = fopen(QUIRE_MODELS_DIR "/ch_PP-OCRv4_det_infer.onnx", "rb");
    if (!f) {
        printf("models not found in %s: skipped\n", QUIRE_MODELS_DIR);
        return 77;
    }
    fclose(f);
    const char *tf = getenv("QUIRE_CUDA_TF32");
    int tf32 = tf && !strcmp(tf, "1");
    tu_seed_init();
    if (wanted(argc, argv, "cls")) {
        test_model("ch_ppocr_mobile_v2.0_cls_infer.onnx", (nn_shape){4, {2, 3, 48, 192}}, tf32);
        if (argc < 2)
            test_model("ch_ppocr_mobile_v2.0_cls_infer.onnx", (nn_shape){4, {8, 3, 48, 192}}, tf32);
    }
    if (wanted(argc, argv, "rec")) {
        test_model("ch_PP-OCRv4_rec_infer.onnx", (nn_shape){4, {1, 3, 48, 320}}, tf32);
        test_model("ch_PP-OCRv4_rec_infer.onnx", (nn_shape){4, {8, 3, 48, 320}}, tf32);
    }
    if (wanted(argc, argv, "det")) {
        test_model("ch_PP-OCRv4_det_infer.onnx", (nn_shape){4, {1, 3, 320, 256}}, tf32);
        test_model("ch_PP-OCRv4_det_infer.onnx", (nn_shape){4, {2, 3, 640, 480}}, tf32);
    }
    printf("%s\n", failures ? "FAILED" : "all models: cuda equals cpu");
    return failures ? 1 : 0;
}

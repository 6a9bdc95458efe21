/* The CUDA backend where no GPU is usable (CI): nn_gpu_list says why in one
 * line, --backend cuda is a one-line load error, AUTO falls back to the CPU and
 * runs. Where a GPU is usable: the list names it and both CUDA and AUTO load
 * on it. Built with and without CUDA. Exits 77 without the models. */
#include "nn/nn.h"
#include "tests/nn/test_util.h"

static int failures;

static void expect(int cond, const char *what) {
    if (!cond) {
        failures++;
        printf("FAIL %s (%s)\n", what, q_errmsg());
    }
}

static int one_line(const char *s) {
    return s && *s && !strchr(s, '\n');
}

int main(void) {
    nn_gpu_info gpus[16];
    int n = -1;
    q_status st = nn_gpu_list(gpus, 16, &n);
    int have_gpu = st == Q_OK;
    if (have_gpu) {
        expect(n > 0, "nn_gpu_list returns OK only with GPUs");
        for (int i = 0; i < n && i < 16; i++)
            printf("gpu %d: %s, %.1f GiB, compute capability %d.%d\n", gpus[i].index, gpus[i].name,
                   (double)gpus[i].memory_bytes / (1 << 30), gpus[i].cc_major, gpus[i].cc_minor);
    } else {
        printf("no GPU: %s\n", q_errmsg());
        expect(n == 0, "no GPU: count is 0");
        expect(st == Q_ERR_UNSUPPORTED, "no GPU: Q_ERR_UNSUPPORTED");
        expect(one_line(q_errmsg()), "no GPU: the reason is one line");
    }
    const char *path = QUIRE_MODELS_DIR "/ch_ppocr_mobile_v2.0_cls_infer.onnx";
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("models not found in %s: the model checks are skipped\n", QUIRE_MODELS_DIR);
        return failures ? 1 : 77;
    }
    fclose(f);
    nn_options o = {NN_BACKEND_CUDA, 1, 0};
    nn_model *m = NULL;
    st = nn_model_load(path, &o, &m);
    if (have_gpu) {
        expect(st == Q_OK && !strcmp(nn_model_backend(m), "cuda"), "GPU: --backend cuda loads");
    } else {
        printf("cuda load: %s\n", q_errmsg());
        expect(st == Q_ERR_UNSUPPORTED && !m, "no GPU: --backend cuda is a load error");
        expect(one_line(q_errmsg()) && strstr(q_errmsg(), "CUDA backend"),
               "no GPU: the load error is one line naming the CUDA backend");
    }
    nn_model_free(m);
    m = NULL;
    o.backend = NN_BACKEND_AUTO;
    for (int k = 0; k < 2; k++) { /* the second AUTO load says nothing more */
        st = nn_model_load(path, &o, &m);
        expect(st == Q_OK, "auto loads");
        if (st) break;
        expect(!strcmp(nn_model_backend(m), have_gpu ? "cuda" : "cpu"),
               have_gpu ? "auto picks cuda with a GPU" : "auto falls back to the cpu");
        float x[2 * 3 * 48 * 192];
        tu_seed_init();
        tu_fill(x, Q_ARRAY_LEN(x), -1, 1);
        nn_shape xs = {4, {2, 3, 48, 192}}, ys;
        const float *y;
        expect(nn_model_run(m, x, &xs, &y, &ys) == Q_OK && ys.ndim == 2 && ys.dims[1] == 2 &&
                   fabsf(y[0] + y[1] - 1.f) < 1e-4f,
               "auto runs the model");
        nn_model_free(m);
        m = NULL;
    }
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

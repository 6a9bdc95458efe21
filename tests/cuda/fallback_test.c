/* The CUDA backend where no GPU is usable (CI): nn_gpu_list says why in one
 * line, --backend cuda is a one-line load error, AUTO falls back to the CPU and
 * runs. Where a GPU is usable: the list names it and both CUDA and AUTO load
 * and run on it; then the same program runs again with every GPU hidden
 * (CUDA_VISIBLE_DEVICES=-1, argument --gpus-hidden), where the no-GPU checks
 * must hold, so the fallback is tested on GPU machines too. Finding no GPU
 * under QUIRE_TEST_REQUIRE_GPU=1 is a failure, not the no-GPU case. Built with
 * and without CUDA. Exits 77 without the models. */
#define _POSIX_C_SOURCE 200809L
#include <spawn.h>
#include <sys/wait.h>

#include "nn/nn.h"
#include "tests/cuda/gpu_required.h"
#include "tests/nn/test_util.h"

extern char **environ;

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

/* This program again with every GPU hidden; its exit status (-1: no run).
 * CUDA reads CUDA_VISIBLE_DEVICES once, when it starts in a process: this
 * one has started already and keeps its GPUs; the new one sees none. */
static int run_hidden(void) {
    char *args[] = {"cuda_fallback_test", "--gpus-hidden", NULL};
    setenv("CUDA_VISIBLE_DEVICES", "-1", 1); /* an invalid index: no device */
    fflush(stdout);
    pid_t pid;
    int ws;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ) != 0) return -1;
    if (waitpid(pid, &ws, 0) != pid) return -1;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

int main(int argc, char **argv) {
    int hidden = argc > 1 && !strcmp(argv[1], "--gpus-hidden");
    nn_gpu_info gpus[16];
    int n = -1;
    q_status st = nn_gpu_list(gpus, 16, &n);
    int have_gpu = st == Q_OK;
    if (hidden) {
        printf("-- again with CUDA_VISIBLE_DEVICES=-1 (no GPU visible)\n");
        expect(!have_gpu, "CUDA_VISIBLE_DEVICES=-1: nn_gpu_list sees no GPU");
        if (have_gpu) return 1;
    } else if (!have_gpu && cuda_test_gpu_required()) {
        return cuda_test_no_gpu(q_errmsg());
    }
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
    nn_options o = {.backend = NN_BACKEND_CUDA, .threads = 1};
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
    if (have_gpu && !failures) {
        int rc = run_hidden();
        expect(rc == 0, "with the GPUs hidden, the no-GPU checks pass");
        if (rc != 0) printf("the run with the GPUs hidden exited %d\n", rc);
    }
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

/* quire nn: run one ONNX model on one .npy tensor and write the result as
 * .npy -- the entry point of the parity tests and benchmarks. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "nn/nn.h"
#include "util/util.h"

static const char nn_help[] =
    "usage: quire nn MODEL.onnx --input X.npy --output Y.npy [options]\n"
    "Runs one model on one float32 tensor (NumPy .npy, C order).\n"
    "  --input FILE     input tensor (.npy, float32)\n"
    "  --output FILE    where the output tensor goes (.npy, float32)\n"
    "  --threads N      CPU threads (default 1)\n"
    "  --backend NAME   cpu (default), cuda (fails without a usable GPU) or auto\n"
    "                   (cuda where a GPU is usable, else the CPU, said once)\n"
    "  --precision P    fp32 (default) or int8: the 1x1 convs and wide linear\n"
    "                   layers its scales table marks run in int8 (CPU;\n"
    "                   models/int8/ has the tables)\n"
    "  --int8-table F   the scales table for --precision int8 (default: the one\n"
    "                   built in for the model's SHA-256)\n"
    "  --repeat N       run N times; prints the first run's time and the median\n"
    "                   and best of the others on stderr (default 1)\n"
    "  -h, --help       this text\n"
    "  -V, --version    print quire's version and exit\n"
    "Environment (debugging): QUIRE_NN_DUMP=1 prints the optimised graph,\n"
    "QUIRE_NN_PROFILE=1 the time per op and the 25 slowest nodes (=N: N nodes),\n"
    "QUIRE_NN_NO_FUSE=1 skips the fusion passes, QUIRE_GEMM=openblas sends every\n"
    "GEMM to OpenBLAS, QUIRE_NO_AVX512=1 leaves quire's AVX-512 kernels out (GEMM,\n"
    "depthwise conv, epilogues, softmax: the AVX2 ones run where the CPU has them),\n"
    "QUIRE_NO_VNNI=1 leaves both VNNI int8 kernels out (with QUIRE_NO_AVX512=1:\n"
    "the kernels of an AVX2-only CPU).\n"
    "int8 calibration (scripts/int8_calibrate.py): QUIRE_NN_CALIBRATE=FILE writes\n"
    "the input ranges of those layers, QUIRE_NN_SAVE_INPUTS=DIR saves each input\n"
    "tensor as .npy, QUIRE_NN_SMOOTH_ALPHA (0.5) tunes channel smoothing.\n"
    "CUDA: QUIRE_CUDA_DEVICE=N picks the GPU, QUIRE_CUDA_TF32=1 allows TF32 (off by\n"
    "default), QUIRE_CUDA_WORKSPACE_MB caps cuDNN's workspace (256).\n";

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int cli_nn(int argc, char **argv) {
    static const struct option opts[] = {
        {"input", required_argument, 0, 'i'},      {"output", required_argument, 0, 'o'},
        {"threads", required_argument, 0, 't'},    {"backend", required_argument, 0, 'b'},
        {"repeat", required_argument, 0, 'r'},     {"precision", required_argument, 0, 'p'},
        {"int8-table", required_argument, 0, 'q'}, {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},          {0, 0, 0, 0}};
    const char *in_path = NULL, *out_path = NULL, *backend = "cpu", *precision = "fp32";
    const char *int8_table = NULL;
    long threads = 1, repeat = 1;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            in_path = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'b':
            backend = optarg;
            break;
        case 'p':
            precision = optarg;
            break;
        case 'q':
            int8_table = optarg;
            break;
        case 't':
            if (cli_parse_long(optarg, 1, 256, &threads))
                return cli_usage_error("nn", "--threads needs a number from 1 to 256");
            break;
        case 'r':
            if (cli_parse_long(optarg, 1, 1000000, &repeat))
                return cli_usage_error("nn", "--repeat needs a positive number");
            break;
        case 'h':
            fputs(nn_help, stdout);
            return CLI_OK;
        case 'V':
            return cli_version();
        case ':':
            return cli_usage_error("nn", "%s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("nn", "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("nn",
                               optind >= argc ? "missing MODEL.onnx" : "more than one model given");
    if (!in_path || !out_path) return cli_usage_error("nn", "--input and --output are required");
    nn_options opt = {0};
    opt.threads = (int)threads;
    opt.no_fuse = getenv("QUIRE_NN_NO_FUSE") != NULL; /* debugging: run the graph as written */
    if (!strcmp(backend, "cpu"))
        opt.backend = NN_BACKEND_CPU;
    else if (!strcmp(backend, "cuda"))
        opt.backend = NN_BACKEND_CUDA;
    else if (!strcmp(backend, "auto"))
        opt.backend = NN_BACKEND_AUTO;
    else
        return cli_usage_error("nn", "unknown backend '%s' (cpu, cuda or auto)", backend);
    if (strcmp(precision, "fp32") && strcmp(precision, "int8"))
        return cli_usage_error("nn", "unknown precision '%s' (fp32 or int8)", precision);
    opt.precision = strcmp(precision, "int8") ? NN_PRECISION_FP32 : NN_PRECISION_INT8;
    opt.int8_table = int8_table;

    int rc = CLI_FATAL;
    nn_model *m = NULL;
    float *x = NULL;
    nn_shape xs, ys;
    const float *y = NULL;
    double *times = NULL;
    double t0 = q_now();
    if (nn_model_load(argv[optind], &opt, &m)) goto fail;
    double t_load = q_now() - t0;
    if (nn_npy_read(in_path, &x, &xs)) goto fail;
    /* The first run plans and touches fresh memory: timed apart, like the
     * ONNX Runtime harness's warm-up run. */
    if (!(times = malloc(sizeof(double) * (size_t)repeat))) {
        Q_FAIL(Q_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (long r = 0; r < repeat; r++) {
        double t = q_now();
        if (nn_model_run(m, x, &xs, &y, &ys)) goto fail;
        times[r] = q_now() - t;
    }
    if (repeat > 1) {
        double first = times[0];
        qsort(times + 1, (size_t)(repeat - 1), sizeof(double), cmp_double);
        fprintf(stderr,
                "quire nn: load %.1f ms, first run %.2f ms, then median %.2f ms, best %.2f ms over "
                "%ld runs; "
                "%s, %d threads, arena %.1f MiB%s%s\n",
                t_load * 1e3, first * 1e3, times[1 + (repeat - 1) / 2] * 1e3, times[1] * 1e3,
                repeat - 1, nn_model_backend(m), opt.threads,
                (double)nn_model_arena_bytes(m) / 1048576.0, nn_model_int8_layers(m) ? ", " : "",
                nn_model_int8_layers(m) ? nn_int8_kernel() : "");
    }
    if (nn_npy_write(out_path, y, &ys)) goto fail;
    rc = CLI_OK;
    goto done;
fail:
    fprintf(stderr, "quire nn: %s\n", q_errmsg());
done:
    nn_model_free(m);
    free(x);
    free(times);
    return rc;
}

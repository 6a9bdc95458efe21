/* test-backend-ops for quire's engine (the idea of ggml's
 * tests/test-backend-ops.cpp): every op of ops.def runs as a one-node model
 * through the backend interface -- alloc, upload, run with the parameters
 * the plan built, download -- with canaries around every runtime input and
 * output, and is compared by normalised error:
 *   cpu   the CPU backend against the naive references of backend_ops_ref.c
 *   cuda  the CUDA backend against the CPU backend (exit 77 without a GPU,
 *         1 under QUIRE_TEST_REQUIRE_GPU=1)
 * Cases: hand-made ones with edge cases (backend_ops_cases.c), and every node
 * of the three PP-OCRv4 models ($MODELS), with their attributes, weights and
 * channel counts at small input sizes, each run alone with random inputs.
 * Usage: nn_backend_ops_test cpu|cuda [OP]. Seeded by QUIRE_TEST_SEED. */
#include "tests/nn/backend_ops.h"

#include "nn/params.h"
#include "tests/cuda/gpu_required.h"
#include "tests/nn/backend_ops_ref.h"
#include "tests/nn/test_util.h"

static int failures, checks, nbackends;
static nn_backend_kind backends[2]; /* [0] is the CPU, the reference of the others */
static const char *only_op;
static double worst[NN_OP_COUNT]; /* largest NMSE seen per op (printed) */

static void fail(const char *desc, const char *why) {
    failures++;
    printf("FAIL %s: %s\n", desc, why);
}

/* NMSE allowed against the reference: the CPU against double-accumulating
 * loops (GEMMs, Winograd and im2col sum in float32 in another order: ~1e-12
 * to 1e-9 at these sizes), CUDA against the CPU (cuDNN's FFT and Winograd
 * transforms amplify roundings to ~1e-9, as tests/cuda used to allow).
 * Pure data movement must be exact. A real bug costs far more: one wrong
 * output in 10^5 is ~1e-5, a one-pixel shift O(1). */
static double tolerance(nn_op op, int cuda) {
    switch (op) {
    case NN_OP_CONV:
    case NN_OP_CONV_TRANSPOSE:
    case NN_OP_MATMUL:
        return 1e-7;
    case NN_OP_RESIZE:
    case NN_OP_CONCAT:
    case NN_OP_TRANSPOSE:
    case NN_OP_SLICE:
    case NN_OP_MAX_POOL:
        return 0;
    default:
        return cuda ? 1e-9 : 1e-10;
    }
}

/* A backend buffer of n floats between canaries: `host` (or garbage the op
 * must overwrite) in the middle. Returns the base; the data is at +TU_CANARY. */
static float *canary_buf(nn_backend *be, const float *host, size_t n) {
    float *d = be->iface->alloc(be, sizeof(float) * (n + 2 * TU_CANARY));
    if (!d) return NULL;
    float *h = tu_alloc(n);
    if (host)
        memcpy(h, host, sizeof(float) * n);
    else
        tu_fill(h, n, -100, 100);
    q_status st = be->iface->upload(be, d, h - TU_CANARY, sizeof(float) * (n + 2 * TU_CANARY));
    tu_free(h);
    if (st) {
        be->iface->free_buf(be, d);
        return NULL;
    }
    return d;
}

/* Runs plan position k of m on m's backend with runtime inputs `xs` (one per
 * input, NULL for constants). Returns the output as a tu_alloc buffer with
 * the device's canaries around it, or NULL (reported) on failure. */
static float *backend_run(nn_model *m, const nn_plan *p, int k, float *const *xs,
                          const char *desc) {
    nn_backend *be = m->be;
    const nn_node *n = &m->nodes[p->order[k]];
    nn_tensor ti[NN_MAX_IN], to;
    float *bufs[NN_MAX_IN + 1] = {0}, *got = NULL;
    memset(ti, 0, sizeof(ti));
    q_status st = Q_OK;
    for (int j = 0; j < n->nin && !st; j++) {
        const nn_pval *v = n->in[j] >= 0 ? &p->pv[n->in[j]] : NULL;
        if (!v) continue;
        ti[j] = (nn_tensor){v->dtype, v->ndim, v->dims, v->dev, v->host};
        if (v->host) continue;
        if (!(bufs[j] = canary_buf(be, xs[j], (size_t)nn_numel(v->ndim, v->dims))))
            st = q_errcode();
        ti[j].data = bufs[j] + TU_CANARY;
    }
    const nn_pval *o = &p->pv[n->out];
    size_t on = (size_t)nn_numel(o->ndim, o->dims);
    if (!st && !(bufs[NN_MAX_IN] = canary_buf(be, NULL, on))) st = q_errcode();
    to = (nn_tensor){NN_DT_F32, o->ndim, o->dims, bufs[NN_MAX_IN] + TU_CANARY, NULL};
    if (!st) st = be->iface->run(be, m, n, &p->params[k], ti, &to);
    if (!st) st = be->iface->sync(be);
    if (!st) {
        got = tu_alloc(on);
        st = be->iface->download(be, got - TU_CANARY, bufs[NN_MAX_IN],
                                 sizeof(float) * (on + 2 * TU_CANARY));
    }
    /* Inputs are read-only: their bytes and canaries must come back as sent. */
    for (int j = 0; j < NN_MAX_IN && !st; j++) {
        if (!bufs[j]) continue;
        size_t cnt = (size_t)nn_numel(ti[j].ndim, ti[j].dims);
        float *h = tu_alloc(cnt);
        st = be->iface->download(be, h - TU_CANARY, bufs[j], sizeof(float) * (cnt + 2 * TU_CANARY));
        if (!st && (!tu_canaries_ok(h, cnt) || memcmp(h, xs[j], sizeof(float) * cnt))) {
            checks++;
            fail(desc, "the op wrote into its input or around it");
        }
        tu_free(h);
    }
    for (int j = 0; j <= NN_MAX_IN; j++)
        if (bufs[j]) be->iface->free_buf(be, bufs[j]);
    if (st) {
        fail(desc, q_errmsg());
        tu_free(got);
        return NULL;
    }
    return got;
}

/* Random contents for input j of n: in the op's domain (Sqrt, Pow's base and
 * Div's divisor positive). */
static float *random_input(const nn_node *n, int j, size_t count) {
    float *x = malloc(sizeof(float) * (count ? count : 1));
    float lo = -1, hi = 1;
    if (n->op == NN_OP_SQRT || (n->op == NN_OP_POW && j == 0) || (n->op == NN_OP_DIV && j == 1))
        lo = 0.5f, hi = 2;
    if (n->op == NN_OP_SOFTMAX) lo = -8, hi = 8;
    tu_fill(x, count, lo, hi);
    return x;
}

static void compare(const char *desc, nn_op op, const float *got, const float *want, size_t count,
                    int cuda) {
    double e = tu_nmse(got, want, count), tol = tolerance(op, cuda);
    int canary = tu_canaries_ok(got, count);
    checks++;
    if (e > worst[op]) worst[op] = e;
    if (e > tol || !canary) {
        char why[160];
        snprintf(why, sizeof(why), "nmse %.3g (tol %.1g)%s", e, tol,
                 canary ? "" : ", canary overwritten");
        fail(desc, why);
    }
}

/* Checks plan position k of models ms[0..nbackends) (the same graph on each
 * backend, planned for the same input): CPU against the reference, each
 * other backend against the CPU. */
static void check_node(nn_model **ms, nn_plan **ps, int k, const char *what) {
    const nn_node *n = &ms[0]->nodes[ps[0]->order[k]];
    const nn_plan *p = ps[0];
    char desc[256];
    snprintf(desc, sizeof(desc), "%s %s", what, nn_node_desc(ms[0], n));
    float *xs[NN_MAX_IN] = {0};
    ref_in ri[NN_MAX_IN];
    memset(ri, 0, sizeof(ri));
    for (int j = 0; j < n->nin; j++) {
        const nn_pval *v = n->in[j] >= 0 ? &p->pv[n->in[j]] : NULL;
        if (!v) continue;
        ri[j].present = 1;
        ri[j].ndim = v->ndim;
        memcpy(ri[j].dims, v->dims, sizeof(ri[j].dims));
        if (!v->host) xs[j] = random_input(n, j, (size_t)nn_numel(v->ndim, v->dims));
        ri[j].f = v->host ? v->host : xs[j];
        ri[j].i = v->host;
    }
    const nn_pval *o = &p->pv[n->out];
    size_t count = (size_t)nn_numel(o->ndim, o->dims);
    int rnd = 0;
    int64_t rd[NN_MAX_DIMS];
    const char *why;
    float *want = ref_node(ms[0], n, ri, &rnd, rd, &why), *cpu = NULL;
    if (!want) {
        fail(desc, why);
    } else if (rnd != o->ndim || memcmp(rd, o->dims, sizeof(int64_t) * (size_t)rnd)) {
        fail(desc, "the plan's output shape differs from the reference's");
    } else if ((cpu = backend_run(ms[0], ps[0], k, xs, desc))) {
        compare(desc, n->op, cpu, want, count, 0);
        for (int b = 1; b < nbackends; b++) {
            float *got = backend_run(ms[b], ps[b], k, xs, desc);
            if (got) compare(desc, n->op, got, cpu, count, 1);
            tu_free(got);
        }
    }
    tu_free(cpu);
    free(want);
    for (int j = 0; j < NN_MAX_IN; j++)
        free(xs[j]);
}

static q_status load(const void *bytes, size_t size, nn_backend_kind kind, nn_model **m) {
    nn_options opt = {.backend = kind, .threads = 2};
    return nn_model_load_mem(bytes, size, &opt, m);
}

/* Loads the model on every backend and plans it for `in`; 0 and a reported
 * failure when that fails. */
static int load_all(const void *bytes, size_t size, const nn_shape *in, nn_model **ms, nn_plan **ps,
                    const char *desc) {
    for (int b = 0; b < nbackends; b++) {
        ms[b] = NULL;
        ps[b] = NULL;
        q_status st = load(bytes, size, backends[b], &ms[b]);
        if (!st) st = nn_plan_build(ms[b], in, &ps[b]);
        if (st) {
            fail(desc, q_errmsg());
            return 0;
        }
    }
    return 1;
}

static void free_all(nn_model **ms, nn_plan **ps) {
    for (int b = 0; b < nbackends; b++) {
        if (ps[b]) nn_plan_free(ms[b], ps[b]);
        nn_model_free(ms[b]);
    }
}

/* ---- hand-made one-node models --------------------------------------------- */
void hc_begin(hcase *h, const char *op, int nd, const int64_t *dims) {
    memset(h, 0, sizeof(*h));
    h->op = op;
    h->xnd = nd;
    memcpy(h->xdims, dims, sizeof(int64_t) * (size_t)nd);
    if (strcmp(op, "Constant")) ob_str(&h->node, 1, "x"); /* Constant has no inputs */
}

void hc_x(hcase *h) {
    ob_str(&h->node, 1, "x");
}

void hc_absent(hcase *h) {
    ob_str(&h->node, 1, "");
}

void hc_floats(hcase *h, int nd, const int64_t *dims, const float *v) {
    char name[16];
    snprintf(name, sizeof(name), "c%d", h->nconst++);
    ob_tensor(&h->graph, name, 1, nd, dims, v);
    ob_str(&h->node, 1, name);
}

void hc_const(hcase *h, int nd, const int64_t *dims, float lo, float hi) {
    size_t count = (size_t)nn_numel(nd, dims);
    float *v = malloc(sizeof(float) * (count ? count : 1));
    tu_fill(v, count, lo, hi);
    hc_floats(h, nd, dims, v);
    free(v);
}

void hc_ints(hcase *h, int n, const int64_t *v) {
    char name[16];
    int64_t d = n;
    snprintf(name, sizeof(name), "c%d", h->nconst++);
    ob_tensor(&h->graph, name, 7, 1, &d, v);
    ob_str(&h->node, 1, name);
}

/* The finished model's bytes (frees the case's buffers). */
static ob_buf hc_model(hcase *h, int opset) {
    ob_str(&h->node, 2, "y");
    ob_str(&h->node, 3, "n0");
    ob_str(&h->node, 4, h->op);
    ob_msg(&h->graph, 1, &h->node);
    ob_value_info(&h->graph, 11, "x", h->xnd, h->xdims);
    ob_value_info(&h->graph, 12, "y", -1, NULL);
    return ob_model(&h->graph, opset);
}

static int skip_case(hcase *h) {
    if (!only_op || !strcmp(only_op, h->op)) return 0;
    free(h->graph.b);
    free(h->node.b);
    return 1;
}

void hc_run(hcase *h, int opset, const char *desc) {
    if (skip_case(h)) return;
    ob_buf model = hc_model(h, opset);
    nn_shape in = {h->xnd, {0}};
    memcpy(in.dims, h->xdims, sizeof(int64_t) * (size_t)h->xnd);
    nn_model *ms[2];
    nn_plan *ps[2];
    if (load_all(model.b, model.n, &in, ms, ps, desc)) {
        if (ps[0]->norder != 1)
            fail(desc, "the plan does not run exactly one node");
        else
            check_node(ms, ps, 0, desc);
    }
    free_all(ms, ps);
    free(model.b);
}

void hc_run_values(hcase *h, int opset, const char *desc, int nd, const int64_t *expect_dims,
                   const float *want) {
    if (skip_case(h)) return;
    ob_buf model = hc_model(h, opset);
    nn_shape in = {h->xnd, {0}}, os;
    memcpy(in.dims, h->xdims, sizeof(int64_t) * (size_t)h->xnd);
    size_t count = (size_t)nn_numel(h->xnd, h->xdims);
    float *x = random_input(&(nn_node){.op = NN_OP_IDENTITY}, 0, count);
    for (int b = 0; b < nbackends; b++) {
        nn_model *m = NULL;
        const float *y;
        checks++;
        if (load(model.b, model.n, backends[b], &m) || nn_model_run(m, x, &in, &y, &os))
            fail(desc, q_errmsg());
        else if (os.ndim != nd || memcmp(os.dims, expect_dims, sizeof(int64_t) * (size_t)nd))
            fail(desc, "wrong output shape");
        else if (memcmp(y, want ? want : x, sizeof(float) * (size_t)nn_numel(nd, expect_dims)))
            fail(desc, "wrong values");
        nn_model_free(m);
    }
    free(x);
    free(model.b);
}

void hc_run_view(hcase *h, int opset, const char *desc, int nd, const int64_t *expect_dims) {
    hc_run_values(h, opset, desc, nd, expect_dims, NULL);
}

/* Loads, plans and runs; the first failure's status (0 when all pass). A
 * host-only op must also be refused by the backend's supports_op. */
static q_status load_plan_run(const ob_buf *model, nn_backend_kind kind, const nn_shape *in,
                              const char *desc) {
    nn_model *m = NULL;
    nn_plan *p = NULL;
    q_status st = load(model->b, model->n, kind, &m);
    if (!st && m->nodes[0].op >= NN_OP_SHAPE &&
        m->be->iface->supports_op(m->be, &m->nodes[0], NULL))
        fail(desc, "a host-only op is claimed by a backend");
    if (!st) st = nn_plan_build(m, in, &p);
    if (p) nn_plan_free(m, p);
    if (!st) {
        size_t count = (size_t)nn_numel(in->ndim, in->dims);
        float *x = calloc(count ? count : 1, sizeof(float));
        const float *y;
        nn_shape os;
        st = nn_model_run(m, x, in, &y, &os);
        free(x);
    }
    nn_model_free(m);
    return st;
}

void hc_run_refused(hcase *h, int opset, const char *desc, const char *needle) {
    if (skip_case(h)) return;
    ob_buf model = hc_model(h, opset);
    nn_shape in = {h->xnd, {0}};
    memcpy(in.dims, h->xdims, sizeof(int64_t) * (size_t)h->xnd);
    for (int b = 0; b < nbackends; b++) {
        checks++;
        if (!load_plan_run(&model, backends[b], &in, desc))
            fail(desc, "was accepted");
        else if (!strstr(q_errmsg(), needle) || strchr(q_errmsg(), '\n'))
            fail(desc, q_errmsg()); /* not the error expected */
    }
    free(model.b);
}

/* ---- the three PP-OCRv4 models, node by node --------------------------------- */
static void model_cases(const char *dir) {
    static const struct {
        const char *file;
        nn_shape in;
    } models[] = {
        {"ch_PP-OCRv4_det_infer.onnx", {4, {1, 3, 64, 96}}},
        {"ch_PP-OCRv4_rec_infer.onnx", {4, {2, 3, 48, 96}}},
        {"ch_ppocr_mobile_v2.0_cls_infer.onnx", {4, {1, 3, 48, 96}}},
    };
    for (size_t i = 0; i < Q_ARRAY_LEN(models); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, models[i].file);
        FILE *f = fopen(path, "rb");
        if (!f) {
            printf("note: %s not found; its nodes are not tested\n", path);
            continue;
        }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *bytes = malloc((size_t)size);
        if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) size = 0;
        fclose(f);
        nn_model *ms[2];
        nn_plan *ps[2];
        if (size && load_all(bytes, (size_t)size, &models[i].in, ms, ps, models[i].file)) {
            int tested = 0;
            for (int k = 0; k < ps[0]->norder; k++) {
                const nn_node *n = &ms[0]->nodes[ps[0]->order[k]];
                if (only_op && strcmp(only_op, nn_op_name(n->op))) continue;
                check_node(ms, ps, k, models[i].file);
                tested++;
            }
            printf("%s: %d nodes run alone\n", models[i].file, tested);
        }
        free_all(ms, ps);
        free(bytes);
    }
}

int main(int argc, char **argv) {
    int cuda = argc > 1 && !strcmp(argv[1], "cuda");
    if (argc < 2 || (!cuda && strcmp(argv[1], "cpu"))) {
        fprintf(stderr, "usage: %s cpu|cuda [OP]\n", argv[0]);
        return 2;
    }
    only_op = argc > 2 ? argv[2] : NULL;
    tu_seed_init();
    backends[nbackends++] = NN_BACKEND_CPU;
    if (cuda) {
        nn_gpu_info g[4];
        int count = 0;
        if (nn_gpu_list(g, 4, &count) || count < 1) return cuda_test_no_gpu(q_errmsg());
        backends[nbackends++] = NN_BACKEND_CUDA;
    }
    hand_cases(only_op);
    const char *dir = getenv("MODELS");
    model_cases(dir && *dir ? dir : QUIRE_MODELS_DIR);
    for (int op = 0; op < NN_OP_COUNT; op++)
        if (worst[op] > 0) printf("  %-18s worst nmse %.3g\n", nn_op_name((nn_op)op), worst[op]);
    printf("%d checks, %d failures (%s)\n", checks, failures,
           cuda ? "cuda against cpu" : "cpu against the references");
    return failures ? 1 : 0;
}

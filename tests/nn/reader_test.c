/* The ONNX reader on bad input: hand-made models (unsupported op, missing
 * producer) and hundreds of truncated and bit-flipped copies of a real model.
 * Every variant must load cleanly or fail with a one-line error -- never
 * crash (this test also runs under ASan). Needs models/cache (else exit 77). */
#include "nn/nn.h"
#include "tests/nn/test_util.h"

static int failures;

/* ---- a tiny protobuf writer for hand-made models ---- */
typedef struct {
    uint8_t b[4096];
    size_t n;
} pbw;

static void w_varint(pbw *w, uint64_t v) {
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        w->b[w->n++] = c | (v ? 0x80 : 0);
    } while (v);
}
static void w_bytes(pbw *w, int field, const void *p, size_t n) {
    w_varint(w, (uint64_t)field << 3 | 2);
    w_varint(w, n);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void w_str(pbw *w, int field, const char *s) {
    w_bytes(w, field, s, strlen(s));
}
static void w_int(pbw *w, int field, uint64_t v) {
    w_varint(w, (uint64_t)field << 3);
    w_varint(w, v);
}

/* A model x[1,2,3,4] -> OP -> y. */
static size_t make_model(uint8_t *out, const char *op) {
    pbw node = {0}, vi_x = {0}, vi_y = {0}, type = {0}, tt = {0}, shape = {0}, graph = {0},
        model = {0}, opset = {0};
    w_str(&node, 1, "x");
    w_str(&node, 2, "y");
    w_str(&node, 3, "n0");
    w_str(&node, 4, op);
    for (int d = 1; d <= 4; d++) {
        pbw dim = {0};
        w_int(&dim, 1, (uint64_t)d);
        w_bytes(&shape, 1, dim.b, dim.n);
    }
    w_int(&tt, 1, 1);
    w_bytes(&tt, 2, shape.b, shape.n);
    w_bytes(&type, 1, tt.b, tt.n);
    w_str(&vi_x, 1, "x");
    w_bytes(&vi_x, 2, type.b, type.n);
    w_str(&vi_y, 1, "y");
    w_bytes(&graph, 1, node.b, node.n);
    w_bytes(&graph, 11, vi_x.b, vi_x.n);
    w_bytes(&graph, 12, vi_y.b, vi_y.n);
    w_int(&opset, 2, 13);
    w_int(&model, 1, 8);
    w_bytes(&model, 8, opset.b, opset.n);
    w_bytes(&model, 7, graph.b, graph.n);
    memcpy(out, model.b, model.n);
    return model.n;
}

static void expect(int cond, const char *what) {
    if (!cond) {
        failures++;
        printf("FAIL %s (error: %s)\n", what, q_errmsg());
    }
}

static void test_handmade(void) {
    uint8_t buf[4096];
    nn_model *m = NULL;
    size_t n = make_model(buf, "Relu");
    expect(nn_model_load_mem(buf, n, NULL, &m) == Q_OK, "a one-Relu model loads");
    if (m) {
        float x[24], want_ok = 1;
        for (int i = 0; i < 24; i++)
            x[i] = (float)i - 12.f;
        nn_shape s = {4, {1, 2, 3, 4}}, ys;
        const float *y;
        expect(nn_model_run(m, x, &s, &y, &ys) == Q_OK, "the Relu model runs");
        for (int i = 0; i < 24 && y; i++)
            if (y[i] != (x[i] > 0 ? x[i] : 0)) want_ok = 0;
        expect(want_ok && ys.ndim == 4, "Relu computes max(x, 0)");
        nn_shape bad = {4, {1, 2, 3, 5}};
        expect(nn_model_run(m, x, &bad, &y, &ys) == Q_ERR_USAGE && strstr(q_errmsg(), "[1,2,3,4]"),
               "a wrong input shape names the expected shape");
        nn_model_free(m);
    }
    n = make_model(buf, "FancyOp");
    expect(nn_model_load_mem(buf, n, NULL, &m) == Q_ERR_UNSUPPORTED &&
               strstr(q_errmsg(), "FancyOp"),
           "an unsupported op is named in the load error");
    nn_options o = {.backend = NN_BACKEND_CUDA, .threads = 1};
    n = make_model(buf, "Relu");
    expect(nn_model_load_mem(buf, n, &o, &m) != Q_OK &&
               strstr(q_errmsg(), "CUDA backend not built/available"),
           "the CUDA backend reports that it is not available");
}

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

static int loaded, rejected, with_offset;

/* Loads one variant; when it loads, runs it once on a small input. */
static void try_variant(const uint8_t *b, size_t n, const char *what, size_t at) {
    nn_model *m = NULL;
    q_status st = nn_model_load_mem(b, n, NULL, &m);
    if (st) {
        rejected++;
        const char *msg = q_errmsg();
        if (!msg || !*msg || strchr(msg, '\n')) {
            failures++;
            printf("FAIL %s at %zu: error is not one line: '%s'\n", what, at, msg ? msg : "(null)");
        }
        with_offset += strstr(msg, "byte") != NULL;
        return;
    }
    loaded++;
    static float x[1 * 3 * 48 * 64];
    nn_shape s = {4, {1, 3, 48, 64}}, ys;
    const float *y;
    (void)nn_model_run(m, x, &s, &y, &ys); /* may fail; must not crash */
    nn_model_free(m);
}

int main(void) {
    tu_seed_init();
    test_handmade();
    const char *path = QUIRE_MODELS_DIR "/ch_ppocr_mobile_v2.0_cls_infer.onnx";
    size_t size;
    uint8_t *orig = read_file(path, &size);
    if (!orig) {
        printf("%s missing: skipping the corrupted-model part\n", path);
        return failures ? 1 : 77;
    }
    uint8_t *b = malloc(size);
    /* Truncations: the first 64 bytes one by one, then random cut points. */
    for (size_t cut = 0; cut < 64; cut++)
        try_variant(orig, cut, "truncated", cut);
    for (int i = 0; i < 200; i++) {
        size_t cut = (size_t)tu_rand() % size;
        try_variant(orig, cut, "truncated", cut);
    }
    int trunc_rejected = rejected;
    /* Bit flips: one, or a burst of 8 random bytes. */
    for (int i = 0; i < 300; i++) {
        memcpy(b, orig, size);
        size_t at = (size_t)tu_rand() % size;
        if (i % 3 == 0)
            for (int k = 0; k < 8 && at + (size_t)k < size; k++)
                b[at + (size_t)k] = (uint8_t)tu_rand();
        else
            b[at] ^= (uint8_t)(1u << (tu_rand() % 8));
        try_variant(b, size, "bit-flipped", at);
    }
    printf("%d variants loaded, %d rejected (%d naming a byte offset); %d of 264 truncations "
           "rejected\n",
           loaded, rejected, with_offset, trunc_rejected);
    if (trunc_rejected < 250) {
        failures++;
        printf("FAIL truncated models should nearly all be rejected\n");
    }
    if (with_offset == 0) {
        failures++;
        printf("FAIL no error named a byte offset\n");
    }
    free(b);
    free(orig);
    return failures ? 1 : 0;
}

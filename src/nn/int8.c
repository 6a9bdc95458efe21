/* int8 on the CPU, the model's side: which convs run in int8 and with what
 * activation scale, read from a scales table tied to the model's SHA-256
 * (models/int8/, built into quire; or a file given by the caller), and the
 * calibration hooks that make such a table (tools/int8_calibrate.py):
 * QUIRE_NN_CALIBRATE=FILE records each eligible conv's input range over the
 * runs and writes it when the model is freed; QUIRE_NN_SAVE_INPUTS=DIR saves
 * every input the model runs on as .npy (the recognizer's crops, say). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/int8_tables.h"
#include "nn/nn_private.h"

/* Convs the int8 kernel takes: 1x1, stride 1, no padding, one group, with
 * constant 4-D weights (the recognizer's pointwise convs). */
static int int8_eligible(const nn_model *m, const nn_node *n) {
    if (n->op != NN_OP_CONV || n->nin < 2 || n->in[1] < 0) return 0;
    const nn_value *w = &m->vals[n->in[1]];
    if (!w->cdata || w->ndim != 4 || w->dims[2] != 1 || w->dims[3] != 1) return 0;
    nn_geom g;
    if (nn_geom_get(m, n, w->dims, &g)) {
        q_errclear();
        return 0;
    }
    return g.group == 1 && g.sh == 1 && g.sw == 1 && !g.pt && !g.pl && !g.pb && !g.pr;
}

/* The conv whose output value is `name`, or -1. */
static int conv_by_output(const nn_model *m, const char *name) {
    int v = nn_graph_find(m, name);
    if (v < 0 || m->vals[v].producer < 0) return -1;
    return m->nodes[m->vals[v].producer].op == NN_OP_CONV ? m->vals[v].producer : -1;
}

/* Scale and zero point of the u8 range [lo, hi] (widened to hold 0, so that
 * zeros stay exact). */
static void range_to_q8(float lo, float hi, nn_q8 *q) {
    lo = lo < 0 ? lo : 0;
    hi = hi > 0 ? hi : 0;
    q->scale = hi > lo ? (hi - lo) / 255.f : 1.f;
    long zp = lrintf(-lo / q->scale);
    q->zp = (int)(zp < 0 ? 0 : zp > 255 ? 255 : zp);
}

/* Parses a table (text, `len` bytes) into m->q8. Format: '#' comments; a
 * line "sha256 HEX"; then one line per conv, "OUTPUT LO HI int8|fp32 ...". */
static q_status table_parse(nn_model *m, const char *text, size_t len, const char *where) {
    char line[512];
    int lineno = 0, have_hash = 0;
    size_t at = 0;
    while (at < len) {
        size_t e = at;
        while (e < len && text[e] != '\n')
            e++;
        size_t n = e - at < sizeof(line) - 1 ? e - at : sizeof(line) - 1;
        memcpy(line, text + at, n);
        line[n] = 0;
        at = e + 1;
        lineno++;
        char name[400], prec[16], hex[80];
        float lo, hi;
        if (!line[0] || line[0] == '#') continue;
        if (!have_hash) {
            if (sscanf(line, "sha256 %79s", hex) != 1 || strlen(hex) != 64)
                return Q_FAIL(Q_ERR_FORMAT, "int8 table %s:%d: expected 'sha256 HEX'", where,
                              lineno);
            if (strcmp(hex, m->sha256))
                return Q_FAIL(Q_ERR_USAGE,
                              "int8 table %s is for the model with sha256 %.16s..., not this one "
                              "(%.16s...): calibrate this model (tools/int8_calibrate.py)",
                              where, hex, m->sha256);
            have_hash = 1;
            continue;
        }
        if (sscanf(line, "%399s %f %f %15s", name, &lo, &hi, prec) != 4 ||
            (strcmp(prec, "int8") && strcmp(prec, "fp32")) || !(lo <= hi) || !isfinite(lo) ||
            !isfinite(hi))
            return Q_FAIL(Q_ERR_FORMAT, "int8 table %s:%d: expected 'OUTPUT LO HI int8|fp32'",
                          where, lineno);
        int ni = conv_by_output(m, name);
        if (ni < 0 || !int8_eligible(m, &m->nodes[ni]))
            return Q_FAIL(Q_ERR_FORMAT, "int8 table %s:%d: '%s' is not a 1x1 conv of this model",
                          where, lineno, name);
        m->q8[ni].lo = lo;
        m->q8[ni].hi = hi;
        m->q8[ni].on = !strcmp(prec, "int8");
        range_to_q8(lo, hi, &m->q8[ni]);
    }
    if (!have_hash) return Q_FAIL(Q_ERR_FORMAT, "int8 table %s names no model (sha256)", where);
    return Q_OK;
}

static q_status table_from_file(nn_model *m, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return Q_FAIL(Q_ERR_IO, "cannot open int8 table %s: %s", path, strerror(errno));
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!buf) return Q_FAIL(Q_ERR_NOMEM, "out of memory reading %s", path);
    q_status st =
        err ? Q_FAIL(Q_ERR_IO, "cannot read int8 table %s", path) : table_parse(m, buf, n, path);
    free(buf);
    return st;
}

/* The built-in table whose "sha256" line names this model, else NULL. */
static const nn_int8_table *table_builtin(const nn_model *m) {
    char key[80];
    snprintf(key, sizeof(key), "sha256 %s", m->sha256);
    for (size_t i = 0; i < nn_int8_ntables; i++) {
        const char *t = (const char *)nn_int8_tables[i].text;
        size_t len = nn_int8_tables[i].len, kl = strlen(key);
        for (size_t at = 0; at + kl <= len; at++)
            if ((at == 0 || t[at - 1] == '\n') && !memcmp(t + at, key, kl))
                return &nn_int8_tables[i];
    }
    return NULL;
}

q_status nn_int8_setup(nn_model *m, const void *data, size_t size) {
    int want = m->opt.precision == NN_PRECISION_INT8;
    const char *calib = getenv("QUIRE_NN_CALIBRATE");
    if (!want && !(calib && *calib)) return Q_OK;
    q_sha256 h;
    q_sha256_init(&h);
    q_sha256_update(&h, data, size);
    q_sha256_hex(&h, m->sha256);
    if (!(m->q8 = calloc((size_t)m->nnodes, sizeof(nn_q8))))
        return Q_FAIL(Q_ERR_NOMEM, "out of memory for int8 tables");
    if (calib && *calib) {
        if (!(m->calib_path = malloc(strlen(calib) + 1)))
            return Q_FAIL(Q_ERR_NOMEM, "out of memory");
        strcpy(m->calib_path, calib);
    }
    if (!want) return Q_OK;
    if (strcmp(m->be->iface->name, "cpu")) {
        q_log(Q_LOG_WARN, "nn: int8 runs on the CPU backend only; %s runs fp32",
              m->be->iface->name);
        return Q_OK;
    }
    if (m->opt.int8_table) return table_from_file(m, m->opt.int8_table);
    const nn_int8_table *t = table_builtin(m);
    if (!t)
        return Q_FAIL(Q_ERR_USAGE,
                      "no int8 scales for this model (sha256 %.16s...): calibrate it with "
                      "tools/int8_calibrate.py and give the table",
                      m->sha256);
    return table_parse(m, (const char *)t->text, t->len, t->name);
}

enum { QBINS = 4096 };

/* Adds the positive values of x to q's histogram, doubling its range (pairs
 * of bins merged) until it holds `hi`. */
static void hist_add(nn_q8 *q, const float *x, size_t n, float hi) {
    if (!q->hist) {
        if (!(q->hist = calloc(QBINS, sizeof(double)))) return;
        q->hmax = hi > 1e-6f ? hi * 1.0001f : 1e-6f;
    }
    while (hi >= q->hmax) {
        for (int b = 0; b < QBINS / 2; b++)
            q->hist[b] = q->hist[2 * b] + q->hist[2 * b + 1];
        memset(q->hist + QBINS / 2, 0, sizeof(double) * QBINS / 2);
        q->hmax *= 2;
    }
    float per = (float)QBINS / q->hmax;
    for (size_t i = 0; i < n; i++)
        if (x[i] > 0) {
            int b = (int)(x[i] * per);
            q->hist[b < QBINS ? b : QBINS - 1] += 1;
        }
}

void nn_int8_observe(nn_model *m, int ni, const float *x, size_t n) {
    nn_q8 *q = &m->q8[ni];
    if (!int8_eligible(m, &m->nodes[ni])) return;
    float lo = q->seen ? q->lo : INFINITY, hi = q->seen ? q->hi : -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    q->lo = lo;
    q->hi = hi;
    q->seen = 1;
    hist_add(q, x, n, hi);
}

/* The upper end of the range that holds `pct` percent of the positive
 * values (QUIRE_NN_CALIBRATE_PCT; 100 or unset: the maximum). Clipping the
 * rare large activations gives the many small ones finer steps. */
static float clipped_hi(const nn_q8 *q) {
    const char *e = getenv("QUIRE_NN_CALIBRATE_PCT");
    double pct = e ? atof(e) : 100;
    if (!q->hist || !(pct > 0 && pct < 100)) return q->hi;
    double total = 0, acc = 0;
    for (int b = 0; b < QBINS; b++)
        total += q->hist[b];
    for (int b = 0; b < QBINS; b++) {
        acc += q->hist[b];
        if (acc >= total * pct / 100) {
            float h = (float)(b + 1) * q->hmax / QBINS;
            return h < q->hi ? h : q->hi;
        }
    }
    return q->hi;
}

void nn_int8_calib_write(const nn_model *m) {
    FILE *f = fopen(m->calib_path, "w");
    if (!f) {
        q_log(Q_LOG_WARN, "nn: cannot write %s: %s", m->calib_path, strerror(errno));
        return;
    }
    fprintf(f, "# input ranges of the 1x1 convs (QUIRE_NN_CALIBRATE)\nsha256 %s\n", m->sha256);
    for (int i = 0; i < m->nnodes; i++)
        if (m->q8[i].seen)
            fprintf(f, "%s %.9g %.9g int8\n", m->vals[m->nodes[i].out].name, m->q8[i].lo,
                    clipped_hi(&m->q8[i]));
    if (fclose(f)) q_log(Q_LOG_WARN, "nn: cannot write %s", m->calib_path);
}

void nn_int8_save_input(nn_model *m, const float *x, const nn_shape *shape) {
    const char *dir = getenv("QUIRE_NN_SAVE_INPUTS");
    if (!dir || !*dir) return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s-%ld-%ld.npy", dir, m->name ? m->name : "model",
             (long)getpid(), m->nsaved++);
    if (nn_npy_write(path, x, shape)) {
        q_log(Q_LOG_WARN, "nn: %s", q_errmsg());
        q_errclear();
    }
}

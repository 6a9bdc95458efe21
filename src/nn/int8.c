/* int8 on the CPU, the model's side: which layers (1x1 convs, MatMuls with
 * a constant B) run in int8 and with what activation scale, read from a
 * scales table tied to the model's SHA-256 (models/int8/, built into quire;
 * or a file given by the caller), and the calibration hooks that make such a
 * table (scripts/int8_calibrate.py):
 * QUIRE_NN_CALIBRATE=FILE records each eligible layer's input range over the
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

/* A MatMul whose B is one constant 2-D matrix at least 1,024 columns wide
 * (a wide linear layer: the recognizer's 6,625-class classifier) runs in
 * int8 through kc_qmatmul. Narrower ones lose to fp32: quantizing A's rows
 * on every call costs what the int8 products save (320 rows x 120: 2x
 * faster at 6,625 columns, 1.6x at 1,024, 1.3x at 360, 0.5x at 120). */
static int matmul_eligible(const nn_model *m, const nn_node *n) {
    if (n->op != NN_OP_MATMUL || n->nin < 2 || n->in[1] < 0) return 0;
    const nn_value *b = &m->vals[n->in[1]];
    return b->cdata && b->ndim == 2 && b->dims[1] >= 1024;
}

/* Nodes the int8 kernels take: convs 1x1, stride 1, no padding, one group,
 * with constant 4-D weights (the recognizer's pointwise convs), and
 * matmul_eligible's MatMuls. */
static int int8_eligible(const nn_model *m, const nn_node *n) {
    if (matmul_eligible(m, n)) return 1;
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

/* The node whose output value is `name`, or -1. */
static int node_by_output(const nn_model *m, const char *name) {
    int v = nn_graph_find(m, name);
    return v < 0 ? -1 : m->vals[v].producer;
}

/* SmoothQuant's migration strength: s[c] = sqrt(range of input channel c /
 * range of weight column c) (alpha 0.5; QUIRE_NN_SMOOTH_ALPHA for
 * experiments) evens the channels out between activations and weights. With
 * per-column activation scales it made the recognizer's text worse
 * (bench/RESULTS.md): only tables that carry channel ranges turn it on. */
static q_status smooth_factors(nn_model *m, int ni) {
    nn_q8 *q = &m->q8[ni];
    const nn_value *w = &m->vals[m->nodes[ni].in[1]];
    const float *wd = w->cdata;
    int64_t co = w->dims[0], ci = w->dims[1];
    const char *e = getenv("QUIRE_NN_SMOOTH_ALPHA");
    float alpha = e ? (float)atof(e) : 0.5f;
    if (!(q->smooth = malloc(sizeof(float) * (size_t)ci)))
        return Q_FAIL(Q_ERR_NOMEM, "out of memory for int8 tables");
    for (int64_t c = 0; c < ci; c++) {
        float am = fmaxf(fabsf(q->clo[c]), fabsf(q->chi[c])), wm = 0;
        for (int64_t o = 0; o < co; o++)
            wm = fmaxf(wm, fabsf(wd[o * ci + c]));
        float sm = am > 0 && wm > 0 ? powf(am, alpha) / powf(wm, 1 - alpha) : 1.f;
        sm = sm < 1e-3f ? 1e-3f : sm > 1e3f ? 1e3f : sm;
        q->smooth[c] = sm;
    }
    return Q_OK;
}

/* One layer's line: "OUTPUT LO HI int8|int8x2|fp32 [C LO0 HI0 ... LO(C-1)
 * HI(C-1)]" (the input's range over the calibration pages, then optionally
 * each input channel's, which turns on smoothing: convs only). int8x2 keeps
 * a conv's weights in two int8 planes (about 15 bits, twice the work;
 * kc_qweights; a MatMul takes it as int8). The int8 kernels quantize each
 * column of a conv's input, each row of a MatMul's A, with its own range as
 * they run (kc_int8.h), so LO and HI only document what calibration saw. */
static q_status table_line(nn_model *m, char *line, const char *where, int lineno) {
    char name[400], prec[16];
    float lo, hi;
    int used = 0;
    if (sscanf(line, "%399s %f %f %15s%n", name, &lo, &hi, prec, &used) != 4 ||
        (strcmp(prec, "int8") && strcmp(prec, "int8x2") && strcmp(prec, "fp32")) || !(lo <= hi) ||
        !isfinite(lo) || !isfinite(hi))
        return Q_FAIL(Q_ERR_FORMAT, "int8 table %s:%d: expected 'OUTPUT LO HI int8|int8x2|fp32'",
                      where, lineno);
    int ni = node_by_output(m, name);
    if (ni < 0 || !int8_eligible(m, &m->nodes[ni]))
        return Q_FAIL(Q_ERR_FORMAT,
                      "int8 table %s:%d: '%s' is not a 1x1 conv or a constant-weight MatMul of "
                      "this model",
                      where, lineno, name);
    nn_q8 *q = &m->q8[ni];
    q->lo = lo;
    q->hi = hi;
    q->on = !strcmp(prec, "int8") ? 1 : !strcmp(prec, "int8x2") ? 2 : 0;
    char *p = line + used, *end;
    long nch = strtol(p, &end, 10);
    if (end == p) return Q_OK; /* no per-channel ranges */
    if (m->nodes[ni].op != NN_OP_CONV)
        return Q_FAIL(Q_ERR_FORMAT,
                      "int8 table %s:%d: channel ranges (smoothing) are for convs only", where,
                      lineno);
    int64_t cin = m->vals[m->nodes[ni].in[1]].dims[1];
    if (nch != cin)
        return Q_FAIL(Q_ERR_FORMAT, "int8 table %s:%d: %ld channel ranges for a %lld-channel input",
                      where, lineno, nch, (long long)cin);
    free(q->clo);
    if (!(q->clo = malloc(sizeof(float) * 2 * (size_t)nch)))
        return Q_FAIL(Q_ERR_NOMEM, "out of memory for int8 tables");
    q->chi = q->clo + nch;
    q->nch = (int)nch;
    for (long c = 0; c < 2 * nch; c++) {
        p = end;
        float v = strtof(p, &end);
        if (end == p || !isfinite(v))
            return Q_FAIL(Q_ERR_FORMAT, "int8 table %s:%d: channel range %ld is missing or bad",
                          where, lineno, c / 2);
        (c % 2 ? q->chi : q->clo)[c / 2] = v;
    }
    return q->on ? smooth_factors(m, ni) : Q_OK;
}

/* Parses a table (text, `len` bytes) into m->q8. Format: '#' comments; a
 * line "sha256 HEX"; then one line per conv (table_line). */
static q_status table_parse(nn_model *m, const char *text, size_t len, const char *where) {
    int lineno = 0, have_hash = 0;
    size_t at = 0;
    q_status st = Q_OK;
    while (at < len && !st) {
        size_t e = at;
        while (e < len && text[e] != '\n')
            e++;
        char *line = malloc(e - at + 1);
        if (!line) return Q_FAIL(Q_ERR_NOMEM, "out of memory reading %s", where);
        memcpy(line, text + at, e - at);
        line[e - at] = 0;
        at = e + 1;
        lineno++;
        char hex[80];
        if (!line[0] || line[0] == '#') {
        } else if (have_hash) {
            st = table_line(m, line, where, lineno);
        } else if (sscanf(line, "sha256 %79s", hex) != 1 || strlen(hex) != 64) {
            st = Q_FAIL(Q_ERR_FORMAT, "int8 table %s:%d: expected 'sha256 HEX'", where, lineno);
        } else if (strcmp(hex, m->sha256)) {
            st = Q_FAIL(Q_ERR_USAGE,
                        "int8 table %s is for the model with sha256 %.16s..., not this one "
                        "(%.16s...): calibrate this model (scripts/int8_calibrate.py)",
                        where, hex, m->sha256);
        } else {
            have_hash = 1;
        }
        free(line);
    }
    if (!st && !have_hash)
        st = Q_FAIL(Q_ERR_FORMAT, "int8 table %s names no model (sha256)", where);
    return st;
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
        /* said loudly only when the caller chose that backend: OCR asks for
         * int8 by default, and a GPU rank (backend auto) runs fp32 */
        q_log(m->opt.backend == NN_BACKEND_AUTO ? Q_LOG_DEBUG : Q_LOG_WARN,
              "nn: int8 runs on the CPU backend only; %s runs fp32", m->be->iface->name);
        return Q_OK;
    }
    if (m->opt.int8_table) return table_from_file(m, m->opt.int8_table);
    const nn_int8_table *t = table_builtin(m);
    if (!t)
        return Q_FAIL(Q_ERR_USAGE,
                      "no int8 scales for this model (sha256 %.16s...): calibrate it with "
                      "scripts/int8_calibrate.py and give the table",
                      m->sha256);
    return table_parse(m, (const char *)t->text, t->len, t->name);
}

void nn_int8_observe(nn_model *m, int ni, const float *x, int nd, const int64_t *dims) {
    nn_q8 *q = &m->q8[ni];
    if (!int8_eligible(m, &m->nodes[ni])) return;
    /* channels: NCHW's C for a conv; the last axis (K) of a MatMul's A, whose
     * rows then count as batches of one value per channel */
    int mm = m->nodes[ni].op == NN_OP_MATMUL;
    int64_t nb = dims[0], nc = dims[1], hw = mm ? 1 : dims[2] * dims[3];
    if (mm) {
        nc = dims[nd - 1];
        nb = 1;
        for (int d = 0; d < nd - 1; d++)
            nb *= dims[d];
    }
    if (!q->clo) {
        if (!(q->clo = malloc(sizeof(float) * 2 * (size_t)nc))) return; /* calibration only */
        q->chi = q->clo + nc;
        q->nch = (int)nc;
        for (int64_t c = 0; c < nc; c++) {
            q->clo[c] = INFINITY;
            q->chi[c] = -INFINITY;
        }
    }
    for (int64_t b = 0; b < nb; b++)
        for (int64_t c = 0; c < nc; c++) {
            /* a MatMul's channel c of row b is at b * nc + c, stride 1 per row */
            const float *xc = x + (b * nc + c) * hw;
            float lo = q->clo[c], hi = q->chi[c];
            for (int64_t i = 0; i < hw; i++) {
                lo = xc[i] < lo ? xc[i] : lo;
                hi = xc[i] > hi ? xc[i] : hi;
            }
            q->clo[c] = lo;
            q->chi[c] = hi;
        }
    q->lo = INFINITY;
    q->hi = -INFINITY;
    for (int64_t c = 0; c < nc; c++) {
        q->lo = fminf(q->lo, q->clo[c]);
        q->hi = fmaxf(q->hi, q->chi[c]);
    }
    q->seen = 1;
}

void nn_int8_free(nn_model *m) {
    for (int i = 0; m->q8 && i < m->nnodes; i++) {
        free(m->q8[i].clo);
        free(m->q8[i].smooth);
    }
    free(m->q8);
    m->q8 = NULL;
}

void nn_int8_calib_write(const nn_model *m) {
    FILE *f = fopen(m->calib_path, "w");
    if (!f) {
        q_log(Q_LOG_WARN, "nn: cannot write %s: %s", m->calib_path, strerror(errno));
        return;
    }
    fprintf(f, "# input ranges of the 1x1 convs (QUIRE_NN_CALIBRATE)\nsha256 %s\n", m->sha256);
    for (int i = 0; i < m->nnodes; i++)
        if (m->q8[i].seen) {
            const nn_q8 *q = &m->q8[i];
            fprintf(f, "%s %.9g %.9g int8 %d", m->vals[m->nodes[i].out].name, q->lo, q->hi, q->nch);
            for (int c = 0; c < q->nch; c++)
                fprintf(f, " %.6g %.6g", q->clo[c], q->chi[c]);
            fputc('\n', f);
        }
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

/* The OCR engine: the three models and the dictionary, loaded once per
 * worker thread. Every file is checked against the SHA-256 built into quire
 * before it is used: a model that is not the one quire was tested with gives
 * wrong text silently, which is worse than refusing to start. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"
#include "ocr_model_sums.h"

enum { MODEL_DET, MODEL_CLS, MODEL_REC, MODEL_DICT, MODEL_COUNT };
static const char *const model_files[MODEL_COUNT] = {
    "ch_PP-OCRv4_det_infer.onnx",
    "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "ch_PP-OCRv4_rec_infer.onnx",
    "ppocr_keys_v1.txt",
};

void ocr_options_default(ocr_options *o) {
    memset(o, 0, sizeof *o);
    o->backend = NN_BACKEND_CPU;
    o->threads = 1;
    o->det_side = OCR_DET_SIDE;
    o->rec_batch = OCR_REC_BATCH;
    o->rec_cols = OCR_REC_COLS;
    o->drop_score = 0.5f;
    /* the beam with English word lists read degraded pages better than
     * greedy decoding (bench/RESULTS.md, bench/ocr/bench_beam.sh) */
    o->decode = OCR_DECODE_BEAM;
    /* every 1x1 conv and the classifier of the recognizer in int8 read
     * held-out pages within 0.1 point of fp32's CER and bag-of-words,
     * faster (bench/RESULTS.md); on CPUs with AVX2 or VNNI only, and
     * backends other than the CPU run fp32 */
    o->precision = nn_int8_preferred() ? NN_PRECISION_INT8 : NN_PRECISION_FP32;
}

static const char *sum_of(const char *file) {
    for (size_t i = 0; i < Q_ARRAY_LEN(ocr_model_sums); i++)
        if (!strcmp(ocr_model_sums[i].file, file)) return ocr_model_sums[i].sha256;
    return NULL;
}

/* The path of model file `k` in the models folder, checked. */
static q_status model_path(const ocr_options *o, int k, char *path, size_t cap) {
    const char *file = model_files[k], *want = sum_of(file);
    if (!want) return Q_FAIL(Q_ERR_INTERNAL, "models/SHA256SUMS does not list %s", file);
    if (q_path_join(path, cap, o->models_dir, file)) return q_errcode();
    FILE *f = fopen(path, "rb");
    if (!f)
        return Q_FAIL(Q_ERR_IO,
                      "model file %s: %s; run models/fetch.sh, or point --models (or "
                      "QUIRE_MODELS) at the folder that holds it",
                      path, strerror(errno));
    fclose(f);
    if (o->skip_checksums) return Q_OK;
    char hex[65];
    if (q_sha256_file(path, hex)) return q_fail_context("model file %s", path);
    if (strcmp(hex, want))
        return Q_FAIL(Q_ERR_FORMAT,
                      "model file %s has SHA-256 %.12s..., not the %.12s... this quire was "
                      "built for: the file is damaged or a different model; run "
                      "models/fetch.sh again",
                      path, hex, want);
    return Q_OK;
}

q_status ocr_models_check(const char *models_dir) {
    ocr_options o;
    ocr_options_default(&o);
    o.models_dir = models_dir;
    char path[4096];
    for (int k = 0; k < MODEL_COUNT; k++) {
        q_status st = model_path(&o, k, path, sizeof path);
        if (st) return st;
    }
    return Q_OK;
}

static q_status read_all(const char *path, char **data, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return Q_FAIL(Q_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    q_buf b = {0};
    char chunk[65536];
    size_t k;
    q_status st = Q_OK;
    while (!st && (k = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = q_buf_append(&b, chunk, k);
    if (!st && ferror(f)) st = Q_FAIL(Q_ERR_IO, "cannot read %s", path);
    fclose(f);
    if (st) {
        q_buf_free(&b);
        return st;
    }
    *data = b.data;
    *n = b.len;
    return Q_OK;
}

/* The dictionary is Chinese and English: its fullwidth forms of ASCII
 * (U+FF01..U+FF5E: "，", "：", "（" ...) come out of Latin lines too, where a
 * search for "steady," would miss "steady，". They are read as their ASCII
 * characters (what Unicode's compatibility normalisation NFKC makes of them).
 * Returns that character, or 0 when `s` is not one fullwidth form. */
static char fullwidth_ascii(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    if (len != 3 || u[0] != 0xEF || (u[1] & 0xFE) != 0xBC || (u[2] & 0xC0) != 0x80) return 0;
    unsigned cp = 0xF000u | (unsigned)(u[1] & 0x3F) << 6 | (u[2] & 0x3F);
    return cp >= 0xFF01 && cp <= 0xFF5E ? (char)(cp - 0xFEE0) : 0;
}

q_status ocr_dict_parse(const char *bytes, size_t n, ocr_dict *d) {
    memset(d, 0, sizeof *d);
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += bytes[i] == '\n';
    if (n && bytes[n - 1] != '\n') lines++;
    if (!lines) return Q_FAIL(Q_ERR_FORMAT, "the dictionary is empty");
    d->off = malloc(lines * sizeof *d->off);
    if (!d->off) return Q_FAIL(Q_ERR_NOMEM, "out of memory for the dictionary");
    q_status st = Q_OK;
    size_t s = 0;
    while (!st && s < n) {
        const char *nl = memchr(bytes + s, '\n', n - s);
        size_t e = nl ? (size_t)(nl - bytes) : n;
        size_t len = e - s;
        if (len && bytes[s + len - 1] == '\r') len--;
        if (!q_utf8_valid(bytes + s, len)) {
            st = Q_FAIL(Q_ERR_FORMAT, "dictionary line %u is not valid UTF-8", d->n + 1);
            break;
        }
        d->off[d->n++] = (uint32_t)d->chars.len;
        char ascii = fullwidth_ascii(bytes + s, len);
        st = ascii ? q_buf_append(&d->chars, &ascii, 1) : q_buf_append(&d->chars, bytes + s, len);
        if (!st) st = q_buf_append(&d->chars, "", 1);
        s = e + 1;
    }
    if (st) ocr_dict_free(d);
    return st;
}

void ocr_dict_free(ocr_dict *d) {
    if (!d) return;
    q_buf_free(&d->chars);
    free(d->off);
    memset(d, 0, sizeof *d);
}

static q_status load_model(const ocr_engine *e, int k, nn_model **out) {
    char path[4096];
    q_status st = model_path(&e->o, k, path, sizeof path);
    if (st) return st;
    nn_options no = {.backend = e->o.backend,
                     .threads = e->o.threads,
                     .precision = k == MODEL_REC ? e->o.precision : NN_PRECISION_FP32};
    st = nn_model_load(path, &no, out);
    if (st) return q_fail_context("%s", path);
    return Q_OK;
}

const char *ocr_engine_backend(const ocr_engine *e) {
    return !e ? "none" : e->remote.send ? "remote" : nn_model_backend(e->det);
}

q_status ocr_engine_new(const ocr_options *o, ocr_engine **out) {
    *out = NULL;
    if (!o || !o->models_dir) return Q_FAIL(Q_ERR_USAGE, "no models folder given");
    ocr_engine *e = calloc(1, sizeof *e);
    if (!e) return Q_FAIL(Q_ERR_NOMEM, "out of memory");
    e->o = *o;
    if (e->o.det_side <= 0) e->o.det_side = OCR_DET_SIDE;
    if (e->o.rec_batch <= 0) e->o.rec_batch = OCR_REC_BATCH;
    if (e->o.drop_score <= 0) e->o.drop_score = 0.5f;
    if (e->o.threads <= 0) e->o.threads = 1;
    q_status st = Q_OK;
    if (o->remote) {
        e->remote = *o->remote;
        e->o.remote = NULL;
        if (!e->remote.send || !e->remote.recv || e->remote.depth < 1 ||
            e->remote.depth > OCR_NET_DEPTH_MAX)
            st = Q_FAIL(Q_ERR_USAGE, "a remote needs send, recv and a depth of 1 to %d",
                        OCR_NET_DEPTH_MAX);
    } else {
        st = load_model(e, MODEL_DET, &e->det);
        if (!st) st = load_model(e, MODEL_CLS, &e->cls);
        if (!st) st = load_model(e, MODEL_REC, &e->rec);
    }
    if (!st) {
        char path[4096], *data = NULL;
        size_t n = 0;
        st = model_path(&e->o, MODEL_DICT, path, sizeof path);
        if (!st) st = read_all(path, &data, &n);
        if (!st) st = ocr_dict_parse(data, n, &e->dict);
        if (st) q_fail_context("%s", path);
        free(data);
    }
    if (!st && e->o.decode == OCR_DECODE_BEAM) {
        char cache[4096];
        ocr_lexicon_cache_dir(e->o.models_dir, cache, sizeof cache);
        st = ocr_lexicon_new(e->o.lang, e->o.words, cache, &e->lex);
    }
    if (st) {
        ocr_engine_free(e);
        return st;
    }
    *out = e;
    return Q_OK;
}

void ocr_engine_free(ocr_engine *e) {
    if (!e) return;
    const char *stats = getenv("QUIRE_DECODE_STATS"); /* bench/ocr/bench_beam.sh */
    if (stats && *stats == '1' && e->t_rec > 0)
        q_log_always("decode stats: %s decoding %.3f s of %.3f s recognition (%.2f %%)",
                     e->o.decode == OCR_DECODE_BEAM ? "beam" : "greedy", e->t_decode, e->t_rec,
                     100 * e->t_decode / e->t_rec);
    if (stats && *stats == '1' && e->pages > 0) /* bench/ocr/bench_split.sh */
        q_log_always("stage stats: %.0f pages; det %.3f s (networks %.3f s), cls %.3f s (networks "
                     "%.3f s), rec %.3f s (networks %.3f s, decoding %.3f s)",
                     e->pages, e->t_stage[OCR_NET_DET], e->t_nn_net[OCR_NET_DET],
                     e->t_stage[OCR_NET_CLS], e->t_nn_net[OCR_NET_CLS], e->t_stage[OCR_NET_REC],
                     e->t_nn_net[OCR_NET_REC], e->t_decode);
    if (stats && *stats == '1' && e->remote.send) /* bench/ocr/bench_split.sh */
        q_log_always("remote stats: %llu requests, %.0f bytes out, %.0f bytes in, %.3f s waiting "
                     "for replies",
                     (unsigned long long)e->ticket, e->bytes_out, e->bytes_in, e->t_wait);
    nn_model_free(e->det);
    nn_model_free(e->cls);
    nn_model_free(e->rec);
    ocr_dict_free(&e->dict);
    ocr_lexicon_free(e->lex);
    for (int i = 0; i < OCR_NET_DEPTH_MAX; i++)
        q_buf_free(&e->stash[i]);
    q_buf_free(&e->cur);
    q_buf_free(&e->sendbuf);
    free(e->dense);
    free(e->tensor);
    free(e);
}

q_status ocr_tensor_reserve(ocr_engine *e, size_t n) {
    if (n <= e->tensor_cap) return Q_OK;
    float *t = realloc(e->tensor, n * sizeof *t);
    if (!t) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a %zu-float tensor", n);
    e->tensor = t;
    e->tensor_cap = n;
    return Q_OK;
}

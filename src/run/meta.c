/* The JSON that results.h5 carries about how it was made: the options in
 * force and the model files (names and SHA-256). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "run/meta.h"

const char *const run_model_files[RUN_MODEL_FILES] = {
    "ch_PP-OCRv4_det_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "ch_PP-OCRv4_rec_infer.onnx", "ppocr_keys_v1.txt"};

const char *run_models_dir(const char *given, char *buf, size_t cap) {
    if (given) return given;
    const char *env = getenv("QUIRE_MODELS");
    if (env && *env) return env;
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, cap, "%s/quire/models", xdg);
    else
        snprintf(buf, cap, "%s/.cache/quire/models", home ? home : ".");
    return buf;
}

q_status run_models_json(const char *dir, q_buf *out) {
    q_status st = q_buf_puts(out, "{\"dir\": ");
    if (!st) st = q_buf_json_str(out, dir);
    if (!st) st = q_buf_puts(out, ", \"files\": {");
    int first = 1;
    for (size_t i = 0; i < RUN_MODEL_FILES && !st; i++) {
        char path[4096], hex[65];
        if (q_path_join(path, sizeof path, dir, run_model_files[i]) || access(path, R_OK) != 0)
            continue;
        if (q_sha256_file(path, hex) != Q_OK) continue;
        st = q_buf_puts(out, first ? "" : ", ");
        first = 0;
        if (!st) st = q_buf_json_str(out, run_model_files[i]);
        if (!st) st = q_buf_printf(out, ": \"%s\"", hex);
    }
    return st ? st : q_buf_puts(out, "}}");
}

q_status run_config_json(const run_options *o, int ranks, uint64_t documents, q_buf *out) {
    q_status st = q_buf_puts(out, "{\"out\": ");
    if (!st) st = q_buf_json_str(out, o->out_dir);
    if (!st && o->manifest) {
        st = q_buf_puts(out, ", \"manifest\": ");
        if (!st) st = q_buf_json_str(out, o->manifest);
    }
    if (!st) {
        char gpus[16];
        if (o->gpus < 0)
            snprintf(gpus, sizeof gpus, "\"auto\"");
        else
            snprintf(gpus, sizeof gpus, "%d", o->gpus);
        st = q_buf_printf(out,
                          ", \"dpi\": %d, \"gpus\": %s, \"timeout\": %g, \"batch\": %d, "
                          "\"force\": %s, \"no_retry\": %s, \"retry_failed\": %s, "
                          "\"redo_ocr\": %s, \"shard_docs\": %d, "
                          "\"shard_seconds\": %g, \"ranks\": %d, \"documents\": %llu, "
                          "\"max_pixels\": %.0f, \"threads\": %d, \"det_side\": %d, "
                          "\"cls\": %s, \"rotate_pages\": %s, \"rec_batch\": %d, "
                          "\"rec_cols\": %d, \"det_fast_score\": %s, \"drop_score\": %g",
                          o->dpi, gpus, o->timeout, o->batch, o->force ? "true" : "false",
                          o->no_retry ? "true" : "false", o->retry_failed ? "true" : "false",
                          o->redo_ocr ? "true" : "false", o->shard_docs, o->shard_seconds, ranks,
                          (unsigned long long)documents, o->max_pixels, o->ocr.threads,
                          o->ocr.det_side, o->ocr.no_cls ? "false" : "true",
                          o->ocr.no_rotate_pages ? "false" : "true", o->ocr.rec_batch,
                          o->ocr.rec_cols, o->ocr.det_fast_score ? "true" : "false",
                          o->ocr.drop_score);
    }
    /* the decoder and its word lists change the text as much as the models do */
    if (!st)
        st = q_buf_printf(out, ", \"decode\": \"%s\", \"beam\": %d, \"lang\": ",
                          o->ocr.decode == OCR_DECODE_BEAM ? "beam" : "greedy",
                          o->ocr.beam_width > 0 ? o->ocr.beam_width : OCR_BEAM_WIDTH);
    if (!st) st = q_buf_json_str(out, o->ocr.lang ? o->ocr.lang : "en");
    if (!st) st = q_buf_puts(out, ", \"words\": ");
    if (!st) st = o->ocr.words ? q_buf_json_str(out, o->ocr.words) : q_buf_puts(out, "null");
    /* int8 reads a few characters differently from fp32 (bench/RESULTS.md) */
    if (!st)
        st = q_buf_printf(out, ", \"precision\": \"%s\"}",
                          o->ocr.precision == NN_PRECISION_INT8 ? "int8" : "fp32");
    return st;
}

/* The OCR options that `quire ocr`, `quire text` and `quire run` share, parsed
 * in one place so they mean the same everywhere. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

void cli_ocr_defaults(ocr_options *o, doc_options *d) {
    ocr_options_default(o);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cores > 0 ? (int)cores : 1;
    memset(d, 0, sizeof *d);
    d->dpi = 300;
    d->max_pixels = DOC_MAX_PIXELS_DEFAULT;
}

int cli_ocr_opt(int c, const char *arg, ocr_options *o, doc_options *d, const char **why) {
    long v;
    char *end;
    switch (c) {
    case CLI_OPT_MODELS:
        o->models_dir = arg;
        return 0;
    case CLI_OPT_THREADS:
        if (cli_parse_long(arg, 1, 256, &v)) return *why = "--threads takes 1 to 256", -1;
        o->threads = (int)v;
        return 0;
    case CLI_OPT_DET_SIDE:
        if (cli_parse_long(arg, 32, 8192, &v)) return *why = "--det-side takes 32 to 8192", -1;
        o->det_side = (int)v;
        return 0;
    case CLI_OPT_NO_CLS:
        o->no_cls = 1;
        return 0;
    case CLI_OPT_CLS_WHOLE:
        o->cls_whole = 1;
        return 0;
    case CLI_OPT_ROTATE_PAGES:
        o->no_rotate_pages = 0;
        return 0;
    case CLI_OPT_NO_ROTATE_PAGES:
        o->no_rotate_pages = 1;
        return 0;
    case CLI_OPT_REC_BATCH:
        if (cli_parse_long(arg, 1, 256, &v)) return *why = "--rec-batch takes 1 to 256", -1;
        o->rec_batch = (int)v;
        return 0;
    case CLI_OPT_REC_COLS:
        if (cli_parse_long(arg, 0, 1000000, &v)) return *why = "--rec-cols takes 0 to 1000000", -1;
        o->rec_cols = (int)v;
        return 0;
    case CLI_OPT_DET_FAST_SCORE:
        o->det_fast_score = 1;
        return 0;
    case CLI_OPT_DROP_SCORE: {
        double s = strtod(arg, &end);
        if (!*arg || *end || !(s > 0 && s < 1))
            return *why = "--drop-score takes a number in (0, 1)", -1;
        o->drop_score = (float)s;
        return 0;
    }
    case CLI_OPT_DECODE:
        if (strcmp(arg, "greedy") && strcmp(arg, "beam"))
            return *why = "--decode takes greedy or beam", -1;
        o->decode = strcmp(arg, "beam") ? OCR_DECODE_GREEDY : OCR_DECODE_BEAM;
        return 0;
    case CLI_OPT_BEAM:
        if (cli_parse_long(arg, 1, OCR_BEAM_WIDTH_MAX, &v))
            return *why = "--beam takes 1 to 128 (prefixes kept per step)", -1;
        o->beam_width = (int)v;
        return 0;
    case CLI_OPT_LANG:
        if ((*why = ocr_lang_check(arg))) return -1;
        o->lang = arg;
        return 0;
    case CLI_OPT_WORDS:
        if (!*arg || access(arg, R_OK)) return *why = "--words takes a readable word list file", -1;
        o->words = arg;
        return 0;
    case CLI_OPT_PRECISION:
        if (strcmp(arg, "fp32") && strcmp(arg, "int8"))
            return *why = "--precision takes fp32 or int8", -1;
        o->precision = strcmp(arg, "int8") ? NN_PRECISION_FP32 : NN_PRECISION_INT8;
        return 0;
    case CLI_OPT_DPI:
        if (cli_parse_long(arg, 36, 2400, &v)) return *why = "--dpi takes 36 to 2400", -1;
        d->dpi = (int)v;
        return 0;
    case CLI_OPT_MAX_PIXELS: {
        double p = strtod(arg, &end);
        if (*end == 'M' || *end == 'm') p *= 1e6, end++;
        if (!*arg || *end || !(p >= 1e4 && p <= 1e10))
            return *why = "--max-pixels takes 10000 to 1e10 (or e.g. 150M)", -1;
        d->max_pixels = p;
        return 0;
    }
    default:
        return 1;
    }
}

const char cli_ocr_help[] =
    "OCR options:\n"
    "      --models DIR       model folder (default $QUIRE_MODELS or ~/.cache/quire/models;\n"
    "                         fetched by models/fetch.sh; SHA-256 checked at load)\n"
    "      --threads N        CPU threads for the networks (default: all cores)\n"
    "      --det-side N       detection scale: the page's longer side at most N px\n"
    "                         (default 960, PaddleOCR's)\n"
    "      --det-fast-score   score boxes only by the mean under their rectangle, as\n"
    "                         PaddleOCR does (default: a tilted line that fails it is\n"
    "                         scored again on its outline)\n"
    "      --no-cls           do not turn lines the classifier calls upside down (it\n"
    "                         still votes on the page's way up)\n"
    "      --cls-whole        classify orientation on the whole line squeezed to 192x48,\n"
    "                         as PaddleOCR does (default: up to 3 windows of the line)\n"
    "      --rotate-pages     read pages scanned sideways or upside down turned upright\n"
    "                         (the default; /pages rotation says by how much)\n"
    "      --no-rotate-pages  read every page as it is\n"
    "      --rec-batch N      text lines per recognition batch at most (default 8)\n"
    "      --rec-cols N       on the CPU, columns (48 px each) per recognition batch at\n"
    "                         most (default 1280, which stay in the caches; 0: no limit,\n"
    "                         batches of --rec-batch lines as PaddleOCR's)\n"
    "      --drop-score X     drop lines whose confidence is below X (default 0.5)\n"
    "      --decode greedy|beam  CTC decoding: a beam search that prefers words of the\n"
    "                         word lists (the default), or greedy (PaddleOCR's)\n"
    "      --beam N           prefixes the beam keeps per step (default 10)\n"
    "      --lang L[,L...]    the beam's word lists: en, fr, de, es, it (default en;\n"
    "                         Debian's wamerican+wbritish, wfrench, wngerman, ...)\n"
    "      --words FILE       a word list of your own for the beam (UTF-8, a word a line)\n"
    "      --precision P      int8 or fp32: the recognizer's 1x1 convolutions and its\n"
    "                         classifier in int8\n"
    "                         on the CPU (GPUs run fp32; models/int8/; README: The\n"
    "                         inference engine); default int8 on CPUs with AVX2, else\n"
    "                         fp32\n"
    "      --dpi N            render resolution for PDF pages that are not one image\n"
    "                         (default 300)\n"
    "      --max-pixels N     a page image above N pixels is a page error (default 100M)\n";

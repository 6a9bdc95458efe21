/* libFuzzer target for OCR post-processing on what a model or a damaged page
 * can hand it. The first byte picks the stage:
 *   0  DB post-processing (ocr_db_boxes) of a probability map of any size,
 *      values from a table rich in NaN, infinities and huge values (or raw
 *      floats), default or hostile parameters; every box must be finite, on
 *      the page, convex and clockwise, and must crop;
 *   1  crops (ocr_crop, then the line tensor) of arbitrary boxes on an image,
 *      and PaddleOCR's box sort over them;
 *   2  CTC decoding of arbitrary class probabilities, then the text fixes
 *      (case by height, numbers, words) on what it decoded.
 * Values the input runs out of are zero. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "ocr/ocr_private.h"

typedef struct {
    const uint8_t *d;
    size_t n, pos;
} reader;

static uint8_t u8(reader *r) {
    return r->pos < r->n ? r->d[r->pos++] : 0;
}

static uint32_t u16(reader *r) {
    uint32_t hi = u8(r);
    return hi << 8 | u8(r);
}

static float raw_float(reader *r) {
    uint8_t b[4] = {u8(r), u8(r), u8(r), u8(r)};
    float f;
    memcpy(&f, b, sizeof f);
    return f;
}

/* One byte as a probability: mostly in [0, 1], the rest the values that have
 * broken post-processing before (issue 15) or might. */
static float table_float(reader *r) {
    static const float special[] = {NAN,   INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 1e-45f,
                                    -0.0f, 0.5f,     0.3f,      0.6f,    2.0f,     -1.0f,
                                    1e30f, -1e30f,   4.5e9f,    1.0f};
    uint8_t v = u8(r);
    return v < 240 ? v / 239.0f : special[v - 240];
}

/* The box must be what ocr_db_boxes promises. */
static void check_box(const ocr_box *b, int pw, int ph) {
    for (int k = 0; k < 4; k++) {
        float x = b->pt[k][0], y = b->pt[k][1];
        FUZZ_CHECK(x >= 0 && x <= pw - 1 && y >= 0 && y <= ph - 1,
                   "corner %d (%g, %g) off the %dx%d page", k, x, y, pw, ph);
        const float *a = b->pt[(k + 3) & 3], *c = b->pt[(k + 1) & 3];
        double turn =
            ((double)x - a[0]) * ((double)c[1] - y) - ((double)y - a[1]) * ((double)c[0] - x);
        FUZZ_CHECK(turn > 0, "box not convex and clockwise at corner %d", k);
    }
    FUZZ_CHECK(isfinite(b->score), "score %g", b->score);
}

/* A gray or RGB image with a pattern (content does not matter to the crop's
 * geometry, only that every pixel is readable); w * h is kept small. */
static int image_new(q_image *im, int w, int h, int channels) {
    if (q_image_alloc(im, w, h, channels, 0) != Q_OK) return -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w * channels; x++)
            im->px[(size_t)y * im->stride + x] = (uint8_t)(x * 7 + y * 3);
    return 0;
}

/* Cuts a box and sends the crop on as recognition would; `must` when the box
 * came from ocr_db_boxes (every such box can be cut). */
static void cut(const q_image *img, const ocr_box *b, int must) {
    q_image out;
    q_status st = ocr_crop(img, b, &out);
    if (st) {
        FUZZ_CHECK(!must, "a detected box was refused: %s", q_errmsg());
        FUZZ_CHECK(out.px == NULL, "a refused crop left pixels behind");
        return;
    }
    double diag = hypot(img->w, img->h) + 1;
    FUZZ_CHECK(out.w >= 1 && out.h >= 1 && out.w <= diag && out.h <= diag,
               "crop %dx%d of a %dx%d image", out.w, out.h, img->w, img->h);
    enum { H = 48, CAP = 320 };
    static float t[3 * H * CAP];
    st = ocr_line_tensor(&out, H, CAP, CAP, t);
    FUZZ_CHECK(st == Q_OK || st == Q_ERR_NOMEM, "line tensor: %s", q_errmsg());
    ocr_rotate180(&out);
    fuzz_keep(out.px[0] + (t[0] > 0)); /* a float to unsigned would be UB below 0 */
    q_image_free(&out);
}

static void db_stage(reader *r) {
    int mw = 1 + u8(r), mh = 1 + u8(r);
    int pw = (int)u16(r), ph = (int)u16(r);
    uint8_t flags = u8(r);
    ocr_db_params p;
    ocr_db_params_default(&p);
    if (flags & 2) {
        p.thresh = table_float(r);
        p.box_thresh = table_float(r);
        p.unclip_ratio = flags & 4 ? raw_float(r) : table_float(r) * 4;
        p.max_candidates = (int)u16(r) - 100;
        p.min_size = (int)u8(r) - 10;
    }
    float *map = malloc((size_t)mw * mh * sizeof *map);
    if (!map) return;
    for (size_t i = 0; i < (size_t)mw * mh; i++)
        map[i] = flags & 1 ? raw_float(r) : table_float(r);
    ocr_box *boxes = NULL;
    size_t n = 0;
    q_status st = ocr_db_boxes(map, mw, mh, pw, ph, &p, &boxes, &n);
    FUZZ_CHECK(st == Q_OK || st == Q_ERR_NOMEM || (st == Q_ERR_USAGE && (!pw || !ph)),
               "ocr_db_boxes: %s", q_errmsg());
    FUZZ_CHECK(n == 0 || boxes, "%zu boxes, no array", n);
    for (size_t i = 0; i < n; i++)
        check_box(&boxes[i], pw, ph);
    q_image img;
    if (n && (double)pw * ph <= 1 << 20 && image_new(&img, pw, ph, 1) == 0) {
        for (size_t i = 0; i < n; i++)
            cut(&img, &boxes[i], 1);
        q_image_free(&img);
    }
    free(boxes);
    free(map);
}

static void crop_stage(reader *r) {
    int w = 1 + (int)(u16(r) % 1024), h = 1 + (int)(u16(r) % 1024);
    int channels = u8(r) & 1 ? 3 : 1;
    ocr_box boxes[64];
    size_t n = 0;
    while (n < 64 && r->pos < r->n) {
        uint8_t enc = u8(r);
        ocr_box *b = &boxes[n++];
        for (int k = 0; k < 8; k++) /* raw floats, or pixels in quarters from -64 */
            b->pt[k / 2][k % 2] = enc & (1u << k) ? raw_float(r) : (float)u16(r) / 4 - 64;
        b->score = table_float(r);
    }
    q_image img;
    if (image_new(&img, w, h, channels)) return;
    for (size_t i = 0; i < n; i++)
        cut(&img, &boxes[i], 0);
    q_image_free(&img);
    ocr_boxes_sort(boxes, n);
}

/* A dictionary with the characters the text fixes look at: digits, letters
 * the case and number fixes turn, the separators, a middle dot, and
 * multi-byte characters. */
static const char dict_text[] = "0\n1\n2\n5\n9\na\nb\nc\nd\ne\nh\nl\no\ns\nt\nx\nC\nI\nO\nS\nT\n"
                                ".\n,\n:\n/\n-\n\xc2\xb7\n\xc3\xa9\n\xe4\xb8\xad\n";
static ocr_dict dict;

static void ctc_stage(reader *r) {
    int steps = 1 + u8(r);
    /* mostly the model's class count (dictionary, blank and space), at times not */
    uint8_t c = u8(r);
    int classes = c < 200 ? (int)dict.n + 2 : 1 + c % 64;
    int cw = 1 + (int)(u16(r) % 1200), ch = 1 + u8(r) % 96;
    double cols_per_step = 0.25 + u8(r) / 16.0;
    float *probs = malloc((size_t)steps * classes * sizeof *probs);
    ocr_ctc_char *chars = malloc((size_t)steps * sizeof *chars);
    q_image crop = {0};
    q_buf text = {0};
    if (!probs || !chars || q_image_alloc(&crop, cw, ch, u8(r) & 1 ? 3 : 1, 0)) goto done;
    for (size_t i = 0; i < (size_t)steps * classes; i++)
        probs[i] = table_float(r);
    for (int y = 0; y < ch; y++) /* ink from the input, then paper */
        for (int x = 0; x < cw * crop.channels; x++)
            crop.px[(size_t)y * crop.stride + x] = r->pos < r->n ? u8(r) : 255;
    float conf = 0;
    size_t nc = 0;
    q_status st = ocr_ctc_decode(&dict, probs, steps, classes, &conf, &text, chars, &nc);
    if (st) {
        FUZZ_CHECK(st == Q_ERR_FORMAT || st == Q_ERR_NOMEM, "ctc: %s", q_errmsg());
        goto done;
    }
    FUZZ_CHECK(nc <= (size_t)steps, "%zu characters from %d steps", nc, steps);
    for (size_t i = 0; i < nc; i++)
        FUZZ_CHECK(chars[i].byte < text.len && chars[i].t0 >= 0 && chars[i].t0 <= chars[i].t1 &&
                       chars[i].t1 < steps,
                   "character %zu: byte %zu, steps %d..%d", i, chars[i].byte, chars[i].t0,
                   chars[i].t1);
    if (!text.len) goto done;
    ocr_fix_case(&crop, cols_per_step, chars, nc, text.data, text.len);
    ocr_fix_numbers(text.data, text.len);
    size_t len = ocr_fix_words(text.data, text.len);
    FUZZ_CHECK(len <= text.len, "fix_words grew the line from %zu to %zu", text.len, len);
done:
    q_buf_free(&text);
    q_image_free(&crop);
    free(chars);
    free(probs);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    q_log_init(-1, Q_LOG_ERROR);
    if (ocr_dict_parse(dict_text, sizeof dict_text - 1, &dict) != Q_OK) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size, 0};
    switch (u8(&r) % 3) {
    case 0:
        db_stage(&r);
        break;
    case 1:
        crop_stage(&r);
        break;
    default:
        ctc_stage(&r);
    }
    return 0;
}

/* Golden tests of the recognizer's decoding: the dictionary parser and CTC
 * greedy decoding on hand-made probability rows, where the right answer is
 * known exactly (PaddleOCR's CTCLabelDecode worked by hand). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ocr/ocr_private.h"

static int failures;
#define CHECK(c, ...)                                                                              \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

enum { C = 6 }; /* blank, a, b, é, 中, space */

/* One time step: probability `p` on class `c`, the rest spread evenly. */
static void step(float *row, int c, float p) {
    for (int k = 0; k < C; k++)
        row[k] = (1 - p) / (C - 1);
    row[c] = p;
}

static void decode(const ocr_dict *d, const int *cls, const float *p, int n, const char *want,
                   float want_conf) {
    float probs[64 * C];
    for (int t = 0; t < n; t++)
        step(probs + t * C, cls[t], p[t]);
    q_buf text = {0};
    float conf = -1;
    q_status st = ocr_ctc_decode(d, probs, n, C, &conf, &text, NULL, NULL);
    CHECK(!st, "decode failed: %s", q_errmsg());
    const char *got = text.data ? text.data : "";
    CHECK(!strcmp(got, want), "text '%s', want '%s'", got, want);
    CHECK(fabsf(conf - want_conf) < 1e-6f, "conf %.7f, want %.7f (text '%s')", conf, want_conf,
          want);
    q_buf_free(&text);
}

static void test_dict(void) {
    ocr_dict d;
    const char src[] = "a\nb\r\n\xc3\xa9\n\xe4\xb8\xad"; /* no final newline */
    CHECK(!ocr_dict_parse(src, sizeof src - 1, &d), "parse: %s", q_errmsg());
    CHECK(d.n == 4, "%u characters, want 4", d.n);
    if (d.n == 4) {
        CHECK(!strcmp(d.chars.data + d.off[1], "b"), "CR not stripped");
        CHECK(!strcmp(d.chars.data + d.off[3], "\xe4\xb8\xad"), "last line lost");
    }
    ocr_dict_free(&d);
    const char bad[] = "a\n\xff\xfe\n";
    CHECK(ocr_dict_parse(bad, sizeof bad - 1, &d) == Q_ERR_FORMAT, "invalid UTF-8 accepted");
    CHECK(strstr(q_errmsg(), "line 2"), "error does not name the line: %s", q_errmsg());
    CHECK(ocr_dict_parse("", 0, &d) == Q_ERR_FORMAT, "empty dictionary accepted");
    /* fullwidth ASCII forms read as ASCII: U+FF0C comma, U+FF5E tilde, U+FF01 !;
     * U+FF5F (outside the range) and U+3002 (ideographic full stop) stay */
    const char wide[] = "\xef\xbc\x8c\n\xef\xbd\x9e\n\xef\xbc\x81\n\xef\xbd\x9f\n\xe3\x80\x82\n";
    CHECK(!ocr_dict_parse(wide, sizeof wide - 1, &d), "parse: %s", q_errmsg());
    if (d.n == 5) {
        CHECK(!strcmp(d.chars.data + d.off[0], ","), "U+FF0C not read as ','");
        CHECK(!strcmp(d.chars.data + d.off[1], "~"), "U+FF5E not read as '~'");
        CHECK(!strcmp(d.chars.data + d.off[2], "!"), "U+FF01 not read as '!'");
        CHECK(!strcmp(d.chars.data + d.off[3], "\xef\xbd\x9f"), "U+FF5F changed");
        CHECK(!strcmp(d.chars.data + d.off[4], "\xe3\x80\x82"), "U+3002 changed");
    } else {
        CHECK(0, "%u characters, want 5", d.n);
    }
    ocr_dict_free(&d);
}

int main(void) {
    test_dict();
    ocr_dict d;
    const char src[] = "a\nb\n\xc3\xa9\n\xe4\xb8\xad\n";
    if (ocr_dict_parse(src, sizeof src - 1, &d)) {
        fprintf(stderr, "dictionary: %s\n", q_errmsg());
        return 1;
    }
    /* repeats merge; a blank between equal classes keeps both */
    decode(&d, (int[]){1, 1, 0, 1, 2, 2}, (float[]){.9f, .8f, .99f, .7f, .6f, .5f}, 6, "aab",
           (.9f + .7f + .6f) / 3);
    /* blanks only: empty line, confidence 0 */
    decode(&d, (int[]){0, 0, 0}, (float[]){.9f, .9f, .9f}, 3, "", 0);
    /* the class after the dictionary is a space; multi-byte characters intact */
    decode(&d, (int[]){3, 0, 5, 4, 4}, (float[]){.8f, .9f, .6f, .7f, .95f}, 5,
           "\xc3\xa9 \xe4\xb8\xad", (.8f + .6f + .7f) / 3);
    /* a single step */
    decode(&d, (int[]){2}, (float[]){.55f}, 1, "b", .55f);

    /* a model whose class count does not match the dictionary is refused */
    float row[7] = {1, 0, 0, 0, 0, 0, 0};
    q_buf text = {0};
    float conf;
    CHECK(ocr_ctc_decode(&d, row, 1, 7, &conf, &text, NULL, NULL) == Q_ERR_FORMAT,
          "class count mismatch accepted");
    CHECK(strstr(q_errmsg(), "dictionary"), "error does not say why: %s", q_errmsg());
    q_buf_free(&text);
    ocr_dict_free(&d);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        puts("ocr_ctc: all checks passed");
    return failures ? 1 : 0;
}

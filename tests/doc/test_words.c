/* Words from glyph gaps (src/doc/extract.c) on a hand-made PDF set the ways
 * typesetters kern and space text, and the one trimming of line text in
 * lay_line_add. Helvetica 10 pt: a space is 0.278 em, TJ units are 1/1000 em. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

/* One text object per line, 30 pt apart so that each is its own line. */
static const char kerned[] =
    /* kerning inside words, by TJ offsets and Td */
    "BT /F1 10 Tf 72 740 Td [(Cop)20(yr)-30(ight)] TJ ET\n"
    /* groff through Ghostscript: a space char whose negative word spacing
     * leaves 0.015 em; real spaces with Tw 0 */
    "BT /F1 10 Tf 72 710 Td (the copy) Tj -2.63 Tw (r ight) Tj 0 Tw ( holder) Tj ET\n"
    /* words placed by TJ offsets alone, no space characters: 0.3, 0.12 em */
    "BT /F1 10 Tf 72 680 Td [(distribute)-300(the)-120(work)] TJ ET\n"
    /* a word space made of character spacing (Tc) after the last letter */
    "BT /F1 10 Tf 72 650 Td (cop) Tj 3.5 Tc (y) Tj 0 Tc (and paste) Tj ET\n"
    /* letter tracking of 0.05 em stays inside words */
    "BT /F1 10 Tf 72 620 Td 0.5 Tc (tracked text) Tj 0 Tc ET\n"
    /* runs of spaces, and spaces at both ends of the text */
    "BT /F1 10 Tf 72 590 Td (  padded   both ends  ) Tj ET\n"
    /* TeX's accent: a glyph of its own, centred over the letter drawn next */
    "BT /F1 10 Tf 72 560 Td [(Bezi\\264)444(er curve)] TJ ET\n";

static int find_line(lay_doc *d, const char *text) {
    for (size_t i = 0; i < lay_doc_nlines(d); i++)
        if (strcmp(t_line_text(d, i), text) == 0) return (int)i;
    return -1;
}

static void expect_line(lay_doc *d, const char *text) {
    CHECK(find_line(d, text) >= 0, "no line '%s'", text);
}

static void test_kerned_pdf(doc_reader *r, const char *path) {
    lay_doc d;
    t_process(r, path, &d, NULL);
    expect_line(&d, "Copyright");
    expect_line(&d, "the copyright holder");
    expect_line(&d, "distribute the work");
    expect_line(&d, "copy and paste");
    expect_line(&d, "tracked text");
    expect_line(&d, "Bezi\xC3\xA9r curve");
    int i = find_line(&d, "padded both ends");
    CHECK(i >= 0, "runs of spaces are one space, none at the ends");
    if (i >= 0) {
        /* The box starts at the first glyph, two spaces (5.56 pt) right of 72. */
        float x0 = lay_doc_line(&d, (size_t)i)->bbox[0];
        CHECK(fabsf(x0 - 77.56f) < 0.5f, "padded line box starts at %.2f", x0);
    }
    for (size_t k = 0; k < lay_doc_nlines(&d); k++) {
        const char *t = t_line_text(&d, k);
        size_t n = strlen(t);
        CHECK(n > 0 && t[0] != ' ' && t[n - 1] != ' ', "line %zu '%s' has edge spaces", k, t);
    }
    lay_doc_free(&d);
}

static void test_line_add_trims(void) {
    lay_doc d;
    lay_doc_init(&d, 0, "synthetic");
    lay_page_begin(&d, 0, 612, 792, 0);
    float bb[4] = {10, 20, 200, 32};
    const char *in[] = {" ocr line", "text \t", "\xC2\xA0no-break\xE3\x80\x80", "   "};
    const char *want[] = {"ocr line", "text", "no-break", ""};
    for (int k = 0; k < 4; k++)
        lay_line_add(&d, bb, 0.9f, 10, in[k], strlen(in[k]));
    CHECK(lay_doc_nlines(&d) == 4, "every call adds one line, even a blank one");
    for (size_t k = 0; k < 4 && k < lay_doc_nlines(&d); k++) {
        lay_line *l = lay_doc_line(&d, k);
        CHECK(strcmp(t_line_text(&d, k), want[k]) == 0, "got '%s', want '%s'", t_line_text(&d, k),
              want[k]);
        CHECK(memcmp(l->bbox, bb, sizeof bb) == 0, "line %zu box changed by trimming", k);
    }
    lay_doc_free(&d);
}

int main(void) {
    const char *path = t_path(t_tmp(), "kerned.pdf");
    const char *pages[1] = {kerned};
    if (t_pdf_simple(path, 1, pages, NULL) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    doc_reader *r;
    if (doc_reader_new(&r) != Q_OK) return 1;
    test_kerned_pdf(r, path);
    doc_reader_free(r);
    test_line_add_trims();
    return t_finish("doc_words");
}

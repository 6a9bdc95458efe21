/* alto.c: --format alto. ALTO 4.4 (valid against alto-4-4.xsd): one Page per
 * page, a TextBlock per block, a TextLine per line, a String per word with
 * SP between words. MeasurementUnit is mm10 (tenths of a millimetre), which
 * needs no resolution: results.h5 keeps points (1/72 in = 3.5278 mm10), and
 * a scan's pixels are not recorded. Word boxes are shares of the line's box
 * (words.c); WC is the line's confidence. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export_int.h"

#define ALTO_MM10 (254.0 / 72.0) /* mm10 per point */

static double alto_v(float pt) {
    return isfinite(pt) ? pt * ALTO_MM10 : 0.0;
}

/* HPOS VPOS WIDTH HEIGHT of a box in points. */
static q_status alto_box(q_buf *b, const float *bb) {
    double x0 = alto_v(bb[0]), y0 = alto_v(bb[1]), x1 = alto_v(bb[2]), y1 = alto_v(bb[3]);
    return q_buf_printf(b, " HPOS=\"%.1f\" VPOS=\"%.1f\" WIDTH=\"%.1f\" HEIGHT=\"%.1f\"", x0, y0,
                        x1 > x0 ? x1 - x0 : 0.0, y1 > y0 ? y1 - y0 : 0.0);
}

static q_status alto_head(const lay_doc *d, q_buf *b) {
    q_status st = q_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                "<alto xmlns=\"http://www.loc.gov/standards/alto/ns-v4#\" "
                                "xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
                                "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                                "xsi:schemaLocation=\"http://www.loc.gov/standards/alto/ns-v4# "
                                "http://www.loc.gov/alto/v4/alto-4-4.xsd\">\n"
                                "  <Description>\n"
                                "    <MeasurementUnit>mm10</MeasurementUnit>\n"
                                "    <sourceImageInformation>\n      <fileName>");
    if (!st) st = export_xml(b, d->path, strlen(d->path));
    if (!st)
        st = q_buf_printf(b,
                          "</fileName>\n    </sourceImageInformation>\n"
                          "    <Processing ID=\"quire\">\n"
                          "      <processingCategory>contentGeneration</processingCategory>\n"
                          "      <processingSoftware>\n"
                          "        <softwareName>quire</softwareName>\n"
                          "        <softwareVersion>%s</softwareVersion>\n"
                          "      </processingSoftware>\n    </Processing>\n"
                          "  </Description>\n  <Layout>\n",
                          q_version);
    return st;
}

/* The union of the boxes of lines [i, j). */
static void alto_union(const lay_doc *d, size_t i, size_t j, float *bb) {
    for (size_t k = i; k < j; k++) {
        const float *l = Q_VEC_AT(&d->line_v, lay_line, k).bbox;
        if (k == i) {
            memcpy(bb, l, 4 * sizeof *bb);
            continue;
        }
        bb[0] = Q_MIN(bb[0], l[0]), bb[1] = Q_MIN(bb[1], l[1]);
        bb[2] = Q_MAX(bb[2], l[2]), bb[3] = Q_MAX(bb[3], l[3]);
    }
}

/* One TextLine; lines without words are left out (a TextLine needs a String). */
static q_status alto_line(const lay_doc *d, const lay_line *l, const char *id, q_vec *words,
                          q_buf *b) {
    q_status st = export_line_words(d, l, words);
    if (st || !words->len) return st;
    st = q_buf_printf(b, "          <TextLine ID=\"%s\"", id);
    if (!st) st = alto_box(b, l->bbox);
    if (!st) st = q_buf_puts(b, ">\n");
    const char *text = export_line_text(d, l);
    float wc = isfinite(l->conf) ? Q_MAX(0.0f, Q_MIN(1.0f, l->conf)) : 0.0f;
    for (size_t w = 0; w < words->len && !st; w++) {
        const export_word *x = &Q_VEC_AT(words, export_word, w);
        if (w) {
            const export_word *p = x - 1;
            st = q_buf_printf(b, "            <SP WIDTH=\"%.1f\" HPOS=\"%.1f\" VPOS=\"%.1f\"/>\n",
                              Q_MAX(0.0, alto_v(x->bbox[0]) - alto_v(p->bbox[2])),
                              alto_v(p->bbox[2]), alto_v(p->bbox[1]));
        }
        if (!st) st = q_buf_printf(b, "            <String ID=\"%s_w%zu\"", id, w + 1);
        if (!st) st = alto_box(b, x->bbox);
        if (!st) st = q_buf_puts(b, " CONTENT=\"");
        if (!st) st = export_xml(b, text + x->start, x->len);
        if (!st) st = q_buf_printf(b, "\" WC=\"%.3f\"/>\n", (double)wc);
    }
    if (!st) st = q_buf_puts(b, "          </TextLine>\n");
    return st;
}

/* The TextBlock of lines [i, j) of page p, when one of them has words. */
static q_status alto_block(const lay_doc *d, size_t p, size_t i, size_t j, q_vec *words, q_buf *b) {
    int any = 0;
    for (size_t k = i; k < j && !any; k++) {
        const lay_line *l = &Q_VEC_AT(&d->line_v, lay_line, k);
        for (size_t c = 0; c < l->text_len && !any; c++)
            any = export_line_text(d, l)[c] != ' ';
    }
    if (!any) return Q_OK;
    float bb[4];
    alto_union(d, i, j, bb);
    const lay_line *first = &Q_VEC_AT(&d->line_v, lay_line, i);
    q_status st = q_buf_printf(b, "        <TextBlock ID=\"p%zu_b%u\"", p + 1, first->block + 1);
    if (!st) st = alto_box(b, bb);
    if (!st) st = q_buf_puts(b, ">\n");
    for (size_t k = i; k < j && !st; k++) {
        char id[64];
        snprintf(id, sizeof id, "p%zu_b%u_l%zu", p + 1, first->block + 1, k - i + 1);
        st = alto_line(d, &Q_VEC_AT(&d->line_v, lay_line, k), id, words, b);
    }
    if (!st) st = q_buf_puts(b, "        </TextBlock>\n");
    return st;
}

static q_status alto_page(const lay_doc *d, size_t p, q_vec *words, q_buf *b) {
    const lay_page *pg = &Q_VEC_AT(&d->page_v, lay_page, p);
    double w = alto_v(pg->width), h = alto_v(pg->height);
    q_status st = q_buf_printf(b,
                               "    <Page ID=\"p%zu\" PHYSICAL_IMG_NR=\"%zu\" WIDTH=\"%.1f\" "
                               "HEIGHT=\"%.1f\">\n      <PrintSpace HPOS=\"0\" VPOS=\"0\" "
                               "WIDTH=\"%.1f\" HEIGHT=\"%.1f\">\n",
                               p + 1, p + 1, w, h, w, h);
    size_t first, n;
    export_page_lines(d, p, &first, &n);
    for (size_t i = first; i < first + n && !st;) {
        size_t j = export_block_end(d, i, first + n);
        st = alto_block(d, p, i, j, words, b);
        i = j;
    }
    if (!st) st = q_buf_puts(b, "      </PrintSpace>\n    </Page>\n");
    return st;
}

q_status export_alto(const lay_doc *d, q_buf *out) {
    q_vec words;
    q_vec_init(&words, sizeof(export_word));
    q_status st = alto_head(d, out);
    for (size_t p = 0; p < d->page_v.len && !st; p++)
        st = alto_page(d, p, &words, out);
    if (!st) st = q_buf_puts(out, "  </Layout>\n</alto>\n");
    q_vec_free(&words);
    return st;
}

/* words.c: a page's lines, and the words of a line with their boxes. quire
 * keeps lines with boxes; hOCR and ALTO want words, so each word gets the
 * part of its line's box that its characters take when every character
 * (spaces included) is given the same width: close on printed text, exact at
 * both ends of the line. */
#include "export_int.h"

void export_page_lines(const lay_doc *d, size_t i, size_t *first, size_t *n) {
    const lay_page *p = &Q_VEC_AT(&d->page_v, lay_page, i);
    size_t nl = d->line_v.len;
    *first = p->first_line < nl ? (size_t)p->first_line : nl;
    *n = p->lines <= nl - *first ? p->lines : nl - *first;
}

size_t export_block_end(const lay_doc *d, size_t i, size_t end) {
    size_t j = i + 1;
    while (j < end &&
           Q_VEC_AT(&d->line_v, lay_line, j).block == Q_VEC_AT(&d->line_v, lay_line, i).block)
        j++;
    return j;
}

const char *export_line_text(const lay_doc *d, const lay_line *l) {
    return d->text.data ? d->text.data + l->text_start : "";
}

static int words_is_space(const unsigned char *s, size_t n, size_t i, size_t *len) {
    *len = 1;
    if (s[i] == ' ' || s[i] == '\t') return 1;
    if (i + 1 < n && s[i] == 0xC2 && s[i + 1] == 0xA0) return *len = 2, 1; /* U+00A0 */
    if (i + 2 < n && s[i] == 0xE3 && s[i + 1] == 0x80 && s[i + 2] == 0x80) return *len = 3, 1;
    while (i + *len < n && (s[i + *len] & 0xC0) == 0x80) /* one code point */
        (*len)++;
    return 0;
}

q_status export_line_words(const lay_doc *d, const lay_line *l, q_vec *out) {
    out->len = 0;
    const unsigned char *s = (const unsigned char *)export_line_text(d, l);
    size_t n = l->text_len, chars = 0, len;
    for (size_t i = 0; i < n; i += len, chars++)
        (void)words_is_space(s, n, i, &len);
    if (!chars) return Q_OK;
    float x0 = l->bbox[0], w = (l->bbox[2] - l->bbox[0]) / (float)chars;
    size_t c = 0, wc0 = 0;
    export_word cur = {0};
    int in_word = 0;
    for (size_t i = 0; i <= n; i += len, c++) {
        int space = i == n || words_is_space(s, n, i, &len);
        if (i == n) len = 1;
        if (!space && !in_word) {
            in_word = 1, cur.start = i, wc0 = c;
        } else if (space && in_word) {
            in_word = 0;
            cur.len = i - cur.start;
            cur.bbox[0] = x0 + w * (float)wc0;
            cur.bbox[2] = c == chars ? l->bbox[2] : x0 + w * (float)c;
            cur.bbox[1] = l->bbox[1], cur.bbox[3] = l->bbox[3];
            q_status st = q_vec_push(out, &cur);
            if (st) return st;
        }
    }
    return Q_OK;
}

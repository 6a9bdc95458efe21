/* The document record: building pages and lines, errors, plain text. */
#include "layout/layout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *rec_strdup(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

q_status lay_doc_init(lay_doc *d, uint64_t doc, const char *path) {
    memset(d, 0, sizeof *d);
    d->doc = doc;
    d->rank = -1;
    q_vec_init(&d->page_v, sizeof(lay_page));
    q_vec_init(&d->line_v, sizeof(lay_line));
    q_buf tmp = {0};
    q_status st = q_buf_append_utf8(&tmp, path, strlen(path));
    d->path = tmp.data ? tmp.data : rec_strdup("");
    d->error = rec_strdup("");
    d->warning = rec_strdup("");
    if (st || !d->path || !d->error || !d->warning) {
        lay_doc_free(d);
        return st ? st : Q_FAIL(Q_ERR_NOMEM, "out of memory for a document record");
    }
    return Q_OK;
}

void lay_doc_free(lay_doc *d) {
    if (!d) return;
    free(d->path);
    free(d->error);
    free(d->warning);
    q_vec_free(&d->page_v);
    q_vec_free(&d->line_v);
    q_buf_free(&d->text);
    memset(d, 0, sizeof *d);
}

/* Replaces *dst with one valid UTF-8 line of at most LAY_ERROR_MAX bytes. */
static q_status rec_set_line(char **dst, const char *fmt, va_list ap) {
    char raw[LAY_ERROR_MAX * 2];
    vsnprintf(raw, sizeof raw, fmt, ap);
    for (char *p = raw; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    q_buf clean = {0};
    q_status st = q_buf_append_utf8(&clean, raw, strlen(raw));
    if (st) return st;
    if (!clean.data && !(clean.data = calloc(1, 1)))
        return Q_FAIL(Q_ERR_NOMEM, "out of memory for a record's message");
    q_utf8_truncate(clean.data, LAY_ERROR_MAX);
    free(*dst);
    *dst = clean.data;
    return Q_OK;
}

q_status lay_doc_set_error(lay_doc *d, lay_doc_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    q_status st = rec_set_line(&d->error, fmt, ap);
    va_end(ap);
    if (st) return st;
    d->status = (uint8_t)status;
    /* the clock, not the document, ended it: a rerun (with more time, or on a
     * less loaded node) may well finish it */
    if (status == LAY_DOC_TIMEOUT) d->retry = 1;
    return Q_OK;
}

q_status lay_doc_warn(lay_doc *d, const char *fmt, ...) {
    q_status st = Q_OK;
    if (d->warnings++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        st = rec_set_line(&d->warning, fmt, ap);
        va_end(ap);
    }
    return st;
}

q_status lay_page_begin(lay_doc *d, uint32_t page, float width, float height, int16_t rotation) {
    lay_page p = {.page = page,
                  .kind = LAY_PAGE_EMPTY,
                  .rotation = rotation,
                  .width = width,
                  .height = height,
                  .first_line = d->line_v.len};
    return q_vec_push(&d->page_v, &p);
}

/* Bytes of the whitespace character that ends (at_end) or begins text[0..len),
 * 0 when there is none: ASCII spaces and controls, no-break space (U+00A0),
 * ideographic space (U+3000). */
static size_t edge_space(const char *text, size_t len, int at_end) {
    static const char nbsp[] = "\xC2\xA0", ideo[] = "\xE3\x80\x80";
    if (len == 0) return 0;
    unsigned char c = (unsigned char)text[at_end ? len - 1 : 0];
    if (c <= 0x20 || c == 0x7F) return 1;
    const char *seqs[2] = {nbsp, ideo};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(seqs[i]);
        if (len >= n && memcmp(at_end ? text + len - n : text, seqs[i], n) == 0) return n;
    }
    return 0;
}

q_status lay_line_add(lay_doc *d, const float bbox[4], float conf, float size, const char *text,
                      size_t len) {
    if (d->page_v.len == 0) return Q_FAIL(Q_ERR_INTERNAL, "line added before any page was begun");
    /* The one place lines are trimmed, for text-layer and OCR lines alike: a
     * search for a line's first word must not depend on a recognizer's stray
     * space. The box stays as given: callers measure it on the glyphs. */
    size_t n;
    while ((n = edge_space(text, len, 0)) > 0) {
        text += n;
        len -= n;
    }
    while ((n = edge_space(text, len, 1)) > 0)
        len -= n;
    lay_page *p = lay_doc_page(d, d->page_v.len - 1);
    size_t start = d->text.len;
    q_status st = q_buf_append_utf8(&d->text, text, len);
    if (st) return st;
    lay_line l = {.page = p->page,
                  .bbox = {bbox[0], bbox[1], bbox[2], bbox[3]},
                  .conf = conf,
                  .size = size,
                  .text_start = start,
                  .text_len = (uint32_t)(d->text.len - start)};
    st = q_vec_push(&d->line_v, &l);
    if (st) return st;
    p->lines++;
    return Q_OK;
}

q_status lay_page_end(lay_doc *d, lay_page_kind kind, float seconds, int order) {
    if (d->page_v.len == 0) return Q_FAIL(Q_ERR_INTERNAL, "page ended before it was begun");
    size_t i = d->page_v.len - 1;
    lay_page *p = lay_doc_page(d, i);
    p->kind = (uint8_t)kind;
    p->seconds = seconds;
    if (kind == LAY_PAGE_TEXT)
        d->text_pages++;
    else if (kind == LAY_PAGE_OCR)
        d->ocr_pages++;
    return order && p->lines ? lay_order_page(d, i) : Q_OK;
}

lay_page *lay_doc_page(lay_doc *d, size_t i) {
    return &Q_VEC_AT(&d->page_v, lay_page, i);
}
lay_line *lay_doc_line(lay_doc *d, size_t i) {
    return &Q_VEC_AT(&d->line_v, lay_line, i);
}
size_t lay_doc_npages(const lay_doc *d) {
    return d->page_v.len;
}
size_t lay_doc_nlines(const lay_doc *d) {
    return d->line_v.len;
}

q_status lay_doc_plain_text(const lay_doc *d, q_buf *out) {
    const lay_line *lines = d->line_v.data;
    q_status st = Q_OK;
    for (size_t i = 0; i < d->line_v.len && !st; i++) {
        const lay_line *l = &lines[i];
        if (i > 0) {
            const lay_line *prev = &lines[i - 1];
            int new_block = prev->page != l->page || prev->block != l->block;
            st = q_buf_puts(out, new_block ? "\n\n" : "\n");
        }
        if (!st) st = q_buf_append(out, d->text.data + l->text_start, l->text_len);
    }
    return st;
}

q_status lay_doc_fill_pages(lay_doc *d) {
    size_t have = d->page_v.len;
    if (have >= d->pages) return Q_OK;
    q_vec all;
    q_vec_init(&all, sizeof(lay_page));
    q_status st = Q_OK;
    size_t i = 0;
    for (uint32_t p = 0; !st && p < d->pages; p++) {
        for (; !st && i < have && lay_doc_page(d, i)->page <= p; i++)
            st = q_vec_push(&all, lay_doc_page(d, i));
        const lay_page *last = all.len ? &Q_VEC_AT(&all, lay_page, all.len - 1) : NULL;
        if (st || (last && last->page == p)) continue;
        lay_page f = {.page = p,
                      .kind = LAY_PAGE_FAILED,
                      .first_line = i < have ? lay_doc_page(d, i)->first_line : d->line_v.len};
        st = q_vec_push(&all, &f);
    }
    for (; !st && i < have; i++)
        st = q_vec_push(&all, lay_doc_page(d, i));
    if (st) {
        q_vec_free(&all);
        return st;
    }
    q_vec_free(&d->page_v);
    d->page_v = all;
    return Q_OK;
}

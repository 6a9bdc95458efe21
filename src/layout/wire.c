/* wire.c: a document record as a flat, versioned byte string (layout.h, "wire
 * image"), for the write-ahead record log and for a reader child process that
 * sends its record to its parent. Every byte is written with shifts, so the
 * image is little-endian whatever the host; the reader treats its input as
 * hostile: every count is checked against the bytes left before anything is
 * allocated, and every range and string before it is trusted. */
#include "layout/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    WIRE_HEAD = 4 + 8 + 8 + 4 + 1 + 4 + 4 + 4 + 4 + 1 + 4, /* version .. warnings */
    WIRE_PAGE = 4 + 1 + 2 + 4 + 4 + 4 + 8 + 4 + 4,         /* version 2: skew_deg last */
    WIRE_PAGE_V1 = WIRE_PAGE - 4,
    WIRE_LINE = 4 + 4 + 16 + 4 + 4 + 8 + 4,
};
/* A page or line is no bigger on the wire than in memory, so an image's size
 * cannot overflow size_t when its record fits in memory. */
_Static_assert(sizeof(lay_page) >= WIRE_PAGE && sizeof(lay_line) >= WIRE_LINE, "wire sizes");

/* ---- writing ------------------------------------------------------------- */

static unsigned char *put_u8(unsigned char *p, uint8_t v) {
    *p = v;
    return p + 1;
}
static unsigned char *put_u16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
    return p + 2;
}
static unsigned char *put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}
static unsigned char *put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 8;
}
static unsigned char *put_f32(unsigned char *p, float f) {
    uint32_t v;
    memcpy(&v, &f, sizeof v); /* the bit pattern: exact, NaN and -0 included */
    return put_u32(p, v);
}
static unsigned char *put_str(unsigned char *p, const char *s, size_t n) {
    p = put_u32(p, (uint32_t)n);
    if (n) memcpy(p, s, n);
    return p + n;
}

static unsigned char *put_page(unsigned char *p, const lay_page *pg) {
    p = put_u32(p, pg->page);
    p = put_u8(p, pg->kind);
    p = put_u16(p, (uint16_t)pg->rotation);
    p = put_f32(p, pg->width);
    p = put_f32(p, pg->height);
    p = put_u32(p, pg->lines);
    p = put_u64(p, pg->first_line);
    p = put_f32(p, pg->seconds);
    return put_f32(p, pg->skew_deg);
}

static unsigned char *put_line(unsigned char *p, const lay_line *ln) {
    p = put_u32(p, ln->page);
    p = put_u32(p, ln->block);
    for (int i = 0; i < 4; i++)
        p = put_f32(p, ln->bbox[i]);
    p = put_f32(p, ln->conf);
    p = put_f32(p, ln->size);
    p = put_u64(p, ln->text_start);
    return put_u32(p, ln->text_len);
}

static unsigned char *put_head(unsigned char *p, const lay_doc *d) {
    p = put_u32(p, LAY_WIRE_VERSION);
    p = put_u64(p, d->doc);
    p = put_u64(p, d->bytes);
    p = put_u32(p, d->pages);
    p = put_u8(p, d->status);
    p = put_u32(p, d->text_pages);
    p = put_u32(p, d->ocr_pages);
    p = put_f32(p, d->seconds);
    p = put_u32(p, (uint32_t)d->rank);
    p = put_u8(p, d->retry);
    return put_u32(p, d->warnings);
}

q_status lay_doc_pack(const lay_doc *d, q_buf *out) {
    const char *s[3] = {d->path ? d->path : "", d->error ? d->error : "",
                        d->warning ? d->warning : ""};
    size_t sl[3], np = d->page_v.len, nl = d->line_v.len, nt = d->text.len;
    size_t need = WIRE_HEAD + 3 * 4 + 3 * 8;
    for (int i = 0; i < 3; i++) {
        sl[i] = strlen(s[i]);
        if (sl[i] > UINT32_MAX) return Q_FAIL(Q_ERR_INTERNAL, "record string too long to pack");
        need += sl[i];
    }
    need += np * WIRE_PAGE + nl * WIRE_LINE + nt;
    q_status st = q_buf_reserve(out, need);
    if (st) return st;
    unsigned char *p = (unsigned char *)out->data + out->len;
    p = put_head(p, d);
    for (int i = 0; i < 3; i++)
        p = put_str(p, s[i], sl[i]);
    p = put_u64(p, np);
    p = put_u64(p, nl);
    p = put_u64(p, nt);
    for (size_t i = 0; i < np; i++)
        p = put_page(p, &Q_VEC_AT(&d->page_v, lay_page, i));
    for (size_t i = 0; i < nl; i++)
        p = put_line(p, &Q_VEC_AT(&d->line_v, lay_line, i));
    if (nt) memcpy(p, d->text.data, nt);
    out->len += need;
    out->data[out->len] = 0; /* q_buf's promise */
    return Q_OK;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct {
    const unsigned char *p;
    size_t left, len; /* bytes left, bytes in all */
    size_t page_size; /* of the image's version: WIRE_PAGE or WIRE_PAGE_V1 */
} wire_rd;

/* Every field read goes through here: never past the end. */
static const unsigned char *rd_take(wire_rd *r, size_t n) {
    if (r->left < n) return NULL;
    const unsigned char *p = r->p;
    r->p += n, r->left -= n;
    return p;
}
static uint64_t rd_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
/* Fixed-width fields of a block already taken (rd_take) whole. */
static uint8_t get_u8(const unsigned char **p) {
    return *(*p)++;
}
static uint16_t get_u16(const unsigned char **p) {
    uint16_t v = (uint16_t)rd_le(*p, 2);
    *p += 2;
    return v;
}
static uint32_t get_u32(const unsigned char **p) {
    uint32_t v = (uint32_t)rd_le(*p, 4);
    *p += 4;
    return v;
}
static uint64_t get_u64(const unsigned char **p) {
    uint64_t v = rd_le(*p, 8);
    *p += 8;
    return v;
}
static float get_f32(const unsigned char **p) {
    uint32_t v = get_u32(p);
    float f;
    memcpy(&f, &v, sizeof f);
    return f;
}

static q_status wire_bad(const wire_rd *r, const char *what) {
    return Q_FAIL(Q_ERR_FORMAT, "bad record image (%zu bytes): %s at byte %zu", r->len, what,
                  r->len - r->left);
}

static q_status rd_head(wire_rd *r, lay_doc *d) {
    const unsigned char *p = rd_take(r, WIRE_HEAD);
    if (!p) return wire_bad(r, "truncated header");
    uint32_t version = get_u32(&p);
    /* Version 1 (pages without skew_deg) still reads: a record log left by
     * a killed run of the previous quire is recovered, not lost. */
    if (version != LAY_WIRE_VERSION && version != 1) return wire_bad(r, "unknown format version");
    r->page_size = version == 1 ? WIRE_PAGE_V1 : WIRE_PAGE;
    d->doc = get_u64(&p);
    d->bytes = get_u64(&p);
    d->pages = get_u32(&p);
    d->status = get_u8(&p);
    d->text_pages = get_u32(&p);
    d->ocr_pages = get_u32(&p);
    d->seconds = get_f32(&p);
    d->rank = (int32_t)get_u32(&p);
    d->retry = get_u8(&p);
    d->warnings = get_u32(&p);
    if (d->status > LAY_DOC_SKIPPED) return wire_bad(r, "document status out of range");
    if (d->retry > 1) return wire_bad(r, "retry flag neither 0 nor 1");
    return Q_OK;
}

/* A length-prefixed string: valid UTF-8 without NULs, copied NUL-terminated. */
static q_status rd_str(wire_rd *r, const char *what, char **out) {
    char why[64];
    const unsigned char *p = rd_take(r, 4);
    uint32_t n = p ? get_u32(&p) : 0;
    const char *s = p ? (const char *)rd_take(r, n) : NULL;
    if (!s) {
        snprintf(why, sizeof why, "%s beyond the data", what);
        return wire_bad(r, why);
    }
    if ((n && memchr(s, 0, n)) || !q_utf8_valid(s, n)) {
        snprintf(why, sizeof why, "%s holds a NUL or is not valid UTF-8", what);
        return wire_bad(r, why);
    }
    if (!(*out = malloc((size_t)n + 1)))
        return Q_FAIL(Q_ERR_NOMEM, "out of memory unpacking a record");
    if (n) memcpy(*out, s, n);
    (*out)[n] = 0;
    return Q_OK;
}

/* Pages: kinds in range, line ranges inside [0, nl) and in order. */
static q_status rd_pages(wire_rd *r, lay_doc *d, size_t np, uint64_t nl) {
    q_status st = q_vec_resize(&d->page_v, np);
    uint64_t end = 0;
    for (size_t i = 0; !st && i < np; i++) {
        const unsigned char *p = rd_take(r, r->page_size);
        if (!p) return wire_bad(r, "truncated pages"); /* rd_counts rules it out */
        lay_page *pg = &Q_VEC_AT(&d->page_v, lay_page, i);
        pg->page = get_u32(&p);
        pg->kind = get_u8(&p);
        pg->rotation = (int16_t)get_u16(&p);
        pg->width = get_f32(&p);
        pg->height = get_f32(&p);
        pg->lines = get_u32(&p);
        pg->first_line = get_u64(&p);
        pg->seconds = get_f32(&p);
        pg->skew_deg = r->page_size == WIRE_PAGE ? get_f32(&p) : 0.0f;
        if (pg->kind > LAY_PAGE_FAILED) return wire_bad(r, "page kind out of range");
        if (pg->first_line < end || pg->first_line > nl || pg->lines > nl - pg->first_line)
            return wire_bad(r, "page line range out of bounds or out of order");
        end = pg->first_line + pg->lines;
    }
    return st;
}

/* Lines: text ranges inside the text, in order, each valid UTF-8. */
static q_status rd_lines(wire_rd *r, lay_doc *d, size_t nl, const unsigned char *text,
                         uint64_t nt) {
    q_status st = q_vec_resize(&d->line_v, nl);
    uint64_t end = 0;
    for (size_t i = 0; !st && i < nl; i++) {
        const unsigned char *p = rd_take(r, WIRE_LINE);
        if (!p) return wire_bad(r, "truncated lines");
        lay_line *ln = &Q_VEC_AT(&d->line_v, lay_line, i);
        ln->page = get_u32(&p);
        ln->block = get_u32(&p);
        for (int k = 0; k < 4; k++)
            ln->bbox[k] = get_f32(&p);
        ln->conf = get_f32(&p);
        ln->size = get_f32(&p);
        ln->text_start = get_u64(&p);
        ln->text_len = get_u32(&p);
        if (ln->text_start < end || ln->text_start > nt || ln->text_len > nt - ln->text_start)
            return wire_bad(r, "line text range out of bounds or out of order");
        if (!q_utf8_valid((const char *)text + ln->text_start, ln->text_len))
            return wire_bad(r, "line text not valid UTF-8");
        end = ln->text_start + ln->text_len;
    }
    return st;
}

/* The three counts, checked to describe exactly the bytes left. */
static q_status rd_counts(wire_rd *r, size_t *np, size_t *nl, size_t *nt) {
    const unsigned char *p = rd_take(r, 24);
    if (!p) return wire_bad(r, "truncated counts");
    uint64_t a = get_u64(&p), b = get_u64(&p), c = get_u64(&p);
    if (a > r->left / r->page_size) return wire_bad(r, "page count beyond the data");
    size_t left = r->left - (size_t)a * r->page_size;
    if (b > left / WIRE_LINE) return wire_bad(r, "line count beyond the data");
    left -= (size_t)b * WIRE_LINE;
    if (c > left) return wire_bad(r, "text length beyond the data");
    if (c < left) return wire_bad(r, "trailing bytes after the record");
    *np = (size_t)a, *nl = (size_t)b, *nt = (size_t)c;
    return Q_OK;
}

q_status lay_doc_unpack(const void *data, size_t len, lay_doc *d) {
    memset(d, 0, sizeof *d);
    q_vec_init(&d->page_v, sizeof(lay_page));
    q_vec_init(&d->line_v, sizeof(lay_line));
    wire_rd r = {data, len, len, WIRE_PAGE};
    size_t np = 0, nl = 0, nt = 0;
    q_status st = rd_head(&r, d);
    if (!st) st = rd_str(&r, "path", &d->path);
    if (!st) st = rd_str(&r, "error text", &d->error);
    if (!st) st = rd_str(&r, "warning text", &d->warning);
    if (!st) st = rd_counts(&r, &np, &nl, &nt);
    /* The text is last; lines check their ranges against it in place. */
    const unsigned char *text = st ? NULL : r.p + np * r.page_size + nl * WIRE_LINE;
    if (!st) st = rd_pages(&r, d, np, nl);
    if (!st) st = rd_lines(&r, d, nl, text, nt);
    if (!st && nt) st = q_buf_append(&d->text, rd_take(&r, nt), nt);
    if (!st && r.left) st = wire_bad(&r, "trailing bytes"); /* rd_counts makes this impossible */
    if (st) lay_doc_free(d);
    return st;
}

/* pdfttf.c: a glyphless TrueType font program for the invisible text layer,
 * made per document: glyphs 0..n, every one empty and 500/1000 em wide. A
 * PDF with a CID font that is not embedded makes some viewers complain that
 * they cannot find it (there is no standard font to put in its place for an
 * Identity ordering); OCRmyPDF and Tesseract embed such a font for the same
 * reason. Only the tables a TrueType font embedded in a PDF needs are
 * written (PDF 32000-1 9.9: head, hhea, maxp, hmtx, loca, glyf) and post;
 * the text layer's codes are glyph ids (CIDToGIDMap /Identity). */
#include <string.h>

#include "pdf_int.h"

enum { TTF_TABLES = 7 };

static q_status ttf_u16(q_buf *b, unsigned v) {
    unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    return q_buf_append(b, x, 2);
}

static q_status ttf_u32(q_buf *b, uint32_t v) {
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    return q_buf_append(b, x, 4);
}

/* Big-endian u16 values, each given as unsigned (negatives as 0x10000 + v). */
static q_status ttf_u16s(q_buf *b, const unsigned *v, size_t n) {
    q_status st = Q_OK;
    for (size_t i = 0; i < n && !st; i++)
        st = ttf_u16(b, v[i]);
    return st;
}

#define TTF_NEG(v) (0x10000u - (v))

static q_status ttf_head(q_buf *b) {
    static const unsigned v[] = {
        0x0001, 0x0000,
        0x0001, 0x0000, /* version 1.0, fontRevision 1.0 */
        0,      0,      /* checkSumAdjustment, set at the end */
        0x5F0F, 0x3CF5, /* magic */
        0x000B, 1000,   /* flags, unitsPerEm */
        0,      0,
        0,      0,
        0,      0,
        0,      0, /* created, modified */
        0,      TTF_NEG(200),
        500,    800, /* xMin yMin xMax yMax */
        0,      3,
        2,      0,
        0, /* macStyle lowestRecPPEM direction locFormat glyphData */
    };
    return ttf_u16s(b, v, Q_ARRAY_LEN(v));
}

static q_status ttf_hhea(q_buf *b) {
    static const unsigned v[] = {
        0x0001, 0x0000, 800, TTF_NEG(200),
        0,                        /* version, ascender, descender, lineGap */
        500,    0,      0,   500, /* advanceWidthMax minLSB minRSB xMaxExtent */
        1,      0,      0,   0,
        0,      0,      0, /* caret rise, run, offset; reserved */
        0,      1,         /* metricDataFormat, numberOfHMetrics */
    };
    return ttf_u16s(b, v, Q_ARRAY_LEN(v));
}

static q_status ttf_maxp(q_buf *b, unsigned glyphs) {
    unsigned v[] = {0x0001, 0x0000, glyphs, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0};
    return ttf_u16s(b, v, Q_ARRAY_LEN(v));
}

/* One advance for all glyphs (numberOfHMetrics 1), then a zero side bearing each. */
static q_status ttf_hmtx(q_buf *b, unsigned glyphs) {
    q_status st = ttf_u16(b, 500);
    for (unsigned i = 0; i < glyphs && !st; i++)
        st = ttf_u16(b, 0);
    return st;
}

/* Short offsets, all 0: every glyph is empty (glyf is empty). */
static q_status ttf_loca(q_buf *b, unsigned glyphs) {
    q_status st = Q_OK;
    for (unsigned i = 0; i <= glyphs && !st; i++)
        st = ttf_u16(b, 0);
    return st;
}

static q_status ttf_post(q_buf *b) {
    static const unsigned v[] = {0x0003, 0, 0, 0, TTF_NEG(100), 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    return ttf_u16s(b, v, Q_ARRAY_LEN(v));
}

static uint32_t ttf_sum(const unsigned char *p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t w = 0;
        for (size_t k = 0; k < 4; k++)
            w = (w << 8) | (i + k < n ? p[i + k] : 0);
        s += w;
    }
    return s;
}

q_status pdf_ttf_build(unsigned glyphs, q_buf *out) {
    static const char *const tags[TTF_TABLES] = {"glyf", "head", "hhea", "hmtx",
                                                 "loca", "maxp", "post"}; /* sorted */
    q_buf t[TTF_TABLES] = {{0}};
    q_status st = ttf_head(&t[1]);
    if (!st) st = ttf_hhea(&t[2]);
    if (!st) st = ttf_hmtx(&t[3], glyphs);
    if (!st) st = ttf_loca(&t[4], glyphs);
    if (!st) st = ttf_maxp(&t[5], glyphs);
    if (!st) st = ttf_post(&t[6]);
    /* offset table: sfnt 1.0, 7 tables, searchRange 64, entrySelector 2, rangeShift 48 */
    if (!st) st = ttf_u32(out, 0x00010000);
    if (!st) st = ttf_u16s(out, (const unsigned[]){TTF_TABLES, 64, 2, 48}, 4);
    uint32_t off = 12 + 16 * TTF_TABLES;
    size_t head_at = 0;
    for (int i = 0; i < TTF_TABLES && !st; i++) {
        st = q_buf_append(out, tags[i], 4);
        if (!st) st = ttf_u32(out, ttf_sum((const unsigned char *)t[i].data, t[i].len));
        if (!st) st = ttf_u32(out, off);
        if (!st) st = ttf_u32(out, (uint32_t)t[i].len);
        if (i == 1) head_at = off;
        off += (uint32_t)((t[i].len + 3) & ~(size_t)3);
    }
    static const char pad[4] = {0};
    for (int i = 0; i < TTF_TABLES && !st; i++) {
        if (t[i].len) st = q_buf_append(out, t[i].data, t[i].len);
        if (!st) st = q_buf_append(out, pad, (4 - t[i].len % 4) % 4);
    }
    if (!st) { /* head.checkSumAdjustment makes the whole file sum to 0xB1B0AFBA */
        uint32_t adj = 0xB1B0AFBAu - ttf_sum((const unsigned char *)out->data, out->len);
        unsigned char *p = (unsigned char *)out->data + head_at + 8;
        p[0] = (unsigned char)(adj >> 24), p[1] = (unsigned char)(adj >> 16);
        p[2] = (unsigned char)(adj >> 8), p[3] = (unsigned char)adj;
    }
    for (int i = 0; i < TTF_TABLES; i++)
        q_buf_free(&t[i]);
    return st;
}

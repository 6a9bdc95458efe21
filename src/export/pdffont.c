/* pdffont.c: the invisible text layer's font and its text. The layer is
 * drawn in render mode 3 (nothing painted), so the glyphs never show: what
 * matters is that each character's code maps back to its Unicode text
 * (ToUnicode) and that every character has the same width, so a line's text
 * is spread evenly over its box, as OCRmyPDF's glyphless font does. A Type0
 * font with Identity-H takes 2-byte codes: each document numbers its
 * distinct characters 1..N (any Unicode character, beyond the BMP too) and
 * its ToUnicode CMap lists them. The font program embedded is a glyphless
 * one (pdfttf.c) whose glyph ids are those codes. */
#include <stdlib.h>
#include <string.h>

#include "pdf_int.h"

enum { PDFFONT_MAX_CODES = 65535, PDFFONT_DW = 500 /* glyph width, 1/1000 em */ };

static int pdffont_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Decodes one UTF-8 sequence at s[0..n) (valid: the text is sanitized). */
static uint32_t pdffont_next(const unsigned char *s, size_t n, size_t *len) {
    uint32_t c = s[0];
    size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (k > n) k = 1;
    if (k > 1) c &= 0x3F >> (k - 1);
    for (size_t i = 1; i < k; i++)
        c = (c << 6) | (s[i] & 0x3F);
    *len = k;
    return c;
}

q_status pdffont_collect(pdffont_map *m, const lay_doc *d) {
    q_vec v;
    q_vec_init(&v, sizeof(uint32_t));
    q_buf tmp = {0};
    q_status st = Q_OK;
    for (size_t i = 0; i < d->line_v.len && !st; i++) {
        const lay_line *l = &Q_VEC_AT(&d->line_v, lay_line, i);
        q_buf_clear(&tmp);
        st = q_buf_append_utf8(&tmp, d->text.data + l->text_start, l->text_len);
        size_t len;
        for (size_t k = 0; !st && k < tmp.len; k += len) {
            uint32_t c = pdffont_next((const unsigned char *)tmp.data + k, tmp.len - k, &len);
            st = q_vec_push(&v, &c);
        }
    }
    q_buf_free(&tmp);
    if (st) {
        q_vec_free(&v);
        return st;
    }
    if (v.len) qsort(v.data, v.len, sizeof(uint32_t), pdffont_cmp);
    size_t n = 0;
    for (size_t i = 0; i < v.len; i++)
        if (!n || Q_VEC_AT(&v, uint32_t, i) != Q_VEC_AT(&v, uint32_t, n - 1))
            Q_VEC_AT(&v, uint32_t, n++) = Q_VEC_AT(&v, uint32_t, i);
    v.len = n;
    if (n > PDFFONT_MAX_CODES) {
        q_vec_free(&v);
        return Q_FAIL(Q_ERR_UNSUPPORTED, "more than %d distinct characters in one document",
                      PDFFONT_MAX_CODES);
    }
    m->cp = v.data, m->n = n;
    return Q_OK;
}

void pdffont_map_free(pdffont_map *m) {
    free(m->cp);
    m->cp = NULL, m->n = 0;
}

/* The code of code point c: its position in the sorted list, from 1. */
static unsigned pdffont_code(const pdffont_map *m, uint32_t c) {
    const uint32_t *p = bsearch(&c, m->cp, m->n, sizeof c, pdffont_cmp);
    return p ? (unsigned)(p - m->cp) + 1 : 0;
}

q_status pdffont_hex(const pdffont_map *m, const char *s, size_t n, q_buf *out, size_t *chars) {
    q_buf tmp = {0};
    q_status st = q_buf_append_utf8(&tmp, s, n);
    *chars = 0;
    if (!st) st = q_buf_puts(out, "<");
    size_t len;
    for (size_t k = 0; !st && k < tmp.len; k += len, (*chars)++) {
        uint32_t c = pdffont_next((const unsigned char *)tmp.data + k, tmp.len - k, &len);
        st = q_buf_printf(out, "%04X", pdffont_code(m, c));
    }
    if (!st) st = q_buf_puts(out, ">");
    q_buf_free(&tmp);
    return st;
}

float pdffont_advance(void) {
    return PDFFONT_DW / 1000.0f;
}

/* The ToUnicode CMap: code i -> the UTF-16BE of code point m->cp[i-1]. */
static q_status pdffont_cmap(const pdffont_map *m, q_buf *b) {
    q_status st = q_buf_puts(b, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                                "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 "
                                ">> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                                "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
    for (size_t i = 0; i < m->n && !st; i += 100) {
        size_t k = Q_MIN(100, m->n - i);
        st = q_buf_printf(b, "%zu beginbfchar\n", k);
        for (size_t j = i; j < i + k && !st; j++) {
            uint32_t c = m->cp[j];
            if (c >= 0x10000) { /* a surrogate pair */
                uint32_t v = c - 0x10000;
                st = q_buf_printf(b, "<%04zX> <%04X%04X>\n", j + 1, 0xD800 + (v >> 10),
                                  0xDC00 + (v & 0x3FF));
            } else {
                st = q_buf_printf(b, "<%04zX> <%04X>\n", j + 1, c);
            }
        }
        if (!st) st = q_buf_puts(b, "endbfchar\n");
    }
    if (!st)
        st = q_buf_puts(b, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    return st;
}

pdf_obj *pdffont_add(fz_context *ctx, pdf_document *doc, const pdffont_map *m) {
    q_buf cm = {0}, ttf = {0};
    if (pdffont_cmap(m, &cm) || pdf_ttf_build((unsigned)m->n + 1, &ttf)) {
        q_buf_free(&cm);
        q_buf_free(&ttf);
        fz_throw(ctx, FZ_ERROR_GENERIC, "out of memory for the text layer's font");
    }
    pdf_obj *font = NULL, *cid = NULL, *fd = NULL, *tu = NULL, *ff = NULL, *info, *arr;
    fz_buffer *buf = NULL, *fbuf = NULL;
    fz_var(font), fz_var(cid), fz_var(fd), fz_var(tu), fz_var(ff), fz_var(buf), fz_var(fbuf);
    fz_try(ctx) {
        buf = fz_new_buffer_from_copied_data(ctx, (const unsigned char *)cm.data, cm.len);
        tu = pdf_add_stream(ctx, doc, buf, NULL, 0);
        fbuf = fz_new_buffer_from_copied_data(ctx, (const unsigned char *)ttf.data, ttf.len);
        ff = pdf_add_stream(ctx, doc, fbuf, NULL, 0);
        pdf_dict_put_int(ctx, ff, PDF_NAME(Length1), (int64_t)ttf.len);
        fd = pdf_add_new_dict(ctx, doc, 10);
        pdf_dict_put(ctx, fd, PDF_NAME(FontFile2), ff);
        pdf_dict_put(ctx, fd, PDF_NAME(Type), PDF_NAME(FontDescriptor));
        pdf_dict_put_name(ctx, fd, PDF_NAME(FontName), "QuireInvisibleText");
        pdf_dict_put_int(ctx, fd, PDF_NAME(Flags), 4);
        arr = pdf_dict_put_array(ctx, fd, PDF_NAME(FontBBox), 4);
        pdf_array_push_int(ctx, arr, 0), pdf_array_push_int(ctx, arr, -200);
        pdf_array_push_int(ctx, arr, PDFFONT_DW), pdf_array_push_int(ctx, arr, 800);
        pdf_dict_put_int(ctx, fd, PDF_NAME(ItalicAngle), 0);
        pdf_dict_put_int(ctx, fd, PDF_NAME(Ascent), 800);
        pdf_dict_put_int(ctx, fd, PDF_NAME(Descent), -200);
        pdf_dict_put_int(ctx, fd, PDF_NAME(CapHeight), 700);
        pdf_dict_put_int(ctx, fd, PDF_NAME(StemV), 80);
        cid = pdf_add_new_dict(ctx, doc, 8);
        pdf_dict_put(ctx, cid, PDF_NAME(Type), PDF_NAME(Font));
        pdf_dict_put(ctx, cid, PDF_NAME(Subtype), PDF_NAME(CIDFontType2));
        pdf_dict_put_name(ctx, cid, PDF_NAME(BaseFont), "QuireInvisibleText");
        info = pdf_dict_put_dict(ctx, cid, PDF_NAME(CIDSystemInfo), 3);
        pdf_dict_put_string(ctx, info, PDF_NAME(Registry), "Adobe", 5);
        pdf_dict_put_string(ctx, info, PDF_NAME(Ordering), "Identity", 8);
        pdf_dict_put_int(ctx, info, PDF_NAME(Supplement), 0);
        pdf_dict_put(ctx, cid, PDF_NAME(FontDescriptor), fd);
        pdf_dict_put_int(ctx, cid, PDF_NAME(DW), PDFFONT_DW);
        pdf_dict_put(ctx, cid, PDF_NAME(CIDToGIDMap), PDF_NAME(Identity));
        font = pdf_add_new_dict(ctx, doc, 6);
        pdf_dict_put(ctx, font, PDF_NAME(Type), PDF_NAME(Font));
        pdf_dict_put(ctx, font, PDF_NAME(Subtype), PDF_NAME(Type0));
        pdf_dict_put_name(ctx, font, PDF_NAME(BaseFont), "QuireInvisibleText");
        pdf_dict_put(ctx, font, PDF_NAME(Encoding), PDF_NAME(Identity_H));
        arr = pdf_dict_put_array(ctx, font, PDF_NAME(DescendantFonts), 1);
        pdf_array_push(ctx, arr, cid);
        pdf_dict_put(ctx, font, PDF_NAME(ToUnicode), tu);
    }
    fz_always(ctx) {
        fz_drop_buffer(ctx, buf);
        fz_drop_buffer(ctx, fbuf);
        pdf_drop_obj(ctx, cid);
        pdf_drop_obj(ctx, fd);
        pdf_drop_obj(ctx, tu);
        pdf_drop_obj(ctx, ff);
        q_buf_free(&cm);
        q_buf_free(&ttf);
    }
    fz_catch(ctx) {
        pdf_drop_obj(ctx, font);
        fz_rethrow(ctx);
    }
    return font;
}

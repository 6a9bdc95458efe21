/* pdf_int.h: what pdf.c, pdfsrc.c and pdffont.c share: MuPDF (the only
 * place in export that sees it) and the invisible text layer's font. */
#pragma once

#include <mupdf/fitz.h>
#include <mupdf/pdf.h>

#include "export_int.h"

/* The distinct code points of a document's text, sorted: code i+1 is cp[i]. */
typedef struct {
    uint32_t *cp;
    size_t n;
} pdffont_map;

/* Collects the code points of every line of `d`; more than 65535 distinct
 * ones is Q_ERR_UNSUPPORTED (2-byte codes). */
q_status pdffont_collect(pdffont_map *m, const lay_doc *d);
void pdffont_map_free(pdffont_map *m);
/* Appends n bytes of UTF-8 as a hex string of 2-byte codes (<0001...>);
 * *chars is the number of characters. */
q_status pdffont_hex(const pdffont_map *m, const char *s, size_t n, q_buf *out, size_t *chars);
/* Every glyph's advance, in text space units at font size 1. */
float pdffont_advance(void);
/* Adds the Type0 font (Identity-H, ToUnicode of `m`) to `doc`; returns a new
 * reference (the caller drops it). Throws on MuPDF errors. */
pdf_obj *pdffont_add(fz_context *ctx, pdf_document *doc, const pdffont_map *m);

/* Appends a glyphless TrueType font program with glyphs 0..glyphs-1, all
 * empty and of the layer's one width (pdfttf.c). */
q_status pdf_ttf_build(unsigned glyphs, q_buf *out);

/* Appends the text layer of page i of `d` to `out`: `disp` maps the page
 * as displayed (points, origin top-left, y down; results.h5's frame) to the
 * content stream's space; `turn` is the quarter turn quire applied to read
 * the page (0, 90, 180, 270). `font` is the font's resource name. */
q_status pdf_text_layer(const lay_doc *d, size_t i, fz_matrix disp, int turn, const char *font,
                        const pdffont_map *m, q_buf *out);

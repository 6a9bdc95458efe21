/* Per-page routing (DESIGN.md §1): text layer, empty, or OCR. Every threshold
 * lives here. */
#include "doc_int.h"

/* Fewer real characters than this on a page that also shows an image means
 * the text is a stray label or page number over a scan: OCR the page. */
#define DOC_ROUTE_MIN_CHARS 16
/* At most this fraction of the characters may be unmapped glyphs (U+FFFD,
 * private use): beyond it the layer is garbage and the page is OCRed. */
#define DOC_ROUTE_MAX_BAD_FRACTION 0.25
/* A page drawn only with this many vector paths and no text is most likely
 * text converted to outlines: OCR it rather than call it empty. */
#define DOC_ROUTE_MIN_OUTLINE_PATHS 400

lay_page_kind doc_route_page(const doc_scan *s, const doc_options *opt) {
    if (opt && opt->ocr_all) return LAY_PAGE_OCR;
    int invisible = opt && opt->redo_ocr ? 0 : s->invisible_chars;
    int good = s->visible_chars + invisible;
    int total = good + s->bad_chars;
    int has_picture = s->images > 0 || s->hidden_chars > 0;
    if (good > 0 && (double)s->bad_chars <= DOC_ROUTE_MAX_BAD_FRACTION * total &&
        (good >= DOC_ROUTE_MIN_CHARS || !has_picture))
        return LAY_PAGE_TEXT;
    if (has_picture || s->bad_chars > 0 || s->invisible_chars > 0 ||
        s->paths >= DOC_ROUTE_MIN_OUTLINE_PATHS)
        return LAY_PAGE_OCR;
    return LAY_PAGE_EMPTY;
}

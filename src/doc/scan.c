/* The page scan device: sits in front of the stext device during the one run
 * of a page, forwards the text calls and counts what routing needs (visible,
 * invisible and unmapped characters, images and how much of the page they
 * cover, vector paths), so routing costs no second pass over the page. */
#include "doc_int.h"

/* An image this large (fraction of the page) hides whatever was painted before. */
#define DOC_FULL_PAGE_COVER 0.80f
/* Images smaller than this (fraction of the page) are logos and bullets. */
#define DOC_IMAGE_MIN_COVER 0.01f

typedef struct {
    fz_device super;
    fz_device *target;
    doc_scan *scan;
    fz_rect page;
} scan_device;

/* Counts the real and unmapped characters of `text` into good/bad. */
static void scan_count(const fz_text *text, int *good, int *bad) {
    for (const fz_text_span *sp = text->head; sp; sp = sp->next) {
        for (int i = 0; i < sp->len; i++) {
            int c = sp->items[i].ucs;
            if (c < 0 || c == ' ' || c == 0xA0) continue; /* ligature continuation, space */
            if (c < 0x20 || c == 0xFFFD || (c >= 0xE000 && c <= 0xF8FF) || (c >= 0x7F && c < 0xA0))
                (*bad)++;
            else
                (*good)++;
        }
    }
}

static void scan_fill_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix ctm,
                           fz_colorspace *cs, const float *color, float alpha, fz_color_params cp) {
    scan_device *d = (scan_device *)dev;
    scan_count(text, &d->scan->visible_chars, &d->scan->bad_chars);
    if (d->target->fill_text) d->target->fill_text(ctx, d->target, text, ctm, cs, color, alpha, cp);
}

static void scan_stroke_text(fz_context *ctx, fz_device *dev, const fz_text *text,
                             const fz_stroke_state *ss, fz_matrix ctm, fz_colorspace *cs,
                             const float *color, float alpha, fz_color_params cp) {
    scan_device *d = (scan_device *)dev;
    scan_count(text, &d->scan->visible_chars, &d->scan->bad_chars);
    if (d->target->stroke_text)
        d->target->stroke_text(ctx, d->target, text, ss, ctm, cs, color, alpha, cp);
}

static void scan_clip_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix ctm,
                           fz_rect scissor) {
    scan_device *d = (scan_device *)dev;
    scan_count(text, &d->scan->visible_chars, &d->scan->bad_chars);
    if (d->target->clip_text) d->target->clip_text(ctx, d->target, text, ctm, scissor);
}

static void scan_clip_stroke_text(fz_context *ctx, fz_device *dev, const fz_text *text,
                                  const fz_stroke_state *ss, fz_matrix ctm, fz_rect scissor) {
    scan_device *d = (scan_device *)dev;
    scan_count(text, &d->scan->visible_chars, &d->scan->bad_chars);
    if (d->target->clip_stroke_text)
        d->target->clip_stroke_text(ctx, d->target, text, ss, ctm, scissor);
}

/* Render mode 3: what OCRmyPDF and scanners put over a page image. */
static void scan_ignore_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix ctm) {
    scan_device *d = (scan_device *)dev;
    scan_count(text, &d->scan->invisible_chars, &d->scan->bad_chars);
    if (d->target->ignore_text) d->target->ignore_text(ctx, d->target, text, ctm);
}

static void scan_image(scan_device *d, fz_matrix ctm) {
    fz_rect r = fz_intersect_rect(fz_transform_rect(fz_unit_rect, ctm), d->page);
    if (fz_is_empty_rect(r) || d->scan->page_area <= 0) return;
    float cover = (r.x1 - r.x0) * (r.y1 - r.y0) / d->scan->page_area;
    if (cover >= DOC_IMAGE_MIN_COVER) d->scan->images++;
    if (cover >= DOC_FULL_PAGE_COVER) {
        /* Text painted so far lies under this image: the reader cannot see it. */
        d->scan->full_page_images++;
        d->scan->hidden_chars += d->scan->visible_chars;
        d->scan->visible_chars = 0;
    }
}

static void scan_fill_image(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix ctm,
                            float alpha, fz_color_params cp) {
    scan_image((scan_device *)dev, ctm);
}

static void scan_fill_image_mask(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix ctm,
                                 fz_colorspace *cs, const float *color, float alpha,
                                 fz_color_params cp) {
    scan_image((scan_device *)dev, ctm); /* CCITT/JBIG2 scans are often stencil masks */
}

static void scan_fill_path(fz_context *ctx, fz_device *dev, const fz_path *path, int even_odd,
                           fz_matrix ctm, fz_colorspace *cs, const float *color, float alpha,
                           fz_color_params cp) {
    ((scan_device *)dev)->scan->paths++;
}

static void scan_stroke_path(fz_context *ctx, fz_device *dev, const fz_path *path,
                             const fz_stroke_state *ss, fz_matrix ctm, fz_colorspace *cs,
                             const float *color, float alpha, fz_color_params cp) {
    ((scan_device *)dev)->scan->paths++;
}

fz_device *doc_new_scan_device(fz_context *ctx, fz_device *target, doc_scan *scan, fz_rect page) {
    scan_device *d = fz_new_derived_device(ctx, scan_device);
    d->target = target;
    d->scan = scan;
    d->page = page;
    scan->page_area = (page.x1 - page.x0) * (page.y1 - page.y0);
    d->super.fill_text = scan_fill_text;
    d->super.stroke_text = scan_stroke_text;
    d->super.clip_text = scan_clip_text;
    d->super.clip_stroke_text = scan_clip_stroke_text;
    d->super.ignore_text = scan_ignore_text;
    d->super.fill_image = scan_fill_image;
    d->super.fill_image_mask = scan_fill_image_mask;
    d->super.fill_path = scan_fill_path;
    d->super.stroke_path = scan_stroke_path;
    return &d->super;
}

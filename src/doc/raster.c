/* PDF page pixels for OCR. A scanned page (one upright image filling the page
 * and nothing else painted) gives that image as the scanner made it: no
 * resampling, no blur, and no work when the scan is already 300 dpi. Any
 * other page is rendered by MuPDF at opt->dpi, straight into the q_image
 * buffer, with the cookie so the watchdog can stop it. */
#include "doc_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Each edge of the image may miss the page's edge by this fraction of the
 * page: scanners and PDF makers round the placement. */
#define DOC_SCAN_EDGE_TOLERANCE 0.02f

/* A device that remembers the one image a page paints and notes anything else. */
typedef struct {
    fz_device super;
    fz_image *image; /* kept */
    fz_matrix ctm;
    int ink; /* gray of an image mask's colour */
    int mask;
    int others; /* paint or clip that is not the single opaque image */
} find_device;

static void find_other(find_device *d) {
    d->others++;
}

static void find_take(fz_context *ctx, find_device *d, fz_image *img, fz_matrix ctm, float alpha) {
    if (d->image || alpha < 1) {
        find_other(d);
        return;
    }
    d->image = fz_keep_image(ctx, img);
    d->ctm = ctm;
}

static void find_fill_image(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix ctm,
                            float alpha, fz_color_params cp) {
    find_take(ctx, (find_device *)dev, img, ctm, alpha);
}

/* CCITT and JBIG2 scans are often stencil masks painted black. */
static void find_fill_image_mask(fz_context *ctx, fz_device *dev, fz_image *img, fz_matrix ctm,
                                 fz_colorspace *cs, const float *color, float alpha,
                                 fz_color_params cp) {
    find_device *d = (find_device *)dev;
    float gray = 0;
    if (cs) fz_convert_color(ctx, cs, color, fz_device_gray(ctx), &gray, NULL, cp);
    int had = d->image != NULL;
    find_take(ctx, d, img, ctm, alpha);
    if (!had && d->image) {
        d->mask = 1;
        d->ink = (int)lrintf(Q_MAX(0.0f, Q_MIN(1.0f, gray)) * 255);
    }
}

static void find_fill_path(fz_context *ctx, fz_device *dev, const fz_path *path, int even_odd,
                           fz_matrix ctm, fz_colorspace *cs, const float *color, float alpha,
                           fz_color_params cp) {
    find_other((find_device *)dev);
}

static void find_stroke_path(fz_context *ctx, fz_device *dev, const fz_path *path,
                             const fz_stroke_state *ss, fz_matrix ctm, fz_colorspace *cs,
                             const float *color, float alpha, fz_color_params cp) {
    find_other((find_device *)dev);
}

static void find_fill_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix ctm,
                           fz_colorspace *cs, const float *color, float alpha, fz_color_params cp) {
    find_other((find_device *)dev);
}

static void find_stroke_text(fz_context *ctx, fz_device *dev, const fz_text *text,
                             const fz_stroke_state *ss, fz_matrix ctm, fz_colorspace *cs,
                             const float *color, float alpha, fz_color_params cp) {
    find_other((find_device *)dev);
}

static void find_clip_text(fz_context *ctx, fz_device *dev, const fz_text *text, fz_matrix ctm,
                           fz_rect scissor) {
    find_other((find_device *)dev);
}

static void find_fill_shade(fz_context *ctx, fz_device *dev, fz_shade *shd, fz_matrix ctm,
                            float alpha, fz_color_params cp) {
    find_other((find_device *)dev);
}

static int find_begin_tile(fz_context *ctx, fz_device *dev, fz_rect area, fz_rect view, float xstep,
                           float ystep, fz_matrix ctm, int id) {
    find_other((find_device *)dev);
    return 1; /* "cached": MuPDF need not run the tile's content */
}

/* Invisible text (render mode 3, an OCR layer over the scan) paints nothing:
 * the default NULL ignore_text keeps such a page a scan. Clip paths around
 * the image are left alone; the edge tolerance covers the usual ones. */
static fz_device *new_find_device(fz_context *ctx) {
    find_device *d = fz_new_derived_device(ctx, find_device);
    d->super.fill_image = find_fill_image;
    d->super.fill_image_mask = find_fill_image_mask;
    d->super.fill_path = find_fill_path;
    d->super.stroke_path = find_stroke_path;
    d->super.fill_text = find_fill_text;
    d->super.stroke_text = find_stroke_text;
    d->super.clip_text = find_clip_text;
    d->super.fill_shade = find_fill_shade;
    d->super.begin_tile = find_begin_tile;
    return &d->super;
}

/* The page's single image when it is upright (unrotated, unmirrored, no
 * shear) and its edges sit on the page's; NULL otherwise. Throws on MuPDF
 * errors. The caller drops the image. */
static fz_image *scan_image(fz_context *ctx, fz_page *page, fz_rect bound, fz_cookie *cookie,
                            int *mask, int *ink) {
    fz_device *volatile dev = NULL;
    fz_image *volatile img = NULL;
    fz_try(ctx) {
        dev = new_find_device(ctx);
        fz_run_page(ctx, page, dev, fz_identity, cookie);
        fz_close_device(ctx, dev);
        find_device *d = (find_device *)dev;
        fz_matrix m = d->ctm;
        fz_rect r = fz_transform_rect(fz_unit_rect, m);
        float tw = DOC_SCAN_EDGE_TOLERANCE * (bound.x1 - bound.x0);
        float th = DOC_SCAN_EDGE_TOLERANCE * (bound.y1 - bound.y0);
        if (d->image && !d->others && !d->image->mask && m.a > 0 && m.d > 0 &&
            fabsf(m.b) <= 1e-3f * m.a && fabsf(m.c) <= 1e-3f * m.d &&
            fabsf(r.x0 - bound.x0) <= tw && fabsf(r.x1 - bound.x1) <= tw &&
            fabsf(r.y0 - bound.y0) <= th && fabsf(r.y1 - bound.y1) <= th) {
            img = fz_keep_image(ctx, d->image);
            *mask = d->mask;
            *ink = d->ink;
        }
    }
    fz_always(ctx) {
        if (dev) fz_drop_image(ctx, ((find_device *)dev)->image);
        fz_drop_device(ctx, dev);
    }
    fz_catch(ctx) {
        fz_drop_image(ctx, img);
        fz_rethrow(ctx);
    }
    return img;
}

/* Renders `page` at `dpi` into out->img (RGB, turned gray when it is). */
static q_status render_page(doc_file *f, fz_page *page, fz_rect bound, uint32_t index, int dpi,
                            doc_page_image *out) {
    fz_context *ctx = f->reader->ctx;
    double scale = dpi / 72.0;
    fz_matrix ctm = fz_concat(fz_translate(-bound.x0, -bound.y0), fz_scale(scale, scale));
    fz_irect box = fz_round_rect(fz_transform_rect(bound, ctm));
    double w = (double)box.x1 - box.x0, h = (double)box.y1 - box.y0;
    q_status st = doc_check_pixels(w, h, index, f->opt);
    if (st) return st;
    st = q_image_alloc(&out->img, (int)w, (int)h, 3, 0);
    if (st) return st;
    fz_pixmap *volatile pix = NULL;
    fz_device *volatile dev = NULL;
    char msg[256] = "";
    int ok = 1;
    fz_try(ctx) {
        /* MuPDF draws into our buffer: no second copy of the page. */
        pix = fz_new_pixmap_with_bbox_and_data(ctx, fz_device_rgb(ctx), box, NULL, 0, out->img.px);
        fz_clear_pixmap_with_value(ctx, pix, 255);
        dev = fz_new_draw_device(ctx, fz_identity, pix);
        fz_run_page(ctx, page, dev, ctm, &f->reader->cookie);
        fz_close_device(ctx, dev);
    }
    fz_always(ctx) {
        fz_drop_device(ctx, dev);
        fz_drop_pixmap(ctx, pix);
    }
    fz_catch(ctx) {
        snprintf(msg, sizeof msg, "%s", fz_caught_message(ctx));
        ok = 0;
    }
    if (f->reader->cookie.abort)
        return Q_FAIL(Q_ERR_TIMEOUT, "timeout while rendering page %u", index + 1);
    if (!ok) return Q_FAIL_LIB(Q_ERR_LIB, "mupdf", "page %u: cannot render: %s", index + 1, msg);
    doc_image_shrink_gray(&out->img);
    out->pt_per_px_x = (bound.x1 - bound.x0) / (float)w;
    out->pt_per_px_y = (bound.y1 - bound.y0) / (float)h;
    return Q_OK;
}

/* The scan's own pixels; returns 0 (nothing done, no error) when the image
 * is above the pixel limit, so the caller renders the page at opt->dpi. */
static int native_image(doc_file *f, fz_image *img, int mask, int ink, uint32_t index,
                        doc_page_image *out, q_status *st) {
    fz_context *ctx = f->reader->ctx;
    if ((double)img->w * img->h > doc_max_pixels(f->opt)) return 0;
    fz_pixmap *volatile pix = NULL;
    char msg[256] = "";
    int ok = 1;
    fz_try(ctx) {
        pix = fz_get_pixmap_from_image(ctx, img, NULL, NULL, NULL, NULL);
    }
    fz_catch(ctx) {
        snprintf(msg, sizeof msg, "%s", fz_caught_message(ctx));
        ok = 0;
    }
    if (!ok) {
        *st = Q_FAIL_LIB(Q_ERR_FORMAT, "mupdf", "page %u: scanned image undecodable: %s", index + 1,
                         msg);
        return 1;
    }
    /* A mask's pixmap is alpha only; an image's colour space is its own. */
    *st = doc_pixmap_to_image(ctx, pix, mask ? ink : 0, &out->img);
    fz_drop_pixmap(ctx, pix);
    if (!*st) {
        out->pt_per_px_x = out->width / (float)out->img.w;
        out->pt_per_px_y = out->height / (float)out->img.h;
    }
    return 1;
}

q_status doc_raster_page(doc_file *f, uint32_t index, doc_page_image *out) {
    fz_context *ctx = f->reader->ctx;
    fz_page *volatile page = NULL;
    fz_image *volatile img = NULL;
    fz_rect bound = fz_empty_rect;
    int mask = 0, ink = 0;
    volatile int ok = 1;
    char msg[256] = "";
    volatile int16_t rot = 0;
    fz_try(ctx) {
        if (f->page && f->page_index == (int)index)
            page = fz_keep_page(ctx, f->page);
        else
            page = fz_load_page(ctx, f->doc, (int)index);
        bound = fz_bound_page(ctx, page);
        rot = doc_page_rotation(ctx, page);
        if (rot == 0 && !fz_is_empty_rect(bound))
            img = scan_image(ctx, page, bound, &f->reader->cookie, &mask, &ink);
    }
    fz_catch(ctx) {
        snprintf(msg, sizeof msg, "%s", fz_caught_message(ctx));
        ok = 0;
    }
    q_status st = Q_OK;
    if (f->reader->cookie.abort) {
        st = Q_FAIL(Q_ERR_TIMEOUT, "timeout while reading page %u", index + 1);
    } else if (!ok) {
        st = Q_FAIL_LIB(Q_ERR_LIB, "mupdf", "page %u: cannot load: %s", index + 1, msg);
    } else if (fz_is_empty_rect(bound)) {
        st = Q_FAIL(Q_ERR_FORMAT, "page %u has an empty page box", index + 1);
    } else {
        out->width = bound.x1 - bound.x0;
        out->height = bound.y1 - bound.y0;
        out->rotation = rot;
        if (img && native_image(f, img, mask, ink, index, out, &st)) {
            q_log(Q_LOG_DEBUG, "page %u: the scan's own %dx%d pixels", index + 1, img->w, img->h);
        } else {
            int dpi = f->opt && f->opt->dpi > 0 ? f->opt->dpi : DOC_DEFAULT_DPI;
            q_log(Q_LOG_DEBUG, "page %u: rendered at %d dpi%s", index + 1, dpi,
                  img ? " (its scan is above --max-pixels)" : "");
            st = render_page(f, page, bound, index, dpi, out);
        }
    }
    fz_drop_image(ctx, img);
    fz_drop_page(ctx, page);
    return st;
}

/* PDF page pixels for OCR. A scanned page (one upright image filling the page
 * and nothing else painted) gives that image as the scanner made it: no
 * resampling, no blur, and no work when the scan is already 300 dpi. Any
 * other page is rendered by MuPDF at opt->dpi, straight into the q_image
 * buffer, with the cookie so the watchdog can stop it. One pass over the
 * content finds the scan and the page's largest image, whose size is checked
 * against --max-pixels before anything is decoded. */
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
    int others;       /* paint or clip that is not the single opaque image */
    int big_w, big_h; /* the page's largest image, any placement */
} find_device;

static void find_other(find_device *d) {
    d->others++;
}

static void find_take(fz_context *ctx, find_device *d, fz_image *img, fz_matrix ctm, float alpha) {
    if ((double)img->w * img->h > (double)d->big_w * d->big_h) {
        d->big_w = img->w;
        d->big_h = img->h;
    }
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

/* What one pass over the page's content found. */
typedef struct {
    fz_image *scan; /* the page's single upright image filling it, or NULL */
    int mask, ink;  /* the scan is a stencil painted in this gray */
    int big_w, big_h;
} page_images;

/* Fills `pi` (the caller drops pi->scan). A scan is the page's only painting,
 * upright (no rotation, mirror or shear) with its edges on the page's. Throws
 * on MuPDF errors. */
static void find_images(fz_context *ctx, fz_page *page, fz_rect bound, int rotated,
                        fz_cookie *cookie, page_images *pi) {
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
        pi->big_w = d->big_w;
        pi->big_h = d->big_h;
        if (!rotated && d->image && !d->others && !d->image->mask && m.a > 0 && m.d > 0 &&
            fabsf(m.b) <= 1e-3f * m.a && fabsf(m.c) <= 1e-3f * m.d &&
            fabsf(r.x0 - bound.x0) <= tw && fabsf(r.x1 - bound.x1) <= tw &&
            fabsf(r.y0 - bound.y0) <= th && fabsf(r.y1 - bound.y1) <= th) {
            img = fz_keep_image(ctx, d->image);
            pi->mask = d->mask;
            pi->ink = d->ink;
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
    pi->scan = img;
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

/* The scan's own pixels and scale. */
static q_status native_image(doc_file *f, const page_images *pi, uint32_t index,
                             doc_page_image *out) {
    fz_context *ctx = f->reader->ctx;
    fz_pixmap *volatile pix = NULL;
    char msg[256] = "";
    volatile int ok = 1;
    fz_try(ctx) {
        pix = fz_get_pixmap_from_image(ctx, pi->scan, NULL, NULL, NULL, NULL);
    }
    fz_catch(ctx) {
        snprintf(msg, sizeof msg, "%s", fz_caught_message(ctx));
        ok = 0;
    }
    if (!ok)
        return Q_FAIL_LIB(Q_ERR_FORMAT, "mupdf", "page %u: scanned image undecodable: %s",
                          index + 1, msg);
    /* A mask's pixmap is alpha only; an image's colour space is its own. */
    q_status st = doc_pixmap_to_image(ctx, pix, pi->mask ? pi->ink : 0, &out->img);
    fz_drop_pixmap(ctx, pix);
    if (!st) {
        out->pt_per_px_x = out->width / (float)out->img.w;
        out->pt_per_px_y = out->height / (float)out->img.h;
    }
    return st;
}

q_status doc_raster_page(doc_file *f, uint32_t index, doc_page_image *out) {
    fz_context *ctx = f->reader->ctx;
    fz_page *volatile page = NULL;
    page_images pi = {0};
    fz_rect bound = fz_empty_rect;
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
        if (!fz_is_empty_rect(bound))
            find_images(ctx, page, bound, rot != 0, &f->reader->cookie, &pi);
    }
    fz_catch(ctx) {
        snprintf(msg, sizeof msg, "%s", fz_caught_message(ctx));
        ok = 0;
    }
    q_status st = Q_OK;
    int dpi = f->opt && f->opt->dpi > 0 ? f->opt->dpi : DOC_DEFAULT_DPI;
    if (f->reader->cookie.abort) {
        st = Q_FAIL(Q_ERR_TIMEOUT, "timeout while reading page %u", index + 1);
    } else if (!ok) {
        st = Q_FAIL_LIB(Q_ERR_LIB, "mupdf", "page %u: cannot load: %s", index + 1, msg);
    } else if (fz_is_empty_rect(bound)) {
        st = Q_FAIL(Q_ERR_FORMAT, "page %u has an empty page box", index + 1);
    } else if ((double)pi.big_w * pi.big_h > doc_max_pixels(f->opt)) {
        /* MuPDF decodes an image whole, even to draw it small: an image above
         * the limit would cost its full size in memory either way. */
        st = Q_FAIL(Q_ERR_UNSUPPORTED,
                    "page %u holds an image of %dx%d pixels (%.0f MP), more than --max-pixels "
                    "%.0f MP",
                    index + 1, pi.big_w, pi.big_h, (double)pi.big_w * pi.big_h / 1e6,
                    doc_max_pixels(f->opt) / 1e6);
    } else {
        out->width = bound.x1 - bound.x0;
        out->height = bound.y1 - bound.y0;
        out->rotation = rot;
        if (pi.scan) {
            q_log(Q_LOG_DEBUG, "page %u: the scan's own %dx%d pixels", index + 1, pi.scan->w,
                  pi.scan->h);
            st = native_image(f, &pi, index, out);
        } else {
            q_log(Q_LOG_DEBUG, "page %u: rendered at %d dpi", index + 1, dpi);
            st = render_page(f, page, bound, index, dpi, out);
        }
    }
    fz_drop_image(ctx, pi.scan);
    fz_drop_page(ctx, page);
    return st;
}

/* Page pixels for OCR: the public doc_page_image_get (which hands each source
 * to its reader), the --max-pixels check every reader makes before it
 * allocates, and the conversion of MuPDF pixmaps into q_image (gray kept as
 * one channel because a scan is mostly gray and OCR reads it as well). */
#include "doc_int.h"

#include <stdlib.h>
#include <string.h>

double doc_max_pixels(const doc_options *opt) {
    return opt && opt->max_pixels > 0 ? opt->max_pixels : DOC_MAX_PIXELS_DEFAULT;
}

q_status doc_check_pixels(double w, double h, uint32_t page, const doc_options *opt) {
    double max = doc_max_pixels(opt);
    if (!(w >= 1 && h >= 1))
        return Q_FAIL(Q_ERR_FORMAT, "page %u has no pixels (%.0fx%.0f)", page + 1, w, h);
    /* Beyond INT_MAX a side does not fit q_image, whatever the limit says. */
    if (w * h > max || w > 2147483647.0 || h > 2147483647.0)
        return Q_FAIL(Q_ERR_UNSUPPORTED,
                      "page %u is %.0fx%.0f pixels (%.0f MP), more than --max-pixels %.0f MP",
                      page + 1, w, h, w * h / 1e6, max / 1e6);
    return Q_OK;
}

float doc_sane_dpi(double dpi) {
    /* Below 10 dpi it is an aspect ratio or a placeholder, not a scan. */
    return dpi >= 10 && dpi <= 100000 ? (float)dpi : 0;
}

void doc_image_shrink_gray(q_image *im) {
    if (im->channels != 3) return;
    for (int y = 0; y < im->h; y++) {
        const uint8_t *p = im->px + (size_t)y * im->stride;
        for (int x = 0; x < im->w; x++, p += 3)
            if (p[0] != p[1] || p[1] != p[2]) return;
    }
    /* In place: gray pixel i sits at or before RGB pixel i's first byte. */
    uint8_t *dst = im->px;
    for (int y = 0; y < im->h; y++) {
        const uint8_t *p = im->px + (size_t)y * im->stride;
        for (int x = 0; x < im->w; x++, p += 3)
            *dst++ = p[0];
    }
    im->channels = 1;
    im->stride = (size_t)im->w;
    uint8_t *smaller = realloc(im->px, im->stride * (size_t)im->h);
    if (smaller) im->px = smaller; /* keeping the larger block is harmless */
}

/* Whether every pixel of an RGB pixmap has R == G == B (then over white it
 * stays so whatever its alpha). */
static int pixmap_is_gray(fz_context *ctx, fz_pixmap *pix) {
    int w = fz_pixmap_width(ctx, pix), h = fz_pixmap_height(ctx, pix);
    int n = fz_pixmap_components(ctx, pix);
    const unsigned char *s = fz_pixmap_samples(ctx, pix);
    ptrdiff_t stride = fz_pixmap_stride(ctx, pix);
    for (int y = 0; y < h; y++) {
        const unsigned char *p = s + (ptrdiff_t)y * stride;
        for (int x = 0; x < w; x++, p += n)
            if (p[0] != p[1] || p[1] != p[2]) return 0;
    }
    return 1;
}

/* Gray or RGB pixmap, with or without alpha, into `out` with `channels`
 * (1 from an RGB pixmap only when it is gray: the first component is taken).
 * MuPDF's alpha is premultiplied, so over white a colour is c + 255 - a. */
static q_status copy_pixmap(fz_context *ctx, fz_pixmap *pix, int ink, int channels, q_image *out) {
    int w = fz_pixmap_width(ctx, pix), h = fz_pixmap_height(ctx, pix);
    int n = fz_pixmap_components(ctx, pix), alpha = fz_pixmap_alpha(ctx, pix);
    int colours = n - alpha;
    q_status st = q_image_alloc(out, w, h, channels, 0);
    if (st) return st;
    const unsigned char *s = fz_pixmap_samples(ctx, pix);
    ptrdiff_t stride = fz_pixmap_stride(ctx, pix);
    for (int y = 0; y < h; y++) {
        const unsigned char *p = s + (ptrdiff_t)y * stride;
        uint8_t *d = out->px + (size_t)y * out->stride;
        if (colours == 0) { /* a mask: paint ink where opaque */
            for (int x = 0; x < w; x++)
                d[x] = (uint8_t)(255 - (p[x] * (255 - ink) + 127) / 255);
        } else if (!alpha && colours == channels) {
            memcpy(d, p, (size_t)w * (size_t)channels);
        } else {
            for (int x = 0; x < w; x++, p += n)
                for (int c = 0; c < channels; c++) {
                    int v = p[c] + (alpha ? 255 - p[colours] : 0);
                    *d++ = (uint8_t)(v > 255 ? 255 : v);
                }
        }
    }
    return Q_OK;
}

q_status doc_pixmap_to_image(fz_context *ctx, fz_pixmap *pix, int ink, q_image *out) {
    memset(out, 0, sizeof *out);
    fz_colorspace *cs = fz_pixmap_colorspace(ctx, pix);
    if (!cs || fz_colorspace_is_gray(ctx, cs)) return copy_pixmap(ctx, pix, ink, 1, out);
    /* A gray scan stored as RGB is common: check first, so the page never
     * takes three bytes per pixel in our copy. */
    if (fz_colorspace_is_rgb(ctx, cs))
        return copy_pixmap(ctx, pix, ink, pixmap_is_gray(ctx, pix) ? 1 : 3, out);
    /* CMYK, Lab, BGR, ICC-based others: OCR wants RGB. */
    fz_pixmap *volatile rgb = NULL;
    char msg[200] = "";
    volatile int ok = 1;
    fz_try(ctx) {
        rgb =
            fz_convert_pixmap(ctx, pix, fz_device_rgb(ctx), NULL, NULL, fz_default_color_params, 1);
    }
    fz_catch(ctx) {
        snprintf(msg, sizeof msg, "%s", fz_caught_message(ctx));
        ok = 0;
    }
    if (!ok) return Q_FAIL_LIB(Q_ERR_LIB, "mupdf", "cannot convert the page colours: %s", msg);
    q_status st = copy_pixmap(ctx, rgb, ink, pixmap_is_gray(ctx, rgb) ? 1 : 3, out);
    fz_drop_pixmap(ctx, rgb);
    return st;
}

q_status doc_page_image_get(doc_file *f, uint32_t page, doc_page_image *out) {
    memset(out, 0, sizeof *out);
    if (!f || !f->reader) return Q_FAIL(Q_ERR_USAGE, "doc_page_image_get: no open document");
    if (f->reader->cookie.abort)
        return Q_FAIL(Q_ERR_TIMEOUT, "timeout before page %u was decoded", page + 1);
    q_status st;
    switch (f->type) {
    case DOC_TYPE_PDF:
        st = doc_raster_page(f, page, out);
        break;
    case DOC_TYPE_TIFF:
        st = doc_tiff_page_image(f->tiff, page, &f->reader->cookie.abort, out);
        break;
    case DOC_TYPE_PNG:
    case DOC_TYPE_JPEG:
    case DOC_TYPE_BMP:
        st = page == 0 ? doc_picture_page(f, out)
                       : Q_FAIL(Q_ERR_USAGE, "page %u of a one-page image", page + 1);
        break;
    default:
        st = Q_FAIL(Q_ERR_UNSUPPORTED, "%s has no page images", doc_type_name(f->type));
    }
    if (st) doc_page_image_free(out);
    return st;
}

void doc_page_image_free(doc_page_image *pi) {
    if (!pi) return;
    q_image_free(&pi->img);
    memset(pi, 0, sizeof *pi);
}

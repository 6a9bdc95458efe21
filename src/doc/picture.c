/* One-page image files (PNG, JPEG, BMP) through MuPDF's image loaders: the
 * header is read when the file opens, the pixels only when OCR asks, after
 * the --max-pixels check. The resolution comes from the file's own fields
 * (pHYs, JFIF density, BMP pixels per metre), read here because MuPDF fills
 * in a default when they are absent and quire's default is 300 dpi. */
#include "doc_int.h"

#include <stdio.h>
#include <string.h>

static uint32_t be16(const unsigned char *p) {
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* pHYs before the first IDAT; only the metre unit is a resolution. */
static void png_dpi(const unsigned char *d, size_t n, double *x, double *y) {
    for (size_t pos = 8; pos + 12 <= n;) {
        uint32_t len = be32(d + pos);
        const unsigned char *type = d + pos + 4;
        if (memcmp(type, "IDAT", 4) == 0 || len > n - pos - 12) return;
        if (memcmp(type, "pHYs", 4) == 0 && len == 9 && d[pos + 16] == 1) {
            *x = be32(d + pos + 8) * 0.0254;
            *y = be32(d + pos + 12) * 0.0254;
            return;
        }
        pos += 12 + (size_t)len;
    }
}

/* The JFIF APP0 density: units 1 = dots per inch, 2 = per cm, 0 = aspect only. */
static void jpeg_dpi(const unsigned char *d, size_t n, double *x, double *y) {
    for (size_t pos = 2; pos + 4 <= n;) {
        if (d[pos] != 0xFF) return;
        unsigned m = d[pos + 1];
        if (m == 0xFF) { /* fill byte */
            pos++;
            continue;
        }
        if (m == 0xDA || (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC))
            return; /* scan or frame header: no JFIF came first */
        uint32_t len = be16(d + pos + 2);
        if (m == 0xE0 && len >= 14 && pos + 16 <= n && memcmp(d + pos + 4, "JFIF", 5) == 0) {
            unsigned units = d[pos + 11];
            double k = units == 1 ? 1 : units == 2 ? 2.54 : 0;
            *x = be16(d + pos + 12) * k;
            *y = be16(d + pos + 14) * k;
            return;
        }
        pos += 2 + len;
    }
}

static void bmp_dpi(const unsigned char *d, size_t n, double *x, double *y) {
    if (n >= 46 && le32(d + 14) >= 40) {
        *x = (int32_t)le32(d + 38) * 0.0254;
        *y = (int32_t)le32(d + 42) * 0.0254;
    }
}

static void picture_dpi(doc_file *f, const unsigned char *d, size_t n) {
    double x = 0, y = 0;
    if (f->type == DOC_TYPE_PNG) png_dpi(d, n, &x, &y);
    if (f->type == DOC_TYPE_JPEG) jpeg_dpi(d, n, &x, &y);
    if (f->type == DOC_TYPE_BMP) bmp_dpi(d, n, &x, &y);
    f->xdpi = doc_sane_dpi(x);
    f->ydpi = doc_sane_dpi(y);
    if (!f->xdpi) f->xdpi = f->ydpi;
    if (!f->ydpi) f->ydpi = f->xdpi;
    if (!f->xdpi) f->xdpi = f->ydpi = DOC_DEFAULT_DPI;
}

q_status doc_picture_open(doc_file *f, const char *path) {
    fz_context *ctx = f->reader->ctx;
    fz_buffer *volatile buf = NULL;
    fz_image *volatile img = NULL;
    char msg[256] = "";
    volatile int ok = 1;
    fz_try(ctx) {
        buf = fz_read_file(ctx, path);
        unsigned char *data = NULL;
        size_t n = fz_buffer_storage(ctx, buf, &data);
        picture_dpi(f, data, n);
        img = fz_new_image_from_buffer(ctx, buf);
    }
    fz_always(ctx) {
        fz_drop_buffer(ctx, buf);
    }
    fz_catch(ctx) {
        snprintf(msg, sizeof msg, "%s", fz_caught_message(ctx));
        ok = 0;
    }
    if (!ok) return Q_FAIL_LIB(Q_ERR_FORMAT, "mupdf", "%s", msg[0] ? msg : "unreadable header");
    f->image = img;
    return Q_OK;
}

void doc_picture_close(doc_file *f) {
    if (!f || !f->image) return;
    fz_drop_image(f->reader->ctx, f->image);
    f->image = NULL;
}

q_status doc_picture_page(doc_file *f, doc_page_image *out) {
    fz_context *ctx = f->reader->ctx;
    fz_image *img = f->image;
    if (!img) return Q_FAIL(Q_ERR_USAGE, "no image open");
    q_status st = doc_check_pixels(img->w, img->h, 0, f->opt);
    if (st) return st;
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
    if (!ok)
        return Q_FAIL_LIB(Q_ERR_FORMAT, "mupdf", "page 1: %s undecodable: %s",
                          doc_type_name(f->type), msg);
    st = doc_pixmap_to_image(ctx, pix, 0, &out->img);
    fz_drop_pixmap(ctx, pix);
    if (st) return st;
    out->pt_per_px_x = (float)(72.0 / f->xdpi);
    out->pt_per_px_y = (float)(72.0 / f->ydpi);
    out->width = (float)img->w * out->pt_per_px_x;
    out->height = (float)img->h * out->pt_per_px_y;
    return Q_OK;
}

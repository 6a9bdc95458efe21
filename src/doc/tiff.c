/* TIFF pages through libtiff: every directory is a page, the resolution tags
 * give its size in points, and the pixels are decoded straight into a q_image
 * (scanline by scanline for the usual scan layouts, through libtiff's RGBA
 * reader in bands for everything else). tiffio.h stays in this file; libtiff's
 * messages go to a per-file handler, never to its process-global one. */
#include "doc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

struct doc_tiff {
    TIFF *tif;
    const doc_options *opt;
    uint32_t npages;
    int64_t cur;     /* directory libtiff has loaded, -1 after a failed move */
    char err[256];   /* libtiff's first error since the last reset */
    char chain[256]; /* why counting the pages stopped early, "" when it did not */
    int warnings;    /* libtiff's warnings, unknown tags left out */
    char warn[280];  /* the first of them */
};

/* libtiff's "path: " prefix, which the record does not need (it names the
 * file), skipped. */
static const char *tiff_strip_name(TIFF *tif, const char *line) {
    const char *name = tif ? TIFFFileName(tif) : NULL;
    size_t k = name ? strlen(name) : 0;
    if (k && strncmp(line, name, k) == 0 && line[k] == ':')
        return line + k + 1 + (line[k + 1] == ' ');
    return line;
}

/* Returning 1 keeps libtiff from also calling its global handler (stderr). */
static int tiff_on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    doc_tiff *t = user;
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    const char *msg = tiff_strip_name(tif, line);
    if (!t->err[0]) snprintf(t->err, sizeof t->err, "%s", msg);
    q_log(Q_LOG_DEBUG, "libtiff error: %s: %s", module ? module : "", line);
    return 1;
}

/* Counts what libtiff worked around (a bogus strip count, a tag of the wrong
 * type); an unknown tag is a scanner's private one, not a problem. */
static int tiff_on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    doc_tiff *t = user;
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    q_log(Q_LOG_DEBUG, "libtiff warning: %s: %s", module ? module : "", line);
    if (strstr(line, "nknown field with tag")) return 1;
    if (!t->warnings++)
        snprintf(t->warn, sizeof t->warn, "libtiff: %s", tiff_strip_name(tif, line));
    return 1;
}

static const char *tiff_err(const doc_tiff *t) {
    return t->err[0] ? t->err : "libtiff gave no reason";
}

q_status doc_tiff_open(const char *path, const doc_options *opt, doc_tiff **out) {
    *out = NULL;
    doc_tiff *t = calloc(1, sizeof *t);
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (!t || !o) {
        free(t);
        TIFFOpenOptionsFree(o);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory opening a TIFF");
    }
    t->opt = opt;
    TIFFOpenOptionsSetErrorHandlerExtR(o, tiff_on_error, t);
    TIFFOpenOptionsSetWarningHandlerExtR(o, tiff_on_warning, t);
    /* libtiff's own buffers (a strip, a tile) stay within what a page at the
     * pixel limit needs, so a lying header cannot make it allocate more. */
    double cap = doc_max_pixels(opt) * 4 + (1 << 20);
    TIFFOpenOptionsSetMaxSingleMemAlloc(o, (tmsize_t)Q_MAX(cap, (double)(64 << 20)));
    /* "m": read(), not mmap(): a file truncated while mapped would be SIGBUS. */
    t->tif = TIFFOpenExt(path, "rm", o);
    TIFFOpenOptionsFree(o);
    if (!t->tif) {
        q_status st = Q_FAIL(Q_ERR_FORMAT, "%s", tiff_err(t));
        free(t);
        return st;
    }
    /* A truncated file ends the chain of directories early: the count is
     * the pages that can be reached, and the reason is kept for the record. */
    t->err[0] = 0;
    t->npages = TIFFNumberOfDirectories(t->tif);
    snprintf(t->chain, sizeof t->chain, "%s", t->err);
    /* Counting walked the chain: go back to the first page. */
    t->cur = TIFFSetDirectory(t->tif, 0) ? 0 : -1;
    *out = t;
    return Q_OK;
}

void doc_tiff_close(doc_tiff *t) {
    if (!t) return;
    if (t->tif) TIFFClose(t->tif);
    free(t);
}

uint32_t doc_tiff_pages(const doc_tiff *t) {
    return t ? t->npages : 0;
}

const char *doc_tiff_chain_error(const doc_tiff *t) {
    return t && t->chain[0] ? t->chain : NULL;
}

int doc_tiff_warnings(const doc_tiff *t, const char **first) {
    *first = t ? t->warn : "";
    return t ? t->warnings : 0;
}

/* Makes `page` libtiff's current directory. Reading on from the previous one
 * keeps a long multi-page file linear; any other move starts from the header
 * (TIFFSetDirectory walks the chain without parsing the directories between,
 * so a corrupt page does not hide the ones after it). */
static q_status tiff_select(doc_tiff *t, uint32_t page) {
    if (page >= t->npages)
        return Q_FAIL(Q_ERR_USAGE, "page %u of a %u-page TIFF", page + 1, t->npages);
    if (t->cur == (int64_t)page) return Q_OK;
    t->err[0] = 0;
    int ok = t->cur >= 0 && (int64_t)page == t->cur + 1 ? TIFFReadDirectory(t->tif)
                                                        : TIFFSetDirectory(t->tif, (tdir_t)page);
    t->cur = ok ? (int64_t)page : -1;
    if (!ok)
        return Q_FAIL(Q_ERR_FORMAT, "page %u: unreadable TIFF directory: %s", page + 1,
                      tiff_err(t));
    return Q_OK;
}

typedef struct {
    uint32_t w, h;
    float xdpi, ydpi;
} tiff_geom;

static tiff_geom tiff_geometry(TIFF *tif) {
    tiff_geom g = {0};
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &g.w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &g.h);
    float xr = 0, yr = 0;
    uint16_t unit = RESUNIT_INCH;
    TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xr);
    TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yr);
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
    double k = unit == RESUNIT_CENTIMETER ? 2.54 : unit == RESUNIT_NONE ? 0 : 1;
    g.xdpi = doc_sane_dpi(xr * k);
    g.ydpi = doc_sane_dpi(yr * k);
    /* Fax files carry 204x98 dpi: both axes count. One tag alone is both. */
    if (!g.xdpi) g.xdpi = g.ydpi;
    if (!g.ydpi) g.ydpi = g.xdpi;
    if (!g.xdpi) g.xdpi = g.ydpi = DOC_DEFAULT_DPI;
    return g;
}

q_status doc_tiff_page_size(doc_tiff *t, uint32_t page, float *w_pt, float *h_pt) {
    *w_pt = *h_pt = 0;
    q_status st = tiff_select(t, page);
    if (st) return st;
    tiff_geom g = tiff_geometry(t->tif);
    *w_pt = (float)(g.w * 72.0 / g.xdpi);
    *h_pt = (float)(g.h * 72.0 / g.ydpi);
    return Q_OK;
}

/* 8-bit gray or RGB for each palette entry. Old writers store 8-bit values in
 * the 16-bit colour map; libtiff's RGBA reader makes the same guess. */
static int palette_lut(TIFF *tif, int bps, uint8_t lut[256][3]) {
    uint16_t *r, *g, *b;
    if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &r, &g, &b)) return -1;
    int n = 1 << bps, wide = 0, gray = 1;
    for (int i = 0; i < n; i++)
        if (r[i] >= 256 || g[i] >= 256 || b[i] >= 256) wide = 1;
    for (int i = 0; i < n; i++) {
        lut[i][0] = (uint8_t)(wide ? r[i] >> 8 : r[i]);
        lut[i][1] = (uint8_t)(wide ? g[i] >> 8 : g[i]);
        lut[i][2] = (uint8_t)(wide ? b[i] >> 8 : b[i]);
        if (lut[i][0] != lut[i][1] || lut[i][1] != lut[i][2]) gray = 0;
    }
    return gray;
}

/* Strips of 1, 2, 4 or 8-bit gray or palette samples, or 8-bit RGB, in the
 * normal orientation: decoded row by row into the page, with no buffer
 * beyond one scanline. Returns 0 when the layout needs the RGBA reader. */
static int tiff_direct_ok(TIFF *tif, uint16_t *photo, uint16_t *bps, uint16_t *spp) {
    uint16_t planar = PLANARCONFIG_CONTIG, orient = ORIENTATION_TOPLEFT, comp = COMPRESSION_NONE;
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orient);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, photo)) return 0;
    if (TIFFIsTiled(tif) || orient != ORIENTATION_TOPLEFT || comp == COMPRESSION_OJPEG) return 0;
    if (*spp == 1 && (*bps == 1 || *bps == 2 || *bps == 4 || *bps == 8))
        return *photo == PHOTOMETRIC_MINISWHITE || *photo == PHOTOMETRIC_MINISBLACK ||
               *photo == PHOTOMETRIC_PALETTE;
    return *spp == 3 && *bps == 8 && planar == PLANARCONFIG_CONTIG && *photo == PHOTOMETRIC_RGB;
}

static q_status tiff_read_direct(doc_tiff *t, uint32_t page, const tiff_geom *g, uint16_t photo,
                                 uint16_t bps, uint16_t spp, const int *abort, q_image *im) {
    TIFF *tif = t->tif;
    uint8_t lut[256][3];
    int channels = spp == 3 ? 3 : 1;
    if (photo == PHOTOMETRIC_PALETTE) {
        int gray = palette_lut(tif, bps, lut);
        if (gray < 0)
            return Q_FAIL(Q_ERR_FORMAT, "page %u: palette TIFF without a colour map", page + 1);
        channels = gray ? 1 : 3;
    } else if (spp == 1) {
        int max = (1 << bps) - 1;
        for (int i = 0; i <= max; i++) {
            uint8_t v = (uint8_t)(i * 255 / max);
            lut[i][0] = lut[i][1] = lut[i][2] = photo == PHOTOMETRIC_MINISWHITE ? 255 - v : v;
        }
    }
    tmsize_t line = TIFFScanlineSize(tif);
    if (line <= 0 || (uint64_t)line < ((uint64_t)g->w * bps * spp + 7) / 8)
        return Q_FAIL(Q_ERR_FORMAT, "page %u: bad TIFF scanline size: %s", page + 1, tiff_err(t));
    uint8_t *buf = malloc((size_t)line);
    if (!buf) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a TIFF scanline");
    q_status st = q_image_alloc(im, (int)g->w, (int)g->h, channels, 0);
    for (uint32_t y = 0; y < g->h && !st; y++) {
        if (abort && *abort) {
            st = Q_FAIL(Q_ERR_TIMEOUT, "timeout while decoding page %u", page + 1);
            break;
        }
        if (TIFFReadScanline(tif, buf, y, 0) < 0) {
            st = Q_FAIL(Q_ERR_FORMAT, "page %u: TIFF data unreadable at row %u: %s", page + 1, y,
                        tiff_err(t));
            break;
        }
        uint8_t *d = im->px + (size_t)y * im->stride;
        if (spp == 3) {
            memcpy(d, buf, (size_t)g->w * 3);
            continue;
        }
        unsigned mask = (1u << bps) - 1;
        for (uint32_t x = 0; x < g->w; x++) {
            size_t bit = (size_t)x * bps;
            unsigned v = (buf[bit >> 3] >> (8 - bps - (bit & 7))) & mask;
            if (channels == 1) {
                d[x] = lut[v][0];
            } else {
                memcpy(d + (size_t)x * 3, lut[v], 3);
            }
        }
    }
    free(buf);
    if (st)
        q_image_free(im);
    else
        doc_image_shrink_gray(im);
    return st;
}

/* Any other layout (tiles, 16-bit, CMYK, YCbCr JPEG, alpha, flipped
 * orientations) through libtiff's RGBA reader. Files in the normal
 * orientation are read in bands of whole strips or tiles, so the RGBA buffer
 * is a band, not the page; flipped files are read whole. */
static q_status tiff_read_rgba(doc_tiff *t, uint32_t page, const tiff_geom *g, const int *abort,
                               q_image *im) {
    TIFF *tif = t->tif;
    char emsg[1024] = "";
    TIFFRGBAImage img;
    if (!TIFFRGBAImageOK(tif, emsg) || !TIFFRGBAImageBegin(&img, tif, 0, emsg))
        return Q_FAIL(Q_ERR_UNSUPPORTED, "page %u: TIFF layout not readable: %s", page + 1, emsg);
    img.req_orientation = ORIENTATION_TOPLEFT;
    uint16_t photo = img.photometric, orient = ORIENTATION_TOPLEFT;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orient);
    int channels = photo == PHOTOMETRIC_MINISWHITE || photo == PHOTOMETRIC_MINISBLACK ? 1 : 3;
    uint32_t unit = 0;
    if (TIFFIsTiled(tif))
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &unit);
    else
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &unit);
    uint32_t band = g->h;
    if (orient == ORIENTATION_TOPLEFT && unit > 0 && unit < g->h)
        band = unit * Q_MAX(1u, 256u / unit); /* whole strips, about 256 rows */
    band = Q_MIN(band, g->h);
    uint32_t *raster = malloc((size_t)g->w * band * sizeof *raster);
    q_status st = raster ? q_image_alloc(im, (int)g->w, (int)g->h, channels, 0)
                         : Q_FAIL(Q_ERR_NOMEM, "out of memory for a TIFF band");
    for (uint32_t y0 = 0; y0 < g->h && !st; y0 += band) {
        if (abort && *abort) {
            st = Q_FAIL(Q_ERR_TIMEOUT, "timeout while decoding page %u", page + 1);
            break;
        }
        uint32_t rows = Q_MIN(band, g->h - y0);
        img.row_offset = (int)y0;
        img.col_offset = 0;
        t->err[0] = 0;
        if (!TIFFRGBAImageGet(&img, raster, g->w, rows)) {
            st = Q_FAIL(Q_ERR_FORMAT, "page %u: TIFF data unreadable near row %u: %s", page + 1, y0,
                        tiff_err(t));
            break;
        }
        for (uint32_t r = 0; r < rows; r++) {
            const uint32_t *p = raster + (size_t)r * g->w;
            uint8_t *d = im->px + (size_t)(y0 + r) * im->stride;
            for (uint32_t x = 0; x < g->w; x++) {
                /* Premultiplied alpha: over white is c + 255 - a. */
                unsigned a = 255 - TIFFGetA(p[x]);
                unsigned cr = Q_MIN(255u, TIFFGetR(p[x]) + a);
                if (channels == 1) {
                    d[x] = (uint8_t)cr;
                } else {
                    d[3 * x] = (uint8_t)cr;
                    d[3 * x + 1] = (uint8_t)Q_MIN(255u, TIFFGetG(p[x]) + a);
                    d[3 * x + 2] = (uint8_t)Q_MIN(255u, TIFFGetB(p[x]) + a);
                }
            }
        }
    }
    TIFFRGBAImageEnd(&img);
    free(raster);
    if (st)
        q_image_free(im);
    else
        doc_image_shrink_gray(im);
    return st;
}

q_status doc_tiff_page_image(doc_tiff *t, uint32_t page, const int *abort, doc_page_image *out) {
    memset(out, 0, sizeof *out);
    q_status st = tiff_select(t, page);
    if (st) return st;
    tiff_geom g = tiff_geometry(t->tif);
    /* The header's claim is checked before a single row is allocated. */
    st = doc_check_pixels(g.w, g.h, page, t->opt);
    if (st) return st;
    out->width = (float)(g.w * 72.0 / g.xdpi);
    out->height = (float)(g.h * 72.0 / g.ydpi);
    out->pt_per_px_x = (float)(72.0 / g.xdpi);
    out->pt_per_px_y = (float)(72.0 / g.ydpi);
    uint16_t photo = 0, bps = 1, spp = 1;
    t->err[0] = 0;
    if (tiff_direct_ok(t->tif, &photo, &bps, &spp))
        st = tiff_read_direct(t, page, &g, photo, bps, spp, abort, &out->img);
    else
        st = tiff_read_rgba(t, page, &g, abort, &out->img);
    /* A failed or partial read leaves libtiff mid-strip: reload next time. */
    if (st) t->cur = -1;
    return st;
}

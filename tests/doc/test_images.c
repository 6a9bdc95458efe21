/* Page pixels for OCR, as the OCR pipeline gets them: files written here with
 * libtiff (G4, G3, LZW, Deflate, JPEG, PackBits; 1-bit, 2/4/8/16-bit gray,
 * RGB, palette; strips, tiles, a bottom-up file; multi-page; with and without
 * resolution tags), libpng and libjpeg, and hand-made PDFs, go through
 * doc_process with an OCR callback that calls doc_page_image_get and checks
 * pixels, size in points and pixel scale; then the failures: a TIFF named
 * .png, a corrupt directory, a strip past the end, a truncated file, a header
 * claiming 100000x100000 pixels, --max-pixels, no OCR, a passed deadline. */
#include <stdio.h>

#include "testlib.h"

#include <jpeglib.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

/* ---- known pixel content ------------------------------------------------ */

typedef enum { P_NONE, P_BITS, P_GRAY, P_RAMP, P_RGB, P_SMOOTH, P_PAL, P_PALGRAY, P_PAL16 } pattern;

static const uint8_t PAL[4][3] = {{255, 255, 255}, {0, 0, 0}, {255, 0, 0}, {0, 0, 255}};
static const uint8_t PALGRAY[4] = {0, 85, 170, 255};

static int pal_index(int x, int y) {
    return (x / 4 + y / 4) % 4;
}

/* Expected R, G, B of pattern p at (x, y) in a w x h page. */
static void expect_px(pattern p, int x, int y, int w, int h, uint8_t c[3]) {
    switch (p) {
    case P_BITS:
        c[0] = c[1] = c[2] = ((x / 5 + y / 3) % 2) ? 255 : 0;
        break;
    case P_GRAY:
        c[0] = c[1] = c[2] = (uint8_t)((x * 7 + y * 13) & 255);
        break;
    case P_RAMP:
        c[0] = c[1] = c[2] = (uint8_t)(x * 255 / (w - 1));
        break;
    case P_RGB:
        c[0] = (uint8_t)(x * 5), c[1] = (uint8_t)(y * 3), c[2] = (uint8_t)((x + y) * 2);
        break;
    case P_SMOOTH:
        c[0] = (uint8_t)(x * 255 / (w - 1)), c[1] = (uint8_t)(y * 255 / (h - 1)), c[2] = 128;
        break;
    case P_PAL:
    case P_PAL16:
        memcpy(c, PAL[pal_index(x, y)], 3);
        break;
    case P_PALGRAY:
        c[0] = c[1] = c[2] = PALGRAY[pal_index(x, y)];
        break;
    default:
        c[0] = c[1] = c[2] = 0;
    }
}

static int pattern_channels(pattern p) {
    return p == P_RGB || p == P_SMOOTH || p == P_PAL || p == P_PAL16 ? 3 : 1;
}

/* ---- the OCR callback: a real consumer of doc_page_image_get ------------- */

typedef struct {
    int called, ok, w, h, channels;
    float width, height, ppx, ppy;
    int rotation;
    double max_diff, mean_diff, mean; /* against the expected pattern; mean gray */
    char err[300];
} got_page;

typedef struct {
    const pattern *expect; /* per page, or NULL */
    int nexpect;
    got_page page[16];
} probe;

static void compare(const q_image *im, pattern p, got_page *g) {
    double sum = 0, all = 0, mx = 0;
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            const uint8_t *px = im->px + (size_t)y * im->stride + (size_t)x * im->channels;
            uint8_t c[3];
            expect_px(p, x, y, im->w, im->h, c);
            for (int k = 0; k < 3; k++) {
                double d = fabs((double)px[im->channels == 3 ? k : 0] - c[k]);
                sum += d;
                mx = d > mx ? d : mx;
            }
            all += px[0];
        }
    size_t n = (size_t)im->w * (size_t)im->h;
    g->max_diff = p == P_NONE ? 0 : mx;
    g->mean_diff = p == P_NONE ? 0 : sum / (3.0 * (double)n);
    g->mean = all / (double)n;
}

static q_status probe_ocr(void *user, doc_file *f, uint32_t page, lay_doc *rec) {
    probe *pr = user;
    got_page *g = page < 16 ? &pr->page[page] : &pr->page[15];
    g->called++;
    doc_page_image pi;
    q_status st = doc_page_image_get(f, page, &pi);
    if (st) {
        snprintf(g->err, sizeof g->err, "%s", q_errmsg());
        CHECK(pi.img.px == NULL && pi.width == 0, "page %u: output not zeroed on failure", page);
        return st;
    }
    g->ok = 1;
    g->w = pi.img.w, g->h = pi.img.h, g->channels = pi.img.channels;
    g->width = pi.width, g->height = pi.height;
    g->ppx = pi.pt_per_px_x, g->ppy = pi.pt_per_px_y;
    g->rotation = pi.rotation;
    CHECK(pi.img.stride >= (size_t)pi.img.w * (size_t)pi.img.channels, "page %u stride", page);
    compare(&pi.img, pr->expect && (int)page < pr->nexpect ? pr->expect[page] : P_NONE, g);
    /* What OCR does with the page: lines in page points, here one box. */
    st = lay_page_begin(rec, page, pi.width, pi.height, pi.rotation);
    float bb[4] = {0, 0, pi.img.w * pi.pt_per_px_x, pi.img.h * pi.pt_per_px_y};
    if (!st) st = lay_line_add(rec, bb, 0.9f, 10, "page", 4);
    if (!st) st = lay_page_end(rec, LAY_PAGE_OCR, 0, 1);
    doc_page_image_free(&pi);
    doc_page_image_free(&pi); /* free twice and NULL-safe: both allowed */
    doc_page_image_free(NULL);
    return st;
}

static void run_ocr(doc_reader *r, const char *path, const doc_options *opt, probe *pr,
                    lay_doc *d) {
    doc_options def = {0};
    lay_doc_init(d, 0, path);
    q_status st = doc_process(r, opt ? opt : &def, probe_ocr, pr, d);
    CHECK(st == Q_OK, "%s: doc_process %s: %s", path, q_status_name(st), q_errmsg());
}

static int near(double a, double b, double tol) {
    return fabs(a - b) <= tol;
}

/* ---- TIFF writing --------------------------------------------------------- */

typedef struct {
    int w, h;
    pattern pat;
    uint16_t compression, photometric, bps;
    float xres, yres; /* 0: no resolution tags */
    uint16_t unit;
    int tiled, bottom_up;
} tiff_page;

static void pack_row(const tiff_page *p, int y, uint8_t *row) {
    int fy = p->bottom_up ? p->h - 1 - y : y; /* file row y shows display row fy */
    size_t bytes = p->bps < 8 ? ((size_t)p->w * p->bps + 7) / 8 : 0;
    if (bytes) memset(row, 0, bytes);
    for (int x = 0; x < p->w; x++) {
        uint8_t c[3];
        expect_px(p->pat, x, fy, p->w, p->h, c);
        unsigned v;
        if (p->photometric == PHOTOMETRIC_PALETTE) {
            v = (unsigned)pal_index(x, fy);
        } else if (p->photometric == PHOTOMETRIC_RGB || p->photometric == PHOTOMETRIC_YCBCR) {
            memcpy(row + 3 * x, c, 3);
            continue;
        } else {
            v = p->photometric == PHOTOMETRIC_MINISWHITE ? 255u - c[0] : c[0];
            if (p->bps == 1) v = v ? 1 : 0;
            if (p->bps == 16) {
                ((uint16_t *)(void *)row)[x] = (uint16_t)(v * 257);
                continue;
            }
        }
        if (p->bps == 8) {
            row[x] = (uint8_t)v;
        } else {
            size_t bit = (size_t)x * p->bps;
            row[bit >> 3] |= (uint8_t)(v << (8 - p->bps - (bit & 7)));
        }
    }
}

static void set_palette(TIFF *t, const tiff_page *p) {
    uint16_t r[256] = {0}, g[256] = {0}, b[256] = {0};
    for (int i = 0; i < 4; i++) {
        int gray = p->pat == P_PALGRAY;
        r[i] = (uint16_t)((gray ? PALGRAY[i] : PAL[i][0]) * 257);
        g[i] = (uint16_t)((gray ? PALGRAY[i] : PAL[i][1]) * 257);
        b[i] = (uint16_t)((gray ? PALGRAY[i] : PAL[i][2]) * 257);
    }
    TIFFSetField(t, TIFFTAG_COLORMAP, r, g, b);
}

static int write_tiff(const char *path, const tiff_page *pages, int n) {
    TIFF *t = TIFFOpen(path, "w");
    if (!t) return -1;
    for (int i = 0; i < n; i++) {
        const tiff_page *p = &pages[i];
        int spp = p->photometric == PHOTOMETRIC_RGB || p->photometric == PHOTOMETRIC_YCBCR ? 3 : 1;
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)p->w);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)p->h);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, p->bps);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)spp);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_COMPRESSION, p->compression);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, p->photometric);
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
        TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)i, (uint16_t)n);
        if (p->bottom_up) TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_BOTLEFT);
        if (p->photometric == PHOTOMETRIC_PALETTE) set_palette(t, p);
        if (p->compression == COMPRESSION_JPEG) {
            TIFFSetField(t, TIFFTAG_JPEGQUALITY, 95);
            TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        }
        if (p->xres > 0) {
            TIFFSetField(t, TIFFTAG_XRESOLUTION, p->xres);
            TIFFSetField(t, TIFFTAG_YRESOLUTION, p->yres);
            TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, p->unit);
        }
        size_t rowbytes = p->bps < 8 ? ((size_t)p->w * p->bps + 7) / 8
                                     : (size_t)p->w * (size_t)spp * (p->bps / 8);
        uint8_t *row = calloc(1, rowbytes + 16);
        if (p->tiled) {
            const int ts = 16;
            TIFFSetField(t, TIFFTAG_TILEWIDTH, ts);
            TIFFSetField(t, TIFFTAG_TILELENGTH, ts);
            size_t tb = (size_t)ts * ts * (size_t)spp;
            uint8_t *tile = malloc(tb);
            for (int ty = 0; ty < p->h; ty += ts)
                for (int tx = 0; tx < p->w; tx += ts) {
                    memset(tile, 0, tb);
                    for (int y = ty; y < ty + ts && y < p->h; y++) {
                        pack_row(p, y, row);
                        for (int x = tx; x < tx + ts && x < p->w; x++)
                            memcpy(tile + ((size_t)(y - ty) * ts + (size_t)(x - tx)) * spp,
                                   row + (size_t)x * spp, (size_t)spp);
                    }
                    TIFFWriteTile(t, tile, (uint32_t)tx, (uint32_t)ty, 0, 0);
                }
            free(tile);
        } else {
            TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, p->compression == COMPRESSION_JPEG ? 16 : 8);
            for (int y = 0; y < p->h; y++) {
                pack_row(p, y, row);
                if (TIFFWriteScanline(t, row, (uint32_t)y, 0) < 0) {
                    free(row);
                    TIFFClose(t);
                    return -1;
                }
            }
        }
        free(row);
        TIFFWriteDirectory(t);
    }
    TIFFClose(t);
    return 0;
}

/* ---- PNG and JPEG writing ------------------------------------------------- */

/* color_type: PNG_COLOR_TYPE_GRAY, _RGB, _RGB_ALPHA (left half transparent),
 * _PALETTE; dpi 0 writes no pHYs. */
static int write_png(const char *path, int w, int h, int color_type, pattern pat, double dpi) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    int ch = color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_PALETTE ? 1
             : color_type == PNG_COLOR_TYPE_RGB                                        ? 3
                                                                                       : 4;
    uint8_t *row = malloc((size_t)w * 4);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(fp);
        free(row);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4];
        for (int i = 0; i < 4; i++)
            pal[i].red = PAL[i][0], pal[i].green = PAL[i][1], pal[i].blue = PAL[i][2];
        png_set_PLTE(png, info, pal, 4);
    }
    if (dpi > 0) {
        png_uint_32 ppm = (png_uint_32)lrint(dpi / 0.0254);
        png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
    }
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t c[3];
            expect_px(pat, x, y, w, h, c);
            if (color_type == PNG_COLOR_TYPE_PALETTE)
                row[x] = (uint8_t)pal_index(x, y);
            else
                memcpy(row + (size_t)x * ch, c, ch == 1 ? 1 : 3);
            if (ch == 4) row[(size_t)x * 4 + 3] = x < w / 2 ? 0 : 255;
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);
    free(row);
    return 0;
}

/* density_unit 1 = dpi, 0 = aspect ratio only (no resolution). */
static int write_jpeg(const char *path, int w, int h, int gray, int unit, int dpi, pattern pat) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, fp);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = gray ? 1 : 3;
    c.in_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    c.write_JFIF_header = TRUE;
    c.density_unit = (UINT8)unit;
    c.X_density = c.Y_density = (UINT16)(unit ? dpi : 1);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * 3);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t px[3];
            expect_px(pat, x, y, w, h, px);
            if (gray)
                row[x] = px[0];
            else
                memcpy(row + 3 * x, px, 3);
        }
        JSAMPROW rp = row;
        jpeg_write_scanlines(&c, &rp, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(fp);
    free(row);
    return 0;
}

/* ---- file surgery --------------------------------------------------------- */

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static void write_all(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

/* Offset of the IFD entry for `tag` in directory `dir` of a little-endian
 * classic TIFF, or 0. */
static size_t ifd_entry(const char *path, int dir, uint16_t tag) {
    TIFF *t = TIFFOpen(path, "r");
    if (!t) return 0;
    size_t at = 0;
    if (TIFFSetDirectory(t, (tdir_t)dir)) {
        uint64_t off = TIFFCurrentDirOffset(t);
        size_t n;
        unsigned char *b = (unsigned char *)read_all(path, &n);
        unsigned cnt = b[off] | b[off + 1] << 8;
        for (unsigned i = 0; i < cnt; i++) {
            size_t e = off + 2 + 12 * i;
            if ((b[e] | b[e + 1] << 8) == tag) at = e;
        }
        free(b);
    }
    TIFFClose(t);
    return at;
}

/* ---- TIFF cases ----------------------------------------------------------- */

static const tiff_page SCAN[] = {
    {200, 100, P_BITS, COMPRESSION_CCITTFAX4, PHOTOMETRIC_MINISWHITE, 1, 200, 200, RESUNIT_INCH, 0,
     0},
    {160, 120, P_BITS, COMPRESSION_CCITTFAX3, PHOTOMETRIC_MINISBLACK, 1, 0, 0, 0, 0, 0},
    {128, 90, P_GRAY, COMPRESSION_LZW, PHOTOMETRIC_MINISBLACK, 8, 100, 100, RESUNIT_CENTIMETER, 0,
     0},
    {100, 80, P_RGB, COMPRESSION_ADOBE_DEFLATE, PHOTOMETRIC_RGB, 8, 300, 300, RESUNIT_INCH, 0, 0},
    {64, 48, P_SMOOTH, COMPRESSION_JPEG, PHOTOMETRIC_YCBCR, 8, 150, 150, RESUNIT_INCH, 0, 0},
    {90, 70, P_PAL16, COMPRESSION_PACKBITS, PHOTOMETRIC_PALETTE, 4, 0, 0, 0, 0, 0},
    {90, 70, P_PALGRAY, COMPRESSION_PACKBITS, PHOTOMETRIC_PALETTE, 8, 0, 0, 0, 0, 0},
    {204, 98, P_BITS, COMPRESSION_CCITTFAX4, PHOTOMETRIC_MINISWHITE, 1, 204, 98, RESUNIT_INCH, 0,
     0},
    {70, 50, P_RGB, COMPRESSION_ADOBE_DEFLATE, PHOTOMETRIC_RGB, 8, 0, 0, 0, 1, 0},
    {60, 40, P_GRAY, COMPRESSION_NONE, PHOTOMETRIC_MINISBLACK, 16, 0, 0, 0, 0, 0},
    {60, 40, P_GRAY, COMPRESSION_LZW, PHOTOMETRIC_MINISBLACK, 8, 0, 0, 0, 0, 1},
};
enum { NSCAN = (int)Q_ARRAY_LEN(SCAN) };

static double page_dpi(const tiff_page *p, int y) {
    double r = y ? p->yres : p->xres;
    if (r <= 0) return 300;
    return p->unit == RESUNIT_CENTIMETER ? r * 2.54 : r;
}

static void check_scan(doc_reader *r, const char *path, const char *what) {
    pattern pats[NSCAN];
    for (int i = 0; i < NSCAN; i++)
        pats[i] = SCAN[i].pat;
    probe pr = {.expect = pats, .nexpect = NSCAN};
    lay_doc d;
    run_ocr(r, path, NULL, &pr, &d);
    CHECK(d.status == LAY_DOC_OK && d.error[0] == 0, "%s: status %d '%s'", what, d.status, d.error);
    CHECK(d.pages == NSCAN && lay_doc_npages(&d) == NSCAN && d.ocr_pages == NSCAN,
          "%s: pages %u recorded %zu ocr %u", what, d.pages, lay_doc_npages(&d), d.ocr_pages);
    for (int i = 0; i < NSCAN; i++) {
        const tiff_page *p = &SCAN[i];
        got_page *g = &pr.page[i];
        CHECK(g->called == 1 && g->ok, "%s page %d: called %d ok %d '%s'", what, i, g->called,
              g->ok, g->err);
        if (!g->ok) continue;
        CHECK(g->w == p->w && g->h == p->h, "%s page %d: %dx%d px", what, i, g->w, g->h);
        CHECK(g->channels == pattern_channels(p->pat), "%s page %d: %d channels, want %d", what, i,
              g->channels, pattern_channels(p->pat));
        double lossy = p->compression == COMPRESSION_JPEG;
        CHECK(lossy ? g->mean_diff < 3 && g->max_diff < 40 : g->max_diff == 0,
              "%s page %d: pixels differ by max %g mean %g", what, i, g->max_diff, g->mean_diff);
        double xd = page_dpi(p, 0), yd = page_dpi(p, 1);
        CHECK(near(g->width, p->w * 72.0 / xd, 0.01) && near(g->height, p->h * 72.0 / yd, 0.01),
              "%s page %d: %gx%g pt, want %gx%g", what, i, g->width, g->height, p->w * 72.0 / xd,
              p->h * 72.0 / yd);
        CHECK(near(g->ppx, 72.0 / xd, 1e-4) && near(g->ppy, 72.0 / yd, 1e-4),
              "%s page %d: pt/px %g %g", what, i, g->ppx, g->ppy);
        lay_page *lp = lay_doc_page(&d, (size_t)i);
        CHECK(lp->kind == LAY_PAGE_OCR && near(lp->width, g->width, 1e-3) && lp->rotation == 0,
              "%s page %d record", what, i);
    }
    lay_doc_free(&d);
}

static void test_tiff_formats(doc_reader *r) {
    const char *path = t_path(t_tmp(), "scan.tif");
    CHECK(write_tiff(path, SCAN, NSCAN) == 0, "write %s", path);
    check_scan(r, path, "scan.tif");
    /* Recognised by its bytes: the same file named .png. */
    size_t n;
    char *b = read_all(path, &n);
    write_all(t_path(t_tmp(), "scan_named.png"), b, n);
    free(b);
    check_scan(r, t_path(t_tmp(), "scan_named.png"), "TIFF named .png");
}

/* Three gray pages; page 2 broken in one of two ways. */
static const tiff_page THREE[] = {
    {40, 30, P_GRAY, COMPRESSION_LZW, PHOTOMETRIC_MINISBLACK, 8, 0, 0, 0, 0, 0},
    {40, 30, P_GRAY, COMPRESSION_NONE, PHOTOMETRIC_MINISBLACK, 8, 0, 0, 0, 0, 0},
    {40, 30, P_GRAY, COMPRESSION_LZW, PHOTOMETRIC_MINISBLACK, 8, 0, 0, 0, 0, 0},
};

static void check_middle_failed(doc_reader *r, const char *path, const char *what,
                                const char *reason) {
    pattern pats[3] = {P_GRAY, P_GRAY, P_GRAY};
    probe pr = {.expect = pats, .nexpect = 3};
    lay_doc d;
    run_ocr(r, path, NULL, &pr, &d);
    printf("%s: status %d '%s'\n", what, d.status, d.error);
    CHECK(d.status == LAY_DOC_ERROR && strncmp(d.error, "1 of 3 pages failed: page 2", 27) == 0,
          "%s: status %d '%s'", what, d.status, d.error);
    CHECK(strstr(d.error, reason) != NULL, "%s: reason '%s' lacks '%s'", what, d.error, reason);
    CHECK(d.pages == 3 && lay_doc_npages(&d) == 3, "%s: %u pages, %zu recorded", what, d.pages,
          lay_doc_npages(&d));
    if (lay_doc_npages(&d) == 3) {
        CHECK(lay_doc_page(&d, 0)->kind == LAY_PAGE_OCR &&
                  lay_doc_page(&d, 2)->kind == LAY_PAGE_OCR,
              "%s: pages 1 and 3 kept", what);
        CHECK(lay_doc_page(&d, 1)->kind == LAY_PAGE_FAILED, "%s: page 2 failed", what);
    }
    CHECK(pr.page[0].max_diff == 0 && pr.page[2].ok && pr.page[2].max_diff == 0,
          "%s: pixels of the good pages", what);
    lay_doc_free(&d);
}

static void test_tiff_broken_pages(doc_reader *r) {
    const char *T = t_tmp();
    size_t n;
    /* The directory of page 2 loses its ImageLength (its type made invalid). */
    const char *p1 = t_path(T, "bad_dir.tif");
    write_tiff(p1, THREE, 3);
    size_t e = ifd_entry(p1, 1, TIFFTAG_IMAGELENGTH);
    char *b = read_all(p1, &n);
    CHECK(e > 0, "ImageLength entry");
    if (e) {
        b[e + 2] = 0, b[e + 3] = 0;
        write_all(p1, b, n);
        check_middle_failed(r, p1, "corrupt directory", "unreadable TIFF directory");
    }
    free(b);
    /* Page 2's strip lies past the end of the file. */
    const char *p2 = t_path(T, "bad_strip.tif");
    write_tiff(p2, THREE, 3);
    e = ifd_entry(p2, 1, TIFFTAG_STRIPOFFSETS);
    b = read_all(p2, &n);
    CHECK(e > 0, "StripOffsets entry");
    if (e) {
        /* Four strips of 8 rows: the entry points to the array of offsets,
         * whose first one is moved far past the end. */
        uint32_t arr, far = 0x7ffff000;
        memcpy(&arr, b + e + 8, 4);
        memcpy(b + arr, &far, 4);
        write_all(p2, b, n);
        check_middle_failed(r, p2, "strip past the end", "TIFF data unreadable at row 0");
    }
    free(b);
}

static void test_tiff_truncated(doc_reader *r) {
    size_t n;
    char *b = read_all(t_path(t_tmp(), "scan.tif"), &n);
    if (!b) return;
    const size_t cuts[] = {6, 12, n / 10, n / 2, n - 20};
    for (size_t k = 0; k < Q_ARRAY_LEN(cuts); k++) {
        const char *path = t_path(t_tmp(), "cut.tif");
        write_all(path, b, cuts[k]);
        probe pr = {0};
        lay_doc d;
        run_ocr(r, path, NULL, &pr, &d);
        printf("scan.tif cut to %zu of %zu bytes: status %d, %zu pages: '%s'\n", cuts[k], n,
               d.status, lay_doc_npages(&d), d.error);
        CHECK(d.status == LAY_DOC_ERROR && d.error[0], "cut %zu: status %d '%s'", cuts[k], d.status,
              d.error);
        CHECK(lay_doc_npages(&d) <= d.pages && strchr(d.error, '\n') == NULL, "cut %zu record",
              cuts[k]);
        lay_doc_free(&d);
    }
    free(b);
}

static void put16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v) {
    put16(p, v & 0xffff), put16(p + 2, v >> 16);
}

/* A hand-made TIFF whose header claims 100000 x 100000 1-bit G4 pixels over
 * a 16-byte strip: the page must fail on the claim, before any allocation. */
static void test_tiff_huge_header(doc_reader *r) {
    unsigned char f[8 + 2 + 9 * 12 + 4 + 16] = {'I', 'I', 42, 0};
    put32(f + 4, 8);
    put16(f + 8, 9);
    const uint32_t e[9][3] = {{256, 4, 100000}, {257, 4, 100000}, {258, 3, 1},
                              {259, 3, 4},      {262, 3, 0},      {273, 4, 8 + 2 + 9 * 12 + 4},
                              {277, 3, 1},      {278, 4, 100000}, {279, 4, 16}};
    for (int i = 0; i < 9; i++) {
        unsigned char *p = f + 10 + 12 * i;
        put16(p, e[i][0]);
        put16(p + 2, e[i][1]);
        put32(p + 4, 1);
        if (e[i][1] == 3)
            put16(p + 8, e[i][2]);
        else
            put32(p + 8, e[i][2]);
    }
    const char *path = t_path(t_tmp(), "huge.tif");
    write_all(path, f, sizeof f);
    probe pr = {0};
    lay_doc d;
    run_ocr(r, path, NULL, &pr, &d);
    printf("huge header: status %d '%s'\n", d.status, d.error);
    CHECK(d.status == LAY_DOC_ERROR && strstr(d.error, "--max-pixels") &&
              strstr(d.error, "100000x100000"),
          "huge: status %d '%s'", d.status, d.error);
    CHECK(lay_doc_npages(&d) == 1 && lay_doc_page(&d, 0)->kind == LAY_PAGE_FAILED &&
              near(lay_doc_page(&d, 0)->width, 24000, 0.5),
          "huge: one failed page 24000 pt wide");
    lay_doc_free(&d);
}

static void test_max_pixels_option(doc_reader *r) {
    doc_options opt = {.max_pixels = 5000}; /* pages of 4800 px and below pass */
    probe pr = {0};
    lay_doc d;
    run_ocr(r, t_path(t_tmp(), "scan.tif"), &opt, &pr, &d);
    int ok = 0, over = 0;
    for (int i = 0; i < NSCAN; i++) {
        int big = SCAN[i].w * SCAN[i].h > 5000;
        ok += pr.page[i].ok;
        over += big;
        CHECK(pr.page[i].ok == !big, "max_pixels page %d ok %d: '%s'", i, pr.page[i].ok,
              pr.page[i].err);
    }
    CHECK(d.status == LAY_DOC_ERROR && strstr(d.error, "--max-pixels"), "max_pixels '%s'", d.error);
    CHECK(ok == NSCAN - over && ok > 0, "max_pixels: %d pages ok", ok);
    lay_doc_free(&d);
}

static void test_no_ocr_and_deadline(doc_reader *r) {
    lay_doc d;
    t_process(r, t_path(t_tmp(), "scan.tif"), &d, NULL);
    CHECK(d.status == LAY_DOC_ERROR &&
              strcmp(d.error, "TIFF image: needs OCR, which this command does not run") == 0,
          "no OCR: '%s'", d.error);
    lay_doc_free(&d);
    doc_options opt = {.deadline = q_now() - 1};
    probe pr = {0};
    run_ocr(r, t_path(t_tmp(), "scan.tif"), &opt, &pr, &d);
    CHECK(d.status == LAY_DOC_TIMEOUT && strstr(d.error, "at page 1 of 11"), "deadline: %d '%s'",
          d.status, d.error);
    CHECK(pr.page[0].called == 0, "no page decoded after the deadline");
    lay_doc_free(&d);
}

/* ---- PNG and JPEG --------------------------------------------------------- */

typedef struct {
    const char *name;
    int kind; /* 0 png, 1 jpeg */
    int color_type, gray, unit;
    pattern pat;
    double dpi; /* written; 0 = none */
    double want_dpi;
    int channels;
} picture_case;

static void test_pictures(doc_reader *r) {
    const picture_case cases[] = {
        {"gray.png", 0, PNG_COLOR_TYPE_GRAY, 0, 0, P_GRAY, 200, 200, 1},
        {"rgb.png", 0, PNG_COLOR_TYPE_RGB, 0, 0, P_RGB, 0, 300, 3},
        {"pal.png", 0, PNG_COLOR_TYPE_PALETTE, 0, 0, P_PAL, 0, 300, 3},
        {"alpha.png", 0, PNG_COLOR_TYPE_RGB_ALPHA, 0, 0, P_RGB, 150, 150, 3},
        {"rgb.jpg", 1, 0, 0, 1, P_SMOOTH, 150, 150, 3},
        {"gray.jpg", 1, 0, 1, 0, P_RAMP, 0, 300, 1},
    };
    const int w = 120, h = 80;
    for (size_t i = 0; i < Q_ARRAY_LEN(cases); i++) {
        const picture_case *c = &cases[i];
        const char *path = t_path(t_tmp(), c->name);
        int wr = c->kind == 0 ? write_png(path, w, h, c->color_type, c->pat, c->dpi)
                              : write_jpeg(path, w, h, c->gray, c->unit, (int)c->dpi, c->pat);
        CHECK(wr == 0, "write %s", c->name);
        pattern pat = c->pat;
        probe pr = {.expect = &pat, .nexpect = 1};
        lay_doc d;
        run_ocr(r, path, NULL, &pr, &d);
        got_page *g = &pr.page[0];
        CHECK(d.status == LAY_DOC_OK && d.pages == 1 && d.ocr_pages == 1 && g->ok,
              "%s: status %d '%s' ok %d '%s'", c->name, d.status, d.error, g->ok, g->err);
        CHECK(g->w == w && g->h == h && g->channels == c->channels, "%s: %dx%dx%d", c->name, g->w,
              g->h, g->channels);
        CHECK(near(g->width, w * 72.0 / c->want_dpi, 0.05) &&
                  near(g->ppx, 72.0 / c->want_dpi, 1e-3) && near(g->ppy, 72.0 / c->want_dpi, 1e-3),
              "%s: %g pt wide, %g pt/px; want %g dpi", c->name, g->width, g->ppx, c->want_dpi);
        if (c->color_type == PNG_COLOR_TYPE_RGB_ALPHA) {
            /* Left half transparent: white; right half the pattern. */
            CHECK(g->mean > 128, "%s: transparent half is white (mean %g)", c->name, g->mean);
        } else if (c->kind == 1) {
            CHECK(g->mean_diff < 3 && g->max_diff < 40, "%s: diff max %g mean %g", c->name,
                  g->max_diff, g->mean_diff);
        } else {
            CHECK(g->max_diff == 0, "%s: diff max %g", c->name, g->max_diff);
        }
        lay_doc_free(&d);
    }
}

/* ---- PDF ------------------------------------------------------------------- */

static char *image_bytes(pattern p, int w, int h, int rgb, size_t *n) {
    *n = (size_t)w * (size_t)h * (rgb ? 3 : 1);
    char *b = malloc(*n);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t c[3];
            expect_px(p, x, y, w, h, c);
            memcpy(b + ((size_t)y * w + x) * (rgb ? 3 : 1), c, rgb ? 3 : 1);
        }
    return b;
}

/* 1-bit rows, sample 1 where P_BITS is white (for an image mask, 0 paints). */
static char *mask_bytes(int w, int h, size_t *n) {
    size_t row = ((size_t)w + 7) / 8;
    *n = row * (size_t)h;
    char *b = calloc(1, *n);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t c[3];
            expect_px(P_BITS, x, y, w, h, c);
            if (c[0]) b[(size_t)y * row + (size_t)x / 8] |= (char)(0x80 >> (x % 8));
        }
    return b;
}

static int add_page(t_pdf *p, int parent, const char *box, int rotate, const char *res,
                    const char *content) {
    int c = t_pdf_stream(p, "", content, strlen(content));
    char buf[1024];
    snprintf(buf, sizeof buf,
             "<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Rotate %d /Resources << %s >> "
             "/Contents %d 0 R >>",
             parent, box, rotate, res, c);
    return t_pdf_obj(p, buf);
}

/* Pages: 0 gray scan 200x100 on 144x72 pt; 1 RGB scan 50x40 stretched over
 * 100x100 pt; 2 an image mask 64x32 on 200x100 pt; 3 a text page 612x792;
 * 4 the gray scan with /Rotate 90; 5 the gray scan with a line of text. */
static void test_pdf(doc_reader *r) {
    t_pdf *p = t_pdf_new();
    int cat = t_pdf_obj(p, ""), pages = t_pdf_obj(p, "");
    int font = t_pdf_obj(p, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    size_t n;
    char *g = image_bytes(P_GRAY, 200, 100, 0, &n);
    int im0 = t_pdf_stream(p,
                           "/Type /XObject /Subtype /Image /Width 200 /Height 100 "
                           "/ColorSpace /DeviceGray /BitsPerComponent 8",
                           g, n);
    free(g);
    char *c = image_bytes(P_RGB, 50, 40, 1, &n);
    int im1 = t_pdf_stream(p,
                           "/Type /XObject /Subtype /Image /Width 50 /Height 40 "
                           "/ColorSpace /DeviceRGB /BitsPerComponent 8",
                           c, n);
    free(c);
    char *m = mask_bytes(64, 32, &n);
    int im2 = t_pdf_stream(p,
                           "/Type /XObject /Subtype /Image /Width 64 /Height 32 "
                           "/ImageMask true /BitsPerComponent 1",
                           m, n);
    free(m);
    char res[4][256];
    snprintf(res[0], sizeof res[0], "/XObject << /Im %d 0 R >>", im0);
    snprintf(res[1], sizeof res[1], "/XObject << /Im %d 0 R >>", im1);
    snprintf(res[2], sizeof res[2], "/XObject << /Im %d 0 R >>", im2);
    snprintf(res[3], sizeof res[3], "/Font << /F1 %d 0 R >> /XObject << /Im %d 0 R >>", font, im0);
    int kid[6];
    kid[0] = add_page(p, pages, "0 0 144 72", 0, res[0], "q 144 0 0 72 0 0 cm /Im Do Q");
    kid[1] = add_page(p, pages, "0 0 100 100", 0, res[1], "q 100 0 0 100 0 0 cm /Im Do Q");
    kid[2] = add_page(p, pages, "0 0 200 100", 0, res[2], "0 g q 200 0 0 100 0 0 cm /Im Do Q");
    kid[3] = add_page(p, pages, "0 0 612 792", 0, res[3],
                      "BT /F1 24 Tf 72 700 Td (A text page, rendered for OCR) Tj ET");
    kid[4] = add_page(p, pages, "0 0 144 72", 90, res[0], "q 144 0 0 72 0 0 cm /Im Do Q");
    kid[5] = add_page(p, pages, "0 0 144 72", 0, res[3],
                      "q 144 0 0 72 0 0 cm /Im Do Q BT /F1 8 Tf 10 10 Td (label) Tj ET");
    char buf[512];
    snprintf(buf, sizeof buf,
             "<< /Type /Pages /Kids [%d 0 R %d 0 R %d 0 R %d 0 R %d 0 R %d 0 R] "
             "/Count 6 >>",
             kid[0], kid[1], kid[2], kid[3], kid[4], kid[5]);
    t_pdf_set(p, pages, buf);
    snprintf(buf, sizeof buf, "<< /Type /Catalog /Pages %d 0 R >>", pages);
    t_pdf_set(p, cat, buf);
    const char *path = t_path(t_tmp(), "scans.pdf");
    t_pdf_write(p, cat, path);

    pattern pats[6] = {P_GRAY, P_RGB, P_BITS, P_NONE, P_NONE, P_NONE};
    probe pr = {.expect = pats, .nexpect = 6};
    doc_options opt = {.ocr_all = 1, .dpi = 100};
    lay_doc d;
    run_ocr(r, path, &opt, &pr, &d);
    CHECK(d.status == LAY_DOC_OK && d.ocr_pages == 6, "pdf: status %d '%s', %u OCR pages", d.status,
          d.error, d.ocr_pages);
    got_page *gp = pr.page;
    /* Native scans: the image's own pixels and scale. */
    CHECK(gp[0].ok && gp[0].w == 200 && gp[0].h == 100 && gp[0].channels == 1 &&
              gp[0].max_diff == 0 && near(gp[0].ppx, 0.72, 1e-5) && near(gp[0].ppy, 0.72, 1e-5) &&
              gp[0].width == 144 && gp[0].height == 72,
          "pdf gray scan: %dx%dx%d diff %g pt/px %g %g", gp[0].w, gp[0].h, gp[0].channels,
          gp[0].max_diff, gp[0].ppx, gp[0].ppy);
    CHECK(gp[1].ok && gp[1].w == 50 && gp[1].h == 40 && gp[1].channels == 3 &&
              gp[1].max_diff == 0 && near(gp[1].ppx, 2, 1e-5) && near(gp[1].ppy, 2.5, 1e-5),
          "pdf RGB scan: %dx%dx%d diff %g pt/px %g %g", gp[1].w, gp[1].h, gp[1].channels,
          gp[1].max_diff, gp[1].ppx, gp[1].ppy);
    CHECK(gp[2].ok && gp[2].w == 64 && gp[2].h == 32 && gp[2].channels == 1 && gp[2].max_diff == 0,
          "pdf image mask: %dx%dx%d diff %g", gp[2].w, gp[2].h, gp[2].channels, gp[2].max_diff);
    /* Rendered at 100 dpi: points * 100 / 72. */
    CHECK(gp[3].ok && gp[3].w == 850 && gp[3].h == 1100 && near(gp[3].ppx, 0.72, 1e-4) &&
              gp[3].channels == 1 && gp[3].mean < 255 && gp[3].mean > 240,
          "pdf text page: %dx%dx%d pt/px %g mean %g", gp[3].w, gp[3].h, gp[3].channels, gp[3].ppx,
          gp[3].mean);
    CHECK(gp[4].ok && gp[4].w == 100 && gp[4].h == 200 && gp[4].rotation == 90 &&
              gp[4].width == 72 && gp[4].height == 144,
          "pdf rotated scan rendered: %dx%d rot %d %gx%g", gp[4].w, gp[4].h, gp[4].rotation,
          gp[4].width, gp[4].height);
    CHECK(gp[5].ok && gp[5].w == 200 && gp[5].h == 100 && near(gp[5].ppx, 0.72, 1e-4),
          "pdf scan with text rendered at dpi: %dx%d", gp[5].w, gp[5].h);
    lay_doc_free(&d);

    /* The default resolution is 300 dpi; a tiny --max-pixels fails the
     * rendered page with a reason naming the option. */
    probe pr2 = {0};
    doc_options o2 = {.ocr_all = 1, .max_pixels = 200000};
    run_ocr(r, path, &o2, &pr2, &d);
    CHECK(pr2.page[0].ok && pr2.page[0].w == 200, "max_pixels: scan page still native");
    CHECK(!pr2.page[3].ok && strstr(pr2.page[3].err, "--max-pixels"), "max_pixels: text page '%s'",
          pr2.page[3].err);
    CHECK(pr2.page[5].ok && pr2.page[5].w == 600 && pr2.page[5].h == 300, "300 dpi default: %dx%d",
          pr2.page[5].w, pr2.page[5].h);
    CHECK(d.status == LAY_DOC_ERROR && strstr(d.error, "--max-pixels"), "max_pixels pdf '%s'",
          d.error);
    lay_doc_free(&d);
}

/* A PDF page whose image claims 20000x20000 pixels: the page fails on the
 * claim, before MuPDF decodes (and allocates) anything of that size. */
static void test_pdf_huge_image(doc_reader *r) {
    t_pdf *p = t_pdf_new();
    int cat = t_pdf_obj(p, ""), pages = t_pdf_obj(p, "");
    int im = t_pdf_stream(p,
                          "/Type /XObject /Subtype /Image /Width 20000 /Height 20000 "
                          "/ColorSpace /DeviceGray /BitsPerComponent 8",
                          "\x80\x80\x80\x80", 4);
    char res[128];
    snprintf(res, sizeof res, "/XObject << /Im %d 0 R >>", im);
    int kid = add_page(p, pages, "0 0 612 792", 0, res, "q 612 0 0 792 0 0 cm /Im Do Q");
    char buf[256];
    snprintf(buf, sizeof buf, "<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", kid);
    t_pdf_set(p, pages, buf);
    snprintf(buf, sizeof buf, "<< /Type /Catalog /Pages %d 0 R >>", pages);
    t_pdf_set(p, cat, buf);
    const char *path = t_path(t_tmp(), "huge_image.pdf");
    t_pdf_write(p, cat, path);
    probe pr = {0};
    doc_options opt = {.ocr_all = 1};
    lay_doc d;
    run_ocr(r, path, &opt, &pr, &d);
    printf("huge PDF image: status %d '%s'\n", d.status, d.error);
    CHECK(!pr.page[0].ok && strstr(pr.page[0].err, "20000x20000") &&
              strstr(pr.page[0].err, "--max-pixels"),
          "huge PDF image: '%s'", pr.page[0].err);
    CHECK(d.status == LAY_DOC_ERROR && lay_doc_npages(&d) == 1 &&
              lay_doc_page(&d, 0)->kind == LAY_PAGE_FAILED && strstr(d.error, "--max-pixels"),
          "huge PDF image record: %d '%s'", d.status, d.error);
    lay_doc_free(&d);
}

/* A page that takes long to interpret, routed to OCR: the deadline stops the
 * work inside the page (text pass or rendering) and the record says timeout. */
static void test_pdf_deadline(doc_reader *r) {
    const char *path = t_path(t_tmp(), "slow.pdf");
    const char op[] = "BT /F1 12 Tf 72 700 Td (slow slow slow slow) Tj ET\n";
    size_t reps = 400000, n = reps * (sizeof op - 1);
    char *content = malloc(n + 1);
    for (size_t i = 0; i < reps; i++)
        memcpy(content + i * (sizeof op - 1), op, sizeof op - 1);
    content[n] = 0;
    const char *pages[1] = {content};
    t_pdf_simple(path, 1, pages, NULL);
    free(content);
    probe pr = {0};
    double t0 = q_now();
    doc_options opt = {.ocr_all = 1, .deadline = t0 + 0.3};
    lay_doc d;
    run_ocr(r, path, &opt, &pr, &d);
    double dt = q_now() - t0;
    printf("slow page with OCR: status %d after %.2f s: '%s'\n", d.status, dt, d.error);
    CHECK(d.status == LAY_DOC_TIMEOUT && strstr(d.error, "at page 1 of 1"), "status %d '%s'",
          d.status, d.error);
    CHECK(dt < 10, "abort took %.2f s", dt);
    lay_doc_free(&d);
}

/* Real files from the shared corpus: a scanner's PDF with one CCITT image,
 * 2550x3300 over a Letter page (0.24 pt per pixel); classic 1-bit and RGB
 * TIFF test pages; a BMP named .tif. */
static void test_corpus_scan(doc_reader *r) {
    const char *S = t_shared();
    if (!S) {
        printf("skip corpus scan: no shared corpus\n");
        return;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/corpus/scans/ccitt.pdf", S);
    probe pr = {0};
    doc_options opt = {.ocr_all = 1};
    lay_doc d;
    run_ocr(r, path, &opt, &pr, &d);
    got_page *g = &pr.page[0];
    printf("ccitt.pdf: %dx%dx%d, %g pt/px, mean gray %.1f\n", g->w, g->h, g->channels, g->ppx,
           g->mean);
    CHECK(g->ok && g->w == 2550 && g->h == 3300 && g->channels == 1 && near(g->ppx, 0.24, 1e-5),
          "ccitt.pdf: %dx%dx%d %g", g->w, g->h, g->channels, g->ppx);
    CHECK(g->mean > 200, "ccitt.pdf: a page is mostly white paper (mean %g)", g->mean);
    lay_doc_free(&d);
    const struct {
        const char *name;
        int w, h;
    } files[] = {{"phototest.tif", 640, 480},
                 {"phototestrot.tif", 480, 640},
                 {"dibco11_PR1.bin.tif", 1381, 368}};
    for (size_t i = 0; i < Q_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof path, "%s/corpus/scans/%s", S, files[i].name);
        probe p2 = {0};
        run_ocr(r, path, NULL, &p2, &d);
        g = &p2.page[0];
        CHECK(d.status == LAY_DOC_OK && g->ok && g->w == files[i].w && g->h == files[i].h &&
                  g->channels == 1 && g->mean > 200,
              "%s: status %d '%s' %dx%dx%d mean %g", files[i].name, d.status, d.error, g->w, g->h,
              g->channels, g->mean);
        lay_doc_free(&d);
    }
}

int main(void) {
    TIFFSetWarningHandler(NULL); /* the writer's notes about our test files */
    doc_reader *r;
    if (doc_reader_new(&r) != Q_OK) return 1;
    test_tiff_formats(r);
    test_tiff_broken_pages(r);
    test_tiff_truncated(r);
    test_tiff_huge_header(r);
    test_max_pixels_option(r);
    test_no_ocr_and_deadline(r);
    test_pictures(r);
    test_pdf(r);
    test_pdf_huge_image(r);
    test_pdf_deadline(r);
    test_corpus_scan(r);
    doc_reader_free(r);
    return t_finish("doc_images");
}

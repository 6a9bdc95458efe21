/* doc module internals: the reader (one MuPDF context), the open file handed
 * to the OCR callback, and the functions the module's files share. Only files
 * in src/doc include this header; it is the one place besides them that sees
 * MuPDF types. */
#pragma once

#include "doc/doc.h"

#include <mupdf/fitz.h>

/* ---- file type by bytes (sniff.c) ---- */
typedef enum {
    DOC_TYPE_PDF,
    DOC_TYPE_PNG,
    DOC_TYPE_JPEG,
    DOC_TYPE_TIFF,
    DOC_TYPE_BMP,
    DOC_TYPE_UNKNOWN,
} doc_type;

enum { DOC_SNIFF_BYTES = 1024 };

/* Recognises `n` leading bytes of a file. For DOC_TYPE_UNKNOWN, writes a
 * description of the first bytes ("25 50 44 …") to `hex` (cap bytes). */
doc_type doc_sniff(const unsigned char *head, size_t n, char *hex, size_t cap);
const char *doc_type_name(doc_type t);  /* "PNG image", ... */
const char *doc_type_magic(doc_type t); /* MuPDF handler magic: "pdf", "png", ... */

/* ---- watchdog (watchdog.c) ----
 * A thread that sets a cookie's abort flag when a deadline passes, so MuPDF
 * stops inside a long page. It sleeps on a condition variable; it never spins. */
typedef struct doc_watchdog doc_watchdog;
q_status doc_watchdog_new(doc_watchdog **out);
void doc_watchdog_free(doc_watchdog *w); /* NULL-safe; joins the thread */
/* Arms the watchdog: at q_now() >= deadline it sets *abort_flag = 1.
 * deadline 0 disarms. */
void doc_watchdog_arm(doc_watchdog *w, double deadline, int *abort_flag);

/* ---- the reader (reader.c) ---- */
struct doc_reader {
    fz_context *ctx;
    doc_watchdog *dog;
    fz_cookie cookie;     /* abort flag shared with the watchdog */
    char last_error[256]; /* MuPDF's last error/warning line, for reasons */
    /* Problems MuPDF (or libtiff) reported and worked around in the current
     * document, for the record's warnings: how many, the first one's text,
     * and whether MuPDF had to repair the PDF. */
    int problems;
    char first_problem[256];
    int repaired;
    q_buf scratch; /* one line's text while it is built */
};

/* Counts `n` problems worked around in the current document; `msg` is kept
 * when it is the first. */
void doc_reader_problem(doc_reader *r, int n, const char *msg);

typedef struct doc_tiff doc_tiff; /* an open TIFF (tiff.c; libtiff stays there) */

/* The open document, as handed to the OCR callback (borrowed for the call).
 * Which fields are set depends on `type`. */
struct doc_file {
    doc_reader *reader;
    const doc_options *opt;
    doc_type type;
    fz_document *doc; /* PDF */
    fz_page *page;    /* PDF: the page being routed (borrowed), so it is not loaded twice */
    int page_index;   /* ... and its number; -1 when none */
    doc_tiff *tiff;   /* TIFF */
    fz_image *image;  /* PNG, JPEG, BMP: header read, pixels decoded on demand */
    float xdpi, ydpi; /* PNG, JPEG, BMP: resolution from the file, else 300 */
};

/* ---- page scan: counts what a page paints while stext extracts (scan.c) ---- */
typedef struct {
    float page_area;
    int visible_chars;   /* real chars painted visibly and not covered later */
    int hidden_chars;    /* visible chars painted before a full-page image */
    int invisible_chars; /* render mode 3 (OCR layers) */
    int bad_chars;       /* U+FFFD, private use, control: unmapped glyphs */
    int images;          /* images covering a noticeable part of the page */
    int full_page_images;
    int paths; /* filled/stroked paths (vector drawings, outlined text) */
} doc_scan;

/* A device that forwards text calls to `target` (a stext device) and fills
 * `scan`. Caller drops it. */
fz_device *doc_new_scan_device(fz_context *ctx, fz_device *target, doc_scan *scan, fz_rect page);

/* ---- routing (route.c) ---- */
lay_page_kind doc_route_page(const doc_scan *s, const doc_options *opt);

/* ---- extraction (extract.c) ---- */
/* Adds one lay_line per stext line (split at column gaps) to `rec`, with boxes
 * relative to `page` (the page's displayed bounds). Throws only on MuPDF
 * errors; quire errors come back as status. */
q_status doc_extract_lines(fz_stext_page *tp, fz_rect page, q_buf *scratch, lay_doc *rec);

/* ---- PDF (pdf.c) ---- */
/* Opens `path` with MuPDF as `type` and records every page into `rec`.
 * Bad documents become record errors; non-OK only for out of memory. */
q_status doc_pdf_process(doc_reader *r, const char *path, doc_type type, const doc_options *opt,
                         doc_ocr_fn ocr, void *ocr_user, lay_doc *rec);
/* The page's /Rotate (0, 90, 180, 270); 0 for non-PDF pages. Never throws. */
int16_t doc_page_rotation(fz_context *ctx, fz_page *page);

/* ---- image documents: TIFF, PNG, JPEG, BMP (imagedoc.c) ---- */
/* Every page goes to `ocr` (which must not be NULL); a page that cannot be
 * decoded is recorded failed with its reason, the others are kept. Same
 * contract as doc_pdf_process. */
q_status doc_image_process(doc_reader *r, const char *path, doc_type type, const doc_options *opt,
                           doc_ocr_fn ocr, void *ocr_user, lay_doc *rec);

/* ---- page pixels shared by every source (pixels.c) ---- */
#define DOC_DEFAULT_DPI 300
/* opt->max_pixels, or DOC_MAX_PIXELS_DEFAULT when unset. */
double doc_max_pixels(const doc_options *opt);
/* Fails (Q_ERR_UNSUPPORTED, naming --max-pixels) when a w x h page is above
 * the limit. Called before anything of that size is allocated or decoded. */
q_status doc_check_pixels(double w, double h, uint32_t page, const doc_options *opt);
/* A resolution read from a file, or 0 when it is absent or absurd. */
float doc_sane_dpi(double dpi);
/* Copies a MuPDF pixmap into `out`: gray stays 1 channel, every other colour
 * space becomes RGB, alpha is composited over white. An alpha-only pixmap
 * (an image mask) paints `ink` (0..255 gray) where it is opaque. An RGB
 * result whose pixels are all gray is stored as 1 channel. */
q_status doc_pixmap_to_image(fz_context *ctx, fz_pixmap *pix, int ink, q_image *out);
/* Rewrites an RGB image as 1 channel when every pixel has R == G == B. */
void doc_image_shrink_gray(q_image *im);

/* ---- PDF page pixels (raster.c) ---- */
/* A page that is one upright image covering the page: that image at its own
 * resolution; anything else rendered at opt->dpi. Honours the cookie abort. */
q_status doc_raster_page(doc_file *f, uint32_t page, doc_page_image *out);

/* ---- PNG, JPEG, BMP through MuPDF's image loaders (picture.c) ---- */
/* Reads the file and its header (no pixels yet) into f->image, f->xdpi/ydpi. */
q_status doc_picture_open(doc_file *f, const char *path);
void doc_picture_close(doc_file *f); /* NULL-safe */
q_status doc_picture_page(doc_file *f, doc_page_image *out);

/* ---- TIFF through libtiff (tiff.c) ---- */
/* Opens `path`; fails with libtiff's reason when the file or its first
 * directory cannot be read. */
q_status doc_tiff_open(const char *path, const doc_options *opt, doc_tiff **out);
void doc_tiff_close(doc_tiff *t); /* NULL-safe */
uint32_t doc_tiff_pages(const doc_tiff *t);
/* Why the chain of pages ended before its last link (a truncated or
 * overwritten file: the pages after it are lost), or NULL. */
const char *doc_tiff_chain_error(const doc_tiff *t);
/* libtiff's warnings about the file so far (tags it ignored or fixed, ...;
 * unknown private tags are not counted) and the first one's text in *first
 * (borrowed, lives as long as `t`; "" when none). */
int doc_tiff_warnings(const doc_tiff *t, const char **first);
/* Page size in points (resolution tags, 300 dpi when absent); fails when the
 * page's directory is unreadable. */
q_status doc_tiff_page_size(doc_tiff *t, uint32_t page, float *w_pt, float *h_pt);
/* Decodes one page; stops with Q_ERR_TIMEOUT when *abort becomes non-zero. */
q_status doc_tiff_page_image(doc_tiff *t, uint32_t page, const int *abort, doc_page_image *out);

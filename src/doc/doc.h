/* doc: documents in. Opens a file, recognises its type by its bytes (never by
 * its name), routes each page (text layer or OCR) and extracts text-layer
 * lines with boxes into a lay_doc record. Knows nothing of MPI or HDF5; MuPDF
 * stays inside this module. */
#pragma once

#include "layout/layout.h"

typedef struct doc_reader doc_reader; /* one per thread: MuPDF context + caches */

typedef struct {
    double deadline;   /* q_now() time after which work stops with status timeout; 0 = none */
    int redo_ocr;      /* treat invisible text over a page image as absent */
    int ocr_all;       /* route every page to OCR, text layer or not (quire ocr) */
    int dpi;           /* render resolution for pages that need OCR */
    double max_pixels; /* a page image above this many pixels is a page error; 0 = default */
    /* When set, [0] = the page being read (from 0) and [1] = the document's
     * pages once known, updated as reading goes: a reader process that dies
     * leaves here where it was (run/child.c). */
    volatile uint32_t *progress;
    /* When set, called before each page: what the caller must keep doing
     * while a long document is read (a rank's signs of life, run/alive.c). */
    void (*each_page)(void);
} doc_options;

/* --max-pixels default: 100 megapixels (an A2 sheet at 300 dpi is 35 MP). */
#define DOC_MAX_PIXELS_DEFAULT 100e6

/* Called for a page that needs OCR (every page of an image document). The
 * callback appends the page to `rec` (lay_page_begin ... lay_page_end). When
 * no callback is given, a PDF page is recorded with kind failed and the
 * document error names it ("OCR not available"); an image document is an
 * error record ("TIFF image: needs OCR, which this command does not run").
 * Returns non-OK only for a failure that should fail the page: the page is
 * then recorded failed and the document error gives q_errmsg(). */
typedef struct doc_file doc_file;
typedef q_status (*doc_ocr_fn)(void *user, doc_file *f, uint32_t page, lay_doc *rec);

/* One page's pixels for OCR and where they sit on the page. */
typedef struct {
    q_image img;         /* gray or RGB, 8 bits per channel */
    float width, height; /* the page as displayed, in points (what lay_page_begin takes) */
    float pt_per_px_x;   /* page points per image pixel: x_pt = x_px * pt_per_px_x */
    float pt_per_px_y;
    int16_t rotation; /* the page's rotation (0 for images) */
} doc_page_image;

/* Decodes or renders page `page` of the open file `f` (inside an OCR callback):
 * - a PDF page that is one image (a scan) gives that image at its own
 *   resolution; any other PDF page is rendered by MuPDF at opt->dpi (default
 *   300); a PDF page holding any image above opt->max_pixels fails (MuPDF
 *   would decode it whole even to draw it small);
 * - a TIFF page is decoded by libtiff (every directory is a page; resolution
 *   tags give the size in points, 300 dpi when absent);
 * - PNG, JPEG (and BMP) are decoded at their own resolution (pHYs, JFIF
 *   density; 300 dpi when absent).
 * Gray pages (also RGB ones whose every pixel is gray) come as 1 channel,
 * others as RGB; alpha is composited over white. The page's pixel count is
 * checked against opt->max_pixels before anything of its size is allocated.
 * A page above opt->max_pixels (Q_ERR_UNSUPPORTED, the reason names
 * --max-pixels), an undecodable page or a timeout (Q_ERR_TIMEOUT) returns
 * non-OK with a one-line reason (q_errmsg) and leaves `out` zeroed. */
q_status doc_page_image_get(doc_file *f, uint32_t page, doc_page_image *out);
void doc_page_image_free(doc_page_image *pi); /* NULL-safe */

q_status doc_reader_new(doc_reader **out);
void doc_reader_free(doc_reader *r); /* NULL-safe */

/* Processes the whole document at rec->path into `rec` (initialised by the
 * caller with lay_doc_init). A bad document is not a failure of this call: it
 * returns Q_OK and the record carries status error/timeout and a one-line
 * reason. Non-OK is returned only when quire itself cannot go on (out of
 * memory). */
q_status doc_process(doc_reader *r, const doc_options *opt, doc_ocr_fn ocr, void *ocr_user,
                     lay_doc *rec);

/* "MuPDF 1.21.1" */
const char *doc_version(void);

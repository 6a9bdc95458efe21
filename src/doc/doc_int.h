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
    int warnings;         /* MuPDF warnings in the current document */
    q_buf scratch;        /* one line's text while it is built */
};

/* The open document, as handed to the OCR callback (borrowed for the call). */
struct doc_file {
    doc_reader *reader;
    fz_document *doc;
    const doc_options *opt;
    doc_type type;
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

/* ---- PDF and MuPDF-handled documents (pdf.c) ---- */
/* Opens `path` with MuPDF as `type` and records every page into `rec`.
 * Bad documents become record errors; non-OK only for out of memory. */
q_status doc_pdf_process(doc_reader *r, const char *path, doc_type type, const doc_options *opt,
                         doc_ocr_fn ocr, void *ocr_user, lay_doc *rec);

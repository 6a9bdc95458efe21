/* layout: the document record that doc and ocr fill, store writes and run moves
 * around; and the grouping of a page's lines into blocks in reading order,
 * shared by the text-layer route and the OCR route so both give the same kind
 * of output. Plain data on purpose: every field maps to a column of
 * results.h5 schema 1 (DESIGN.md §3). */
#pragma once

#include <stdint.h>

#include "util/util.h"

/* Values are the HDF5 enum values of the schema: never renumber. */
typedef enum {
    LAY_PAGE_TEXT = 0,
    LAY_PAGE_OCR = 1,
    LAY_PAGE_EMPTY = 2,
    LAY_PAGE_FAILED = 3,
} lay_page_kind;

typedef enum {
    LAY_DOC_OK = 0,
    LAY_DOC_ERROR = 1,
    LAY_DOC_TIMEOUT = 2,
    LAY_DOC_SKIPPED = 3,
} lay_doc_status;

typedef struct {
    uint32_t page;
    uint32_t block;      /* page-local block index, in reading order */
    float bbox[4];       /* x0, y0, x1, y1 in page points, origin top-left */
    float conf;          /* 1.0 for text-layer lines */
    float size;          /* font size (text layer) or line height (OCR), for grouping */
    uint64_t text_start; /* offset into the record's text */
    uint32_t text_len;
} lay_line;

typedef struct {
    uint32_t page; /* from 0 */
    uint8_t kind;  /* lay_page_kind */
    int16_t rotation;
    float width, height; /* points, as displayed (after rotation) */
    uint32_t lines;
    uint64_t first_line; /* index into the record's lines */
    float seconds;
    float skew_deg; /* the text lines' angle on the page, degrees counter-clockwise (lines
                       rising to the right are positive); 0 for text-layer pages and when
                       unknown. The page's lines are ordered in the frame that undoes it. */
} lay_page;

/* One document's complete result. Strings are owned, NUL-terminated UTF-8. */
typedef struct {
    uint64_t doc; /* position in the input list */
    char *path;
    uint64_t bytes;
    uint32_t pages; /* pages in the document (may exceed pages recorded on error) */
    uint8_t status; /* lay_doc_status */
    char *error;    /* "" when none; one line */
    uint32_t text_pages, ocr_pages;
    float seconds;
    int32_t rank;
    uint8_t retry;     /* 1: a failure the environment or the clock caused (timeout, out of
                          memory, a crashed reader): a rerun tries the document again */
    uint32_t warnings; /* problems the reader worked around (a repaired PDF, ...) */
    char *warning;     /* the first of them, one line; "" when none */
    q_vec page_v;      /* lay_page */
    q_vec line_v;      /* lay_line */
    q_buf text;        /* UTF-8 bytes of every line, in line order */
} lay_doc;

/* Initialises `d` for document `doc` at `path` (copied). */
q_status lay_doc_init(lay_doc *d, uint64_t doc, const char *path);
void lay_doc_free(lay_doc *d); /* NULL-safe; leaves *d zeroed */

/* Counts a warning; the first one's text is kept (printf-style, made one
 * valid UTF-8 line of at most LAY_ERROR_MAX bytes like errors). */
q_status lay_doc_warn(lay_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets status and the one-line error text (printf-style; newlines flattened,
 * made valid UTF-8, truncated to LAY_ERROR_MAX bytes). LAY_DOC_TIMEOUT also
 * sets retry; no status clears it. */
enum { LAY_ERROR_MAX = 480 };
q_status lay_doc_set_error(lay_doc *d, lay_doc_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Page building: begin, add lines, end. Lines added between begin and end
 * belong to that page. lay_line_add adds one line: its text trimmed of
 * leading and trailing whitespace (ASCII, U+00A0, U+3000) and sanitized to
 * valid UTF-8, its box as given (the caller's, measured on the glyphs). */
q_status lay_page_begin(lay_doc *d, uint32_t page, float width, float height, int16_t rotation);
q_status lay_line_add(lay_doc *d, const float bbox[4], float conf, float size, const char *text,
                      size_t len);
/* Ends the page: sets its kind and seconds, and when `order` is non-zero puts
 * its lines into blocks in reading order (lay_order_page). */
q_status lay_page_end(lay_doc *d, lay_page_kind kind, float seconds, int order);

/* Gives every page of the document (0 .. d->pages - 1) a row: a page left
 * without one (reading stopped at a timeout, or the reader died) gets an
 * empty row of kind failed, so that /pages tells which pages are missing. */
q_status lay_doc_fill_pages(lay_doc *d);

lay_page *lay_doc_page(lay_doc *d, size_t i);
lay_line *lay_doc_line(lay_doc *d, size_t i);
size_t lay_doc_npages(const lay_doc *d);
size_t lay_doc_nlines(const lay_doc *d);

/* Groups the lines of page `page_index` (the last begun page) into blocks and
 * reorders them into reading order: columns read one after the other, blocks
 * top to bottom inside a column. Rewrites block numbers and the order of the
 * page's lines (and their text, so text stays in line order). */
q_status lay_order_page(lay_doc *d, size_t page_index);
/* lay_order_page with each line's box given in another frame: frame[4i ..
 * 4i+3] is (x0, y0, x1, y1) of the page's line i (in the order added) there,
 * e.g. the deskewed page (ocr_result_to_page); NULL means the lines' own
 * bboxes. Only the order and the blocks come from the frame: the lines keep
 * their bboxes. */
q_status lay_order_page_in(lay_doc *d, size_t page_index, const float *frame);

/* Appends the document's plain text (DESIGN.md §3: lines joined by '\n', a
 * blank line between blocks and between pages) to `out`. */
q_status lay_doc_plain_text(const lay_doc *d, q_buf *out);

/* ---- wire image of a record (wire.c) ----------------------------------------
 * One record as a flat byte string, for the write-ahead record log and for a
 * reader child process that hands its record to its parent over a socket.
 * Layout (version 2, little-endian, fixed width, no padding): u32 version;
 * the scalars of lay_doc; path, error and warning as u32 length + bytes; u64
 * counts of pages, lines and text bytes; the pages (35 bytes each: version 1,
 * which still reads, had 31, without skew_deg), the lines (44 bytes each),
 * then the text. Floats travel as their bit patterns, so a
 * round trip is exact (NaN included). */
enum { LAY_WIRE_VERSION = 2 };

/* Appends a self-contained binary image of `d` (every field of lay_doc, its
 * pages, lines and text) to `out`. On failure `out` is as it was. */
q_status lay_doc_pack(const lay_doc *d, q_buf *out);
/* Rebuilds a record from `len` bytes made by lay_doc_pack. `d` is initialised
 * here (the caller lay_doc_free's it, also after a failure, when it is left
 * zeroed). The bytes may be hostile: any inconsistency (truncated, trailing
 * bytes, unknown version, counts beyond the data, page line ranges or line
 * text ranges out of bounds or out of order, path/error/warning not valid
 * UTF-8 or holding NULs, a line's text not valid UTF-8, a status or page kind
 * outside its enum, retry other than 0/1) is Q_ERR_FORMAT with the reason,
 * never a crash; memory allocated is bounded by a small multiple of `len`. */
q_status lay_doc_unpack(const void *data, size_t len, lay_doc *d);

/* doc: documents in. Opens a file, recognises its type by its bytes (never by
 * its name), routes each page (text layer or OCR) and extracts text-layer
 * lines with boxes into a lay_doc record. Knows nothing of MPI or HDF5; MuPDF
 * stays inside this module. */
#pragma once

#include "layout/layout.h"

typedef struct doc_reader doc_reader; /* one per thread: MuPDF context + caches */

typedef struct {
    double deadline; /* q_now() time after which work stops with status timeout; 0 = none */
    int redo_ocr;    /* treat invisible text over a page image as absent */
    int dpi;         /* render resolution for pages that need OCR */
} doc_options;

/* Called for a page that needs OCR. The callback appends the page to `rec`
 * (lay_page_begin ... lay_page_end). When no callback is given, the page is
 * recorded with kind failed and the document error names it ("OCR not
 * available"). Returns non-OK only for a failure that should fail the page. */
typedef struct doc_file doc_file;
typedef q_status (*doc_ocr_fn)(void *user, doc_file *f, uint32_t page, lay_doc *rec);

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

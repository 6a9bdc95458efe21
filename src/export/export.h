/* export: a finished results.h5 turned into one file per document in a
 * folder, in the formats archives load: plain text, JSON lines, hOCR 1.2,
 * ALTO 4.4 and searchable PDF (the page images under an invisible text
 * layer). Reads results.h5 through store; each rank of an export job writes
 * its own share of the documents, so there is no MPI here. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "layout/layout.h"

typedef enum {
    EXPORT_TEXT,
    EXPORT_JSONL,
    EXPORT_HOCR,
    EXPORT_ALTO,
    EXPORT_PDF,
} export_format;

/* Parses "text", "jsonl", "hocr", "alto" or "pdf"; returns 0 on success. */
int export_format_parse(const char *name, export_format *out);
const char *export_format_name(export_format f); /* "text", ... */
/* The file name ending of a format: ".txt", ".jsonl", ".hocr", ".alto.xml", ".pdf". */
const char *export_format_ext(export_format f);

typedef struct {
    const char *results; /* results.h5 */
    const char *to;      /* output folder (created when missing) */
    export_format format;
    const uint64_t *ids; /* --id: only these documents (NULL: all) */
    size_t nids;
    char *const *paths; /* --path: only documents whose path is P or ends in /P */
    size_t npaths;
    int rank, size; /* this process's share: the rank-th of size contiguous blocks */
} export_options;

typedef struct {
    uint64_t written, skipped, failed;
} export_counts;

/* Writes this rank's share of the selected documents into o->to, each as
 * DDDDDD-BASENAME.EXT (doc id, source name without its extension), written
 * to a temporary name and renamed when complete. A document whose record
 * failed is skipped with one line saying why; a document that cannot be
 * written (its source changed or vanished, for pdf) fails with one line and
 * the others go on. Adds to *c; when o->npaths, hits[i] counts the documents
 * that --path i selected on this rank (the caller adds them up over ranks).
 * Returns an error only when nothing can be done: results.h5 unreadable, the
 * folder not creatable; an --id that results.h5 does not hold is counted as
 * failed by rank 0. */
q_status export_run(const export_options *o, export_counts *c, uint64_t *hits);

/* ---- one document in one format (each in its own file) ---- */
/* `d` is a whole record (store_results_read). The text formats append to `out`. */
q_status export_text(const lay_doc *d, q_buf *out);
q_status export_jsonl(const lay_doc *d, q_buf *out);
q_status export_hocr(const lay_doc *d, q_buf *out);
q_status export_alto(const lay_doc *d, q_buf *out);
/* Writes the searchable PDF of `d` to `dst`; `src` is the source document
 * (d->path as found now). */
q_status export_pdf(const lay_doc *d, const char *src, const char *dst);

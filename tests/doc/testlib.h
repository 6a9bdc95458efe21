/* Helpers for the doc tests: checks that count failures instead of aborting,
 * a writer of small hand-made PDFs (correct xref, so MuPDF needs no repair),
 * and paths of the scratch folder and shared corpus. */
#pragma once

#include <stddef.h>

#include "doc/doc.h"

extern int t_failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            t_failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

/* A PDF under construction: objects are numbered from 1 in the order added. */
typedef struct t_pdf t_pdf;
t_pdf *t_pdf_new(void);
/* Adds an object body (without "N 0 obj"/"endobj"); returns its number. */
int t_pdf_obj(t_pdf *p, const char *body);
/* Adds a stream object with the given dictionary entries (no /Length). */
int t_pdf_stream(t_pdf *p, const char *dict, const char *data, size_t len);
/* Sets object `num`'s body (to add forward references, reserve with ""). */
void t_pdf_set(t_pdf *p, int num, const char *body);
/* Writes the file with xref and trailer (/Root = root) and frees p. */
int t_pdf_write(t_pdf *p, int root, const char *path);

/* Writes a one-font PDF whose pages have the given content streams and
 * /Rotate values (rotate may be NULL). Page size 612x792. */
int t_pdf_simple(const char *path, int npages, const char *const *contents, const int *rotate);

const char *t_tmp(void);                         /* scratch folder, created */
const char *t_shared(void);                      /* ../shared, or NULL when absent */
char *t_path(const char *dir, const char *name); /* static buffer */

/* Runs doc_process on `path` with default options into `rec` (caller frees). */
void t_process(doc_reader *r, const char *path, lay_doc *rec, const doc_options *opt);
/* The text of line i (NUL-terminated copy in a static buffer). */
const char *t_line_text(lay_doc *rec, size_t i);
int t_finish(const char *name);

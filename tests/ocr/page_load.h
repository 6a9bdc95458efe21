/* A real page's pixels for the OCR tests that need one (test_orient.c,
 * test_remote.c): the first page of a document, read through doc as quire
 * reads it. */
#pragma once

#include "doc/doc.h"
#include "ocr/ocr_private.h"

/* doc's OCR callback: keeps a copy of the first page's pixels in `user`. */
static q_status page_load_grab(void *user, doc_file *f, uint32_t pg, lay_doc *rec) {
    q_image *out = user;
    doc_page_image pi;
    q_status st = doc_page_image_get(f, pg, &pi);
    if (st) return st;
    if (!out->px) st = ocr_turn_image(&pi.img, 0, out);
    doc_page_image_free(&pi);
    if (!st) st = lay_page_begin(rec, pg, 1, 1, 0);
    if (!st) st = lay_page_end(rec, LAY_PAGE_OCR, 0, 0);
    return st;
}

/* The first page of `path` (at 300 dpi where it is rendered) into *out
 * (freed first); 1 on success. */
static inline int page_load(const char *path, q_image *out) {
    doc_reader *r = NULL;
    lay_doc rec;
    doc_options opt = {.dpi = 300, .max_pixels = DOC_MAX_PIXELS_DEFAULT};
    q_image_free(out);
    if (doc_reader_new(&r) || lay_doc_init(&rec, 0, path)) return 0;
    q_status st = doc_process(r, &opt, page_load_grab, out, &rec);
    lay_doc_free(&rec);
    doc_reader_free(r);
    return !st && out->px;
}

/* rec_gen.h: synthetic document records for the tests of the record's wire
 * image (tests/layout) and of the write-ahead record log (tests/store), and a
 * field-by-field comparison that compares floats by their bits. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout/layout.h"

/* Counts a failed check and goes on (up to 20); main returns rec_failures != 0. */
static int rec_failures;
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, __func__, #cond); \
            if (++rec_failures > 20) exit(1);                                                      \
        }                                                                                          \
    } while (0)

#define REC_OK(call)                                                                               \
    do {                                                                                           \
        q_status st_ = (call);                                                                     \
        if (st_ != Q_OK) {                                                                         \
            fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call, q_errmsg(),  \
                    q_errwhere());                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Record `id`, one of five shapes by id % 5: 0 a failed document without
 * pages; 1 failed pages; 2 many lines on several pages; 3 a timeout with
 * retry, warnings and odd floats (NaN, -0); 4 an empty page and a few lines.
 * Paths and text are not ASCII. */
static inline void rec_gen(uint64_t id, lay_doc *d) {
    char path[160], text[160];
    snprintf(path, sizeof path, "/archiv/Überweisung/文書-%llu.pdf", (unsigned long long)id);
    REC_OK(lay_doc_init(d, id, path));
    d->bytes = id * 4099 + 1;
    d->rank = (int32_t)(id % 7) - 1;
    d->seconds = 0.125f * (float)id;
    int shape = (int)(id % 5);
    if (shape == 0) {
        d->pages = 12;
        REC_OK(lay_doc_set_error(d, LAY_DOC_ERROR, "corrupt: fichier endommagé – %llu",
                                 (unsigned long long)id));
        return;
    }
    uint32_t npages = shape == 2 ? 3 : 2;
    d->pages = npages;
    for (uint32_t p = 0; p < npages; p++) {
        REC_OK(lay_page_begin(d, p, 612.0f, 792.0f + (float)p, (int16_t)(p * 90 % 360 - 90)));
        uint32_t nl = shape == 1   ? 0
                      : shape == 2 ? 400 + p * 37
                                   : (p == 0 ? 0 : 3 + (uint32_t)id % 4);
        for (uint32_t k = 0; k < nl; k++) {
            float bbox[4] = {(float)k, (float)p + 0.5f, (float)k + 100.25f, (float)id};
            snprintf(text, sizeof text, "Grüße %u/%u ✓ 日本語 %.*s", p, k, (int)(k % 9),
                     "abcdefghi");
            REC_OK(lay_line_add(d, bbox, shape == 2 ? 0.75f : 1.0f, 9.5f, text, strlen(text)));
            lay_doc_line(d, lay_doc_nlines(d) - 1)->block = k / 5;
        }
        lay_page_kind kind = shape == 1 ? LAY_PAGE_FAILED : nl ? LAY_PAGE_OCR : LAY_PAGE_EMPTY;
        REC_OK(lay_page_end(d, kind, 0.01f * (float)(p + 1), 0));
        if (kind == LAY_PAGE_OCR) lay_doc_page(d, p)->skew_deg = 0.75f * (float)p - 1.0f;
    }
    if (shape == 1) REC_OK(lay_doc_set_error(d, LAY_DOC_ERROR, "2 pages failed"));
    if (shape == 3) {
        REC_OK(lay_doc_set_error(d, LAY_DOC_TIMEOUT, "timeout after %u pages", npages));
        d->retry = 1;
        REC_OK(lay_doc_warn(d, "repaired: xref table réparée"));
        REC_OK(lay_doc_warn(d, "second warning, not kept"));
        d->seconds = -0.0f;
        lay_doc_page(d, 0)->seconds = __builtin_nanf("0x5a5");
        lay_doc_page(d, 1)->skew_deg = -0.0f;
        lay_doc_line(d, 0)->conf = __builtin_inff();
    }
}

static inline int rec_feq(float a, float b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

/* 1 when a and b are equal in every field (floats by their bits); else 0,
 * with the first difference printed. */
static inline int rec_equal(const lay_doc *a, const lay_doc *b) {
    const char *why = NULL;
    if (a->doc != b->doc || a->bytes != b->bytes || a->pages != b->pages ||
        a->status != b->status || a->text_pages != b->text_pages || a->ocr_pages != b->ocr_pages ||
        !rec_feq(a->seconds, b->seconds) || a->rank != b->rank || a->retry != b->retry ||
        a->warnings != b->warnings)
        why = "scalars";
    else if (strcmp(a->path, b->path) || strcmp(a->error, b->error) ||
             strcmp(a->warning, b->warning))
        why = "strings";
    else if (a->page_v.len != b->page_v.len || a->line_v.len != b->line_v.len ||
             a->text.len != b->text.len ||
             (a->text.len && memcmp(a->text.data, b->text.data, a->text.len)))
        why = "counts or text";
    for (size_t i = 0; !why && i < a->page_v.len; i++) {
        const lay_page *x = &Q_VEC_AT(&a->page_v, lay_page, i);
        const lay_page *y = &Q_VEC_AT(&b->page_v, lay_page, i);
        if (x->page != y->page || x->kind != y->kind || x->rotation != y->rotation ||
            !rec_feq(x->width, y->width) || !rec_feq(x->height, y->height) ||
            x->lines != y->lines || x->first_line != y->first_line ||
            !rec_feq(x->seconds, y->seconds) || !rec_feq(x->skew_deg, y->skew_deg))
            why = "a page";
    }
    for (size_t i = 0; !why && i < a->line_v.len; i++) {
        const lay_line *x = &Q_VEC_AT(&a->line_v, lay_line, i);
        const lay_line *y = &Q_VEC_AT(&b->line_v, lay_line, i);
        int bb = 1;
        for (int k = 0; k < 4; k++)
            bb &= rec_feq(x->bbox[k], y->bbox[k]);
        if (x->page != y->page || x->block != y->block || !bb || !rec_feq(x->conf, y->conf) ||
            !rec_feq(x->size, y->size) || x->text_start != y->text_start ||
            x->text_len != y->text_len)
            why = "a line";
    }
    if (why)
        fprintf(stderr, "records of document %llu differ in %s\n", (unsigned long long)a->doc, why);
    return why == NULL;
}

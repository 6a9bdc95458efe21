/* doc_process on hand-made PDFs: a two-column page with heading, a /Rotate 90
 * page, a page with no text, an image-only page, invisible OCR text over a
 * page image (text, or OCR with redo_ocr), text hidden under a full-page image,
 * and a deadline that has already passed. */
#include <stdio.h>

#include "testlib.h"

#include <stdlib.h>
#include <string.h>

/* Left column lines at x=72, right column at x=320, heading across: the
 * content stream paints the right column first to prove order comes from
 * geometry, not from the stream. */
static const char two_col[] =
    "BT /F1 10 Tf 320 690 Td (Right one alpha beta gamma) Tj 0 -12 Td (Right two delta) Tj ET\n"
    "BT /F1 18 Tf 72 740 Td (A Heading Across The Whole Page Width Here) Tj ET\n"
    "BT /F1 10 Tf 72 690 Td (Left one alpha beta gamma) Tj 0 -12 Td (Left two delta) Tj "
    "0 -12 Td (Left three epsilon) Tj ET\n"
    "BT /F1 10 Tf 72 600 Td (Left after gap new paragraph) Tj ET\n";
static const char rotated[] = "BT /F1 12 Tf 72 700 Td (Rotated page text line) Tj ET\n";
static const char no_text[] = "0 0 1 rg 100 100 50 50 re f\n";
/* A 2x2 gray inline image scaled to the whole page. */
static const char image_only[] =
    "q 612 0 0 792 0 0 cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x80\xff\x40\x20"
    " EI Q\n";
static const char ocr_layer[] =
    "q 612 0 0 792 0 0 cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x80\xff\x40\x20"
    " EI Q\nBT 3 Tr /F1 12 Tf 72 700 Td (Invisible OCR layer text "
    "of a scanned page) Tj ET\n";
static const char hidden[] = "BT /F1 12 Tf 72 700 Td (Text that a scan covers completely) Tj ET\n"
                             "q 612 0 0 792 0 0 cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x80\xff\x40\x20"
                             " EI Q\n";

static int find_line(lay_doc *d, const char *text) {
    for (size_t i = 0; i < lay_doc_nlines(d); i++)
        if (strcmp(t_line_text(d, i), text) == 0) return (int)i;
    return -1;
}

static void check_boxes_inside(lay_doc *d) {
    for (size_t i = 0; i < lay_doc_nlines(d); i++) {
        lay_line *l = lay_doc_line(d, i);
        lay_page *p = NULL;
        for (size_t k = 0; k < lay_doc_npages(d); k++)
            if (lay_doc_page(d, k)->page == l->page) p = lay_doc_page(d, k);
        CHECK(p != NULL, "line %zu has no page", i);
        if (!p) continue;
        CHECK(l->bbox[0] >= 0 && l->bbox[1] >= 0 && l->bbox[2] <= p->width &&
                  l->bbox[3] <= p->height && l->bbox[0] < l->bbox[2] && l->bbox[1] < l->bbox[3],
              "line %zu box %g %g %g %g outside page %gx%g", i, l->bbox[0], l->bbox[1], l->bbox[2],
              l->bbox[3], p->width, p->height);
        CHECK(l->conf == 1.0f && l->size > 0, "line %zu conf %g size %g", i, l->conf, l->size);
    }
}

static void test_pages(doc_reader *r, const char *path) {
    lay_doc d;
    t_process(r, path, &d, NULL);
    CHECK(d.pages == 6 && lay_doc_npages(&d) == 6, "pages %u recorded %zu", d.pages,
          lay_doc_npages(&d));
    if (lay_doc_npages(&d) != 6) {
        lay_doc_free(&d);
        return;
    }
    uint8_t want[6] = {LAY_PAGE_TEXT,   LAY_PAGE_TEXT, LAY_PAGE_EMPTY,
                       LAY_PAGE_FAILED, LAY_PAGE_TEXT, LAY_PAGE_FAILED};
    for (int i = 0; i < 6; i++)
        CHECK(lay_doc_page(&d, (size_t)i)->kind == want[i], "page %d kind %d want %d", i,
              lay_doc_page(&d, (size_t)i)->kind, want[i]);
    CHECK(d.status == LAY_DOC_OK, "status %d (%s)", d.status, d.error);
    CHECK(strcmp(d.error, "OCR not available: pages 4, 6 (2) need OCR") == 0, "error '%s'",
          d.error);
    CHECK(d.text_pages == 3, "text pages %u", d.text_pages);
    CHECK(d.bytes > 0, "bytes");

    /* Page 0: heading, left column, right column. */
    const char *order[] = {"A Heading Across The Whole Page Width Here",
                           "Left one alpha beta gamma",
                           "Left two delta",
                           "Left three epsilon",
                           "Left after gap new paragraph",
                           "Right one alpha beta gamma",
                           "Right two delta"};
    for (int i = 0; i < 7; i++)
        CHECK(find_line(&d, order[i]) == i, "'%s' at %d, want %d", order[i],
              find_line(&d, order[i]), i);
    lay_line *l = lay_doc_line(&d, 0);
    CHECK(l[1].block == l[2].block && l[2].block == l[3].block, "left paragraph one block");
    CHECK(l[4].block > l[3].block && l[5].block > l[4].block, "blocks in reading order");
    CHECK(l[0].bbox[1] < 60 && l[0].bbox[1] > 30, "heading near the top: y0 %g", l[0].bbox[1]);
    CHECK(l[1].bbox[0] > 70 && l[1].bbox[0] < 75, "left column x0 %g", l[1].bbox[0]);

    /* Page 1: /Rotate 90 shows 792 wide, 612 high; text runs downwards. */
    lay_page *p1 = lay_doc_page(&d, 1);
    CHECK(p1->rotation == 90 && p1->width == 792 && p1->height == 612, "rot %d %gx%g", p1->rotation,
          p1->width, p1->height);
    int k = find_line(&d, "Rotated page text line");
    CHECK(k >= 0, "rotated line found");
    if (k >= 0) {
        lay_line *rl = lay_doc_line(&d, (size_t)k);
        CHECK(rl->page == 1, "rotated line on page 1");
        /* Unrotated (72,700) from bottom-left = 92 from the top; rotated 90°
         * clockwise that is x ≈ 792 - 92 = 700 and y = 72 growing along the text. */
        CHECK(rl->bbox[3] - rl->bbox[1] > rl->bbox[2] - rl->bbox[0], "vertical box %g %g %g %g",
              rl->bbox[0], rl->bbox[1], rl->bbox[2], rl->bbox[3]);
        CHECK(rl->bbox[0] > 690 && rl->bbox[2] < 715 && rl->bbox[1] > 70 && rl->bbox[1] < 75,
              "rotated box %g %g %g %g", rl->bbox[0], rl->bbox[1], rl->bbox[2], rl->bbox[3]);
    }
    CHECK(find_line(&d, "Invisible OCR layer text of a scanned page") >= 0, "OCR layer text");
    CHECK(find_line(&d, "Text that a scan covers completely") < 0, "hidden text not extracted");
    check_boxes_inside(&d);
    q_buf out = {0};
    lay_doc_plain_text(&d, &out);
    CHECK(q_utf8_valid(out.data, out.len), "valid UTF-8");
    q_buf_free(&out);
    lay_doc_free(&d);

    /* With redo_ocr the invisible layer does not count: page 4 needs OCR. */
    doc_options opt = {.redo_ocr = 1};
    t_process(r, path, &d, &opt);
    CHECK(lay_doc_npages(&d) == 6 && lay_doc_page(&d, 4)->kind == LAY_PAGE_FAILED,
          "redo_ocr page 4");
    CHECK(strstr(d.error, "pages 4, 5, 6") != NULL, "redo_ocr error '%s'", d.error);
    lay_doc_free(&d);
}

static q_status fake_ocr(void *user, doc_file *f, uint32_t page, lay_doc *rec) {
    int *calls = user;
    (*calls)++;
    q_status st = lay_page_begin(rec, page, 100, 100, 0);
    float bb[4] = {10, 10, 90, 20};
    if (!st) st = lay_line_add(rec, bb, 0.9f, 10, "ocr", 3);
    return st ? st : lay_page_end(rec, LAY_PAGE_OCR, 0, 1);
}

static void test_ocr_callback(doc_reader *r, const char *path) {
    lay_doc d;
    lay_doc_init(&d, 0, path);
    int calls = 0;
    doc_options opt = {0};
    CHECK(doc_process(r, &opt, fake_ocr, &calls, &d) == Q_OK, "doc_process");
    CHECK(calls == 2 && d.ocr_pages == 2, "OCR called %d times, %u pages", calls, d.ocr_pages);
    CHECK(d.status == LAY_DOC_OK && d.error[0] == 0, "status %d '%s'", d.status, d.error);
    lay_doc_free(&d);
}

static void test_deadline_passed(doc_reader *r, const char *path) {
    lay_doc d;
    doc_options opt = {.deadline = q_now() - 1};
    t_process(r, path, &d, &opt);
    CHECK(d.status == LAY_DOC_TIMEOUT, "status %d", d.status);
    CHECK(strncmp(d.error, "timeout after", 13) == 0 && strstr(d.error, "at page 1 of 6"),
          "error '%s'", d.error);
    lay_doc_free(&d);
}

/* A page that takes long to interpret: the watchdog must abort MuPDF inside
 * it, so the call returns soon after the deadline. */
static void test_deadline_inside_page(doc_reader *r) {
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
    lay_doc d;
    double t0 = q_now();
    doc_options opt = {.deadline = t0 + 0.2};
    t_process(r, path, &d, &opt);
    double dt = q_now() - t0;
    printf("slow page: status %d after %.2f s: %s\n", d.status, dt, d.error);
    CHECK(d.status == LAY_DOC_TIMEOUT && strstr(d.error, "at page 1 of 1"), "status %d '%s'",
          d.status, d.error);
    CHECK(dt < 5, "abort took %.2f s", dt);
    lay_doc_free(&d);
}

int main(void) {
    const char *pages[6] = {two_col, rotated, no_text, image_only, ocr_layer, hidden};
    int rot[6] = {0, 90, 0, 0, 0, 0};
    const char *path = t_path(t_tmp(), "pages.pdf");
    if (t_pdf_simple(path, 6, pages, rot) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    doc_reader *r;
    if (doc_reader_new(&r) != Q_OK) return 1;
    test_pages(r, path);
    test_ocr_callback(r, path);
    test_deadline_passed(r, path);
    test_deadline_inside_page(r);
    test_pages(r, path); /* the reader is reusable after a timeout */
    doc_reader_free(r);
    return t_finish("doc_pdf");
}

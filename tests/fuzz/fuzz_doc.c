/* libFuzzer target for documents in: doc_process on the input's bytes, with an
 * OCR callback that decodes every page (doc_page_image_get) and touches each
 * pixel, so that PDF text extraction, routing and rendering, and the TIFF,
 * PNG and JPEG readers all see the input. Built once per format
 * (FUZZ_DOC_FORMAT): an input without that format's signature gets it put in
 * front, so that the mutations stay in the reader being fuzzed. */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "doc/doc.h"
#include "fuzz.h"

#define FUZZ_PDF  1
#define FUZZ_TIFF 2
#define FUZZ_PNG  3
#define FUZZ_JPEG 4
#ifndef FUZZ_DOC_FORMAT
#error "define FUZZ_DOC_FORMAT as FUZZ_PDF, FUZZ_TIFF, FUZZ_PNG or FUZZ_JPEG"
#endif

/* The doc module opens paths (that is its contract), so the bytes go to a
 * file in memory, which /proc/self/fd names; one for the whole run. */
static int mem_fd = -1;
static char mem_path[64];
static doc_reader *reader;

/* Where the input already carries the signature, the prefix is empty. */
static const char *signature(const uint8_t *d, size_t n, size_t *len) {
    *len = 0;
    switch (FUZZ_DOC_FORMAT) {
    case FUZZ_PDF: /* doc_sniff looks for %PDF- in the first 1024 bytes */
        for (size_t i = 0; i + 5 <= n && i < 1024; i++)
            if (memcmp(d + i, "%PDF-", 5) == 0) return "";
        *len = 9;
        return "%PDF-1.7\n";
    case FUZZ_TIFF:
        if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4) || !memcmp(d, "II+\0", 4) ||
                       !memcmp(d, "MM\0+", 4)))
            return "";
        *len = 4;
        return "II*\0";
    case FUZZ_PNG:
        if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) return "";
        *len = 8;
        return "\x89PNG\r\n\x1a\n";
    default:
        if (n >= 3 && !memcmp(d, "\xff\xd8\xff", 3)) return "";
        *len = 3;
        return "\xff\xd8\xff";
    }
}

static int write_all(int fd, const void *p, size_t n, off_t at) {
    const char *c = p;
    while (n) {
        ssize_t k = pwrite(fd, c, n, at);
        if (k <= 0) return -1;
        c += k, n -= (size_t)k, at += k;
    }
    return 0;
}

/* What OCR would do with a page: decode it, read every pixel, record one line. */
static q_status touch_page(void *user, doc_file *f, uint32_t page, lay_doc *rec) {
    (void)user;
    doc_page_image pi;
    q_status st = doc_page_image_get(f, page, &pi);
    if (st) {
        FUZZ_CHECK(pi.img.px == NULL, "a failed page left pixels behind");
        return st;
    }
    const q_image *im = &pi.img;
    FUZZ_CHECK(im->w > 0 && im->h > 0 && (im->channels == 1 || im->channels == 3) &&
                   im->stride >= (size_t)im->w * (size_t)im->channels,
               "page image %dx%dx%d stride %zu", im->w, im->h, im->channels, im->stride);
    unsigned sum = 0;
    for (int y = 0; y < im->h; y++)
        for (size_t x = 0; x < (size_t)im->w * (size_t)im->channels; x++)
            sum += im->px[(size_t)y * im->stride + x];
    fuzz_keep(sum);
    float bb[4] = {0, 0, (float)im->w * pi.pt_per_px_x, (float)im->h * pi.pt_per_px_y};
    st = lay_page_begin(rec, page, pi.width, pi.height, pi.rotation);
    if (!st) st = lay_line_add(rec, bb, 0.9f, 10, "page", 4);
    if (!st) st = lay_page_end(rec, LAY_PAGE_OCR, 0, 1);
    doc_page_image_free(&pi);
    return st;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    q_log_init(-1, Q_LOG_ERROR);
    mem_fd = memfd_create("quire-fuzz-doc", MFD_CLOEXEC);
    if (mem_fd < 0 || doc_reader_new(&reader) != Q_OK) {
        perror("fuzz_doc: setup");
        abort();
    }
    snprintf(mem_path, sizeof mem_path, "/proc/self/fd/%d", mem_fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t plen;
    const char *sig = signature(data, size, &plen);
    if (ftruncate(mem_fd, 0) != 0 || write_all(mem_fd, sig, plen, 0) != 0 ||
        write_all(mem_fd, data, size, (off_t)plen) != 0)
        abort();
    /* Small pages and a pixel cap keep one input fast and its memory bounded;
     * the deadline turns a slow input into the timeout record production
     * gives it (libFuzzer's -timeout is well above it). */
    doc_options opt = {.dpi = 50, .max_pixels = 4e6, .deadline = q_now() + 10};
    lay_doc rec;
    if (lay_doc_init(&rec, 0, mem_path) != Q_OK) abort();
    q_status st = doc_process(reader, &opt, touch_page, NULL, &rec);
    FUZZ_CHECK(st == Q_OK || st == Q_ERR_NOMEM, "doc_process returned %s: %s", q_status_name(st),
               q_errmsg());
    lay_doc_free(&rec);
    return 0;
}

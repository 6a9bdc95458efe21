/* Every bad input becomes one record with status error and a one-line reason,
 * never a crash or a hang: empty, missing, unreadable, a directory, a symlink
 * loop, a FIFO, garbage, images (without OCR), truncated and overwritten PDFs
 * (ours and the corpus's), a page that cannot load, an encrypted PDF. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "testlib.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static doc_reader *R;

static void write_bytes(const char *path, const void *data, size_t n) {
    unlink(path);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fwrite(data, 1, n, f);
    fclose(f);
}

/* The file's bytes (malloc'ed, *n of them), or NULL with *n = 0. */
static char *read_all(const char *path, size_t *n) {
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (b) {
        *n = fread(b, 1, (size_t)len, f);
        b[*n] = 0; /* callers strstr() it */
    }
    fclose(f);
    return b;
}

/* The record is an error whose reason starts with `prefix`. */
static void expect_error(const char *path, const char *prefix) {
    lay_doc d;
    t_process(R, path, &d, NULL);
    CHECK(d.status == LAY_DOC_ERROR, "%s: status %d (%s)", path, d.status, d.error);
    CHECK(strncmp(d.error, prefix, strlen(prefix)) == 0, "%s: error '%s', want '%s…'", path,
          d.error, prefix);
    CHECK(strchr(d.error, '\n') == NULL, "one line");
    lay_doc_free(&d);
}

/* Whatever MuPDF makes of a damaged file, the record is consistent: a reason
 * when not ok, pages recorded in order and no more than the document has. */
static void expect_consistent(const char *path, const char *what) {
    lay_doc d;
    t_process(R, path, &d, NULL);
    CHECK(d.status == LAY_DOC_OK || d.status == LAY_DOC_ERROR, "%s: status %d", what, d.status);
    CHECK(d.status == LAY_DOC_OK || d.error[0], "%s: error without reason", what);
    CHECK(lay_doc_npages(&d) <= d.pages, "%s: %zu pages recorded of %u", what, lay_doc_npages(&d),
          d.pages);
    CHECK(strchr(d.error, '\n') == NULL, "%s: one line", what);
    q_buf out = {0};
    lay_doc_plain_text(&d, &out);
    CHECK(out.len == 0 || q_utf8_valid(out.data, out.len), "%s: valid UTF-8", what);
    q_buf_free(&out);
    lay_doc_free(&d);
}

static void test_files(void) {
    const char *T = t_tmp();
    write_bytes(t_path(T, "empty.pdf"), "", 0);
    expect_error(t_path(T, "empty.pdf"), "empty file (0 bytes)");
    expect_error(t_path(T, "does-not-exist.pdf"), "cannot open: No such file or directory");
    expect_error(T, "is a directory");

    unlink(t_path(T, "loop_a"));
    unlink(t_path(T, "loop_b"));
    CHECK(symlink("loop_b", t_path(T, "loop_a")) == 0 &&
              symlink("loop_a", t_path(T, "loop_b")) == 0,
          "symlinks");
    expect_error(t_path(T, "loop_a"), "cannot open: Too many levels of symbolic links");

    unlink(t_path(T, "fifo.pdf"));
    if (mkfifo(t_path(T, "fifo.pdf"), 0600) == 0)
        expect_error(t_path(T, "fifo.pdf"), "not a regular file");

    write_bytes(t_path(T, "noaccess.pdf"), "%PDF-1.4\n", 9);
    chmod(t_path(T, "noaccess.pdf"), 0);
    if (access(t_path(T, "noaccess.pdf"), R_OK) == 0)
        printf("skip EACCES case: running as root, permissions are not enforced\n");
    else
        expect_error(t_path(T, "noaccess.pdf"), "cannot open: Permission denied");
    chmod(t_path(T, "noaccess.pdf"), 0600);
}

static void test_types(void) {
    const char *T = t_tmp();
    write_bytes(t_path(T, "garbage.pdf"), "GARBAGE!\x01\x02 and more", 20);
    expect_error(
        t_path(T, "garbage.pdf"),
        "not a PDF or supported image (starts with bytes '47 41 52 42 41 47 45 21 \xe2\x80\xa6')");
    write_bytes(t_path(T, "png.pdf"), "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    expect_error(t_path(T, "png.pdf"), "PNG image: needs OCR, which this command does not run");
    write_bytes(t_path(T, "jpeg.pdf"), "\xff\xd8\xff\xe0\0\x10JFIF", 10);
    expect_error(t_path(T, "jpeg.pdf"), "JPEG image: ");
    write_bytes(t_path(T, "tiff.pdf"), "II*\0\x08\0\0\0", 8);
    expect_error(t_path(T, "tiff.pdf"), "TIFF image: ");
    write_bytes(t_path(T, "bmp.pdf"), "BM\x36\0\0\0\0\0\0\0\x36\0\0\0(", 15);
    expect_error(t_path(T, "bmp.pdf"), "BMP image: ");
    write_bytes(t_path(T, "header_only.pdf"), "%PDF-1.4\n", 9);
    expect_error(t_path(T, "header_only.pdf"), "damaged PDF");
}

/* A three-page PDF whose page 2 is a dangling reference. */
static void test_unreadable_page(void) {
    const char *path = t_path(t_tmp(), "dangling.pdf");
    const char *pages[3] = {"BT /F1 12 Tf 72 700 Td (Page one text is fine) Tj ET",
                            "BT /F1 12 Tf 72 700 Td (Page two text) Tj ET",
                            "BT /F1 12 Tf 72 700 Td (Page three text is fine) Tj ET"};
    t_pdf_simple(path, 3, pages, NULL);
    size_t n;
    char *b = read_all(path, &n);
    /* Page objects are 5, 7, 9: point the second kid at a missing object. */
    char *k = b ? strstr(b, "[5 0 R 7 0 R 9 0 R ]") : NULL;
    CHECK(k != NULL, "kids array");
    if (k) {
        memcpy(k, "[5 0 R 99 0 R 9 0 R]", 20); /* object 99 does not exist */
        write_bytes(path, b, n);
        lay_doc d;
        t_process(R, path, &d, NULL);
        printf("dangling page: status %d, %zu pages, '%s'\n", d.status, lay_doc_npages(&d),
               d.error);
        CHECK(lay_doc_npages(&d) >= 2, "readable pages kept");
        lay_doc_free(&d);
    }
    free(b);
}

static void test_truncated_and_overwritten(void) {
    const char *T = t_tmp();
    const char *pages[4] = {"BT /F1 12 Tf 72 700 Td (First page of four) Tj ET",
                            "BT /F1 12 Tf 72 700 Td (Second page of four) Tj ET",
                            "BT /F1 12 Tf 72 700 Td (Third page of four) Tj ET",
                            "BT /F1 12 Tf 72 700 Td (Fourth page of four) Tj ET"};
    const char *src = t_path(T, "four.pdf");
    t_pdf_simple(src, 4, pages, NULL);
    const char *files[8] = {src};
    int nf = 1;
    const char *S = t_shared();
    if (S) {
        static char buf[4][1200];
        const char *names[] = {"R-data.pdf", "groff-gpl2-2col.pdf", "mpich-user.pdf",
                               "asyRefCard.pdf"};
        for (int i = 0; i < 4; i++) {
            snprintf(buf[i], sizeof buf[i], "%s/corpus/text_pdfs/%s", S, names[i]);
            files[nf++] = buf[i];
        }
    }
    for (int f = 0; f < nf; f++) {
        size_t n;
        char *b = read_all(files[f], &n);
        if (!b) continue;
        char what[1400];
        for (int pct = 5; pct < 100; pct += 15) {
            size_t cut = n * (size_t)pct / 100;
            write_bytes(t_path(T, "cut.pdf"), b, cut);
            snprintf(what, sizeof what, "%s cut at %d%%", files[f], pct);
            expect_consistent(t_path(T, "cut.pdf"), what);
            /* Overwrite 5% in the middle with bytes that are not PDF syntax. */
            char *g = malloc(n);
            memcpy(g, b, n);
            srand((unsigned)pct);
            for (size_t i = cut; i < cut + n / 20 && i < n; i++)
                g[i] = (char)(rand() & 0xff);
            write_bytes(t_path(T, "garbled.pdf"), g, n);
            snprintf(what, sizeof what, "%s garbled at %d%%", files[f], pct);
            expect_consistent(t_path(T, "garbled.pdf"), what);
            free(g);
        }
        free(b);
    }
}

static void test_corpus_bad(void) {
    const char *S = t_shared();
    if (!S) {
        printf("skip corpus cases: no shared corpus\n");
        return;
    }
    char p[1200];
    snprintf(p, sizeof p, "%s/corpus/bad/empty.pdf", S);
    expect_error(p, "empty file (0 bytes)");
    snprintf(p, sizeof p, "%s/corpus/bad/png_named.pdf", S);
    expect_error(p, "PNG image: ");
    snprintf(p, sizeof p, "%s/corpus/bad/truncated_half.pdf", S);
    expect_error(p, "damaged PDF");
    snprintf(p, sizeof p, "%s/corpus/bad/garbage_middle.pdf", S);
    expect_consistent(p, "garbage_middle.pdf");
}

static void test_encrypted(void) {
    const char *T = t_tmp();
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mutool clean -E aes-128 -U secret -O owner %s %s >/dev/null 2>&1",
             t_path(T, "four.pdf"), t_path(T, "encrypted.pdf"));
    if (system(cmd) != 0) {
        printf("skip encrypted case: mutool not available to make one\n");
        return;
    }
    expect_error(t_path(T, "encrypted.pdf"), "encrypted: needs a password");
}

int main(void) {
    if (doc_reader_new(&R) != Q_OK) return 1;
    test_files();
    test_types();
    test_unreadable_page();
    test_truncated_and_overwritten();
    test_corpus_bad();
    test_encrypted();
    doc_reader_free(R);
    return t_finish("doc_bad");
}

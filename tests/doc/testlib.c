/* Test helpers: see testlib.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "testlib.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int t_failures;

struct t_pdf {
    char **body;
    size_t *len;
    int n, cap;
};

t_pdf *t_pdf_new(void) {
    return calloc(1, sizeof(t_pdf));
}

static int pdf_add(t_pdf *p, char *body, size_t len) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->body = realloc(p->body, (size_t)p->cap * sizeof *p->body);
        p->len = realloc(p->len, (size_t)p->cap * sizeof *p->len);
    }
    p->body[p->n] = body;
    p->len[p->n] = len;
    return ++p->n;
}

int t_pdf_obj(t_pdf *p, const char *body) {
    return pdf_add(p, strdup(body), strlen(body));
}

void t_pdf_set(t_pdf *p, int num, const char *body) {
    free(p->body[num - 1]);
    p->body[num - 1] = strdup(body);
    p->len[num - 1] = strlen(body);
}

int t_pdf_stream(t_pdf *p, const char *dict, const char *data, size_t len) {
    char head[512];
    int h = snprintf(head, sizeof head, "<< %s /Length %zu >>\nstream\n", dict, len);
    char *b = malloc((size_t)h + len + 11);
    memcpy(b, head, (size_t)h);
    memcpy(b + h, data, len);
    memcpy(b + h + len, "\nendstream", 10);
    return pdf_add(p, b, (size_t)h + len + 10);
}

int t_pdf_write(t_pdf *p, int root, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    long *off = malloc(((size_t)p->n + 1) * sizeof *off);
    fputs("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", f);
    for (int i = 0; i < p->n; i++) {
        off[i] = ftell(f);
        fprintf(f, "%d 0 obj\n", i + 1);
        fwrite(p->body[i], 1, p->len[i], f);
        fputs("\nendobj\n", f);
    }
    long xref = ftell(f);
    fprintf(f, "xref\n0 %d\n0000000000 65535 f \n", p->n + 1);
    for (int i = 0; i < p->n; i++)
        fprintf(f, "%010ld 00000 n \n", off[i]);
    fprintf(f, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%ld\n%%%%EOF\n", p->n + 1, root,
            xref);
    fclose(f);
    for (int i = 0; i < p->n; i++)
        free(p->body[i]);
    free(p->body);
    free(p->len);
    free(off);
    free(p);
    return 0;
}

int t_pdf_simple(const char *path, int npages, const char *const *contents, const int *rotate) {
    t_pdf *p = t_pdf_new();
    int cat = t_pdf_obj(p, "");
    int pages = t_pdf_obj(p, "");
    int font = t_pdf_obj(p, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                            "/Encoding /WinAnsiEncoding >>");
    char kids[4096] = "", buf[512];
    for (int i = 0; i < npages; i++) {
        int c = t_pdf_stream(p, "", contents[i], strlen(contents[i]));
        snprintf(buf, sizeof buf,
                 "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Rotate %d "
                 "/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>",
                 pages, rotate ? rotate[i] : 0, font, c);
        int pg = t_pdf_obj(p, buf);
        snprintf(kids + strlen(kids), sizeof kids - strlen(kids), "%d 0 R ", pg);
    }
    snprintf(buf, sizeof buf, "<< /Type /Catalog /Pages %d 0 R >>", pages);
    t_pdf_set(p, cat, buf);
    char pb[4200];
    snprintf(pb, sizeof pb, "<< /Type /Pages /Kids [%s] /Count %d >>", kids, npages);
    t_pdf_set(p, pages, pb);
    return t_pdf_write(p, cat, path);
}

const char *t_tmp(void) {
    static char dir[1024];
    if (!dir[0]) {
        const char *e = getenv("QUIRE_TMP");
        snprintf(dir, sizeof dir, "%s", e && *e ? e : "/tmp/quire_doc_test");
        mkdir(dir, 0777);
    }
    return dir;
}

const char *t_shared(void) {
    static char dir[1024];
    const char *e = getenv("QUIRE_SHARED");
    snprintf(dir, sizeof dir, "%s", e && *e ? e : "../shared");
    struct stat sb;
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/corpus", dir);
    return stat(probe, &sb) == 0 ? dir : NULL;
}

char *t_path(const char *dir, const char *name) {
    static char buf[4][1200];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

void t_process(doc_reader *r, const char *path, lay_doc *rec, const doc_options *opt) {
    doc_options def = {0};
    if (lay_doc_init(rec, 0, path) != Q_OK) {
        fprintf(stderr, "lay_doc_init failed\n");
        exit(1);
    }
    q_status st = doc_process(r, opt ? opt : &def, NULL, NULL, rec);
    if (st != Q_OK) {
        fprintf(stderr, "doc_process(%s) returned %s: %s\n", path, q_status_name(st), q_errmsg());
        t_failures++;
    }
}

const char *t_line_text(lay_doc *rec, size_t i) {
    static char buf[4096];
    lay_line *l = lay_doc_line(rec, i);
    size_t n = l->text_len < sizeof buf - 1 ? l->text_len : sizeof buf - 1;
    memcpy(buf, rec->text.data + l->text_start, n);
    buf[n] = 0;
    return buf;
}

int t_finish(const char *name) {
    if (t_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, t_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

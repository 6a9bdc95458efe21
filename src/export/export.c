/* export.c: the driver of quire export. Opens results.h5 (each rank on its
 * own), picks this rank's share of the selected documents, skips those whose
 * record failed, and writes each of the others in the chosen format under a
 * temporary name that is renamed when the file is complete. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_int.h"
#include "store/store.h"

static const struct {
    const char *name, *ext;
} export_formats[] = {
    [EXPORT_TEXT] = {"text", ".txt"},  [EXPORT_JSONL] = {"jsonl", ".jsonl"},
    [EXPORT_HOCR] = {"hocr", ".hocr"}, [EXPORT_ALTO] = {"alto", ".alto.xml"},
    [EXPORT_PDF] = {"pdf", ".pdf"},
};

int export_format_parse(const char *name, export_format *out) {
    for (size_t i = 0; i < Q_ARRAY_LEN(export_formats); i++)
        if (!strcmp(name, export_formats[i].name)) {
            *out = (export_format)i;
            return 0;
        }
    return -1;
}

const char *export_format_name(export_format f) {
    return export_formats[f].name;
}

const char *export_format_ext(export_format f) {
    return export_formats[f].ext;
}

static const char *const export_status[] = {"ok", "error", "timeout", "skipped"};

/* DDDDDD-NAME.EXT: NAME is the source's base name without its extension,
 * with anything but letters, digits and . - _ + made '_' (names stay
 * portable and never hold a '/'). */
static void export_file_name(const lay_doc *d, export_format f, char *out, size_t cap) {
    const char *base = strrchr(d->path, '/');
    base = base ? base + 1 : d->path;
    char name[128];
    size_t n = 0;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    for (size_t i = 0; i < len && n + 1 < sizeof name; i++) {
        unsigned char c = (unsigned char)base[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_' || c == '+';
        name[n++] = ok ? (char)c : '_';
    }
    name[n] = 0;
    snprintf(out, cap, "%06llu-%s%s", (unsigned long long)d->doc, n ? name : "doc",
             export_format_ext(f));
}

/* Writes `b` to `tmp`; on failure removes it. */
static q_status export_write_tmp(const char *tmp, const q_buf *b) {
    FILE *fp = fopen(tmp, "wb");
    if (!fp) return Q_FAIL(Q_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    size_t w = b->len ? fwrite(b->data, 1, b->len, fp) : 0;
    int bad = w != b->len || fflush(fp) != 0;
    int err = errno;
    if (fclose(fp) != 0 && !bad) bad = 1, err = errno;
    if (bad) {
        unlink(tmp);
        return Q_FAIL(Q_ERR_IO, "cannot write %s: %s", tmp, strerror(err));
    }
    return Q_OK;
}

/* The source of a pdf export must be the file the run read: same size. */
static q_status export_check_source(const lay_doc *d) {
    struct stat sb;
    if (stat(d->path, &sb) != 0)
        return Q_FAIL(Q_ERR_IO, "source %s is gone since the run: %s", d->path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return Q_FAIL(Q_ERR_IO, "source %s is not a file", d->path);
    if ((uint64_t)sb.st_size != d->bytes)
        return Q_FAIL(Q_ERR_FORMAT, "source %s changed since the run (%llu bytes, %llu then)",
                      d->path, (unsigned long long)sb.st_size, (unsigned long long)d->bytes);
    return Q_OK;
}

/* One document, written: the format into a temporary file, then renamed. */
static q_status export_one(const export_options *o, const lay_doc *d, const char *dst) {
    char tmp[4352];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", dst, (long)getpid());
    q_status st = Q_OK;
    if (o->format == EXPORT_PDF) {
        if (!(st = export_check_source(d))) st = export_pdf(d, d->path, tmp);
        if (st) unlink(tmp);
    } else {
        q_buf b = {0};
        switch (o->format) {
        case EXPORT_TEXT:
            st = export_text(d, &b);
            break;
        case EXPORT_JSONL:
            st = export_jsonl(d, &b);
            break;
        case EXPORT_HOCR:
            st = export_hocr(d, &b);
            break;
        default:
            st = export_alto(d, &b);
            break;
        }
        if (!st) st = export_write_tmp(tmp, &b);
        q_buf_free(&b);
    }
    if (!st && rename(tmp, dst) != 0) {
        st = Q_FAIL(Q_ERR_IO, "cannot rename %s to %s: %s", tmp, dst, strerror(errno));
        unlink(tmp);
    }
    return st;
}

/* 1 when `path` is one of --path's: equal, or ending in "/P". */
static int export_path_hit(const export_options *o, const char *path, uint64_t *hits) {
    int any = 0;
    size_t n = strlen(path);
    for (size_t i = 0; i < o->npaths; i++) {
        const char *p = o->paths[i];
        size_t m = strlen(p);
        if (!strcmp(path, p) || (m < n && path[n - m - 1] == '/' && !strcmp(path + n - m, p)))
            hits[i]++, any = 1;
    }
    return any;
}

/* Reads, checks and writes the document of row `row`. */
static void export_row(const export_options *o, store_results *r, size_t row, export_counts *c) {
    lay_doc d;
    char name[256], dst[4224];
    if (store_results_read(r, row, &d)) {
        q_log(Q_LOG_WARN, "failed: %06llu: %s", (unsigned long long)store_results_doc_id(r, row),
              q_errmsg());
        c->failed++;
        return;
    }
    if (d.status != LAY_DOC_OK) {
        q_log(Q_LOG_INFO, "skipped: %06llu %s (%s: %s)", (unsigned long long)d.doc, d.path,
              d.status < 4 ? export_status[d.status] : "?", d.error[0] ? d.error : "no reason");
        c->skipped++;
    } else {
        export_file_name(&d, o->format, name, sizeof name);
        q_status st = q_path_join(dst, sizeof dst, o->to, name);
        if (!st) st = export_one(o, &d, dst);
        if (st) {
            q_log(Q_LOG_WARN, "failed: %06llu %s: %s", (unsigned long long)d.doc, d.path,
                  q_errmsg());
            c->failed++;
        } else {
            c->written++;
        }
    }
    lay_doc_free(&d);
}

/* This rank's share [*lo, *hi) of n selected documents: a contiguous block,
 * so that each rank reads results.h5's rows in order (the page cursor of
 * store_results_read then finds each next document without a search). */
static void export_share(const export_options *o, size_t n, size_t *lo, size_t *hi) {
    *lo = n * (size_t)o->rank / (size_t)o->size;
    *hi = n * ((size_t)o->rank + 1) / (size_t)o->size;
}

/* --id: the rows of the ids, sorted and unique; rank 0 counts the unknown. */
static q_status export_by_id(const export_options *o, store_results *r, export_counts *c) {
    uint64_t *ids = malloc((o->nids ? o->nids : 1) * sizeof *ids);
    if (!ids) return Q_FAIL(Q_ERR_NOMEM, "out of memory for --id");
    memcpy(ids, o->ids, o->nids * sizeof *ids);
    size_t n = 0, k = 0;
    for (size_t i = 0; i < o->nids; i++) { /* insertion sort: --id lists are short */
        uint64_t v = ids[i];
        size_t j = n;
        while (j > 0 && ids[j - 1] > v)
            ids[j] = ids[j - 1], j--;
        if (j > 0 && ids[j - 1] == v) {
            memmove(&ids[j], &ids[j + 1], (n - j) * sizeof *ids);
            continue;
        }
        ids[j] = v, n++;
    }
    for (size_t i = 0; i < n; i++) { /* the known ids first, in place */
        size_t row;
        if (store_results_find(r, ids[i], &row)) {
            ids[k++] = row;
        } else if (o->rank == 0) {
            q_log(Q_LOG_WARN, "failed: no document %llu in %s", (unsigned long long)ids[i],
                  o->results);
            c->failed++;
        }
    }
    size_t lo, hi;
    export_share(o, k, &lo, &hi);
    for (size_t i = lo; i < hi; i++)
        export_row(o, r, (size_t)ids[i], c);
    free(ids);
    return Q_OK;
}

q_status export_run(const export_options *o, export_counts *c, uint64_t *hits) {
    store_results *r = NULL;
    q_status st = q_mkdirs(o->to);
    if (st) return q_fail_context("cannot create the folder %s", o->to);
    if ((st = store_results_open(o->results, &r))) return st;
    size_t n = store_results_ndocs(r);
    if (o->nids) {
        st = export_by_id(o, r, c);
    } else {
        size_t lo, hi;
        export_share(o, n, &lo, &hi);
        for (size_t row = lo; row < hi; row++) {
            if (o->npaths) {
                lay_doc h;
                if (store_results_read_head(r, row, &h)) {
                    q_log(Q_LOG_WARN, "failed: document row %zu: %s", row, q_errmsg());
                    c->failed++;
                    continue;
                }
                int hit = export_path_hit(o, h.path, hits);
                lay_doc_free(&h);
                if (!hit) continue;
            }
            export_row(o, r, row, c);
        }
    }
    store_results_close(r);
    if (o->size > 1) /* under mpirun: how the work was shared (not with -q) */
        q_log(Q_LOG_INFO, "this rank: %llu written, %llu skipped, %llu failed",
              (unsigned long long)c->written, (unsigned long long)c->skipped,
              (unsigned long long)c->failed);
    return st;
}

/* journal.c: the resume index. Lists the closed shards of OUT/journal/ (in
 * name order; leftover *.tmp files from a crash are ignored), reads each
 * shard's /index and paths, and answers "is document N done?". */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_ATTEMPTS_SUFFIX ".log"

typedef struct {
    uint64_t doc;
    char *path;
    size_t order;
} journal_doc;

struct store_journal {
    journal_doc *d; /* sorted by doc, unique */
    size_t n;
};

static int journal_has_suffix(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n > m && strcmp(s + n - m, suf) == 0;
}

static int journal_name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void store_names_free(store_names *n) {
    for (size_t i = 0; n && i < n->n; i++)
        free(n->name[i]);
    if (n) free(n->name);
    if (n) n->name = NULL, n->n = 0;
}

q_status store_list_shards(const char *jdir, store_names *out) {
    out->name = NULL;
    out->n = 0;
    DIR *dir = opendir(jdir);
    if (!dir) {
        if (errno == ENOENT) return Q_OK;
        return Q_FAIL(Q_ERR_IO, "cannot list journal %s: %s", jdir, strerror(errno));
    }
    size_t cap = 0;
    q_status st = Q_OK;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        /* Closed shards only: r*.h5 (a *.h5.tmp does not end in ".h5"). */
        if (e->d_name[0] != 'r' || !journal_has_suffix(e->d_name, STORE_SHARD_SUFFIX)) continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(out->name, cap * sizeof *p);
            if (!p) {
                st = Q_FAIL(Q_ERR_NOMEM, "out of memory listing %s", jdir);
                break;
            }
            out->name = p;
        }
        size_t len = strlen(e->d_name);
        if (!(out->name[out->n] = malloc(len + 1))) {
            st = Q_FAIL(Q_ERR_NOMEM, "out of memory listing %s", jdir);
            break;
        }
        memcpy(out->name[out->n++], e->d_name, len + 1);
    }
    closedir(dir);
    if (st) {
        store_names_free(out);
        return st;
    }
    if (out->n) qsort(out->name, out->n, sizeof *out->name, journal_name_cmp);
    return Q_OK;
}

/* Checks a shard's /index against its tables: sorted unique docs, row ranges
 * in bounds and in order. Bad files are errors, never crashes. */
static q_status journal_check_index(const store_index_row *r, size_t n, uint64_t ndocs,
                                    uint64_t npages, uint64_t nlines, uint64_t ntext) {
    if (ndocs != n)
        return Q_FAIL(Q_ERR_FORMAT, "/index has %zu rows but /documents %llu", n,
                      (unsigned long long)ndocs);
    uint64_t p = 0, l = 0, t = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && r[i].doc <= r[i - 1].doc)
            return Q_FAIL(Q_ERR_FORMAT, "/index not sorted at row %zu", i);
        if (r[i].page_row < p || r[i].npages > npages - r[i].page_row || r[i].line_row < l ||
            r[i].nlines > nlines - r[i].line_row || r[i].text_off < t ||
            r[i].ntext > ntext - r[i].text_off || r[i].path_len > (1u << 20) ||
            r[i].error_len > (1u << 20))
            return Q_FAIL(Q_ERR_FORMAT, "/index row %zu out of bounds", i);
        p = r[i].page_row + r[i].npages;
        l = r[i].line_row + r[i].nlines;
        t = r[i].text_off + r[i].ntext;
    }
    return Q_OK;
}

q_status store_shard_read_index(const char *path, store_index_row **rows, size_t *n) {
    *rows = NULL;
    *n = 0;
    store_h5_quiet();
    hid_t f = -1, d = -1, t = -1;
    uint64_t cnt[5] = {0};
    static const char *const tables[5] = {"index", "documents", "pages", "lines", "text"};
    q_status st = Q_OK;
    int fmt = 0;
    if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        st = STORE_H5_FAIL("cannot open");
        goto fail;
    }
    if ((st = store_h5_attr_read_int(f, "quire_shard", &fmt))) goto fail;
    if (fmt != STORE_SHARD_FORMAT) {
        st = Q_FAIL(Q_ERR_FORMAT, "shard format %d, expected %d", fmt, STORE_SHARD_FORMAT);
        goto fail;
    }
    for (int i = 4; i >= 0; i--) { /* ends with /index open */
        store_h5_close(&d);
        if ((d = H5Dopen2(f, tables[i], H5P_DEFAULT)) < 0 ||
            (cnt[i] = store_h5_nrows(d)) == UINT64_MAX) {
            st = STORE_H5_FAIL("cannot open /%s", tables[i]);
            goto fail;
        }
    }
    if (cnt[0] > ((uint64_t)1 << 32) ||
        !(*rows = malloc((size_t)(cnt[0] ? cnt[0] : 1) * sizeof **rows))) {
        st = Q_FAIL(Q_ERR_NOMEM, "cannot hold /index of %llu rows", (unsigned long long)cnt[0]);
        goto fail;
    }
    if ((t = store_type_index()) < 0) {
        st = q_errcode();
        goto fail;
    }
    if ((st = store_h5_read_rows(d, t, 0, cnt[0], *rows)) ||
        (st = journal_check_index(*rows, (size_t)cnt[0], cnt[1], cnt[2], cnt[3], cnt[4])))
        goto fail;
    *n = (size_t)cnt[0];
fail:
    store_h5_close(&t);
    store_h5_close(&d);
    store_h5_close(&f);
    if (st) {
        free(*rows);
        *rows = NULL;
        q_fail_context("corrupt journal shard %s (delete it to redo its documents)", path);
    }
    return st;
}

/* Reads doc ids and paths of /documents in one call. */
static q_status journal_read_paths(const char *path, journal_doc *out, size_t n) {
    hid_t f = -1, d = -1, ft = -1, pt = -1, mt = -1;
    char *buf = NULL;
    q_status st = Q_OK;
    if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0 ||
        (d = H5Dopen2(f, "documents", H5P_DEFAULT)) < 0 || (ft = H5Dget_type(d)) < 0) {
        st = STORE_H5_FAIL("cannot open /documents");
        goto fail;
    }
    int pi = H5Tget_member_index(ft, "path");
    size_t psize = pi < 0 ? 0 : H5Tget_size(pt = H5Tget_member_type(ft, (unsigned)pi));
    if (psize == 0 || psize > (1u << 20)) {
        st = STORE_H5_FAIL("/documents has no usable path field");
        goto fail;
    }
    size_t row = 8 + psize;
    mt = H5Tcreate(H5T_COMPOUND, row);
    if (mt < 0 || H5Tinsert(mt, "doc", 0, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(mt, "path", 8, pt) < 0) {
        st = STORE_H5_FAIL("cannot build a path reader type");
        goto fail;
    }
    if (!(buf = malloc(n * row + 1))) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading paths");
        goto fail;
    }
    if ((st = store_h5_read_rows(d, mt, 0, n, buf))) goto fail;
    for (size_t i = 0; i < n; i++) {
        const char *r = buf + i * row;
        size_t len = strnlen(r + 8, psize);
        out[i].doc = store_get_u64(r, 0);
        if (!(out[i].path = malloc(len + 1))) {
            st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading paths");
            goto fail;
        }
        memcpy(out[i].path, r + 8, len);
        out[i].path[len] = 0;
    }
fail:
    free(buf);
    store_h5_close(&mt), store_h5_close(&pt), store_h5_close(&ft);
    store_h5_close(&d), store_h5_close(&f);
    if (st) q_fail_context("corrupt journal shard %s (delete it to redo its documents)", path);
    return st;
}

/* Attempts logs, a<rank>-<pid>-<time>.log, which earlier versions wrote:
 * --force still removes them. */
static int journal_is_attempts(const char *name) {
    return name[0] == 'a' && journal_has_suffix(name, JOURNAL_ATTEMPTS_SUFFIX);
}

static int journal_doc_cmp(const void *a, const void *b) {
    const journal_doc *x = a, *y = b;
    if (x->doc != y->doc) return x->doc < y->doc ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

q_status store_journal_scan(const char *outdir, store_journal **out) {
    *out = NULL;
    char jdir[4096], path[8192];
    store_names names = {0};
    store_index_row *idx = NULL;
    store_journal *j = calloc(1, sizeof *j);
    size_t cap = 0;
    q_status st = j ? q_path_join(jdir, sizeof jdir, outdir, "journal")
                    : Q_FAIL(Q_ERR_NOMEM, "out of memory");
    if (!st) st = store_list_shards(jdir, &names);
    for (size_t s = 0; !st && s < names.n; s++) {
        size_t n = 0;
        snprintf(path, sizeof path, "%s/%s", jdir, names.name[s]);
        if ((st = store_shard_read_index(path, &idx, &n))) break;
        free(idx), idx = NULL;
        if (j->n + n > cap) {
            size_t nc = Q_MAX(cap * 2, j->n + n);
            journal_doc *p = realloc(j->d, nc * sizeof *p);
            if (!p) {
                st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading the journal");
                break;
            }
            j->d = p, cap = nc;
        }
        memset(j->d + j->n, 0, n * sizeof *j->d);
        st = journal_read_paths(path, j->d + j->n, n);
        j->n += n; /* partially filled rows have NULL paths: free() is fine */
    }
    if (st) goto fail;
    /* One entry per document: the first by shard name order. Shards were read
     * in that order, so `order` (the position) breaks ties. */
    for (size_t i = 0; i < j->n; i++)
        j->d[i].order = i;
    if (j->n) qsort(j->d, j->n, sizeof *j->d, journal_doc_cmp);
    size_t n = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (n && j->d[n - 1].doc == j->d[i].doc)
            free(j->d[i].path);
        else
            j->d[n++] = j->d[i];
    }
    j->n = n;
    store_names_free(&names);
    *out = j;
    return Q_OK;
fail:
    free(idx);
    store_names_free(&names);
    store_journal_free(j);
    return st;
}

size_t store_journal_count(const store_journal *j) {
    return j ? j->n : 0;
}

static const journal_doc *journal_find(const store_journal *j, uint64_t doc) {
    size_t lo = 0, hi = j ? j->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (j->d[mid].doc < doc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (j && lo < j->n && j->d[lo].doc == doc) ? &j->d[lo] : NULL;
}

int store_journal_has(const store_journal *j, uint64_t doc) {
    return journal_find(j, doc) != NULL;
}

const char *store_journal_path(const store_journal *j, uint64_t doc) {
    const journal_doc *d = journal_find(j, doc);
    return d ? d->path : NULL;
}

void store_journal_free(store_journal *j) {
    if (!j) return;
    for (size_t i = 0; i < j->n; i++)
        free(j->d[i].path);
    free(j->d);
    free(j);
}

static q_status journal_unlink(const char *path) {
    if (unlink(path) != 0 && errno != ENOENT)
        return Q_FAIL(Q_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    return Q_OK;
}

q_status store_journal_clear(const char *outdir) {
    char jdir[4096], path[8192];
    q_status st = q_path_join(jdir, sizeof jdir, outdir, "journal");
    if (st) return st;
    DIR *dir = opendir(jdir);
    if (!dir && errno != ENOENT)
        return Q_FAIL(Q_ERR_IO, "cannot list journal %s: %s", jdir, strerror(errno));
    struct dirent *e;
    while (dir && !st && (e = readdir(dir)) != NULL) {
        if (!journal_is_attempts(e->d_name) &&
            (e->d_name[0] != 'r' || !(journal_has_suffix(e->d_name, STORE_SHARD_SUFFIX) ||
                                      journal_has_suffix(e->d_name, STORE_TMP_SUFFIX) ||
                                      journal_has_suffix(e->d_name, STORE_RECLOG_SUFFIX))))
            continue; /* only our own files */
        snprintf(path, sizeof path, "%s/%s", jdir, e->d_name);
        st = journal_unlink(path);
    }
    if (dir) closedir(dir);
    for (int i = 0; !st && i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", outdir, i ? "results.h5.tmp" : "results.h5");
        st = journal_unlink(path);
    }
    return st;
}

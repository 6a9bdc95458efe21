/* journal.c: the resume index. Reads the records of every closed shard of
 * OUT/journal/ (shardread.c), keeps one per document (store_record_cmp), and
 * answers "is document N done, and how did it end?". */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define JOURNAL_ATTEMPTS_SUFFIX ".log"

typedef struct {
    uint64_t doc;
    char *path;
    uint64_t bytes;
    store_record_key key; /* seq: the shard's position in name order */
    uint8_t retry;
} journal_doc;

struct store_journal {
    journal_doc *d; /* sorted by doc, unique: each document's winning record */
    size_t n;
    size_t nshards; /* closed shards read; key.seq indexes their sorted names */
};

/* Reads doc ids, paths and sizes of /documents in one call. */
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
    size_t row = 16 + psize;
    mt = H5Tcreate(H5T_COMPOUND, row);
    if (mt < 0 || H5Tinsert(mt, "doc", 0, H5T_NATIVE_UINT64) < 0 ||
        H5Tinsert(mt, "bytes", 8, H5T_NATIVE_UINT64) < 0 || H5Tinsert(mt, "path", 16, pt) < 0) {
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
        size_t len = strnlen(r + 16, psize);
        out[i].doc = store_get_u64(r, 0);
        out[i].bytes = store_get_u64(r, 8);
        if (!(out[i].path = malloc(len + 1))) {
            st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading paths");
            goto fail;
        }
        memcpy(out[i].path, r + 16, len);
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
    return name[0] == 'a' && store_has_suffix(name, JOURNAL_ATTEMPTS_SUFFIX);
}

/* By doc, the winning record of each document first. */
static int journal_doc_cmp(const void *a, const void *b) {
    const journal_doc *x = a, *y = b;
    if (x->doc != y->doc) return x->doc < y->doc ? -1 : 1;
    return store_record_cmp(&x->key, &y->key);
}

/* Appends the records of shard number `seq` at `path` to j. */
static q_status journal_add_shard(store_journal *j, size_t *cap, const char *path, size_t seq) {
    store_shard_head h;
    q_status st = store_shard_read_head(path, &h);
    if (st) return st;
    if (j->n + h.n > *cap) {
        size_t nc = Q_MAX(*cap * 2, j->n + h.n);
        journal_doc *p = realloc(j->d, nc * sizeof *p);
        if (!p) {
            store_shard_head_free(&h);
            return Q_FAIL(Q_ERR_NOMEM, "out of memory reading the journal");
        }
        j->d = p, *cap = nc;
    }
    journal_doc *d = j->d + j->n;
    memset(d, 0, h.n * sizeof *d);
    st = journal_read_paths(path, d, h.n);
    for (size_t i = 0; i < h.n; i++) {
        d[i].key = (store_record_key){.status = h.status[i], .created = h.created, .seq = seq};
        d[i].retry = h.retry[i];
    }
    j->n += h.n; /* partially filled rows have NULL paths: free() is fine */
    store_shard_head_free(&h);
    return st;
}

q_status store_journal_scan(const char *outdir, store_journal **out) {
    *out = NULL;
    char jdir[4096], path[8192];
    store_names names = {0};
    store_journal *j = calloc(1, sizeof *j);
    size_t cap = 0;
    q_status st = j ? q_path_join(jdir, sizeof jdir, outdir, "journal")
                    : Q_FAIL(Q_ERR_NOMEM, "out of memory");
    if (!st) st = store_list_shards(jdir, &names);
    for (size_t s = 0; !st && s < names.n; s++) {
        snprintf(path, sizeof path, "%s/%s", jdir, names.name[s]);
        st = journal_add_shard(j, &cap, path, s);
    }
    if (j) j->nshards = names.n;
    store_names_free(&names);
    if (st) {
        store_journal_free(j);
        return st;
    }
    /* One entry per document: the record store_record_cmp picks. */
    if (j->n) qsort(j->d, j->n, sizeof *j->d, journal_doc_cmp);
    size_t n = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (n && j->d[n - 1].doc == j->d[i].doc)
            free(j->d[i].path);
        else
            j->d[n++] = j->d[i];
    }
    j->n = n;
    *out = j;
    return Q_OK;
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

uint64_t store_journal_bytes(const store_journal *j, uint64_t doc) {
    const journal_doc *d = journal_find(j, doc);
    return d ? d->bytes : 0;
}

uint64_t store_journal_nth(const store_journal *j, size_t k) {
    return j && k < j->n ? j->d[k].doc : STORE_DOC_DROPPED;
}

int store_journal_winner(const store_journal *j, uint64_t doc, size_t *shard) {
    const journal_doc *d = journal_find(j, doc);
    if (d) *shard = (size_t)d->key.seq;
    return d != NULL;
}

size_t store_journal_nshards(const store_journal *j) {
    return j ? j->nshards : 0;
}

int store_journal_status(const store_journal *j, uint64_t doc, uint8_t *status, uint8_t *retry) {
    const journal_doc *d = journal_find(j, doc);
    if (d) *status = d->key.status, *retry = d->retry;
    return d != NULL;
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
            strncmp(e->d_name, STORE_INPUTS_NAME, strlen(STORE_INPUTS_NAME)) != 0 &&
            (e->d_name[0] != 'r' || !(store_has_suffix(e->d_name, STORE_SHARD_SUFFIX) ||
                                      store_has_suffix(e->d_name, STORE_TMP_SUFFIX) ||
                                      store_has_suffix(e->d_name, STORE_RECLOG_SUFFIX))))
            continue; /* only our own files */
        snprintf(path, sizeof path, "%s/%s", jdir, e->d_name);
        st = journal_unlink(path);
    }
    if (dir) closedir(dir);
    if (!st) st = store_remap_clear(outdir);
    for (int i = 0; !st && i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", outdir, i ? "results.h5.tmp" : "results.h5");
        st = journal_unlink(path);
    }
    return st;
}

/* shardread.c: what the resume index and the consolidation plan read of the
 * closed shards: their names in OUT/journal/ (leftover *.tmp files from a
 * crash are ignored), each one's /index, status and retryable flags and close
 * time, and the rule that picks one record when a document has several. */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int shardread_name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void store_names_free(store_names *n) {
    for (size_t i = 0; n && i < n->n; i++)
        free(n->name[i]);
    if (n) free(n->name);
    if (n) n->name = NULL, n->n = 0;
}

static q_status shardread_push(store_names *out, size_t *cap, const char *name) {
    if (out->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        char **p = realloc(out->name, nc * sizeof *p);
        if (!p) return Q_FAIL(Q_ERR_NOMEM, "out of memory listing the journal");
        out->name = p, *cap = nc;
    }
    size_t len = strlen(name);
    if (!(out->name[out->n] = malloc(len + 1)))
        return Q_FAIL(Q_ERR_NOMEM, "out of memory listing the journal");
    memcpy(out->name[out->n++], name, len + 1);
    return Q_OK;
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
    while (!st && (e = readdir(dir)) != NULL)
        /* Closed shards only: r*.h5 (a *.h5.tmp does not end in ".h5"). */
        if (e->d_name[0] == 'r' && store_has_suffix(e->d_name, STORE_SHARD_SUFFIX))
            st = shardread_push(out, &cap, e->d_name);
    closedir(dir);
    if (st) {
        store_names_free(out);
        return st;
    }
    if (out->n) qsort(out->name, out->n, sizeof *out->name, shardread_name_cmp);
    return Q_OK;
}

/* Checks a shard's /index against its tables: sorted unique docs, row ranges
 * in bounds and in order. Bad files are errors, never crashes. */
static q_status shardread_check_index(const store_index_row *r, size_t n, uint64_t ndocs,
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
            r[i].error_len > (1u << 20) || r[i].warning_len > (1u << 20))
            return Q_FAIL(Q_ERR_FORMAT, "/index row %zu out of bounds", i);
        p = r[i].page_row + r[i].npages;
        l = r[i].line_row + r[i].nlines;
        t = r[i].text_off + r[i].ntext;
    }
    return Q_OK;
}

/* The status and retryable fields of the n rows of /documents (open as `d`).
 * Shards written before retryable existed have none: their flags stay 0. */
static q_status shardread_state(hid_t d, size_t n, uint8_t *status, uint8_t *retry) {
    hid_t ft = H5Dget_type(d), et = -1, mt = -1;
    uint8_t *buf = NULL;
    q_status st = Q_OK;
    int si = ft < 0 ? -1 : H5Tget_member_index(ft, "status");
    hid_t fe = si < 0 ? -1 : H5Tget_member_type(ft, (unsigned)si);
    if (fe >= 0) et = H5Tget_native_type(fe, H5T_DIR_DEFAULT);
    if (et < 0 || H5Tget_class(et) != H5T_ENUM || H5Tget_size(et) != 1) {
        st = STORE_H5_FAIL("/documents has no usable status field");
        goto fail;
    }
    int has_retry = H5Tget_member_index(ft, "retryable") >= 0;
    if ((mt = H5Tcreate(H5T_COMPOUND, 2)) < 0 || H5Tinsert(mt, "status", 0, et) < 0 ||
        (has_retry && H5Tinsert(mt, "retryable", 1, H5T_NATIVE_UINT8) < 0)) {
        st = STORE_H5_FAIL("cannot build a status reader type");
        goto fail;
    }
    if (!(buf = calloc(n ? n : 1, 2))) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading statuses");
        goto fail;
    }
    if ((st = store_h5_read_rows(d, mt, 0, n, buf))) goto fail;
    for (size_t i = 0; i < n; i++)
        status[i] = buf[2 * i], retry[i] = buf[2 * i + 1];
fail:
    free(buf);
    store_h5_close(&mt), store_h5_close(&et), store_h5_close(&fe), store_h5_close(&ft);
    return st;
}

void store_shard_head_free(store_shard_head *h) {
    if (!h) return;
    free(h->rows), free(h->status), free(h->retry);
    memset(h, 0, sizeof *h);
}

/* The row counts of the shard's five tables; leaves /index open in *d. */
static q_status shardread_counts(hid_t f, hid_t *d, uint64_t cnt[5]) {
    static const char *const tables[5] = {"index", "documents", "pages", "lines", "text"};
    for (int i = 4; i >= 0; i--) { /* ends with /index open */
        store_h5_close(d);
        if ((*d = H5Dopen2(f, tables[i], H5P_DEFAULT)) < 0 ||
            (cnt[i] = store_h5_nrows(*d)) == UINT64_MAX)
            return STORE_H5_FAIL("cannot open /%s", tables[i]);
    }
    return Q_OK;
}

q_status store_shard_read_head(const char *path, store_shard_head *h) {
    memset(h, 0, sizeof *h);
    store_h5_quiet();
    hid_t f = -1, d = -1, t = -1;
    uint64_t cnt[5] = {0};
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
    if ((st = store_h5_attr_read_u64_opt(f, "created_ns", &h->created)) ||
        (st = shardread_counts(f, &d, cnt)))
        goto fail;
    size_t n = (size_t)(cnt[0] ? cnt[0] : 1);
    /* zeroed: a field an older shard lacks (warning_len) reads as 0 */
    if (cnt[0] > ((uint64_t)1 << 32) || !(h->rows = calloc(n, sizeof *h->rows)) ||
        !(h->status = calloc(n, 1)) || !(h->retry = calloc(n, 1))) {
        st = Q_FAIL(Q_ERR_NOMEM, "cannot hold /index of %llu rows", (unsigned long long)cnt[0]);
        goto fail;
    }
    if ((t = store_type_index()) < 0) {
        st = q_errcode();
        goto fail;
    }
    if ((st = store_h5_read_rows(d, t, 0, cnt[0], h->rows)) ||
        (st = shardread_check_index(h->rows, (size_t)cnt[0], cnt[1], cnt[2], cnt[3], cnt[4])))
        goto fail;
    store_h5_close(&d);
    if ((d = H5Dopen2(f, "documents", H5P_DEFAULT)) < 0) {
        st = STORE_H5_FAIL("cannot open /documents");
        goto fail;
    }
    if ((st = shardread_state(d, (size_t)cnt[0], h->status, h->retry))) goto fail;
    h->n = (size_t)cnt[0];
fail:
    store_h5_close(&t);
    store_h5_close(&d);
    store_h5_close(&f);
    if (st) {
        store_shard_head_free(h);
        q_fail_context("corrupt journal shard %s (delete it to redo its documents)", path);
    }
    return st;
}

static int shardread_failed(uint8_t status) {
    return status == LAY_DOC_ERROR || status == LAY_DOC_TIMEOUT;
}

int store_record_cmp(const store_record_key *a, const store_record_key *b) {
    int fa = shardread_failed(a->status), fb = shardread_failed(b->status);
    if (fa != fb) return fa ? 1 : -1;
    if (a->created != b->created) return a->created > b->created ? -1 : 1;
    if (a->seq != b->seq) return a->seq > b->seq ? -1 : 1;
    return 0;
}

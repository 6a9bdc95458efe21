/* shard.c: the per-rank journal shard writer. Records are buffered in memory
 * and written sorted by doc id into OUT/journal/r<rank>-<host>-<pid>-<seq>.h5.tmp,
 * which is fsynced and atomically renamed to .h5 when the shard closes; its
 * created_ns attribute says when, so that readers can tell which of two
 * records of a retried document is the later one. */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A shard closes by itself past either limit, so a worker's memory stays
 * flat and a crash loses little. */
enum { SHARD_MAX_DOCS = 4096, SHARD_MAX_BYTES = 64 << 20 };

typedef struct {
    store_index_row idx; /* rows in the unsorted buffers below */
    lay_doc meta;        /* scalar fields, owned path, error, warning; no pages/lines */
    size_t order;        /* append order, for a stable sort */
} shard_entry;

struct store_shard {
    char jdir[4096];
    int rank;
    long pid;
    char host[40]; /* short host name, file-name safe */
    unsigned seq;
    q_vec ent;                /* shard_entry */
    q_buf pages, lines, text; /* packed rows in append order */
};

static char *shard_strdup(const char *s) {
    size_t n = strlen(s ? s : "");
    char *p = malloc(n + 1);
    if (p) memcpy(p, s ? s : "", n + 1);
    return p;
}

static void shard_entry_free(shard_entry *e) {
    free(e->meta.path);
    free(e->meta.error);
    free(e->meta.warning);
}

/* Ranks of array tasks on different nodes share one journal and may have
 * equal rank and pid; the host keeps their shard names apart (the existence
 * check below only sees this host's own files in time). */
void store_host_name(char *out, size_t cap) {
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0 || !h[0]) snprintf(h, sizeof h, "host");
    size_t n = 0;
    for (const char *c = h; *c && *c != '.' && n + 1 < cap; c++)
        out[n++] = (isalnum((unsigned char)*c) || *c == '-' || *c == '_') ? *c : '_';
    out[n] = 0;
}

q_status store_shard_open(const char *outdir, int rank, store_shard **out) {
    *out = NULL;
    store_shard *s = calloc(1, sizeof *s);
    if (!s) return Q_FAIL(Q_ERR_NOMEM, "out of memory for a shard writer");
    q_status st = q_path_join(s->jdir, sizeof s->jdir, outdir, "journal");
    if (!st) st = q_mkdirs(s->jdir);
    if (st) {
        free(s);
        return st;
    }
    s->rank = rank;
    s->pid = (long)getpid();
    store_host_name(s->host, sizeof s->host);
    q_vec_init(&s->ent, sizeof(shard_entry));
    store_h5_quiet();
    *out = s;
    return Q_OK;
}

size_t store_shard_pending(const store_shard *s) {
    return s ? s->ent.len : 0;
}

q_status store_shard_append(store_shard *s, const lay_doc *d) {
    size_t np = d->page_v.len, nl = d->line_v.len;
    const lay_page *pg = d->page_v.data;
    const lay_line *ln = d->line_v.data;
    /* The record's invariants, checked before anything is buffered. */
    for (size_t i = 0; i < np; i++)
        if (pg[i].first_line > nl || pg[i].lines > nl - pg[i].first_line)
            return Q_FAIL(Q_ERR_INTERNAL, "document %llu page %u: lines %llu..+%u out of range",
                          (unsigned long long)d->doc, pg[i].page,
                          (unsigned long long)pg[i].first_line, pg[i].lines);
    for (size_t i = 0; i < nl; i++)
        if (ln[i].text_start > d->text.len || ln[i].text_len > d->text.len - ln[i].text_start)
            return Q_FAIL(Q_ERR_INTERNAL, "document %llu line %zu: text out of range",
                          (unsigned long long)d->doc, i);
    shard_entry e = {.order = s->ent.len};
    e.idx.doc = d->doc;
    e.idx.page_row = s->pages.len / STORE_PAGE_SIZE;
    e.idx.npages = np;
    e.idx.line_row = s->lines.len / STORE_LINE_SIZE;
    e.idx.nlines = nl;
    e.idx.text_off = s->text.len;
    e.meta = *d;
    memset(&e.meta.page_v, 0, sizeof e.meta.page_v);
    memset(&e.meta.line_v, 0, sizeof e.meta.line_v);
    memset(&e.meta.text, 0, sizeof e.meta.text);
    e.meta.path = shard_strdup(d->path);
    e.meta.error = shard_strdup(d->error);
    e.meta.warning = shard_strdup(d->warning);
    e.idx.path_len = e.meta.path ? strlen(e.meta.path) : 0;
    e.idx.error_len = e.meta.error ? strlen(e.meta.error) : 0;
    e.idx.warning_len = e.meta.warning ? strlen(e.meta.warning) : 0;
    size_t pages0 = s->pages.len, lines0 = s->lines.len, text0 = s->text.len;
    q_status st = (!e.meta.path || !e.meta.error || !e.meta.warning)
                      ? Q_FAIL(Q_ERR_NOMEM, "out of memory buffering a record")
                      : Q_OK;
    if (!st) st = q_buf_reserve(&s->pages, np * STORE_PAGE_SIZE);
    if (!st) st = q_buf_reserve(&s->lines, nl * STORE_LINE_SIZE);
    if (st) goto fail;
    for (size_t i = 0; i < np; i++)
        store_pack_page(s->pages.data + s->pages.len + i * STORE_PAGE_SIZE, d->doc, &pg[i],
                        e.idx.line_row);
    s->pages.len += np * STORE_PAGE_SIZE;
    /* Text is re-laid in line order, so each line's bytes follow the previous. */
    for (size_t i = 0; i < nl; i++) {
        uint64_t start = s->text.len;
        if ((st = q_buf_append(&s->text, d->text.data + ln[i].text_start, ln[i].text_len)))
            goto fail;
        store_pack_line(s->lines.data + s->lines.len + i * STORE_LINE_SIZE, d->doc, &ln[i], start);
    }
    s->lines.len += nl * STORE_LINE_SIZE;
    e.idx.ntext = s->text.len - text0;
    if ((st = q_vec_push(&s->ent, &e))) goto fail;
    if (s->ent.len >= SHARD_MAX_DOCS ||
        s->pages.len + s->lines.len + s->text.len >= (size_t)SHARD_MAX_BYTES)
        return store_shard_close(s);
    return Q_OK;
fail:
    s->pages.len = pages0, s->lines.len = lines0, s->text.len = text0;
    shard_entry_free(&e);
    return st;
}

static int shard_cmp(const void *a, const void *b) {
    const shard_entry *x = a, *y = b;
    if (x->idx.doc != y->idx.doc) return x->idx.doc < y->idx.doc ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The sorted, de-duplicated tables of the buffered records. */
typedef struct {
    store_index_row *idx;
    size_t n;
    store_doc_layout dl;
    char *docs;
    q_buf pages, lines, text;
} shard_tables;

static void shard_tables_free(shard_tables *t) {
    free(t->idx);
    free(t->docs);
    q_buf_free(&t->pages);
    q_buf_free(&t->lines);
    q_buf_free(&t->text);
}

/* A document appended twice to one shard keeps one record, by the rule the
 * readers apply (store_record_cmp; the later appended counts as later). */
static int shard_wins(const shard_entry *a, const shard_entry *b) {
    store_record_key ka = {.status = a->meta.status, .seq = a->order};
    store_record_key kb = {.status = b->meta.status, .seq = b->order};
    return store_record_cmp(&ka, &kb) < 0;
}

static q_status shard_build(store_shard *s, shard_tables *t) {
    shard_entry *e = s->ent.data;
    qsort(e, s->ent.len, sizeof *e, shard_cmp);
    size_t n = 0, pmax = 1, emax = 1, wmax = 1;
    for (size_t i = 0; i < s->ent.len; i++) {
        if (n && e[i].idx.doc == e[n - 1].idx.doc) {
            shard_entry loser = e[i];
            if (shard_wins(&e[i], &e[n - 1])) loser = e[n - 1], e[n - 1] = e[i];
            shard_entry_free(&loser);
        } else {
            e[n++] = e[i];
        }
    }
    s->ent.len = n;
    for (size_t i = 0; i < n; i++) {
        pmax = Q_MAX(pmax, e[i].idx.path_len);
        emax = Q_MAX(emax, e[i].idx.error_len);
        wmax = Q_MAX(wmax, e[i].idx.warning_len);
    }
    store_doc_layout_init(&t->dl, pmax, emax, wmax);
    t->n = n;
    t->idx = malloc((n ? n : 1) * sizeof *t->idx);
    t->docs = malloc((n ? n : 1) * t->dl.size);
    q_status st =
        (!t->idx || !t->docs) ? Q_FAIL(Q_ERR_NOMEM, "out of memory closing a shard") : Q_OK;
    if (!st) st = q_buf_reserve(&t->pages, s->pages.len);
    if (!st) st = q_buf_reserve(&t->lines, s->lines.len);
    if (!st) st = q_buf_reserve(&t->text, s->text.len);
    if (st) return st;
    for (size_t i = 0; i < n; i++) {
        const store_index_row *o = &e[i].idx;
        store_index_row *x = &t->idx[i];
        *x = *o;
        x->page_row = t->pages.len / STORE_PAGE_SIZE;
        x->line_row = t->lines.len / STORE_LINE_SIZE;
        x->text_off = t->text.len;
        store_pack_doc(&t->dl, t->docs + i * t->dl.size, &e[i].meta);
        char *pr = t->pages.data + t->pages.len;
        if (o->npages)
            memcpy(pr, s->pages.data + o->page_row * STORE_PAGE_SIZE, o->npages * STORE_PAGE_SIZE);
        for (uint64_t k = 0; k < o->npages; k++) {
            char *row = pr + k * STORE_PAGE_SIZE;
            uint64_t fl = store_get_u64(row, STORE_PAGE_FIRST_LINE);
            store_put_u64(row, STORE_PAGE_FIRST_LINE, fl - o->line_row + x->line_row);
        }
        t->pages.len += o->npages * STORE_PAGE_SIZE;
        char *lr = t->lines.data + t->lines.len;
        if (o->nlines)
            memcpy(lr, s->lines.data + o->line_row * STORE_LINE_SIZE, o->nlines * STORE_LINE_SIZE);
        for (uint64_t k = 0; k < o->nlines; k++) {
            char *row = lr + k * STORE_LINE_SIZE;
            uint64_t ts = store_get_u64(row, STORE_LINE_TEXT_START);
            store_put_u64(row, STORE_LINE_TEXT_START, ts - o->text_off + x->text_off);
        }
        t->lines.len += o->nlines * STORE_LINE_SIZE;
        if (o->ntext) /* s->text.data is NULL until some text was buffered */
            memcpy(t->text.data + t->text.len, s->text.data + o->text_off, o->ntext);
        t->text.len += o->ntext;
    }
    return Q_OK;
}

static q_status shard_write_table(hid_t f, const char *name, hid_t type, uint64_t n,
                                  size_t row_size, const void *buf) {
    hid_t d = store_h5_table(f, name, type, n, row_size);
    if (d < 0) return q_errcode();
    q_status st = store_h5_write_rows(d, type, H5P_DEFAULT, 0, n, buf);
    store_h5_close(&d);
    return st;
}

/* Writes the n bytes of `img` to a new file at `path`. */
static q_status shard_write_bytes(const char *path, const unsigned char *img, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Q_FAIL(Q_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    while (n > 0) {
        ssize_t w = write(fd, img, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            q_status st = Q_FAIL(Q_ERR_IO, "cannot write %s: %s", path,
                                 w < 0 ? strerror(errno) : "nothing written");
            close(fd);
            return st;
        }
        img += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0) return Q_FAIL(Q_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return Q_OK;
}

/* The shard's bytes as HDF5's core driver holds them. The driver allocates
 * them through these callbacks and, on H5Fclose, hands them back (op
 * FILE_CLOSE) already truncated to the file's end and with a finished
 * superblock; they are kept for shard_write_bytes. (H5Fget_file_image on the
 * open file would do, but HDF5 1.10 clears the superblock's status flags in
 * that copy without updating its checksum: an unreadable file.) */
typedef struct {
    void *buf;
    size_t size;
    int closed; /* the driver let go of buf at H5Fclose */
} shard_image;

static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    shard_image *im = udata;
    void *p = malloc(size);
    if (p) im->buf = p, im->size = size;
    return p;
}

static void *image_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op,
                          void *udata) {
    return memcpy(dest, src, size);
}

static void *image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
    shard_image *im = udata;
    void *p = realloc(ptr, size);
    if (p) im->buf = p, im->size = size;
    return p;
}

static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
    shard_image *im = udata;
    if (ptr == im->buf && op == H5FD_FILE_IMAGE_OP_FILE_CLOSE) {
        im->closed = 1;
        return 0;
    }
    if (ptr == im->buf) im->buf = NULL, im->size = 0;
    free(ptr);
    return 0;
}

/* The fapl's copies share the one record, which the caller owns. */
static void *image_udata_copy(void *udata) {
    return udata;
}

static herr_t image_udata_free(void *udata) {
    return 0;
}

static hid_t shard_fapl(shard_image *im) {
    H5FD_file_image_callbacks_t cb = {image_malloc,
                                      image_memcpy,
                                      image_realloc,
                                      image_free,
                                      image_udata_copy,
                                      image_udata_free,
                                      im};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
        H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) < 0 ||
        H5Pset_file_image_callbacks(fapl, &cb) < 0) {
        store_h5_close(&fapl);
        return -1;
    }
    return fapl;
}

/* The shard is built in memory (HDF5's core driver, no backing store) and
 * its bytes written with write(2) after H5Fclose, so that a full disk is an
 * ordinary write error. Written by HDF5 itself, a failed flush in H5Fclose (ENOSPC) left
 * the library with a half-closed file that crashed the rank in MPI_Finalize
 * (H5F__close_cb). */
static q_status shard_write(const char *path, int rank, const shard_tables *t) {
    hid_t fapl = -1, f = -1, ti = -1, td = -1, tp = -1, tl = -1;
    shard_image im = {0};
    q_status st = Q_OK;
    fapl = shard_fapl(&im);
    if (fapl < 0 || (f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0) {
        st = STORE_H5_FAIL("cannot create journal shard %s", path);
        goto fail;
    }
    if ((ti = store_type_index()) < 0 || (td = store_type_doc(&t->dl)) < 0 ||
        (tp = store_type_page()) < 0 || (tl = store_type_line()) < 0) {
        st = q_errcode();
        goto fail;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t created = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    if ((st = store_h5_attr_int(f, "quire_shard", STORE_SHARD_FORMAT)) ||
        (st = store_h5_attr_int(f, "rank", rank)) ||
        (st = store_h5_attr_u64(f, "created_ns", created)) ||
        (st = shard_write_table(f, "index", ti, t->n, sizeof(store_index_row), t->idx)) ||
        (st = shard_write_table(f, "documents", td, t->n, t->dl.size, t->docs)) ||
        (st = shard_write_table(f, "pages", tp, t->pages.len / STORE_PAGE_SIZE, STORE_PAGE_SIZE,
                                t->pages.data)) ||
        (st = shard_write_table(f, "lines", tl, t->lines.len / STORE_LINE_SIZE, STORE_LINE_SIZE,
                                t->lines.data)) ||
        (st = shard_write_table(f, "text", H5T_NATIVE_UINT8, t->text.len, 1, t->text.data)))
        goto fail;
    /* the driver's buffer grows in steps of its increment and is not cut
     * back at close: the file ends at its end of allocation (which the close
     * may still lower; bytes past the superblock's end of file are ignored) */
    ssize_t eoa = H5Fget_file_image(f, NULL, 0); /* the size only (H5Fget_eoa wants sec2) */
    herr_t e = H5Fclose(f);
    f = -1;
    if (e < 0 || eoa <= 0 || !im.closed || !im.buf || (size_t)eoa > im.size)
        st = STORE_H5_FAIL("cannot close journal shard %s", path);
    else
        st = shard_write_bytes(path, im.buf, (size_t)eoa);
fail:
    if (st) q_fail_context("journal shard %s", path);
    store_h5_close(&ti), store_h5_close(&td), store_h5_close(&tp), store_h5_close(&tl);
    store_h5_close(&f);
    store_h5_close(&fapl);
    if (im.closed) free(im.buf); /* else the driver still owns it (or freed it) */
    return st;
}

/* A name neither this nor an earlier run used: pids repeat across reboots. */
static q_status shard_names(store_shard *s, char *tmp, char *fin, size_t cap) {
    struct stat sb;
    for (;;) {
        char base[96];
        snprintf(base, sizeof base, "r%05d-%s-%ld-%06u", s->rank, s->host, s->pid, s->seq++);
        int a = snprintf(tmp, cap, "%s/%s" STORE_TMP_SUFFIX, s->jdir, base);
        int b = snprintf(fin, cap, "%s/%s" STORE_SHARD_SUFFIX, s->jdir, base);
        if (a < 0 || b < 0 || (size_t)a >= cap || (size_t)b >= cap)
            return Q_FAIL(Q_ERR_USAGE, "journal path too long: %s", s->jdir);
        if (stat(fin, &sb) != 0 && stat(tmp, &sb) != 0) return Q_OK;
    }
}

q_status store_shard_close(store_shard *s) {
    if (!s || s->ent.len == 0) return Q_OK;
    store_h5_quiet();
    char tmp[4200], fin[4200];
    shard_tables t = {0};
    q_status st = shard_names(s, tmp, fin, sizeof tmp);
    if (!st) st = shard_build(s, &t);
    if (!st) st = shard_write(tmp, s->rank, &t);
    if (!st) st = store_fsync_path(tmp, 0);
    if (!st && rename(tmp, fin) != 0)
        st = Q_FAIL(Q_ERR_IO, "cannot rename %s to %s: %s", tmp, fin, strerror(errno));
    if (!st) st = store_fsync_path(s->jdir, 1);
    if (st) unlink(tmp); /* a .tmp is ignored anyway; don't leave it around */
    shard_tables_free(&t);
    /* Whether written or not, the buffer is spent: a failed shard is an error
     * the caller reports (disk full), not something to retry here. */
    shard_entry *e = s->ent.data;
    for (size_t i = 0; i < s->ent.len; i++)
        shard_entry_free(&e[i]);
    s->ent.len = 0;
    q_buf_clear(&s->pages);
    q_buf_clear(&s->lines);
    q_buf_clear(&s->text);
    return st;
}

void store_shard_free(store_shard *s) {
    if (!s) return;
    store_shard_close(s); /* errors are in the thread's record; nothing else to do here */
    q_vec_free(&s->ent);
    q_buf_free(&s->pages);
    q_buf_free(&s->lines);
    q_buf_free(&s->text);
    free(s);
}

/* results.c: reading a finished results.h5 back, one document at a time, into
 * the same lay_doc record that the run filled (quire export). Opened
 * read-only and without MPI-IO, so every rank of an export job reads its own
 * documents on its own. Fields are looked up by name, so files of older
 * schema-1 writers (without skew_deg, retryable, warnings, warning) read
 * with those fields zero; every row range is checked against the tables, so
 * a damaged file is an error naming what is wrong, never a crash. */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* A document's rows may not exceed these (a damaged count is an error, not
 * a huge allocation). */
enum { RES_MAX_PAGES = 1 << 24, RES_MAX_LINES = 1 << 26 };
#define RES_CHUNK_CACHE ((size_t)16 << 20) /* bytes of inflated chunks per table */
#define RES_MAX_TEXT    ((uint64_t)1 << 32)

struct store_results {
    char path[4096];
    hid_t f, docs, pages, lines, text;
    hid_t tdoc, tpage, tline, tid; /* memory types: members present in the file only */
    uint64_t ndocs, npages, nlines, ntext;
    uint64_t *ids;        /* /documents doc, in row order (sorted: doc order) */
    store_doc_layout dl;  /* packed /documents row of this file's string sizes */
    uint64_t page_cursor; /* page row after the last document read: the next one's start */
};

/* Inserts member `name` at `off` when the file type `ft` has it (fields
 * added to schema 1 later are absent in older files: they stay zero). */
static int res_insert(hid_t mt, hid_t ft, const char *name, size_t off, hid_t mem) {
    if (H5Tget_member_index(ft, name) < 0) return 0;
    return H5Tinsert(mt, name, off, mem) < 0 ? -1 : 0;
}

/* A memory type holding the members of `full` (store_type_*) that the
 * file's type of `dset` has. */
static hid_t res_subset_type(hid_t dset, hid_t full) {
    hid_t ft = H5Dget_type(dset), mt = -1;
    int n = full < 0 ? -1 : H5Tget_nmembers(full);
    if (ft < 0 || n < 0 || H5Tget_class(ft) != H5T_COMPOUND ||
        (mt = H5Tcreate(H5T_COMPOUND, H5Tget_size(full))) < 0)
        goto done;
    for (int i = 0; i < n; i++) {
        char *name = H5Tget_member_name(full, (unsigned)i);
        hid_t m = H5Tget_member_type(full, (unsigned)i);
        int bad = !name || m < 0 ||
                  res_insert(mt, ft, name, H5Tget_member_offset(full, (unsigned)i), m) < 0;
        store_h5_close(&m);
        if (name) H5free_memory(name);
        if (bad) {
            store_h5_close(&mt);
            break;
        }
    }
done:
    store_h5_close(&ft);
    return mt;
}

/* The size of string member `name` of /documents' file type (1 when absent). */
static size_t res_str_size(hid_t dset, const char *name) {
    hid_t ft = H5Dget_type(dset), m = -1;
    int i = ft < 0 ? -1 : H5Tget_member_index(ft, name);
    size_t n = 1;
    if (i >= 0 && (m = H5Tget_member_type(ft, (unsigned)i)) >= 0 && H5Tget_class(m) == H5T_STRING)
        n = H5Tget_size(m);
    store_h5_close(&m);
    store_h5_close(&ft);
    return n ? n : 1;
}

void store_results_close(store_results *r) {
    if (!r) return;
    hid_t *ids[] = {&r->tdoc,  &r->tpage, &r->tline, &r->tid, &r->docs,
                    &r->pages, &r->lines, &r->text,  &r->f};
    for (size_t i = 0; i < Q_ARRAY_LEN(ids); i++)
        store_h5_close(ids[i]);
    free(r->ids);
    free(r);
}

static q_status res_open_tables(store_results *r) {
    static const char *const names[4] = {"documents", "pages", "lines", "text"};
    hid_t *d[4] = {&r->docs, &r->pages, &r->lines, &r->text};
    uint64_t *n[4] = {&r->ndocs, &r->npages, &r->nlines, &r->ntext};
    /* Rows are read a few at a time: a chunk cache that holds several of the
     * writer's chunks (up to 4 MiB each) keeps each chunk inflated once,
     * where HDF5's default 1 MiB cache inflated it for every read. */
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    if (dapl < 0 || H5Pset_chunk_cache(dapl, 521, RES_CHUNK_CACHE, 0.75) < 0) {
        store_h5_close(&dapl);
        return STORE_H5_FAIL("cannot set up a chunk cache");
    }
    for (int i = 0; i < 4; i++)
        if ((*d[i] = H5Dopen2(r->f, names[i], dapl)) < 0 ||
            (*n[i] = store_h5_nrows(*d[i])) == UINT64_MAX) {
            store_h5_close(&dapl);
            return STORE_H5_FAIL("no usable /%s table", names[i]);
        }
    store_h5_close(&dapl);
    store_doc_layout_init(&r->dl, res_str_size(r->docs, "path"), res_str_size(r->docs, "error"),
                          res_str_size(r->docs, "warning"));
    hid_t full_doc = store_type_doc(&r->dl), full_page = store_type_page();
    hid_t full_line = store_type_line();
    r->tdoc = res_subset_type(r->docs, full_doc);
    r->tpage = res_subset_type(r->pages, full_page);
    r->tline = res_subset_type(r->lines, full_line);
    store_h5_close(&full_doc), store_h5_close(&full_page), store_h5_close(&full_line);
    if (r->tdoc < 0 || r->tpage < 0 || r->tline < 0 || (r->tid = H5Tcreate(H5T_COMPOUND, 8)) < 0 ||
        H5Tinsert(r->tid, "doc", 0, H5T_NATIVE_UINT64) < 0)
        return STORE_H5_FAIL("cannot build reader types");
    return Q_OK;
}

q_status store_results_open(const char *path, store_results **out) {
    *out = NULL;
    store_h5_quiet();
    struct stat sb;
    if (stat(path, &sb) != 0)
        return Q_FAIL(Q_ERR_IO,
                      "no results.h5 at %s: %s (give a finished run's --out folder or "
                      "its results.h5)",
                      path, strerror(errno));
    store_results *r = calloc(1, sizeof *r);
    if (!r) return Q_FAIL(Q_ERR_NOMEM, "out of memory opening %s", path);
    r->f = r->docs = r->pages = r->lines = r->text = -1;
    r->tdoc = r->tpage = r->tline = r->tid = -1;
    snprintf(r->path, sizeof r->path, "%s", path);
    q_status st = Q_OK;
    int schema = 0;
    if ((r->f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        st = STORE_H5_FAIL("cannot open");
        goto fail;
    }
    if ((st = store_h5_attr_read_int(r->f, "schema", &schema))) goto fail;
    if (schema != 1) {
        st = Q_FAIL(Q_ERR_UNSUPPORTED, "schema %d, this quire reads schema 1", schema);
        goto fail;
    }
    if ((st = res_open_tables(r))) goto fail;
    if (r->ndocs > ((uint64_t)1 << 32) ||
        !(r->ids = malloc((size_t)(r->ndocs ? r->ndocs : 1) * sizeof *r->ids))) {
        st = Q_FAIL(Q_ERR_NOMEM, "cannot hold the ids of %llu documents",
                    (unsigned long long)r->ndocs);
        goto fail;
    }
    if ((st = store_h5_read_rows(r->docs, r->tid, 0, r->ndocs, r->ids))) goto fail;
    for (uint64_t i = 1; i < r->ndocs; i++)
        if (r->ids[i] <= r->ids[i - 1]) {
            st = Q_FAIL(Q_ERR_FORMAT, "/documents not in doc order at row %llu",
                        (unsigned long long)i);
            goto fail;
        }
    *out = r;
    return Q_OK;
fail:
    store_results_close(r);
    return q_fail_context("%s is not a readable results.h5", path);
}

size_t store_results_ndocs(const store_results *r) {
    return (size_t)r->ndocs;
}

uint64_t store_results_doc_id(const store_results *r, size_t row) {
    return r->ids[row];
}

int store_results_find(const store_results *r, uint64_t doc, size_t *row) {
    size_t lo = 0, hi = (size_t)r->ndocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->ids[mid] < doc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == r->ndocs || r->ids[lo] != doc) return 0;
    *row = lo;
    return 1;
}

/* A fixed-length string field as an owned, NUL-terminated, valid UTF-8 copy. */
static q_status res_str(const char *field, size_t size, char **out) {
    size_t n = strnlen(field, size);
    q_buf b = {0};
    if (q_buf_append_utf8(&b, field, n) || q_buf_reserve(&b, 1)) {
        q_buf_free(&b);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory reading a string");
    }
    free(*out);
    *out = b.data;
    return Q_OK;
}

q_status store_results_read_head(store_results *r, size_t row, lay_doc *d) {
    memset(d, 0, sizeof *d);
    if (row >= r->ndocs) return Q_FAIL(Q_ERR_USAGE, "no /documents row %zu", row);
    char *buf = calloc(1, r->dl.size);
    if (!buf) return Q_FAIL(Q_ERR_NOMEM, "out of memory reading /documents");
    q_status st = store_h5_read_rows(r->docs, r->tdoc, row, 1, buf);
    if (!st) st = lay_doc_init(d, r->ids[row], "");
    if (!st) st = res_str(buf + r->dl.path, r->dl.path_size, &d->path);
    if (!st) st = res_str(buf + r->dl.error, r->dl.error_size, &d->error);
    if (!st) st = res_str(buf + r->dl.warning, r->dl.warning_size, &d->warning);
    if (!st) {
        const store_doc_layout *l = &r->dl;
        memcpy(&d->bytes, buf + l->bytes, 8);
        memcpy(&d->pages, buf + l->pages, 4);
        memcpy(&d->status, buf + l->status, 1);
        memcpy(&d->text_pages, buf + l->text_pages, 4);
        memcpy(&d->ocr_pages, buf + l->ocr_pages, 4);
        memcpy(&d->seconds, buf + l->seconds, 4);
        memcpy(&d->rank, buf + l->rank, 4);
        memcpy(&d->retry, buf + l->retryable, 1);
        memcpy(&d->warnings, buf + l->warnings, 4);
    }
    free(buf);
    if (st) lay_doc_free(d);
    return st;
}

/* The doc id of /pages row `row`. */
static q_status res_page_doc(store_results *r, uint64_t row, uint64_t *doc) {
    return store_h5_read_rows(r->pages, r->tid, row, 1, doc);
}

/* First /pages row in [lo, hi) whose doc is >= `doc` (rows are in doc order). */
static q_status res_page_bound(store_results *r, uint64_t lo, uint64_t hi, uint64_t doc,
                               uint64_t *out) {
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2, v;
        q_status st = res_page_doc(r, mid, &v);
        if (st) return st;
        if (v < doc)
            lo = mid + 1;
        else
            hi = mid;
    }
    *out = lo;
    return Q_OK;
}

/* The /pages rows [*first, *end) of document `doc`: from the cursor when the
 * previous read ended where this document starts (reading in row order),
 * else by binary search; the end by galloping from the start. */
static q_status res_page_range(store_results *r, uint64_t doc, uint64_t *first, uint64_t *end) {
    uint64_t c = r->page_cursor, v = 0, prev = 0, s;
    q_status st = Q_OK;
    int hint = c < r->npages && !(st = res_page_doc(r, c, &v)) && v == doc &&
               (c == 0 || (!(st = res_page_doc(r, c - 1, &prev)) && prev < doc));
    if (st) return st;
    if (hint)
        s = c;
    else if ((st = res_page_bound(r, 0, r->npages, doc, &s)))
        return st;
    uint64_t step = 1, lo = s;
    for (;;) { /* gallop: lo is a row of `doc` (or s), find a row past it */
        uint64_t probe = s + step;
        if (probe >= r->npages) {
            probe = r->npages;
        } else if ((st = res_page_doc(r, probe, &v))) {
            return st;
        } else if (v == doc) {
            lo = probe, step *= 2;
            continue;
        }
        if ((st = res_page_bound(r, lo, probe, doc + 1, end))) return st;
        break;
    }
    *first = s;
    return Q_OK;
}

/* Fills d's pages from packed /pages rows; their lines are [*l0, *l1). */
static q_status res_fill_pages(store_results *r, const char *rows, uint64_t n, lay_doc *d,
                               uint64_t *l0, uint64_t *l1) {
    *l0 = UINT64_MAX, *l1 = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *p = rows + i * STORE_PAGE_SIZE;
        uint64_t first = store_get_u64(p, STORE_PAGE_FIRST_LINE);
        uint32_t nl;
        memcpy(&nl, p + STORE_PAGE_LINES, 4);
        if (first > r->nlines || nl > r->nlines - first)
            return Q_FAIL(Q_ERR_FORMAT, "page row %llu: lines out of range", (unsigned long long)i);
        if (nl && first < *l0) *l0 = first;
        if (nl && first + nl > *l1) *l1 = first + nl;
    }
    if (*l0 == UINT64_MAX) *l0 = *l1 = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *p = rows + i * STORE_PAGE_SIZE;
        lay_page pg = {0};
        uint64_t first = store_get_u64(p, STORE_PAGE_FIRST_LINE);
        memcpy(&pg.page, p + STORE_PAGE_PAGE, 4);
        memcpy(&pg.kind, p + STORE_PAGE_KIND, 1);
        memcpy(&pg.width, p + STORE_PAGE_WIDTH, 4);
        memcpy(&pg.height, p + STORE_PAGE_HEIGHT, 4);
        memcpy(&pg.rotation, p + STORE_PAGE_ROTATION, 2);
        memcpy(&pg.lines, p + STORE_PAGE_LINES, 4);
        memcpy(&pg.seconds, p + STORE_PAGE_SECONDS, 4);
        memcpy(&pg.skew_deg, p + STORE_PAGE_SKEW_DEG, 4);
        pg.first_line = pg.lines ? first - *l0 : (first >= *l0 ? first - *l0 : 0);
        if (pg.kind > LAY_PAGE_FAILED)
            return Q_FAIL(Q_ERR_FORMAT, "page %u: unknown kind %u", pg.page, pg.kind);
        q_status st = q_vec_push(&d->page_v, &pg);
        if (st) return st;
    }
    return Q_OK;
}

/* Fills d's lines and text from packed /lines rows. */
static q_status res_fill_lines(store_results *r, const char *rows, uint64_t n, lay_doc *d) {
    uint64_t t0 = UINT64_MAX, t1 = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *l = rows + i * STORE_LINE_SIZE;
        uint64_t s = store_get_u64(l, STORE_LINE_TEXT_START), doc = store_get_u64(l, 0);
        uint32_t len;
        memcpy(&len, l + STORE_LINE_TEXT_LEN, 4);
        if (doc != d->doc)
            return Q_FAIL(Q_ERR_FORMAT, "line %llu belongs to document %llu", (unsigned long long)i,
                          (unsigned long long)doc);
        if (s > r->ntext || len > r->ntext - s)
            return Q_FAIL(Q_ERR_FORMAT, "line %llu: its text is past the end of /text",
                          (unsigned long long)i);
        if (s < t0) t0 = s;
        if (s + len > t1) t1 = s + len;
    }
    if (t0 == UINT64_MAX) t0 = t1 = 0;
    if (t1 - t0 > RES_MAX_TEXT) return Q_FAIL(Q_ERR_FORMAT, "document text too large");
    q_status st = q_buf_reserve(&d->text, (size_t)(t1 - t0) + 1);
    if (!st && t1 > t0)
        st = store_h5_read_rows(r->text, H5T_NATIVE_UINT8, t0, t1 - t0, d->text.data);
    if (st) return st;
    d->text.len = (size_t)(t1 - t0);
    d->text.data[d->text.len] = 0;
    for (uint64_t i = 0; i < n && !st; i++) {
        const char *l = rows + i * STORE_LINE_SIZE;
        lay_line ln = {0};
        memcpy(&ln.page, l + STORE_LINE_PAGE, 4);
        memcpy(&ln.block, l + STORE_LINE_BLOCK, 4);
        memcpy(ln.bbox, l + STORE_LINE_BBOX, 16);
        memcpy(&ln.conf, l + STORE_LINE_CONF, 4);
        memcpy(&ln.text_len, l + STORE_LINE_TEXT_LEN, 4);
        ln.text_start = store_get_u64(l, STORE_LINE_TEXT_START) - t0;
        st = q_vec_push(&d->line_v, &ln);
    }
    return st;
}

q_status store_results_read(store_results *r, size_t row, lay_doc *d) {
    q_status st = store_results_read_head(r, row, d);
    if (st) return st;
    uint64_t p0, p1, l0, l1;
    char *prow = NULL, *lrow = NULL;
    if ((st = res_page_range(r, d->doc, &p0, &p1))) goto fail;
    if (p1 - p0 > RES_MAX_PAGES) {
        st = Q_FAIL(Q_ERR_FORMAT, "document %llu has too many pages", (unsigned long long)d->doc);
        goto fail;
    }
    if (!(prow = calloc((size_t)(p1 - p0) + 1, STORE_PAGE_SIZE))) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading pages");
        goto fail;
    }
    if ((st = store_h5_read_rows(r->pages, r->tpage, p0, p1 - p0, prow)) ||
        (st = res_fill_pages(r, prow, p1 - p0, d, &l0, &l1)))
        goto fail;
    if (l1 - l0 > RES_MAX_LINES) {
        st = Q_FAIL(Q_ERR_FORMAT, "document %llu has too many lines", (unsigned long long)d->doc);
        goto fail;
    }
    if (!(lrow = calloc((size_t)(l1 - l0) + 1, STORE_LINE_SIZE))) {
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory reading lines");
        goto fail;
    }
    if ((st = store_h5_read_rows(r->lines, r->tline, l0, l1 - l0, lrow)) ||
        (st = res_fill_lines(r, lrow, l1 - l0, d)))
        goto fail;
    r->page_cursor = p1;
fail:
    free(prow);
    free(lrow);
    if (st) {
        q_fail_context("%s, document %llu", r->path, (unsigned long long)d->doc);
        lay_doc_free(d);
    }
    return st;
}

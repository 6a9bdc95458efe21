/* store_test: the store module end to end. Builds synthetic document records
 * (non-ASCII paths and text, failed documents without pages, retryable ones,
 * warnings, documents with thousands of lines), writes them through several
 * shard writers, scans the journal, consolidates under mpirun and reads
 * results.h5 back field by field. retry_test.c covers retried documents.
 *
 *   store_test roundtrip DIR [NDOCS]   every rank: journal (rank 0), consolidate, verify
 *   store_test shard DIR               the shard writer's own rules
 *   store_test empty DIR               consolidate an empty journal, verify empty tables
 *   store_test corrupt DIR             a damaged closed shard is an error naming it
 *   store_test bench DIR NDOCS LINES   time consolidation of a large journal
 *   store_test consolidate DIR         consolidate DIR's journal again, timed */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

static int test_rank;
static int test_failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "r%d %s:%d: check failed: %s: ", test_rank, __FILE__, __LINE__,        \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            if (++test_failures > 20) exit(1);                                                     \
        }                                                                                          \
    } while (0)
#define OK(call)                                                                                   \
    do {                                                                                           \
        q_status st_ = (call);                                                                     \
        if (st_ != Q_OK) {                                                                         \
            fprintf(stderr, "r%d %s:%d: %s failed: %s (%s)\n", test_rank, __FILE__, __LINE__,      \
                    #call, q_errmsg(), q_errwhere());                                              \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                          \
        }                                                                                          \
    } while (0)

/* ---- the synthetic campaign ------------------------------------------------
 * Document number i (write order) has id (i * 37) % 101, so ids arrive out of
 * order. Everything else is a function of the id. */
enum { ID_MOD = 101, BIG_ID = 50, DUP_WRITE = 0 };

static uint64_t gen_id(int i) {
    return (uint64_t)((i * 37) % ID_MOD);
}
static int gen_is_error(uint64_t id) {
    return id % 10 == 3;
}
static uint32_t gen_npages(uint64_t id) {
    return gen_is_error(id) ? 0 : (id == BIG_ID ? 3 : (uint32_t)(id % 4));
}
static uint32_t gen_nlines(uint64_t id, uint32_t page) {
    return id == BIG_ID ? 2000 + page : (uint32_t)((id + page) % 5);
}
static void gen_path(uint64_t id, char *out, size_t cap) {
    char pad[32];
    size_t n = (size_t)(id % 13);
    memset(pad, 'x', n);
    pad[n] = 0;
    snprintf(out, cap, "/data/ärchiv/文書-%03llu%s.pdf", (unsigned long long)id, pad);
}
static void gen_line(uint64_t id, uint32_t page, uint32_t k, char *out, size_t cap) {
    snprintf(out, cap, "d%llu p%u l%u Grüße ✓ 日本語%.*s", (unsigned long long)id, page, k,
             (int)(k % 7), "abcdefg");
}
static float gen_f(uint64_t id, uint32_t page, uint32_t k, int which) {
    return (float)id * 0.5f + (float)page * 3.25f + (float)k * 0.125f + (float)which;
}

/* `rank_field` is what the record says in its rank field. */
static void gen_doc(uint64_t id, int32_t rank_field, lay_doc *d) {
    char path[128], text[128];
    gen_path(id, path, sizeof path);
    OK(lay_doc_init(d, id, path));
    d->bytes = id * 1000 + 7;
    d->rank = rank_field;
    d->seconds = 0.25f * (float)id;
    if (id % 7 == 2) { /* a repaired input: two warnings, the first one kept */
        OK(lay_doc_warn(d, "repaired: %llu syntax errors – ü", (unsigned long long)id));
        OK(lay_doc_warn(d, "not kept"));
    }
    if (gen_is_error(id)) { /* a document that failed: no pages at all */
        d->pages = 0;
        if (id % 20 == 13) /* timed out: retryable */
            OK(lay_doc_set_error(d, LAY_DOC_TIMEOUT, "timeout after %llu s",
                                 (unsigned long long)id));
        else
            OK(lay_doc_set_error(d, LAY_DOC_ERROR, "corrupt: fichier endommagé – %llu",
                                 (unsigned long long)id));
        return;
    }
    d->pages = gen_npages(id);
    for (uint32_t p = 0; p < d->pages; p++) {
        OK(lay_page_begin(d, p, 612.0f + (float)id, 792.0f, (int16_t)(p * 90 % 360)));
        for (uint32_t k = 0; k < gen_nlines(id, p); k++) {
            float bbox[4] = {gen_f(id, p, k, 0), gen_f(id, p, k, 1), gen_f(id, p, k, 2),
                             gen_f(id, p, k, 3)};
            gen_line(id, p, k, text, sizeof text);
            OK(lay_line_add(d, bbox, (p % 2) ? 0.5f + (float)k / 10000.0f : 1.0f, 10.0f, text,
                            strlen(text)));
            lay_doc_line(d, lay_doc_nlines(d) - 1)->block = k / 3;
        }
        lay_page_kind kind = (p % 2) ? LAY_PAGE_OCR : LAY_PAGE_TEXT;
        if (gen_nlines(id, p) == 0) kind = LAY_PAGE_EMPTY;
        OK(lay_page_end(d, kind, 0.01f * (float)(p + 1), 0));
        if (kind == LAY_PAGE_OCR) lay_doc_page(d, p)->skew_deg = 0.5f - 0.25f * (float)(id % 7);
    }
}

/* Writes documents 0..ndocs-1 through three writers (ranks 1..3) that close a
 * shard every 5 documents, plus one duplicate and a leftover *.tmp file. */
static void write_journal(const char *dir, int ndocs) {
    OK(store_journal_clear(dir));
    store_shard *w[3];
    for (int k = 0; k < 3; k++)
        OK(store_shard_open(dir, k + 1, &w[k]));
    for (int i = 0; i < ndocs; i++) {
        lay_doc d;
        gen_doc(gen_id(i), i % 3 + 1, &d);
        OK(store_shard_append(w[i % 3], &d));
        lay_doc_free(&d);
        if (store_shard_pending(w[i % 3]) == 5) OK(store_shard_close(w[i % 3]));
    }
    /* The first document again, from writer rank 3: both copies are ok, so
     * consolidation keeps the one of the shard closed last (writer 3's, freed
     * last below) and no second row. */
    if (ndocs > 0) {
        lay_doc d;
        gen_doc(gen_id(DUP_WRITE), 3, &d);
        OK(store_shard_append(w[2], &d));
        lay_doc_free(&d);
    }
    for (int k = 0; k < 3; k++)
        store_shard_free(w[k]);
    /* A crash leftover: garbage under a *.tmp name must be ignored. */
    char path[4096];
    snprintf(path, sizeof path, "%s/journal/r00009-1-000000.h5.tmp", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot create %s", path);
    if (f) {
        fputs("not an HDF5 file", f);
        fclose(f);
    }
}

static void check_journal(const char *dir, int ndocs) {
    store_journal *j = NULL;
    OK(store_journal_scan(dir, &j));
    CHECK(store_journal_count(j) == (size_t)ndocs, "count %zu, want %d", store_journal_count(j),
          ndocs);
    for (int i = 0; i < ndocs; i++) {
        char path[128];
        gen_path(gen_id(i), path, sizeof path);
        CHECK(store_journal_has(j, gen_id(i)), "doc %llu missing", (unsigned long long)gen_id(i));
        const char *p = store_journal_path(j, gen_id(i));
        CHECK(p && strcmp(p, path) == 0, "doc %llu path %s", (unsigned long long)gen_id(i),
              p ? p : "(null)");
        lay_doc d;
        gen_doc(gen_id(i), 0, &d);
        uint8_t status = 99, retry = 99;
        CHECK(store_journal_status(j, gen_id(i), &status, &retry) && status == d.status &&
                  retry == d.retry,
              "doc %llu status %u retry %u", (unsigned long long)gen_id(i), status, retry);
        lay_doc_free(&d);
    }
    uint8_t status = 99, retry = 99;
    CHECK(!store_journal_status(j, 1000, &status, &retry) && status == 99 && retry == 99,
          "doc 1000 has a status");
    CHECK(!store_journal_has(j, 1000), "doc 1000 should not be done");
    store_journal_free(j);
}

/* ---- reading results.h5 back ------------------------------------------------ */

typedef struct {
    uint64_t doc, bytes;
    char path[256], error[512], warning[512];
    uint32_t pages, text_pages, ocr_pages, warnings;
    uint8_t status, retryable;
    float seconds;
    int32_t rank;
} rd_doc;
typedef struct {
    uint64_t doc, first_line;
    uint32_t page, lines;
    uint8_t kind;
    float width, height, seconds, skew_deg;
    int16_t rotation;
} rd_page;
typedef struct {
    uint64_t doc, text_start;
    uint32_t page, block, text_len;
    float bbox[4], conf;
} rd_line;

static hid_t str_type(size_t n) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static hid_t enum_type(const char *const *names) {
    hid_t t = H5Tenum_create(H5T_NATIVE_UINT8);
    for (uint8_t v = 0; v < 4; v++)
        H5Tenum_insert(t, names[v], &v);
    return t;
}
static const char *const status_names[] = {"ok", "error", "timeout", "skipped"};
static const char *const kind_names[] = {"text", "ocr", "empty", "failed"};

/* Checks that `dset`'s file type has exactly these member names, in order,
 * of these classes and sizes (0: any size). */
static void check_members(hid_t dset, const char *const *names, const H5T_class_t *cls,
                          const size_t *sizes, int n) {
    hid_t t = H5Dget_type(dset);
    CHECK(H5Tget_class(t) == H5T_COMPOUND, "not compound");
    CHECK(H5Tget_nmembers(t) == n, "%d members, want %d", H5Tget_nmembers(t), n);
    for (int i = 0; i < n && i < H5Tget_nmembers(t); i++) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        hid_t mt = H5Tget_member_type(t, (unsigned)i);
        CHECK(strcmp(name, names[i]) == 0, "member %d is %s, want %s", i, name, names[i]);
        CHECK(H5Tget_class(mt) == cls[i], "member %s class %d", names[i], (int)H5Tget_class(mt));
        CHECK(!sizes[i] || H5Tget_size(mt) == sizes[i], "member %s size %zu", names[i],
              H5Tget_size(mt));
        if (cls[i] == H5T_INTEGER)
            CHECK(H5Tget_order(mt) == H5T_ORDER_LE, "member %s not little-endian", names[i]);
        if (cls[i] == H5T_STRING) {
            CHECK(H5Tget_cset(mt) == H5T_CSET_UTF8, "member %s not UTF-8", names[i]);
            CHECK(H5Tget_strpad(mt) == H5T_STR_NULLPAD, "member %s not null-padded", names[i]);
            CHECK(!H5Tis_variable_str(mt), "member %s is variable-length", names[i]);
        }
        if (cls[i] == H5T_ENUM) {
            const char *const *en = strcmp(names[i], "status") == 0 ? status_names : kind_names;
            CHECK(H5Tget_nmembers(mt) == 4, "enum %s size", names[i]);
            for (uint8_t v = 0; v < 4; v++) {
                char en_name[32] = "";
                H5Tenum_nameof(mt, &v, en_name, sizeof en_name);
                CHECK(strcmp(en_name, en[v]) == 0, "enum %s value %u is %s", names[i], v, en_name);
            }
        }
        if (cls[i] == H5T_ARRAY) {
            hsize_t dims = 0;
            CHECK(H5Tget_array_ndims(mt) == 1 && H5Tget_array_dims2(mt, &dims) == 1 && dims == 4,
                  "bbox dims");
        }
        H5free_memory(name);
        H5Tclose(mt);
    }
    H5Tclose(t);
}

static void check_storage(hid_t dset, const char *name) {
    hid_t dcpl = H5Dget_create_plist(dset);
    CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED, "/%s not chunked", name);
    int deflate = 0;
    for (int i = 0; i < H5Pget_nfilters(dcpl); i++) {
        unsigned flags = 0;
        size_t nelem = 0;
        if (H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelem, NULL, 0, NULL, NULL) ==
            H5Z_FILTER_DEFLATE)
            deflate = 1;
    }
    CHECK(deflate, "/%s not deflated", name);
    H5Pclose(dcpl);
}

static void *read_all(hid_t f, const char *name, hid_t memtype, size_t elem, size_t *n) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    CHECK(d >= 0, "no /%s", name);
    if (d < 0) exit(1);
    hid_t s = H5Dget_space(d);
    hsize_t dims = 0;
    CHECK(H5Sget_simple_extent_ndims(s) == 1, "/%s not 1-D", name);
    H5Sget_simple_extent_dims(s, &dims, NULL);
    *n = (size_t)dims;
    void *buf = calloc(*n + 1, elem);
    if (*n) CHECK(H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0, "read /%s", name);
    check_storage(d, name);
    H5Sclose(s);
    H5Dclose(d);
    return buf;
}

static void check_attr_str(hid_t f, const char *name, const char *want) {
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    CHECK(a >= 0, "no attribute %s", name);
    if (a < 0) return;
    hid_t t = H5Aget_type(a);
    CHECK(H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t) &&
              H5Tget_cset(t) == H5T_CSET_UTF8,
          "attribute %s is not a fixed-length UTF-8 string", name);
    char buf[4096] = "";
    hid_t mt = str_type(sizeof buf);
    CHECK(H5Aread(a, mt, buf) >= 0, "read attribute %s", name);
    if (want)
        CHECK(strcmp(buf, want) == 0, "attribute %s = '%s', want '%s'", name, buf, want);
    else /* created: UTC ISO 8601 */
        CHECK(strlen(buf) == 20 && buf[4] == '-' && buf[10] == 'T' && buf[19] == 'Z',
              "attribute %s = '%s'", name, buf);
    H5Tclose(mt);
    H5Tclose(t);
    H5Aclose(a);
}

static void verify(const char *dir, int ndocs) {
    char path[4096];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0, "cannot open %s", path);
    if (f < 0) exit(1);
    snprintf(path, sizeof path, "%s/results.h5.tmp", dir);
    FILE *tmpf = fopen(path, "rb");
    CHECK(tmpf == NULL, "%s left behind", path);
    if (tmpf) fclose(tmpf);

    hid_t a = H5Aopen(f, "schema", H5P_DEFAULT);
    int schema = 0;
    hid_t at = H5Aget_type(a);
    CHECK(H5Tget_class(at) == H5T_INTEGER, "schema is not an integer");
    H5Aread(a, H5T_NATIVE_INT, &schema);
    CHECK(schema == 1, "schema %d", schema);
    H5Tclose(at);
    H5Aclose(a);
    check_attr_str(f, "quire_version", "9.9.9-test");
    check_attr_str(f, "created", NULL);
    check_attr_str(f, "models", "{\"det\": \"ch_PP-OCRv4_det.onnx\", \"sha256\": \"ü\"}");
    check_attr_str(f, "config", "{\"dpi\": 300}");

    /* ---- the file types, exactly ---- */
    hid_t dd = H5Dopen2(f, "documents", H5P_DEFAULT), dp = H5Dopen2(f, "pages", H5P_DEFAULT),
          dl = H5Dopen2(f, "lines", H5P_DEFAULT), dt = H5Dopen2(f, "text", H5P_DEFAULT);
    {
        const char *n[] = {"doc",       "path",       "bytes",     "pages",   "status",
                           "error",     "text_pages", "ocr_pages", "seconds", "rank",
                           "retryable", "warnings",   "warning"};
        H5T_class_t c[] = {H5T_INTEGER, H5T_STRING,  H5T_INTEGER, H5T_INTEGER, H5T_ENUM,
                           H5T_STRING,  H5T_INTEGER, H5T_INTEGER, H5T_FLOAT,   H5T_INTEGER,
                           H5T_INTEGER, H5T_INTEGER, H5T_STRING};
        size_t s[] = {8, 0, 8, 4, 1, 0, 4, 4, 4, 4, 1, 4, 0};
        check_members(dd, n, c, s, 13);
    }
    {
        const char *n[] = {"doc",      "page",  "kind",       "width",   "height",
                           "rotation", "lines", "first_line", "seconds", "skew_deg"};
        H5T_class_t c[] = {H5T_INTEGER, H5T_INTEGER, H5T_ENUM,    H5T_FLOAT, H5T_FLOAT,
                           H5T_INTEGER, H5T_INTEGER, H5T_INTEGER, H5T_FLOAT, H5T_FLOAT};
        size_t s[] = {8, 4, 1, 4, 4, 2, 4, 8, 4, 4};
        check_members(dp, n, c, s, 10);
    }
    {
        const char *n[] = {"doc", "page", "block", "bbox", "conf", "text_start", "text_len"};
        H5T_class_t c[] = {H5T_INTEGER, H5T_INTEGER, H5T_INTEGER, H5T_ARRAY,
                           H5T_FLOAT,   H5T_INTEGER, H5T_INTEGER};
        size_t s[] = {8, 4, 4, 16, 4, 8, 4};
        check_members(dl, n, c, s, 7);
    }
    {
        hid_t t = H5Dget_type(dt);
        CHECK(H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == 1 &&
                  H5Tget_sign(t) == H5T_SGN_NONE,
              "/text is not u8");
        H5Tclose(t);
    }
    /* path, error and warning are sized to the longest value (at least 1) */
    size_t pmax = 1, emax = 1, wmax = 1;
    for (int i = 0; i < ndocs; i++) {
        lay_doc d;
        gen_doc(gen_id(i), 0, &d);
        pmax = strlen(d.path) > pmax ? strlen(d.path) : pmax;
        emax = strlen(d.error) > emax ? strlen(d.error) : emax;
        wmax = strlen(d.warning) > wmax ? strlen(d.warning) : wmax;
        lay_doc_free(&d);
    }
    {
        hid_t t = H5Dget_type(dd);
        hid_t pt = H5Tget_member_type(t, 1), et = H5Tget_member_type(t, 5);
        hid_t wt = H5Tget_member_type(t, 12);
        CHECK(H5Tget_size(pt) == pmax, "path size %zu, want %zu", H5Tget_size(pt), pmax);
        CHECK(H5Tget_size(et) == emax, "error size %zu, want %zu", H5Tget_size(et), emax);
        CHECK(H5Tget_size(wt) == wmax, "warning size %zu, want %zu", H5Tget_size(wt), wmax);
        H5Tclose(pt), H5Tclose(et), H5Tclose(wt), H5Tclose(t);
    }
    H5Dclose(dd), H5Dclose(dp), H5Dclose(dl), H5Dclose(dt);

    /* ---- the rows, read through converting memory types ---- */
    hid_t st = enum_type(status_names), kt = enum_type(kind_names);
    hid_t ps = str_type(sizeof((rd_doc *)0)->path), es = str_type(sizeof((rd_doc *)0)->error);
    hid_t ws = str_type(sizeof((rd_doc *)0)->warning);
    hid_t mdoc = H5Tcreate(H5T_COMPOUND, sizeof(rd_doc));
    H5Tinsert(mdoc, "doc", HOFFSET(rd_doc, doc), H5T_NATIVE_UINT64);
    H5Tinsert(mdoc, "path", HOFFSET(rd_doc, path), ps);
    H5Tinsert(mdoc, "bytes", HOFFSET(rd_doc, bytes), H5T_NATIVE_UINT64);
    H5Tinsert(mdoc, "pages", HOFFSET(rd_doc, pages), H5T_NATIVE_UINT32);
    H5Tinsert(mdoc, "status", HOFFSET(rd_doc, status), st);
    H5Tinsert(mdoc, "error", HOFFSET(rd_doc, error), es);
    H5Tinsert(mdoc, "text_pages", HOFFSET(rd_doc, text_pages), H5T_NATIVE_UINT32);
    H5Tinsert(mdoc, "ocr_pages", HOFFSET(rd_doc, ocr_pages), H5T_NATIVE_UINT32);
    H5Tinsert(mdoc, "seconds", HOFFSET(rd_doc, seconds), H5T_NATIVE_FLOAT);
    H5Tinsert(mdoc, "rank", HOFFSET(rd_doc, rank), H5T_NATIVE_INT32);
    H5Tinsert(mdoc, "retryable", HOFFSET(rd_doc, retryable), H5T_NATIVE_UINT8);
    H5Tinsert(mdoc, "warnings", HOFFSET(rd_doc, warnings), H5T_NATIVE_UINT32);
    H5Tinsert(mdoc, "warning", HOFFSET(rd_doc, warning), ws);
    hid_t mpage = H5Tcreate(H5T_COMPOUND, sizeof(rd_page));
    H5Tinsert(mpage, "doc", HOFFSET(rd_page, doc), H5T_NATIVE_UINT64);
    H5Tinsert(mpage, "page", HOFFSET(rd_page, page), H5T_NATIVE_UINT32);
    H5Tinsert(mpage, "kind", HOFFSET(rd_page, kind), kt);
    H5Tinsert(mpage, "width", HOFFSET(rd_page, width), H5T_NATIVE_FLOAT);
    H5Tinsert(mpage, "height", HOFFSET(rd_page, height), H5T_NATIVE_FLOAT);
    H5Tinsert(mpage, "rotation", HOFFSET(rd_page, rotation), H5T_NATIVE_INT16);
    H5Tinsert(mpage, "lines", HOFFSET(rd_page, lines), H5T_NATIVE_UINT32);
    H5Tinsert(mpage, "first_line", HOFFSET(rd_page, first_line), H5T_NATIVE_UINT64);
    H5Tinsert(mpage, "seconds", HOFFSET(rd_page, seconds), H5T_NATIVE_FLOAT);
    H5Tinsert(mpage, "skew_deg", HOFFSET(rd_page, skew_deg), H5T_NATIVE_FLOAT);
    hsize_t four = 4;
    hid_t box = H5Tarray_create2(H5T_NATIVE_FLOAT, 1, &four);
    hid_t mline = H5Tcreate(H5T_COMPOUND, sizeof(rd_line));
    H5Tinsert(mline, "doc", HOFFSET(rd_line, doc), H5T_NATIVE_UINT64);
    H5Tinsert(mline, "page", HOFFSET(rd_line, page), H5T_NATIVE_UINT32);
    H5Tinsert(mline, "block", HOFFSET(rd_line, block), H5T_NATIVE_UINT32);
    H5Tinsert(mline, "bbox", HOFFSET(rd_line, bbox), box);
    H5Tinsert(mline, "conf", HOFFSET(rd_line, conf), H5T_NATIVE_FLOAT);
    H5Tinsert(mline, "text_start", HOFFSET(rd_line, text_start), H5T_NATIVE_UINT64);
    H5Tinsert(mline, "text_len", HOFFSET(rd_line, text_len), H5T_NATIVE_UINT32);

    size_t nd, np, nl, nt;
    rd_doc *docs = read_all(f, "documents", mdoc, sizeof(rd_doc), &nd);
    rd_page *pages = read_all(f, "pages", mpage, sizeof(rd_page), &np);
    rd_line *lines = read_all(f, "lines", mline, sizeof(rd_line), &nl);
    char *text = read_all(f, "text", H5T_NATIVE_UINT8, 1, &nt);

    /* Expected: every distinct id, ascending. */
    uint64_t ids[ID_MOD];
    int nid = 0;
    for (uint64_t id = 0; id < ID_MOD; id++)
        for (int i = 0; i < ndocs; i++)
            if (gen_id(i) == id) {
                ids[nid++] = id;
                break;
            }
    CHECK(nd == (size_t)nid, "%zu document rows, want %d", nd, nid);
    size_t pi = 0, li = 0, ti = 0;
    for (int k = 0; k < nid && (size_t)k < nd; k++) {
        int32_t want_rank = 0;
        for (int i = 0; i < ndocs; i++)
            if (gen_id(i) == ids[k])
                want_rank = ids[k] == gen_id(DUP_WRITE) ? 3 : i % 3 + 1; /* see write_journal */
        lay_doc d;
        gen_doc(ids[k], want_rank, &d);
        const rd_doc *r = &docs[k];
        CHECK(r->doc == d.doc, "row %d doc %llu want %llu", k, (unsigned long long)r->doc,
              (unsigned long long)d.doc);
        CHECK(strcmp(r->path, d.path) == 0, "doc %llu path '%s'", (unsigned long long)d.doc,
              r->path);
        CHECK(strcmp(r->error, d.error) == 0, "doc %llu error '%s'", (unsigned long long)d.doc,
              r->error);
        CHECK(strcmp(r->warning, d.warning) == 0 && r->warnings == d.warnings &&
                  r->retryable == d.retry,
              "doc %llu warnings %u '%s' retryable %u", (unsigned long long)d.doc, r->warnings,
              r->warning, r->retryable);
        CHECK(r->bytes == d.bytes && r->pages == d.pages && r->status == d.status &&
                  r->text_pages == d.text_pages && r->ocr_pages == d.ocr_pages &&
                  r->seconds == d.seconds && r->rank == d.rank,
              "doc %llu scalar fields (rank %d want %d)", (unsigned long long)d.doc, r->rank,
              d.rank);
        size_t doc_line0 = li;
        for (size_t p = 0; p < lay_doc_npages(&d); p++, pi++) {
            const lay_page *e = lay_doc_page(&d, p);
            CHECK(pi < np, "too few page rows");
            if (pi >= np) break;
            const rd_page *g = &pages[pi];
            CHECK(g->doc == d.doc && g->page == e->page && g->kind == e->kind &&
                      g->width == e->width && g->height == e->height &&
                      g->rotation == e->rotation && g->lines == e->lines &&
                      g->seconds == e->seconds && g->skew_deg == e->skew_deg &&
                      g->first_line == doc_line0 + e->first_line,
                  "doc %llu page %zu (first_line %llu want %zu)", (unsigned long long)d.doc, p,
                  (unsigned long long)g->first_line, doc_line0 + (size_t)e->first_line);
        }
        for (size_t l = 0; l < lay_doc_nlines(&d); l++, li++) {
            const lay_line *e = lay_doc_line(&d, l);
            CHECK(li < nl, "too few line rows");
            if (li >= nl) break;
            const rd_line *g = &lines[li];
            CHECK(g->doc == d.doc && g->page == e->page && g->block == e->block &&
                      memcmp(g->bbox, e->bbox, sizeof e->bbox) == 0 && g->conf == e->conf &&
                      g->text_len == e->text_len && g->text_start == ti,
                  "doc %llu line %zu", (unsigned long long)d.doc, l);
            CHECK(ti + e->text_len <= nt &&
                      memcmp(text + ti, d.text.data + e->text_start, e->text_len) == 0,
                  "doc %llu line %zu text", (unsigned long long)d.doc, l);
            ti += e->text_len;
        }
        lay_doc_free(&d);
    }
    CHECK(pi == np && li == nl && ti == nt,
          "rows left over: pages %zu/%zu lines %zu/%zu text %zu/%zu", pi, np, li, nl, ti, nt);
    free(docs), free(pages), free(lines), free(text);
    H5Tclose(mdoc), H5Tclose(mpage), H5Tclose(mline), H5Tclose(box);
    H5Tclose(st), H5Tclose(kt), H5Tclose(ps), H5Tclose(es), H5Tclose(ws);
    H5Fclose(f);
}

static const store_meta test_meta = {
    .quire_version = "9.9.9-test",
    .models_json = "{\"det\": \"ch_PP-OCRv4_det.onnx\", \"sha256\": \"ü\"}",
    .config_json = "{\"dpi\": 300}",
};

static int mode_roundtrip(const char *dir, int ndocs) {
    if (test_rank == 0) {
        OK(q_mkdirs(dir));
        write_journal(dir, ndocs);
        check_journal(dir, ndocs);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    OK(store_consolidate(MPI_COMM_WORLD, dir, &test_meta));
    if (test_rank == 0) verify(dir, ndocs);
    return 0;
}

/* A closed shard that is not HDF5 is reported with the file's name, by the
 * scan and by every consolidating rank, and no results.h5 appears. */
static int mode_corrupt(const char *dir) {
    char bad[4096];
    if (test_rank == 0) {
        OK(q_mkdirs(dir));
        write_journal(dir, 12);
        snprintf(bad, sizeof bad, "%s/journal/r00007-1-000000.h5", dir);
        FILE *f = fopen(bad, "wb");
        fputs("this is not HDF5", f);
        fclose(f);
        store_journal *j = NULL;
        q_status st = store_journal_scan(dir, &j);
        CHECK(st != Q_OK && j == NULL, "scan accepted a corrupt shard");
        CHECK(strstr(q_errmsg(), "r00007-1-000000.h5") != NULL, "message: %s", q_errmsg());
        fprintf(stderr, "scan error (expected): %s\n", q_errmsg());
    }
    MPI_Barrier(MPI_COMM_WORLD);
    q_status st = store_consolidate(MPI_COMM_WORLD, dir, &test_meta);
    CHECK(st != Q_OK, "consolidation accepted a corrupt shard");
    CHECK(strstr(q_errmsg(), "r00007-1-000000.h5") != NULL, "message: %s", q_errmsg());
    if (test_rank == 0) fprintf(stderr, "consolidate error (expected): %s\n", q_errmsg());
    snprintf(bad, sizeof bad, "%s/results.h5", dir);
    FILE *f = fopen(bad, "rb");
    CHECK(f == NULL, "results.h5 written despite the error");
    if (f) fclose(f);
    snprintf(bad, sizeof bad, "%s/results.h5.tmp", dir);
    f = fopen(bad, "rb");
    CHECK(f == NULL, "results.h5.tmp left behind");
    if (f) fclose(f);
    return 0;
}

/* The writer on its own: inconsistent records are refused, a shard closes by
 * itself when full, a document appended twice to one shard keeps the later
 * copy unless only the earlier one is ok, and only closed shards count. */
static int mode_shard(const char *dir) {
    OK(q_mkdirs(dir));
    OK(store_journal_clear(dir));
    store_shard *w = NULL;
    OK(store_shard_open(dir, 0, &w));
    lay_doc d;
    OK(lay_doc_init(&d, 7, "first"));
    OK(lay_page_begin(&d, 0, 1, 1, 0));
    lay_doc_page(&d, 0)->lines = 3; /* claims lines it does not have */
    CHECK(store_shard_append(w, &d) == Q_ERR_INTERNAL, "inconsistent record accepted");
    CHECK(store_shard_pending(w) == 0, "refused record is pending");
    lay_doc_page(&d, 0)->lines = 0;
    OK(store_shard_append(w, &d));
    lay_doc_free(&d);
    OK(lay_doc_init(&d, 7, "second"));
    OK(store_shard_append(w, &d));
    lay_doc_free(&d);
    OK(lay_doc_init(&d, 7, "third, failed"));
    OK(lay_doc_set_error(&d, LAY_DOC_TIMEOUT, "timeout"));
    OK(store_shard_append(w, &d));
    lay_doc_free(&d);
    int n = 2;
    while (store_shard_pending(w) != 0) { /* until it closes by itself */
        OK(lay_doc_init(&d, (uint64_t)(1000 + n), "x"));
        OK(store_shard_append(w, &d));
        lay_doc_free(&d);
        CHECK(++n <= 5000, "shard never closed by itself");
        if (n > 5000) break;
    }
    OK(lay_doc_init(&d, 999999, "pending"));
    OK(store_shard_append(w, &d));
    lay_doc_free(&d);
    store_journal *j = NULL;
    OK(store_journal_scan(dir, &j));
    CHECK(store_journal_count(j) == (size_t)n - 1, "count %zu, want %d (duplicate counted once)",
          store_journal_count(j), n - 1);
    CHECK(!store_journal_has(j, 999999), "document of the open shard counts as done");
    const char *p = store_journal_path(j, 7);
    CHECK(p && strcmp(p, "second") == 0, "duplicate kept '%s', want the second", p ? p : "(null)");
    store_journal_free(j);
    OK(store_shard_close(w));
    OK(store_shard_close(w)); /* nothing open: no-op */
    store_shard_free(w);
    OK(store_journal_scan(dir, &j));
    CHECK(store_journal_has(j, 999999), "closed shard not seen");
    store_journal_free(j);
    store_shard_free(NULL);
    store_journal_free(NULL);
    return 0;
}

static int mode_empty(const char *dir) {
    if (test_rank == 0) {
        OK(q_mkdirs(dir));
        OK(store_journal_clear(dir));
        store_journal *j = NULL;
        OK(store_journal_scan(dir, &j));
        CHECK(store_journal_count(j) == 0, "empty journal has documents");
        store_journal_free(j);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    OK(store_consolidate(MPI_COMM_WORLD, dir, &test_meta));
    if (test_rank == 0) verify(dir, 0);
    return 0;
}

/* Large synthetic journal: NDOCS documents of LINES lines over 4 pages,
 * written by rank 0 in 64-document shards, then consolidated and timed. */
static int mode_bench(const char *dir, int ndocs, int nlines) {
    double t0 = MPI_Wtime();
    if (test_rank == 0) {
        OK(q_mkdirs(dir));
        OK(store_journal_clear(dir));
        store_shard *w = NULL;
        OK(store_shard_open(dir, 0, &w));
        char path[64], text[64];
        for (int i = 0; i < ndocs; i++) {
            lay_doc d;
            snprintf(path, sizeof path, "/bench/doc-%07d.pdf", i);
            OK(lay_doc_init(&d, (uint64_t)(ndocs - 1 - i), path));
            d.pages = 4;
            d.rank = 0;
            for (uint32_t p = 0; p < 4; p++) {
                OK(lay_page_begin(&d, p, 612, 792, 0));
                for (int k = 0; k < nlines / 4; k++) {
                    float bbox[4] = {1, 2 + (float)k, 300, 12 + (float)k};
                    int n = snprintf(text, sizeof text, "line %d of page %u", k, p);
                    OK(lay_line_add(&d, bbox, 1.0f, 10.0f, text, (size_t)n));
                }
                OK(lay_page_end(&d, LAY_PAGE_TEXT, 0.1f, 0));
            }
            OK(store_shard_append(w, &d));
            lay_doc_free(&d);
            if (store_shard_pending(w) == 64) OK(store_shard_close(w));
        }
        store_shard_free(w);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    double t1 = MPI_Wtime();
    OK(store_consolidate(MPI_COMM_WORLD, dir, &test_meta));
    double t2 = MPI_Wtime();
    if (test_rank == 0)
        printf("bench: %d docs, %d lines: journal %.2f s, consolidate %.2f s\n", ndocs,
               ndocs * (nlines / 4 * 4), t1 - t0, t2 - t1);
    return 0;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &test_rank);
    if (argc < 3) {
        fprintf(stderr, "usage: store_test roundtrip|empty|corrupt|bench DIR [N] [LINES]\n");
        MPI_Finalize();
        return 2;
    }
    const char *mode = argv[1], *dir = argv[2];
    if (strcmp(mode, "roundtrip") == 0)
        mode_roundtrip(dir, argc > 3 ? atoi(argv[3]) : 60);
    else if (strcmp(mode, "shard") == 0)
        mode_shard(dir);
    else if (strcmp(mode, "empty") == 0)
        mode_empty(dir);
    else if (strcmp(mode, "corrupt") == 0)
        mode_corrupt(dir);
    else if (strcmp(mode, "consolidate") == 0) {
        double t0 = MPI_Wtime();
        OK(store_consolidate(MPI_COMM_WORLD, dir, &test_meta));
        if (test_rank == 0) printf("consolidate: %.2f s\n", MPI_Wtime() - t0);
    } else if (strcmp(mode, "bench") == 0 && argc > 4)
        mode_bench(dir, atoi(argv[3]), atoi(argv[4]));
    else {
        fprintf(stderr, "unknown mode %s\n", mode);
        test_failures++;
    }
    /* store must not leave HDF5 files or objects in them open. */
    ssize_t nopen = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
    CHECK(nopen == 0, "%zd HDF5 files/objects left open", nopen);
    int fails = 0;
    MPI_Allreduce(&test_failures, &fails, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (test_rank == 0) printf("store_test %s: %s\n", mode, fails ? "FAILED" : "ok");
    MPI_Finalize();
    return fails ? 1 : 0;
}

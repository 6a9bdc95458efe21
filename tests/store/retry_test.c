/* retry_test: documents with several records in the journal (retried ones)
 * and shards from before the retryable/warnings fields. The resume index and
 * the consolidation must pick the same record: one that did not fail beats a
 * failed one, else the one of the shard closed last.
 *
 *   retry_test rule DIR   two writers, the later one named first; scan, consolidate, read back
 *   retry_test old DIR    DIR holds make_old_shard.py's shard; read it, retry its timeout */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static int test_rank, test_failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "r%d %s:%d: check failed: %s: ", test_rank, __FILE__, __LINE__,        \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)
#define OK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != Q_OK) {                                                                      \
            fprintf(stderr, "r%d %s:%d: %s failed: %s\n", test_rank, __FILE__, __LINE__, #call,    \
                    q_errmsg());                                                                   \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                          \
        }                                                                                          \
    } while (0)

static const store_meta test_meta = {"9.9.9-test", "{}", "{}"};

/* Appends document `doc` with `status` (and error text `why`), one page with
 * one line `text` when it is ok, and `warning` when not NULL. */
static void put(store_shard *w, uint64_t doc, int32_t rank, lay_doc_status status, const char *why,
                const char *text, const char *warning) {
    char path[64];
    snprintf(path, sizeof path, "/in/doc-%llu.pdf", (unsigned long long)doc);
    lay_doc d;
    OK(lay_doc_init(&d, doc, path));
    d.rank = rank;
    d.pages = 1;
    if (status != LAY_DOC_OK) {
        OK(lay_doc_set_error(&d, status, "%s", why));
    } else {
        const float box[4] = {1, 2, 3, 4};
        OK(lay_page_begin(&d, 0, 612, 792, 0));
        OK(lay_line_add(&d, box, 1.0f, 10.0f, text, strlen(text)));
        OK(lay_page_end(&d, LAY_PAGE_TEXT, 0.1f, 0));
    }
    if (warning) OK(lay_doc_warn(&d, "%s", warning));
    OK(store_shard_append(w, &d));
    lay_doc_free(&d);
}

/* ---- results.h5, the /documents fields this test looks at ---- */
typedef struct {
    uint64_t doc;
    uint8_t status, retryable;
    int32_t rank;
    uint32_t warnings;
    char error[128], warning[128];
} rd_doc;

static hid_t str_type(size_t n) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Reads /documents (at most `cap` rows) and /text of DIR/results.h5. */
static size_t read_results(const char *dir, rd_doc *out, size_t cap, char *text, size_t tcap) {
    char path[4096];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0, "cannot open %s", path);
    if (f < 0) return 0;
    hid_t d = H5Dopen2(f, "documents", H5P_DEFAULT), ft = H5Dget_type(d);
    hid_t se = H5Tget_member_type(ft, (unsigned)H5Tget_member_index(ft, "status"));
    hid_t es = str_type(128), m = H5Tcreate(H5T_COMPOUND, sizeof(rd_doc));
    H5Tinsert(m, "doc", HOFFSET(rd_doc, doc), H5T_NATIVE_UINT64);
    H5Tinsert(m, "status", HOFFSET(rd_doc, status), se);
    H5Tinsert(m, "retryable", HOFFSET(rd_doc, retryable), H5T_NATIVE_UINT8);
    H5Tinsert(m, "rank", HOFFSET(rd_doc, rank), H5T_NATIVE_INT32);
    H5Tinsert(m, "warnings", HOFFSET(rd_doc, warnings), H5T_NATIVE_UINT32);
    H5Tinsert(m, "error", HOFFSET(rd_doc, error), es);
    H5Tinsert(m, "warning", HOFFSET(rd_doc, warning), es);
    hid_t s = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(s, &n, NULL);
    CHECK(n <= cap, "%llu rows", (unsigned long long)n);
    if (n <= cap && n) CHECK(H5Dread(d, m, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0, "read");
    H5Sclose(s), H5Tclose(m), H5Tclose(es), H5Tclose(se), H5Tclose(ft), H5Dclose(d);
    d = H5Dopen2(f, "text", H5P_DEFAULT);
    s = H5Dget_space(d);
    hsize_t nt = 0;
    H5Sget_simple_extent_dims(s, &nt, NULL);
    memset(text, 0, tcap);
    if (nt && nt < tcap) H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, text);
    H5Sclose(s), H5Dclose(d), H5Fclose(f);
    return n <= cap ? (size_t)n : 0;
}

/* /pages skew_deg of row 0 of DIR/results.h5 (NaN when it cannot be read). */
static float read_skew0(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    float v = __builtin_nanf(""), all[8];
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f < 0 ? -1 : H5Dopen2(f, "pages", H5P_DEFAULT);
    hid_t s = d < 0 ? -1 : H5Dget_space(d), m = H5Tcreate(H5T_COMPOUND, sizeof(float));
    hsize_t n = 0;
    if (s >= 0) H5Sget_simple_extent_dims(s, &n, NULL);
    H5Tinsert(m, "skew_deg", 0, H5T_NATIVE_FLOAT);
    if (n >= 1 && n <= 8 && H5Dread(d, m, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0) v = all[0];
    H5Tclose(m);
    if (s >= 0) H5Sclose(s);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return v;
}

static void check_status(const store_journal *j, uint64_t doc, uint8_t want, uint8_t want_retry) {
    uint8_t st = 99, retry = 99;
    CHECK(store_journal_status(j, doc, &st, &retry) && st == want && retry == want_retry,
          "doc %llu: status %u retry %u, want %u %u", (unsigned long long)doc, st, retry, want,
          want_retry);
}

/* Writer rank 7 closes first; writer rank 0, whose shard sorts first by name,
 * closes later: its records are the later ones. */
static int mode_rule(const char *dir) {
    if (test_rank == 0) {
        OK(q_mkdirs(dir));
        OK(store_journal_clear(dir));
        store_shard *a = NULL, *b = NULL;
        OK(store_shard_open(dir, 7, &a));
        put(a, 0, 7, LAY_DOC_OK, "", "zero", NULL);
        put(a, 1, 7, LAY_DOC_TIMEOUT, "timeout after 1 s", "", NULL);
        put(a, 2, 7, LAY_DOC_ERROR, "first error", "", NULL);
        put(a, 3, 7, LAY_DOC_OK, "", "three", "repaired: 8 syntax errors");
        put(a, 4, 7, LAY_DOC_TIMEOUT, "timeout after 2 s", "", NULL);
        OK(store_shard_close(a));
        OK(store_shard_open(dir, 0, &b));
        put(b, 1, 0, LAY_DOC_OK, "", "one, retried", NULL);           /* ok beats the timeout */
        put(b, 2, 0, LAY_DOC_ERROR, "second error", "", NULL);        /* later failure wins */
        put(b, 3, 0, LAY_DOC_TIMEOUT, "timeout after 3 s", "", NULL); /* the ok stays */
        put(b, 4, 0, LAY_DOC_TIMEOUT, "timeout after 4 s", "", NULL); /* later wins */
        OK(store_shard_close(b));
        store_shard_free(a), store_shard_free(b);
        store_journal *j = NULL;
        OK(store_journal_scan(dir, &j));
        CHECK(store_journal_count(j) == 5, "count %zu", store_journal_count(j));
        check_status(j, 0, LAY_DOC_OK, 0);
        check_status(j, 1, LAY_DOC_OK, 0);
        check_status(j, 2, LAY_DOC_ERROR, 0);
        check_status(j, 3, LAY_DOC_OK, 0);
        check_status(j, 4, LAY_DOC_TIMEOUT, 1);
        store_journal_free(j);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    OK(store_consolidate(MPI_COMM_WORLD, dir, &test_meta));
    if (test_rank != 0) return 0;
    rd_doc r[8];
    char text[256];
    size_t n = read_results(dir, r, 8, text, sizeof text);
    CHECK(n == 5, "%zu /documents rows, want 5", n);
    if (n != 5) return 0;
    static const int32_t rank[5] = {7, 0, 0, 7, 0};
    static const char *const error[5] = {"", "", "second error", "", "timeout after 4 s"};
    for (size_t i = 0; i < 5; i++)
        CHECK(r[i].doc == i && r[i].rank == rank[i] && strcmp(r[i].error, error[i]) == 0,
              "row %zu: doc %llu rank %d error '%s'", i, (unsigned long long)r[i].doc, r[i].rank,
              r[i].error);
    CHECK(r[4].retryable == 1 && r[2].retryable == 0 && r[1].retryable == 0, "retryable");
    CHECK(r[3].warnings == 1 && strcmp(r[3].warning, "repaired: 8 syntax errors") == 0 &&
              r[0].warnings == 0 && r[0].warning[0] == 0,
          "warnings %u '%s'", r[3].warnings, r[3].warning);
    CHECK(strcmp(text, "zeroone, retriedthree") == 0, "text '%s'", text);
    return 0;
}

/* An old shard (no retryable, warnings, warning, warning_len, created_ns;
 * no /pages skew_deg) reads with those as 0 and ""; its timeout, retried, is
 * replaced. */
static int mode_old(const char *dir) {
    if (test_rank == 0) {
        store_journal *j = NULL;
        OK(store_journal_scan(dir, &j));
        CHECK(store_journal_count(j) == 2, "count %zu", store_journal_count(j));
        check_status(j, 0, LAY_DOC_OK, 0);
        check_status(j, 1, LAY_DOC_TIMEOUT, 0);
        const char *p = store_journal_path(j, 1);
        CHECK(p && strcmp(p, "/old/one.pdf") == 0, "path %s", p ? p : "(null)");
        store_journal_free(j);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    OK(store_consolidate(MPI_COMM_WORLD, dir, &test_meta));
    rd_doc r[4];
    char text[256];
    if (test_rank == 0) {
        size_t n = read_results(dir, r, 4, text, sizeof text);
        CHECK(n == 2 && r[1].status == LAY_DOC_TIMEOUT && r[0].retryable == 0 &&
                  r[1].retryable == 0 && r[0].warnings == 0 && r[0].warning[0] == 0 &&
                  strcmp(r[1].error, "timeout after 9 s at page 1 of 3") == 0,
              "old rows: %zu, status %u, error '%s'", n, r[1].status, r[1].error);
        CHECK(strcmp(text, "old line oneold line two") == 0, "text '%s'", text);
        CHECK(read_skew0(dir) == 0.0f, "an old shard's page reads skew_deg %g", read_skew0(dir));
        /* the retry: a new shard (named after the old one) with doc 1 ok */
        store_shard *w = NULL;
        OK(store_shard_open(dir, 0, &w));
        put(w, 1, 0, LAY_DOC_OK, "", "new", "repaired: 2 syntax errors");
        store_shard_free(w);
        store_journal *j = NULL;
        OK(store_journal_scan(dir, &j));
        check_status(j, 1, LAY_DOC_OK, 0);
        store_journal_free(j);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    OK(store_consolidate(MPI_COMM_WORLD, dir, &test_meta));
    if (test_rank == 0) {
        size_t n = read_results(dir, r, 4, text, sizeof text);
        CHECK(n == 2 && r[1].status == LAY_DOC_OK && r[1].rank == 0 && r[1].warnings == 1 &&
                  strcmp(r[1].warning, "repaired: 2 syntax errors") == 0 && r[0].rank == 1,
              "rows after the retry: %zu, status %u, warning '%s'", n, r[1].status, r[1].warning);
        CHECK(strcmp(text, "old line oneold line twonew") == 0, "text '%s'", text);
    }
    return 0;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &test_rank);
    if (argc < 3 || (strcmp(argv[1], "rule") != 0 && strcmp(argv[1], "old") != 0)) {
        fprintf(stderr, "usage: retry_test rule|old DIR\n");
        MPI_Finalize();
        return 2;
    }
    if (strcmp(argv[1], "rule") == 0)
        mode_rule(argv[2]);
    else
        mode_old(argv[2]);
    int fails = 0;
    MPI_Allreduce(&test_failures, &fails, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (test_rank == 0) printf("retry_test %s: %s\n", argv[1], fails ? "FAILED" : "ok");
    MPI_Finalize();
    return fails ? 1 : 0;
}

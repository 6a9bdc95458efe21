/* ident_test: documents by identity in the store. The input table round trip
 * and its damage checks; the journal rewritten into a new numbering (records
 * moved, dropped, the retry rule's winner carried over, paths renamed) and
 * consolidated; a live record log refusing the rewrite; and the recovery of
 * each state a killed rewrite can leave.
 *
 *   mpirun -np 1 ident_test DIR */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

static int test_failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)
#define OK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != Q_OK) {                                                                      \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, q_errmsg());      \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                          \
        }                                                                                          \
    } while (0)

static int exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* A shell command on $O, the folder of the case at hand. */
static void sh(const char *cmd, const char *out) {
    setenv("O", out, 1);
    if (system(cmd) != 0) fprintf(stderr, "warning: '%s' failed\n", cmd);
}

/* ---- the input table ---- */

static void test_table(const char *dir) {
    char out[4096], file[4200];
    snprintf(out, sizeof out, "%s/table", dir);
    store_inputs t;
    int found = 1;
    OK(store_inputs_read(out, &t, &found));
    CHECK(!found && t.n == 0, "a missing table reads as none");
    const store_input v[3] = {{"a.pdf", "/x/a.pdf", 10, 1700000000123456789},
                              {"odd\tname\n.pdf", "/x/odd\tname\n.pdf", 0, -5},
                              {"", "/", 1ull << 40, 0}};
    OK(store_inputs_write(out, v, 3));
    OK(store_inputs_read(out, &t, &found));
    CHECK(found && t.n == 3, "found %d n %zu", found, t.n);
    for (size_t i = 0; i < 3 && i < t.n; i++) {
        CHECK(!strcmp(t.v[i].path, v[i].path) && !strcmp(t.v[i].abspath, v[i].abspath),
              "entry %zu strings", i);
        CHECK(t.v[i].bytes == v[i].bytes && t.v[i].mtime_ns == v[i].mtime_ns, "entry %zu", i);
    }
    store_inputs_free(&t);
    /* one flipped byte, then a cut file: errors naming the table */
    snprintf(file, sizeof file, "%s/journal/" STORE_INPUTS_NAME, out);
    FILE *f = fopen(file, "r+b");
    CHECK(f != NULL, "open %s", file);
    if (f) fseek(f, 30, SEEK_SET), fputc('#', f), fclose(f);
    q_status st = store_inputs_read(out, &t, &found);
    CHECK(st == Q_ERR_FORMAT && strstr(q_errmsg(), STORE_INPUTS_NAME), "flipped: %s", q_errmsg());
    CHECK(truncate(file, 10) == 0, "truncate");
    st = store_inputs_read(out, &t, &found);
    CHECK(st == Q_ERR_FORMAT && !found, "cut: %s", q_errmsg());
    store_inputs_free(&t);
}

/* ---- the rewrite ---- */

static void put(store_shard *w, uint64_t doc, lay_doc_status status, const char *text) {
    char path[64];
    snprintf(path, sizeof path, "/old/doc-%llu.pdf", (unsigned long long)doc);
    lay_doc d;
    OK(lay_doc_init(&d, doc, path));
    d.rank = (int32_t)doc + 10;
    d.bytes = 1000 + doc;
    d.pages = 2;
    d.seconds = 0.25f * (float)doc;
    if (status != LAY_DOC_OK) {
        OK(lay_doc_set_error(&d, status, "failed %s", text));
    } else {
        const float box[4] = {1, 2, 3, 4};
        for (uint32_t p = 0; p < 2; p++) {
            OK(lay_page_begin(&d, p, 612, 792, 0));
            char line[96];
            snprintf(line, sizeof line, "%s p%u", text, p);
            OK(lay_line_add(&d, box, 0.5f, 10.0f, line, strlen(line)));
            OK(lay_line_add(&d, box, 0.5f, 10.0f, "second", 6));
            OK(lay_page_end(&d, LAY_PAGE_OCR, 0.1f, 0));
        }
    }
    OK(store_shard_append(w, &d));
    lay_doc_free(&d);
}

/* /lines' doc, text_start, text_len and /text of DIR/results.h5: the text of
 * document `doc`, lines joined by '|'. */
static void doc_text(const char *dir, uint64_t doc, char *out, size_t cap) {
    char path[4200];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t dl = H5Dopen2(f, "lines", H5P_DEFAULT), dt = H5Dopen2(f, "text", H5P_DEFAULT);
    typedef struct {
        uint64_t doc, start;
        uint32_t len;
    } row;
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(row));
    H5Tinsert(mt, "doc", offsetof(row, doc), H5T_NATIVE_UINT64);
    H5Tinsert(mt, "text_start", offsetof(row, start), H5T_NATIVE_UINT64);
    H5Tinsert(mt, "text_len", offsetof(row, len), H5T_NATIVE_UINT32);
    hid_t s = H5Dget_space(dl), s2 = H5Dget_space(dt);
    hsize_t n = 0, nt = 0;
    H5Sget_simple_extent_dims(s, &n, NULL);
    H5Sget_simple_extent_dims(s2, &nt, NULL);
    row *r = calloc(n + 1, sizeof *r);
    char *text = calloc(nt + 1, 1);
    H5Dread(dl, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, r);
    H5Dread(dt, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, text);
    size_t k = 0;
    out[0] = 0;
    for (hsize_t i = 0; i < n; i++) {
        if (r[i].doc != doc || r[i].start + r[i].len > nt || k + r[i].len + 2 > cap) continue;
        if (k) out[k++] = '|';
        memcpy(out + k, text + r[i].start, r[i].len);
        out[k += r[i].len] = 0;
    }
    free(r), free(text);
    H5Sclose(s), H5Sclose(s2), H5Tclose(mt), H5Dclose(dl), H5Dclose(dt), H5Fclose(f);
}

static void test_remap(const char *dir) {
    char out[4096], stage[4200], want[256], got[512];
    snprintf(out, sizeof out, "%s/remap", dir);
    snprintf(stage, sizeof stage, "%s/journal-remap", out);
    store_shard *a, *b;
    OK(store_shard_open(out, 1, &a));
    for (uint64_t doc = 0; doc < 5; doc++)
        put(a, doc, doc == 3 ? LAY_DOC_ERROR : LAY_DOC_OK, doc == 3 ? "first" : "text");
    store_shard_free(a);
    OK(store_shard_open(out, 2, &b));    /* closed later: its records are the later ones */
    put(b, 2, LAY_DOC_TIMEOUT, "again"); /* loses: a success beats a failure */
    put(b, 3, LAY_DOC_OK, "retried");    /* wins over the error */
    store_shard_free(b);

    /* new list: old 2, old 3, old 0; old 1 removed, old 4 changed */
    const uint64_t map[6] = {2, STORE_DOC_DROPPED, 0, 1, STORE_DOC_DROPPED, 7};
    const store_input next[3] = {{"new/x0.pdf", "/n/x0.pdf", 1002, 1},
                                 {"new/x1.pdf", "/n/x1.pdf", 1003, 1},
                                 {"new/x2.pdf", "/n/x2.pdf", 1000, 1}};
    /* a live process's record log stops the rewrite, the journal untouched */
    char rlog[4300];
    snprintf(rlog, sizeof rlog, "%s/journal/r00009-h-1-000000.rlog", out);
    FILE *f = fopen(rlog, "w");
    if (f) fclose(f);
    store_journal *j;
    OK(store_journal_scan(out, &j));
    store_remap_stats rs;
    q_status st = store_journal_remap(out, j, map, 6, next, 3, &rs);
    CHECK(st == Q_ERR_USAGE && strstr(q_errmsg(), "another quire"), "rlog: %s", q_errmsg());
    CHECK(!exists(stage), "nothing left of a refused rewrite");
    unlink(rlog);
    OK(store_journal_remap(out, j, map, 6, next, 3, &rs));
    store_journal_free(j);
    CHECK(rs.kept == 3 && rs.dropped == 2, "kept %llu dropped %llu", (unsigned long long)rs.kept,
          (unsigned long long)rs.dropped);
    CHECK(!exists(stage), "the staging folder is removed");
    OK(store_journal_scan(out, &j));
    CHECK(store_journal_count(j) == 3, "%zu documents", store_journal_count(j));
    for (uint64_t id = 0; id < 3; id++) {
        uint8_t status = 9, retry = 9;
        CHECK(store_journal_status(j, id, &status, &retry) && status == LAY_DOC_OK,
              "doc %llu status %u", (unsigned long long)id, status);
        const char *p = store_journal_path(j, id);
        CHECK(p && !strcmp(p, next[id].path), "doc %llu path %s", (unsigned long long)id, p);
        CHECK(store_journal_bytes(j, id) == next[id].bytes, "doc %llu bytes",
              (unsigned long long)id);
    }
    store_journal_free(j);
    store_inputs t;
    int found = 0;
    OK(store_inputs_read(out, &t, &found));
    CHECK(found && t.n == 3 && !strcmp(t.v[1].abspath, "/n/x1.pdf"), "the new table");
    store_inputs_free(&t);

    const store_meta meta = {"9.9.9-test", "{}", "{}"};
    OK(store_consolidate(MPI_COMM_WORLD, out, &meta));
    static const char *const texts[3] = {"text", "retried", "text"};
    for (uint64_t id = 0; id < 3; id++) {
        snprintf(want, sizeof want, "%s p0|second|%s p1|second", texts[id], texts[id]);
        doc_text(out, id, got, sizeof got);
        CHECK(!strcmp(got, want), "doc %llu text '%s', want '%s'", (unsigned long long)id, got,
              want);
    }
}

/* ---- recovering a killed rewrite ---- */

static void test_recover(const char *dir) {
    char out[4096], live[4200], fresh[4300], marker[4400];
    snprintf(out, sizeof out, "%s/recover", dir);
    snprintf(live, sizeof live, "%s/journal", out);
    snprintf(fresh, sizeof fresh, "%s/journal-remap/journal", out);
    int what = 9;
    OK(store_remap_recover(out, &what));
    CHECK(what == 0, "nothing to recover: %d", what);
    /* killed while building: the old journal stays, the new one goes */
    sh("mkdir -p $O/journal $O/journal-remap/journal && touch $O/journal/old", out);
    sh("touch $O/journal-remap/journal/r00000-h-1-000000.h5", out);
    OK(store_remap_recover(out, &what));
    snprintf(marker, sizeof marker, "%s/old", live);
    CHECK(what == 1 && exists(marker) && !exists(fresh), "building: %d", what);
    /* killed between the renames: the new journal is moved in */
    sh("mkdir -p $O/journal-remap/journal && mv $O/journal $O/journal-remap/old", out);
    sh("touch $O/journal-remap/journal/new", out);
    OK(store_remap_recover(out, &what));
    snprintf(marker, sizeof marker, "%s/new", live);
    CHECK(what == 2 && exists(marker) && !exists(fresh), "between renames: %d", what);
    snprintf(marker, sizeof marker, "%s/journal-remap", out);
    CHECK(!exists(marker), "leftover removed");
    /* killed after the switch: only the old one is left to remove */
    sh("mkdir -p $O/journal-remap/old && touch $O/journal-remap/old/r1.h5", out);
    OK(store_remap_recover(out, &what));
    CHECK(what == 1 && !exists(marker), "after the switch: %d", what);
    /* the journal gone and no complete copy: a clear error, not a guess */
    sh("rm -rf $O/journal && mkdir -p $O/journal-remap/old", out);
    q_status st = store_remap_recover(out, &what);
    CHECK(st == Q_ERR_IO && strstr(q_errmsg(), "--force"), "no copy: %s", q_errmsg());
}

/* Not a test: the cost of a rewrite beside the consolidation, on a journal
 * of NDOCS documents of LINES lines in 64-document shards (store_test's
 * bench), each id moved by one (a file added at the front of the list). */
static int bench(const char *dir, int ndocs, int nlines) {
    sh("rm -rf \"$O\" && mkdir -p \"$O\"", dir);
    store_shard *w = NULL;
    OK(store_shard_open(dir, 0, &w));
    store_input *next = calloc((size_t)ndocs + 1, sizeof *next);
    uint64_t *map = calloc((size_t)ndocs, sizeof *map);
    char(*paths)[40] = calloc((size_t)ndocs + 1, 40);
    for (int i = 0; i < ndocs; i++) {
        lay_doc d;
        snprintf(paths[i + 1], 40, "/bench/doc-%07d.pdf", i);
        OK(lay_doc_init(&d, (uint64_t)i, paths[i + 1]));
        for (uint32_t p = 0; p < 4; p++) {
            OK(lay_page_begin(&d, p, 612, 792, 0));
            for (int k = 0; k < nlines / 4; k++) {
                const float box[4] = {1, 2 + (float)k, 300, 12 + (float)k};
                char text[64];
                int n = snprintf(text, sizeof text, "line %d of page %u", k, p);
                OK(lay_line_add(&d, box, 1.0f, 10.0f, text, (size_t)n));
            }
            OK(lay_page_end(&d, LAY_PAGE_TEXT, 0.1f, 0));
        }
        OK(store_shard_append(w, &d));
        lay_doc_free(&d);
        if (store_shard_pending(w) == 64) OK(store_shard_close(w));
        map[i] = (uint64_t)i + 1;
    }
    store_shard_free(w);
    snprintf(paths[0], 40, "/bench/added.pdf");
    for (int i = 0; i <= ndocs; i++)
        next[i] = (store_input){paths[i], paths[i], 0, 0};
    const store_meta meta = {"9.9.9-test", "{}", "{}"};
    double t0 = MPI_Wtime();
    OK(store_consolidate(MPI_COMM_WORLD, dir, &meta));
    double t1 = MPI_Wtime();
    store_remap_stats rs;
    store_journal *j;
    OK(store_journal_scan(dir, &j));
    OK(store_journal_remap(dir, j, map, (size_t)ndocs, next, (size_t)ndocs + 1, &rs));
    store_journal_free(j);
    double t2 = MPI_Wtime();
    store_inputs t;
    int found = 0;
    OK(store_inputs_read(dir, &t, &found));
    double t3 = MPI_Wtime();
    printf("bench: %d docs, %d lines: consolidate %.2f s, rewrite %.2f s (%llu kept), "
           "reading the input table %.4f s\n",
           ndocs, ndocs * (nlines / 4 * 4), t1 - t0, t2 - t1, (unsigned long long)rs.kept, t3 - t2);
    store_inputs_free(&t);
    free(next), free(map), free(paths);
    return 0;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    if (argc == 5 && !strcmp(argv[1], "bench")) {
        int rc = bench(argv[2], atoi(argv[3]), atoi(argv[4]));
        MPI_Finalize();
        return rc;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: ident_test DIR | ident_test bench DIR NDOCS LINES\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    sh("rm -rf \"$O\" && mkdir -p \"$O\"", argv[1]);
    test_table(argv[1]);
    test_remap(argv[1]);
    test_recover(argv[1]);
    if (test_failures)
        fprintf(stderr, "%d checks failed\n", test_failures);
    else
        printf("ident_test: ok\n");
    MPI_Finalize();
    return test_failures ? 1 : 0;
}

/* reclog_test: the write-ahead record log (src/store/reclog.c). Records a
 * killed writer appended come back as a closed shard; a log cut at any offset
 * or damaged in the middle gives exactly its valid prefix, with the dropped
 * bytes counted; recovery twice is a no-op; empty logs are removed, live ones
 * left alone; a full disk keeps the log; --force removes logs. The journal is
 * checked with store_journal_scan. One process, no MPI: label asan.
 *
 *   reclog_test DIR */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "tests/layout/rec_gen.h"

static char base[2048];

/* A fresh OUT for one case: BASE/<name> with an empty journal. */
static void fresh(const char *name, char *out, size_t cap) {
    char jdir[4096];
    snprintf(out, cap, "%s/%s", base, name);
    snprintf(jdir, sizeof jdir, "%s/journal", out);
    REC_OK(q_mkdirs(jdir));
    REC_OK(store_journal_clear(out));
}

/* Files in OUT/journal whose names end in `suffix`; the last one's path in
 * `last` when given. */
static int count_files(const char *out, const char *suffix, char *last, size_t cap) {
    char jdir[4096];
    snprintf(jdir, sizeof jdir, "%s/journal", out);
    DIR *d = opendir(jdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t a = strlen(e->d_name), b = strlen(suffix);
        if (a <= b || strcmp(e->d_name + a - b, suffix) != 0) continue;
        if (last) snprintf(last, cap, "%s/%s", jdir, e->d_name);
        n++;
    }
    if (d) closedir(d);
    return n;
}

/* The journal holds exactly documents [lo, hi), with their paths. */
static void check_docs(const char *out, uint64_t lo, uint64_t hi, uint64_t upto) {
    store_journal *j;
    REC_OK(store_journal_scan(out, &j));
    CHECK(store_journal_count(j) == hi - lo);
    for (uint64_t id = 0; id < upto; id++) {
        int want = id >= lo && id < hi;
        CHECK(store_journal_has(j, id) == want);
        if (!want || !store_journal_has(j, id)) continue;
        lay_doc d;
        rec_gen(id, &d);
        CHECK(strcmp(store_journal_path(j, id), d.path) == 0);
        lay_doc_free(&d);
    }
    store_journal_free(j);
}

/* Appends records [lo, hi) through a new writer; ends[k] is the log's size
 * after record lo + k (when given). The writer is freed: the log stays. */
static void write_log(const char *out, int rank, uint64_t lo, uint64_t hi, uint64_t *ends) {
    store_reclog *l;
    REC_OK(store_reclog_open(out, rank, &l));
    uint64_t size = 0;
    for (uint64_t id = lo; id < hi; id++) {
        lay_doc d;
        q_buf img = {0};
        rec_gen(id, &d);
        REC_OK(store_reclog_append(l, &d));
        REC_OK(lay_doc_pack(&d, &img));
        size += 16 + img.len;
        if (ends) ends[id - lo] = size;
        q_buf_free(&img);
        lay_doc_free(&d);
    }
    REC_OK(store_reclog_sync_due(l));
    store_reclog_free(l);
}

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 24);
    if (!f || !buf) {
        perror(path);
        exit(1);
    }
    *n = fread(buf, 1, 1 << 24, f);
    fclose(f);
    return buf;
}

static void write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void recover(const char *out, store_recovery *r) {
    REC_OK(store_journal_recover(out, r));
    CHECK(count_files(out, ".rlog", NULL, 0) == (int)r->busy_logs);
}

/* A writer killed with SIGKILL after its appends loses nothing. */
static void test_killed_writer_is_recovered(void) {
    char out[4096];
    fresh("killed", out, sizeof out);
    pid_t pid = fork();
    if (pid == 0) {
        store_reclog *l;
        if (store_reclog_open(out, 3, &l)) _exit(1);
        for (uint64_t id = 0; id < 20; id++) {
            lay_doc d;
            rec_gen(id, &d);
            if (store_reclog_append(l, &d)) _exit(1);
            lay_doc_free(&d);
        }
        raise(SIGKILL);
    }
    int ws;
    CHECK(waitpid(pid, &ws, 0) == pid && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    store_recovery r;
    recover(out, &r);
    CHECK(r.logs == 1 && r.records == 20 && r.dropped_bytes == 0 && r.damaged_logs == 0);
    CHECK(count_files(out, ".h5", NULL, 0) == 1 && count_files(out, ".tmp", NULL, 0) == 0);
    check_docs(out, 0, 20, 25);
    recover(out, &r); /* twice: nothing left to do */
    CHECK(r.logs == 0 && r.records == 0 && r.dropped_bytes == 0);
    check_docs(out, 0, 20, 25);
}

/* Recovers `img` cut to `cut` bytes; it holds records 0.. ending at ends[]. */
static void check_cut(const char *name, const char *img, size_t cut, const uint64_t *ends, int n) {
    char out[4096], path[8192];
    fresh("cut", out, sizeof out);
    snprintf(path, sizeof path, "%s/journal/%s", out, name);
    write_file(path, img, cut);
    int k = 0;
    while (k < n && ends[k] <= cut)
        k++;
    uint64_t good = k ? ends[k - 1] : 0;
    store_recovery r;
    recover(out, &r);
    CHECK(r.logs == 1 && r.records == (uint64_t)k && r.dropped_bytes == cut - good);
    CHECK(r.damaged_logs == (cut > good));
    CHECK(count_files(out, ".h5", NULL, 0) == (k > 0));
    check_docs(out, 0, (uint64_t)k, (uint64_t)n);
}

static void test_every_cut_gives_the_valid_prefix(void) {
    enum { N = 12 };
    char out[4096], path[8192], *name;
    uint64_t ends[N];
    fresh("template", out, sizeof out);
    write_log(out, 5, 0, N, ends);
    CHECK(count_files(out, ".rlog", path, sizeof path) == 1);
    size_t size;
    char *img = read_file(path, &size);
    CHECK(size == ends[N - 1]);
    name = strrchr(path, '/') + 1;
    check_cut(name, img, 0, ends, N);
    for (int k = 0; k < N; k++) {
        uint64_t b = k ? ends[k - 1] : 0, e = ends[k];
        uint64_t cuts[] = {b + 1, b + 7, b + 15, b + 16, b + 17, (b + e) / 2, e - 1, e};
        for (size_t c = 0; c < Q_ARRAY_LEN(cuts); c++)
            check_cut(name, img, cuts[c], ends, N);
    }
    free(img);
}

/* A damaged byte inside record j drops j and everything after it. */
static void test_damage_in_the_middle_drops_the_rest(void) {
    enum { N = 12 };
    char out[4096], path[8192], rpath[8192];
    uint64_t ends[N];
    fresh("template", out, sizeof out);
    write_log(out, 5, 0, N, ends);
    count_files(out, ".rlog", path, sizeof path);
    size_t size;
    char *img = read_file(path, &size);
    const char *name = strrchr(path, '/') + 1;
    int frames[] = {0, 3, 7, 11};
    int at[] = {0, 5, 9, 15, 16, 40, -1}; /* magic, CRC, length, its top byte, payload, last */
    for (size_t f = 0; f < Q_ARRAY_LEN(frames); f++)
        for (size_t a = 0; a < Q_ARRAY_LEN(at); a++) {
            int j = frames[f];
            uint64_t b = j ? ends[j - 1] : 0;
            uint64_t pos = at[a] < 0 ? ends[j] - 1 : b + (uint64_t)at[a];
            fresh("flip", out, sizeof out);
            snprintf(rpath, sizeof rpath, "%s/journal/%s", out, name);
            img[pos] ^= 0x5a;
            write_file(rpath, img, size);
            img[pos] ^= 0x5a;
            store_recovery r;
            recover(out, &r);
            CHECK(r.logs == 1 && r.records == (uint64_t)j && r.dropped_bytes == size - b);
            CHECK(r.damaged_logs == 1);
            check_docs(out, 0, (uint64_t)j, N);
        }
    free(img);
}

/* A frame whose CRC checks but whose record lay_doc_unpack refuses ends the
 * valid prefix too. */
static void test_a_bad_record_with_a_good_crc_ends_the_prefix(void) {
    char out[4096], path[8192];
    fresh("badrec", out, sizeof out);
    write_log(out, 1, 0, 4, NULL);
    count_files(out, ".rlog", path, sizeof path);
    size_t size;
    char *img = read_file(path, &size);
    unsigned char f[16 + 8] = {'Q', 'R', 'L', '1', 0, 0, 0, 0, 8, 0, 0, 0,
                               0,   0,   0,   0,   9, 0, 0, 0, 1, 2, 3, 4}; /* version 9 */
    uint32_t crc = q_crc32c(0, f + 8, sizeof f - 8);
    for (int i = 0; i < 4; i++)
        f[4 + i] = (unsigned char)(crc >> (8 * i));
    char *all = malloc(size + sizeof f + size);
    memcpy(all, img, size);
    memcpy(all + size, f, sizeof f);
    memcpy(all + size + sizeof f, img, size); /* valid frames after it stay dropped */
    write_file(path, all, 2 * size + sizeof f);
    store_recovery r;
    recover(out, &r);
    CHECK(r.logs == 1 && r.records == 4 && r.dropped_bytes == size + sizeof f);
    check_docs(out, 0, 4, 8);
    free(all);
    free(img);
}

static void test_empty_log_is_removed(void) {
    char out[4096], path[8192];
    fresh("empty", out, sizeof out);
    snprintf(path, sizeof path, "%s/journal/r00002-somehost-123-000000.rlog", out);
    write_file(path, "", 0);
    store_recovery r;
    recover(out, &r);
    CHECK(r.logs == 1 && r.records == 0 && r.dropped_bytes == 0 && r.damaged_logs == 0);
    CHECK(count_files(out, ".h5", NULL, 0) == 0);
}

/* Reset removes the log; the next append starts another; free keeps it. */
static void test_reset_and_free(void) {
    char out[4096], first[8192], second[8192];
    fresh("reset", out, sizeof out);
    store_reclog *l;
    REC_OK(store_reclog_open(out, 0, &l));
    store_reclog_free(l); /* no append: no file */
    CHECK(count_files(out, ".rlog", NULL, 0) == 0);
    REC_OK(store_reclog_open(out, 0, &l));
    REC_OK(store_reclog_reset(l)); /* nothing to reset */
    for (uint64_t id = 0; id < 5; id++) {
        lay_doc d;
        rec_gen(id, &d);
        REC_OK(store_reclog_append(l, &d));
        lay_doc_free(&d);
        if (id == 2) {
            CHECK(count_files(out, ".rlog", first, sizeof first) == 1);
            REC_OK(store_reclog_sync(l));
            REC_OK(store_reclog_reset(l));
            CHECK(count_files(out, ".rlog", NULL, 0) == 0);
        }
    }
    CHECK(count_files(out, ".rlog", second, sizeof second) == 1 && strcmp(first, second) != 0);
    REC_OK(store_reclog_sync_due(l));
    store_reclog_free(l);
    CHECK(count_files(out, ".rlog", NULL, 0) == 1);
    store_recovery r;
    recover(out, &r);
    CHECK(r.logs == 1 && r.records == 2);
    check_docs(out, 3, 5, 5);
}

/* A log whose writer is alive is not touched by a recovery. */
static void test_live_log_is_left_alone(void) {
    char out[4096];
    fresh("live", out, sizeof out);
    store_reclog *l;
    REC_OK(store_reclog_open(out, 4, &l));
    lay_doc d;
    rec_gen(7, &d);
    REC_OK(store_reclog_append(l, &d));
    lay_doc_free(&d);
    store_recovery r;
    recover(out, &r);
    CHECK(r.busy_logs == 1 && r.logs == 0 && r.records == 0);
    store_reclog_free(l);
    recover(out, &r);
    CHECK(r.busy_logs == 0 && r.logs == 1 && r.records == 1);
    check_docs(out, 7, 8, 10);
}

/* Runs `fn` in a child whose files may not grow past `fsize` bytes; the
 * child's wait status. */
static int in_small_disk(rlim_t fsize, int (*fn)(const char *), const char *out) {
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = {fsize, fsize};
        signal(SIGXFSZ, SIG_IGN); /* writes past the limit fail with EFBIG instead */
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(99);
        _exit(fn(out));
    }
    int ws = -1;
    return waitpid(pid, &ws, 0) == pid ? ws : -1;
}

static int recover_fails_naming_the_log(const char *out) {
    store_recovery r;
    q_status st = store_journal_recover(out, &r);
    return st != Q_OK && strstr(q_errmsg(), ".rlog") != NULL ? 0 : 1;
}

/* A shard that cannot be written is an error naming the log, which stays. */
static void test_full_disk_keeps_the_log(void) {
    char out[4096];
    fresh("full", out, sizeof out);
    write_log(out, 1, 0, 5, NULL);
    int ws = in_small_disk(4096, recover_fails_naming_the_log, out);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    CHECK(count_files(out, ".rlog", NULL, 0) == 1 && count_files(out, ".h5", NULL, 0) == 0);
    CHECK(count_files(out, ".tmp", NULL, 0) == 0);
    store_recovery r;
    recover(out, &r);
    CHECK(r.records == 5);
    check_docs(out, 0, 5, 5);
}

/* Appends records 0..59 to a log that may not grow past the file limit, so
 * that some appends fail part-way (the large ones), then dies like a killed
 * process. */
static int append_until_full(const char *out) {
    store_reclog *l;
    if (store_reclog_open(out, 2, &l)) return 1;
    for (uint64_t id = 0; id < 60; id++) {
        lay_doc d;
        rec_gen(id, &d);
        q_status st = store_reclog_append(l, &d);
        lay_doc_free(&d);
        if (st != Q_OK && st != Q_ERR_IO) return 1;
    }
    raise(SIGKILL);
    return 1;
}

/* A failed append leaves no torn frame behind: the appends after it are
 * recovered, and nothing is dropped. */
static void test_failed_append_cuts_back(void) {
    char out[4096];
    fresh("append_full", out, sizeof out);
    int ws = in_small_disk(150000, append_until_full, out);
    CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    store_recovery r;
    recover(out, &r);
    /* 0..6 fit (2 is large), 7 does not, small ones after it do */
    CHECK(r.logs == 1 && r.records > 7 && r.records < 60);
    CHECK(r.dropped_bytes == 0 && r.damaged_logs == 0);
    store_journal *j;
    REC_OK(store_journal_scan(out, &j));
    CHECK(store_journal_count(j) == r.records && store_journal_has(j, 8) &&
          !store_journal_has(j, 7));
    store_journal_free(j);
}

/* The frames' checksum is the standard CRC-32C, and it chains. */
static void test_crc32c_known_answer(void) {
    const char *s = "123456789";
    CHECK(q_crc32c(0, s, 9) == 0xE3069283u);
    CHECK(q_crc32c(q_crc32c(0, s, 4), s + 4, 5) == 0xE3069283u);
    CHECK(q_crc32c(0, NULL, 0) == 0);
}

static void test_force_clear_removes_logs(void) {
    char out[4096];
    fresh("clear", out, sizeof out);
    write_log(out, 1, 0, 3, NULL);
    write_log(out, 2, 3, 6, NULL);
    CHECK(count_files(out, ".rlog", NULL, 0) == 2);
    REC_OK(store_journal_clear(out));
    CHECK(count_files(out, ".rlog", NULL, 0) == 0);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: reclog_test DIR\n");
        return 2;
    }
    snprintf(base, sizeof base, "%s", argv[1]);
    q_log_init(0, Q_LOG_ERROR);
    test_crc32c_known_answer();
    test_killed_writer_is_recovered();
    test_every_cut_gives_the_valid_prefix();
    test_damage_in_the_middle_drops_the_rest();
    test_a_bad_record_with_a_good_crc_ends_the_prefix();
    test_empty_log_is_removed();
    test_reset_and_free();
    test_live_log_is_left_alone();
    test_full_disk_keeps_the_log();
    test_failed_append_cuts_back();
    test_force_clear_removes_logs();
    if (rec_failures) fprintf(stderr, "%d check(s) failed\n", rec_failures);
    return rec_failures ? 1 : 0;
}

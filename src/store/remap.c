/* remap.c: rewrites the journal into a new numbering of the documents, when
 * a rerun's inputs differ from the input table (files added, removed,
 * changed, reordered). Rewriting once is what keeps everything downstream
 * simple: the resume index, the consolidation and its rule for several
 * records of one document all keep reading doc ids that are positions in the
 * current input list. The rewrite goes through the ordinary shard writer
 * (each record rebuilt as a lay_doc), into a folder of its own that is
 * switched in by renames, so a crash never leaves a half-rewritten journal. */
#define _POSIX_C_SOURCE 200809L
#include "store_private.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define REMAP_DIR "journal-remap"

/* ---- removing what a rewrite leaves ---- */

/* Removes `path`: a file, or a folder with its files and (depth > 0) its
 * folders. Missing is fine. */
static q_status remap_rm(const char *path, int depth) {
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? Q_OK
                               : Q_FAIL(Q_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode) && depth >= 0) {
        DIR *d = opendir(path);
        if (!d && errno == ENOENT) return Q_OK; /* another array task got there first */
        if (!d) return Q_FAIL(Q_ERR_IO, "cannot list %s: %s", path, strerror(errno));
        q_status st = Q_OK;
        struct dirent *e;
        char sub[8192];
        while (!st && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            st = remap_rm(sub, depth - 1);
        }
        closedir(d);
        if (!st && rmdir(path) != 0 && errno != ENOENT)
            st = Q_FAIL(Q_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
        return st;
    }
    if (unlink(path) != 0 && errno != ENOENT)
        return Q_FAIL(Q_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    return Q_OK;
}

q_status store_remap_clear(const char *outdir) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/" REMAP_DIR, outdir);
    return remap_rm(dir, 2); /* journal-remap/{journal,old}/files */
}

static int remap_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

q_status store_remap_recover(const char *outdir, int *what) {
    char stage[4200], live[4200], fresh[4300];
    *what = 0;
    snprintf(stage, sizeof stage, "%s/" REMAP_DIR, outdir);
    snprintf(live, sizeof live, "%s/journal", outdir);
    snprintf(fresh, sizeof fresh, "%s/journal", stage);
    if (!remap_exists(stage)) return Q_OK;
    *what = 1;
    if (!remap_exists(live)) {
        /* killed between the two renames: the new journal is complete (an
         * array task starting at the same moment may have moved it in) */
        if (rename(fresh, live) != 0 && !remap_exists(live))
            return Q_FAIL(Q_ERR_IO,
                          "%s/journal is missing and %s holds no complete rewrite of it (%s): "
                          "rerun with --force to start over",
                          outdir, stage, strerror(errno));
        *what = 2;
        q_status st = store_fsync_path(outdir, 1);
        if (st) return st;
    }
    return store_remap_clear(outdir);
}

/* ---- reading a shard's records back ---- */

/* One closed shard held in memory: its head and its four tables. */
typedef struct {
    store_shard_head h;
    store_doc_layout dl;
    q_buf docs, pages, lines, text;
} remap_shard;

static void remap_shard_free(remap_shard *s) {
    store_shard_head_free(&s->h);
    q_buf_free(&s->docs), q_buf_free(&s->pages), q_buf_free(&s->lines), q_buf_free(&s->text);
}

/* The size of string field `name` in compound `ft`; 1 when absent (fields
 * added later) or unusable. */
static size_t remap_str_size(hid_t ft, const char *name) {
    int i = H5Tget_member_index(ft, name);
    if (i < 0) return 1;
    hid_t mt = H5Tget_member_type(ft, (unsigned)i);
    size_t n = mt < 0 ? 1 : H5Tget_size(mt);
    store_h5_close(&mt);
    return n && n <= (1u << 20) ? n : 1;
}

/* Reads all rows of table `name` as `type` (rows of `rsz` bytes, zeroed
 * first: fields an older shard lacks read as 0) into b. */
static q_status remap_read_table(hid_t f, const char *name, hid_t type, size_t rsz, q_buf *b) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    uint64_t n = d < 0 ? UINT64_MAX : store_h5_nrows(d);
    q_status st = Q_OK;
    if (n == UINT64_MAX)
        st = STORE_H5_FAIL("cannot open /%s", name);
    else if (n > ((uint64_t)1 << 40) / rsz)
        st = Q_FAIL(Q_ERR_FORMAT, "/%s: %llu rows", name, (unsigned long long)n);
    else if (!(st = q_buf_reserve(b, (size_t)(n * rsz)))) {
        memset(b->data, 0, (size_t)(n * rsz));
        st = store_h5_read_rows(d, type, 0, n, b->data);
        if (!st) b->len = (size_t)(n * rsz);
    }
    store_h5_close(&d);
    return st;
}

static q_status remap_shard_read(const char *path, remap_shard *s) {
    memset(s, 0, sizeof *s);
    hid_t f = -1, d = -1, ft = -1, td = -1, tp = -1, tl = -1;
    q_status st = store_shard_read_head(path, &s->h);
    if (st) return st;
    if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0 ||
        (d = H5Dopen2(f, "documents", H5P_DEFAULT)) < 0 || (ft = H5Dget_type(d)) < 0) {
        st = STORE_H5_FAIL("cannot open /documents");
        goto fail;
    }
    store_doc_layout_init(&s->dl, remap_str_size(ft, "path"), remap_str_size(ft, "error"),
                          remap_str_size(ft, "warning"));
    if ((td = store_type_doc(&s->dl)) < 0 || (tp = store_type_page()) < 0 ||
        (tl = store_type_line()) < 0) {
        st = q_errcode();
        goto fail;
    }
    if ((st = remap_read_table(f, "documents", td, s->dl.size, &s->docs)) ||
        (st = remap_read_table(f, "pages", tp, STORE_PAGE_SIZE, &s->pages)) ||
        (st = remap_read_table(f, "lines", tl, STORE_LINE_SIZE, &s->lines)) ||
        (st = remap_read_table(f, "text", H5T_NATIVE_UINT8, 1, &s->text)))
        goto fail;
fail:
    store_h5_close(&tl), store_h5_close(&tp), store_h5_close(&td);
    store_h5_close(&ft), store_h5_close(&d), store_h5_close(&f);
    if (st) q_fail_context("corrupt journal shard %s (delete it to redo its documents)", path);
    return st;
}

static q_status remap_str(char **dst, const char *src, size_t cap) {
    size_t n = strnlen(src, cap);
    char *p = malloc(n + 1);
    if (!p) return Q_FAIL(Q_ERR_NOMEM, "out of memory rebuilding a record");
    memcpy(p, src, n);
    p[n] = 0;
    free(*dst);
    *dst = p;
    return Q_OK;
}

/* The scalars of /documents row `i` into d (doc and path are the caller's). */
static q_status remap_doc_fields(const remap_shard *s, size_t i, lay_doc *d) {
    const store_doc_layout *l = &s->dl;
    const char *r = s->docs.data + i * l->size;
    memcpy(&d->bytes, r + l->bytes, 8);
    memcpy(&d->pages, r + l->pages, 4);
    memcpy(&d->status, r + l->status, 1);
    memcpy(&d->text_pages, r + l->text_pages, 4);
    memcpy(&d->ocr_pages, r + l->ocr_pages, 4);
    memcpy(&d->seconds, r + l->seconds, 4);
    memcpy(&d->rank, r + l->rank, 4);
    memcpy(&d->retry, r + l->retryable, 1);
    memcpy(&d->warnings, r + l->warnings, 4);
    q_status st = remap_str(&d->error, r + l->error, l->error_size);
    if (!st) st = remap_str(&d->warning, r + l->warning, l->warning_size);
    return st;
}

/* Record `i` of the shard as a lay_doc numbered `doc` at `path`: its pages'
 * first_line and its lines' text_start back from shard-global to the
 * record's own. */
static q_status remap_record(const remap_shard *s, size_t i, uint64_t doc, const char *path,
                             lay_doc *d) {
    const store_index_row *x = &s->h.rows[i];
    q_status st = lay_doc_init(d, doc, path);
    if (!st) st = remap_doc_fields(s, i, d);
    if (!st) st = q_vec_resize(&d->page_v, (size_t)x->npages);
    if (!st) st = q_vec_resize(&d->line_v, (size_t)x->nlines);
    if (!st && x->ntext) st = q_buf_append(&d->text, s->text.data + x->text_off, x->ntext);
    for (uint64_t k = 0; !st && k < x->npages; k++) {
        const char *r = s->pages.data + (x->page_row + k) * STORE_PAGE_SIZE;
        lay_page *p = lay_doc_page(d, (size_t)k);
        uint64_t first;
        memcpy(&p->page, r + STORE_PAGE_PAGE, 4);
        memcpy(&p->kind, r + STORE_PAGE_KIND, 1);
        memcpy(&p->width, r + STORE_PAGE_WIDTH, 4);
        memcpy(&p->height, r + STORE_PAGE_HEIGHT, 4);
        memcpy(&p->rotation, r + STORE_PAGE_ROTATION, 2);
        memcpy(&p->lines, r + STORE_PAGE_LINES, 4);
        memcpy(&first, r + STORE_PAGE_FIRST_LINE, 8);
        memcpy(&p->seconds, r + STORE_PAGE_SECONDS, 4);
        memcpy(&p->skew_deg, r + STORE_PAGE_SKEW_DEG, 4);
        if (first < x->line_row)
            st = Q_FAIL(Q_ERR_FORMAT, "document %llu page %u: first_line before its lines",
                        (unsigned long long)x->doc, p->page);
        p->first_line = first - x->line_row;
    }
    for (uint64_t k = 0; !st && k < x->nlines; k++) {
        const char *r = s->lines.data + (x->line_row + k) * STORE_LINE_SIZE;
        lay_line *ln = lay_doc_line(d, (size_t)k);
        uint64_t start;
        memcpy(&ln->page, r + STORE_LINE_PAGE, 4);
        memcpy(&ln->block, r + STORE_LINE_BLOCK, 4);
        memcpy(ln->bbox, r + STORE_LINE_BBOX, 16);
        memcpy(&ln->conf, r + STORE_LINE_CONF, 4);
        memcpy(&start, r + STORE_LINE_TEXT_START, 8);
        memcpy(&ln->text_len, r + STORE_LINE_TEXT_LEN, 4);
        if (start < x->text_off)
            st = Q_FAIL(Q_ERR_FORMAT, "document %llu line %llu: text before its own",
                        (unsigned long long)x->doc, (unsigned long long)k);
        ln->text_start = start - x->text_off;
    }
    return st;
}

/* ---- the rewrite ---- */

/* Test hook: QUIRE_TEST_REMAP_KILL=<step> kills this process at that step
 * of the switch (built, moved, switched), the way a node failure would, so
 * that tests can check store_remap_recover at each one. */
static void remap_test_kill(const char *step) {
    const char *k = getenv("QUIRE_TEST_REMAP_KILL");
    if (k && !strcmp(k, step)) raise(SIGKILL);
}

/* A live process's record log would be carried into the old journal and
 * removed with it. */
static q_status remap_check_idle(const char *jdir) {
    DIR *d = opendir(jdir);
    if (!d) return Q_FAIL(Q_ERR_IO, "cannot list %s: %s", jdir, strerror(errno));
    q_status st = Q_OK;
    struct dirent *e;
    while (!st && (e = readdir(d)) != NULL)
        if (store_has_suffix(e->d_name, STORE_RECLOG_SUFFIX))
            st = Q_FAIL(Q_ERR_USAGE,
                        "another quire process is writing to %s (record log %s): the journal "
                        "cannot be rewritten for the new inputs until it ends",
                        jdir, e->d_name);
    closedir(d);
    return st;
}

/* Carries the counted records of shard `sh` (position `seq`) into writer w. */
static q_status remap_copy_shard(const remap_shard *sh, size_t seq, const store_journal *j,
                                 const uint64_t *map, size_t nmap, const store_input *next,
                                 size_t n, store_shard *w, store_remap_stats *out) {
    q_status st = Q_OK;
    for (size_t i = 0; i < sh->h.n && !st; i++) {
        uint64_t old = sh->h.rows[i].doc;
        size_t win = 0;
        if (!store_journal_winner(j, old, &win) || win != seq) continue; /* a loser */
        uint64_t id = old < nmap ? map[old] : STORE_DOC_DROPPED;
        if (id == STORE_DOC_DROPPED || id >= n) {
            out->dropped++;
            continue;
        }
        lay_doc d;
        st = remap_record(sh, i, id, next[id].path, &d);
        if (!st) st = store_shard_append(w, &d);
        lay_doc_free(&d);
        if (!st) out->kept++;
    }
    return st;
}

/* Writes the new journal into stage/journal. */
static q_status remap_build(const char *outdir, const store_journal *j, const char *stage,
                            const uint64_t *map, size_t nmap, const store_input *next, size_t n,
                            store_remap_stats *out) {
    char jdir[4200], path[8400];
    store_names names = {0};
    store_shard *w = NULL;
    remap_shard sh = {0};
    snprintf(jdir, sizeof jdir, "%s/journal", outdir);
    q_status st = store_list_shards(jdir, &names);
    if (!st && names.n != store_journal_nshards(j))
        st = Q_FAIL(Q_ERR_USAGE, "%s changed while it was read: is another quire running?", jdir);
    if (!st) st = store_shard_open(stage, 0, &w);
    for (size_t s = 0; s < names.n && !st; s++) {
        snprintf(path, sizeof path, "%s/%s", jdir, names.name[s]);
        st = remap_shard_read(path, &sh);
        if (!st) st = remap_copy_shard(&sh, s, j, map, nmap, next, n, w, out);
        remap_shard_free(&sh);
    }
    q_status cs = w ? store_shard_close(w) : Q_OK;
    if (!st) st = cs;
    store_shard_free(w);
    store_names_free(&names);
    if (!st) st = store_inputs_write(stage, next, n);
    return st;
}

q_status store_journal_remap(const char *outdir, const store_journal *j, const uint64_t *map,
                             size_t nmap, const store_input *next, size_t n,
                             store_remap_stats *out) {
    char stage[4200], live[4200], fresh[4300], old[4300];
    memset(out, 0, sizeof *out);
    store_h5_quiet();
    snprintf(stage, sizeof stage, "%s/" REMAP_DIR, outdir);
    snprintf(live, sizeof live, "%s/journal", outdir);
    snprintf(fresh, sizeof fresh, "%s/journal", stage);
    snprintf(old, sizeof old, "%s/old", stage);
    q_status st = remap_check_idle(live);
    if (!st) st = store_remap_clear(outdir);
    if (!st) st = q_mkdirs(fresh);
    if (!st) st = remap_build(outdir, j, stage, map, nmap, next, n, out);
    if (!st) st = store_fsync_path(stage, 1);
    if (st) {
        q_status keep = st;
        store_remap_clear(outdir); /* the old journal is untouched: drop the half-built one */
        return keep;
    }
    remap_test_kill("built");
    if (rename(live, old) != 0)
        return Q_FAIL(Q_ERR_IO, "cannot rename %s to %s: %s", live, old, strerror(errno));
    remap_test_kill("moved");
    if (rename(fresh, live) != 0)
        return Q_FAIL(Q_ERR_IO, "cannot rename %s to %s: %s (the next run finishes it)", fresh,
                      live, strerror(errno));
    if ((st = store_fsync_path(outdir, 1))) return st;
    remap_test_kill("switched");
    return store_remap_clear(outdir);
}

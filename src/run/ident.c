/* Documents by identity: brings the journal of --out to this run's inputs
 * before any document is handed out. A document is a file (absolute path,
 * size, modification time), not a position: the journal's input table
 * (store_inputs_*) says which file each of its ids was; when the inputs
 * differ, the journal is rewritten once into the new numbering
 * (store_journal_remap), so that ids stay positions in the current list,
 * dense and deterministic, and resume and consolidation need not know. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "run/job.h"
#include "store/store.h"

typedef struct {
    uint64_t added, removed, changed, kept;
} ident_counts;

/* The table of the current inputs; strings borrowed from job->inputs. */
static store_input *ident_current(const run_input_list *l) {
    store_input *v = calloc(l->n ? l->n : 1, sizeof *v);
    for (size_t i = 0; v && i < l->n; i++)
        v[i] = (store_input){.path = l->v[i].path,
                             .abspath = l->v[i].abspath,
                             .bytes = l->v[i].bytes,
                             .mtime_ns = l->v[i].mtime_ns};
    return v;
}

static int ident_same_entry(const store_input *a, const store_input *b) {
    return a->bytes == b->bytes && a->mtime_ns == b->mtime_ns && !strcmp(a->path, b->path) &&
           !strcmp(a->abspath, b->abspath);
}

static const store_input *ident_sort_base;
static int ident_cmp_abs(const void *a, const void *b) {
    return strcmp(ident_sort_base[*(const size_t *)a].abspath,
                  ident_sort_base[*(const size_t *)b].abspath);
}
static int ident_cmp_path(const void *a, const void *b) {
    return strcmp(ident_sort_base[*(const size_t *)a].path,
                  ident_sort_base[*(const size_t *)b].path);
}

/* Position in v of the entry whose key (abspath or path) is `key`, through
 * ix (v's indices sorted by that key); SIZE_MAX when none. */
static size_t ident_find(const store_input *v, const size_t *ix, size_t n, const char *key,
                         int by_abs) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const store_input *e = &v[ix[mid]];
        int c = strcmp(by_abs ? e->abspath : e->path, key);
        if (c == 0) return ix[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

static size_t *ident_sorted(const store_input *v, size_t n, int by_abs) {
    size_t *ix = malloc((n ? n : 1) * sizeof *ix);
    for (size_t i = 0; ix && i < n; i++)
        ix[i] = i;
    ident_sort_base = v;
    if (ix) qsort(ix, n, sizeof *ix, by_abs ? ident_cmp_abs : ident_cmp_path);
    return ix;
}

/* With a table: old id j -> new id i when i is the same file (abspath)
 * with the same size and time; a file whose size or time changed is read
 * again (its record is dropped). map has old->n entries. */
static q_status ident_match_table(const store_inputs *old, const store_input *cur, size_t n,
                                  uint64_t *map, ident_counts *c) {
    size_t *ix = ident_sorted(old->v, old->n, 1);
    char *seen = calloc(old->n + 1, 1);
    if (!ix || !seen) {
        free(ix), free(seen);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory comparing %zu inputs", n);
    }
    for (size_t j = 0; j < old->n; j++)
        map[j] = STORE_DOC_DROPPED;
    for (size_t i = 0; i < n; i++) {
        size_t j = ident_find(old->v, ix, old->n, cur[i].abspath, 1);
        if (j == SIZE_MAX || seen[j]) {
            c->added++;
            continue;
        }
        seen[j] = 1;
        if (old->v[j].bytes == cur[i].bytes && old->v[j].mtime_ns == cur[i].mtime_ns)
            map[j] = i;
        else
            c->changed++;
    }
    for (size_t j = 0; j < old->n; j++)
        c->removed += !seen[j];
    free(ix), free(seen);
    return Q_OK;
}

/* Without a table (a journal written before it existed): the journal's
 * records say path as given and size, nothing more; a record matches the
 * input with the same path and size. map has max doc + 1 entries. */
static q_status ident_match_records(const store_journal *j, const store_input *cur, size_t n,
                                    uint64_t *map, size_t nmap, ident_counts *c) {
    size_t *ix = ident_sorted(cur, n, 0);
    char *taken = calloc(n + 1, 1);
    if (!ix || !taken) {
        free(ix), free(taken);
        return Q_FAIL(Q_ERR_NOMEM, "out of memory comparing %zu inputs", n);
    }
    for (size_t d = 0; d < nmap; d++)
        map[d] = STORE_DOC_DROPPED;
    for (size_t k = 0; k < store_journal_count(j); k++) {
        uint64_t d = store_journal_nth(j, k);
        size_t i = ident_find(cur, ix, n, store_journal_path(j, d), 0);
        if (i == SIZE_MAX || taken[i])
            c->removed++;
        else if (cur[i].bytes != store_journal_bytes(j, d))
            c->changed++, taken[i] = 1;
        else
            map[d] = i, taken[i] = 1;
    }
    for (size_t i = 0; i < n; i++)
        c->added += !taken[i];
    free(ix), free(taken);
    return Q_OK;
}

/* Whether every record of the journal keeps its id and path: then only the
 * table needs writing (inputs that grew at the end, or removed/changed ones
 * that had no record yet). */
static int ident_identity(const store_journal *j, const uint64_t *map, size_t nmap,
                          const store_inputs *old, const store_input *cur) {
    for (size_t k = 0; k < store_journal_count(j); k++) {
        uint64_t d = store_journal_nth(j, k);
        if (d >= nmap || map[d] != d) return 0;
        if (old && (d >= old->n || strcmp(old->v[d].path, cur[d].path) != 0)) return 0;
    }
    return 1;
}

static void ident_log(const ident_counts *c) {
    q_log(Q_LOG_INFO,
          "inputs changed since the last run: %llu new, %llu removed (dropped from results.h5), "
          "%llu changed (read again); %llu unchanged kept",
          (unsigned long long)c->added, (unsigned long long)c->removed,
          (unsigned long long)c->changed, (unsigned long long)c->kept);
}

/* The journal's records carried over to the new ids, then the table. */
static int ident_rewrite(run_job *job, store_journal **journal, const uint64_t *map, size_t nmap,
                         const store_input *cur, ident_counts *c) {
    const run_options *o = job->opt;
    if (o->slices > 1) {
        q_log(Q_LOG_ERROR,
              "the inputs differ from those of the journal in %s/journal (%llu new, %llu "
              "removed, %llu changed): with --slice, array tasks share the journal and none "
              "may rewrite it; run once without --slice to bring the journal to the new inputs, "
              "or use another --out",
              o->out_dir, (unsigned long long)c->added, (unsigned long long)c->removed,
              (unsigned long long)c->changed);
        return 1;
    }
    /* one line before: on a journal of millions of documents this takes minutes */
    q_log(Q_LOG_INFO,
          "the inputs changed: rewriting the %zu documents of %s/journal into the new "
          "list's ids",
          store_journal_count(*journal), o->out_dir);
    store_remap_stats rs;
    q_status st = store_journal_remap(o->out_dir, *journal, map, nmap, cur, job->inputs.n, &rs);
    if (st) {
        q_log(Q_LOG_ERROR,
              "rewriting the journal for the changed inputs: %s (the next run finds %s/journal "
              "as it was, or finishes the switch; --force starts over)",
              q_errmsg(), o->out_dir);
        return 1;
    }
    c->kept = rs.kept;
    store_journal_free(*journal);
    *journal = NULL;
    if ((st = store_journal_scan(o->out_dir, journal)) != Q_OK) {
        q_log(Q_LOG_ERROR, "%s (after rewriting the journal)", q_errmsg());
        return 1;
    }
    ident_log(c);
    return 0;
}

/* Only the table changes; the records keep their ids. */
static int ident_keep(run_job *job, const store_journal *journal, int found, const store_input *cur,
                      ident_counts *c) {
    q_status st = store_inputs_write(job->opt->out_dir, cur, job->inputs.n);
    if (st) {
        q_log(Q_LOG_ERROR, "%s (choose a writable --out folder)", q_errmsg());
        return 1;
    }
    c->kept = store_journal_count(journal);
    if (found && (c->added || c->removed || c->changed)) ident_log(c);
    if (!found && c->kept)
        q_log(Q_LOG_INFO,
              "the journal in %s/journal predates its input table: %llu documents matched "
              "by path and size, the table is written now",
              job->opt->out_dir, (unsigned long long)c->kept);
    return 0;
}

int run_ident_sync(run_job *job, store_journal **journal) {
    const char *out = job->opt->out_dir;
    store_inputs old;
    int found = 0, rc = 1;
    q_status st = store_inputs_read(out, &old, &found);
    if (st) {
        q_log(Q_LOG_ERROR, "%s (remove it: the journal is then matched by path and size)",
              q_errmsg());
        return 1;
    }
    store_input *cur = ident_current(&job->inputs);
    size_t n = job->inputs.n, nmap = found ? old.n : 0;
    for (size_t k = 0; !found && k < store_journal_count(*journal); k++)
        nmap = (size_t)store_journal_nth(*journal, k) + 1; /* ascending: ends at the largest */
    uint64_t *map = malloc((nmap ? nmap : 1) * sizeof *map);
    ident_counts c = {0};
    if (!cur || !map) {
        q_log(Q_LOG_ERROR, "out of memory comparing %zu inputs with the journal", n);
        goto done;
    }
    if (found && old.n == n) {
        size_t i = 0;
        while (i < n && ident_same_entry(&old.v[i], &cur[i]))
            i++;
        if (i == n) { /* the common resume: nothing to do */
            rc = 0;
            goto done;
        }
    }
    st = found ? ident_match_table(&old, cur, n, map, &c)
               : ident_match_records(*journal, cur, n, map, nmap, &c);
    if (st) {
        q_log(Q_LOG_ERROR, "%s", q_errmsg());
        goto done;
    }
    if (ident_identity(*journal, map, nmap, found ? &old : NULL, cur))
        rc = ident_keep(job, *journal, found, cur, &c);
    else
        rc = ident_rewrite(job, journal, map, nmap, cur, &c);
done:
    free(map);
    free(cur);
    store_inputs_free(&old);
    return rc;
}

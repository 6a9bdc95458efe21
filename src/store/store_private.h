/* store_private.h: what the files of src/store share and nobody else sees: the
 * packed row layouts of schema 1 (the same bytes in memory and in the file, so
 * HDF5 never converts), the HDF5 and MPI error helpers, shard naming and the
 * shard reader used by both the resume index and the consolidation. */
#pragma once

#include <hdf5.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store.h"

/* ---- packed rows ----------------------------------------------------------
 * Every table row is a packed little-endian struct (x86/arm64 hosts: native is
 * little-endian). Offsets are in bytes; /documents rows have two fixed-length
 * string fields whose sizes (P for path, E for error) are chosen per file. */
enum {
    STORE_PAGE_DOC = 0,
    STORE_PAGE_PAGE = 8,
    STORE_PAGE_KIND = 12,
    STORE_PAGE_WIDTH = 13,
    STORE_PAGE_HEIGHT = 17,
    STORE_PAGE_ROTATION = 21,
    STORE_PAGE_LINES = 23,
    STORE_PAGE_FIRST_LINE = 27,
    STORE_PAGE_SECONDS = 35,
    STORE_PAGE_SKEW_DEG = 39, /* added later: an older shard has no such field */
    STORE_PAGE_SIZE = 43,
};
enum {
    STORE_LINE_DOC = 0,
    STORE_LINE_PAGE = 8,
    STORE_LINE_BLOCK = 12,
    STORE_LINE_BBOX = 16,
    STORE_LINE_CONF = 32,
    STORE_LINE_TEXT_START = 36,
    STORE_LINE_TEXT_LEN = 44,
    STORE_LINE_SIZE = 48,
};
/* /documents: doc@0, path@8 [P], then the rest; see store_doc_layout. Fields
 * added later (retryable, warnings, warning) come after rank, so the offsets
 * of the older ones stay where they were. */
typedef struct {
    size_t path_size, error_size, warning_size; /* P, E, W (>= 1) */
    size_t doc, path, bytes, pages, status, error, text_pages, ocr_pages, seconds, rank;
    size_t retryable, warnings, warning;
    size_t size; /* row size */
} store_doc_layout;

void store_doc_layout_init(store_doc_layout *l, size_t path_size, size_t error_size,
                           size_t warning_size);

/* Unaligned little helpers for packed rows. */
static inline void store_put(void *row, size_t off, const void *v, size_t n) {
    memcpy((char *)row + off, v, n);
}
static inline uint64_t store_get_u64(const void *row, size_t off) {
    uint64_t v;
    memcpy(&v, (const char *)row + off, sizeof v);
    return v;
}
static inline void store_put_u64(void *row, size_t off, uint64_t v) {
    memcpy((char *)row + off, &v, sizeof v);
}

/* Packs one record's rows. `line_base` is the row of the document's first
 * line and `text_base` the offset of its first text byte in the target table. */
void store_pack_doc(const store_doc_layout *l, void *row, const lay_doc *d);
void store_pack_page(void *row, uint64_t doc, const lay_page *p, uint64_t line_base);
void store_pack_line(void *row, uint64_t doc, const lay_line *ln, uint64_t text_start);

/* HDF5 types of the schema; caller closes each with H5Tclose. <0 on error
 * (with the error recorded). */
hid_t store_type_doc(const store_doc_layout *l);
hid_t store_type_page(void);
hid_t store_type_line(void);
hid_t store_type_index(void);
/* An enum over u8 with values 0..n-1 named `names`; a fixed-length (`size`
 * bytes), null-padded UTF-8 string. */
hid_t store_type_enum(const char *const *names, int n);
hid_t store_type_string(size_t size);

/* ---- shard files ----------------------------------------------------------
 * A shard holds complete records sorted by doc id (unique inside one shard):
 * /documents, /pages, /lines, /text as in results.h5 except that first_line and
 * text_start are shard-global and string sizes are the shard's, plus /index:
 * one row per document saying where its rows are, and the root attribute
 * created_ns (when the shard was closed). Fields are read by name: a field
 * that an older shard lacks (warning_len, created_ns; /documents' retryable,
 * warnings, warning) reads as 0 or "", and an older quire reading a newer
 * shard skips what it does not know: additions keep STORE_SHARD_FORMAT. */
typedef struct {
    uint64_t doc;
    uint64_t page_row, npages; /* rows in /pages */
    uint64_t line_row, nlines; /* rows in /lines */
    uint64_t text_off, ntext;  /* bytes in /text */
    uint64_t path_len, error_len;
    uint64_t warning_len;
} store_index_row;

#define STORE_SHARD_SUFFIX ".h5"
#define STORE_TMP_SUFFIX   ".h5.tmp"
#define STORE_SHARD_FORMAT 1 /* the shard file's own format version */
/* Write-ahead record logs (reclog.c), r<rank>-<host>-<pid>-<seq>.rlog: never
 * a shard, never listed by store_list_shards. */
#define STORE_RECLOG_SUFFIX ".rlog"

/* This host's short name, reduced to characters safe in a file name (shard
 * and record log names). */
void store_host_name(char *out, size_t cap);

static inline int store_has_suffix(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n > m && strcmp(s + n - m, suf) == 0;
}

/* Sorted (strcmp) list of closed shard file names (not paths) in `jdir`; a
 * missing directory is an empty list. Caller frees with store_names_free. */
typedef struct {
    char **name;
    size_t n;
} store_names;
q_status store_list_shards(const char *jdir, store_names *out);
void store_names_free(store_names *n);

/* What a closed shard says of its records besides their rows: /index
 * (checked for order and bounds), each record's status and retryable flag
 * (from /documents) and when the shard was closed. Errors name the file. */
typedef struct {
    store_index_row *rows;   /* n rows */
    uint8_t *status, *retry; /* n each: lay_doc_status; 1 = a rerun tries it again */
    size_t n;
    uint64_t created; /* ns since the epoch at the shard's close; 0 in older shards */
} store_shard_head;
q_status store_shard_read_head(const char *path, store_shard_head *h);
void store_shard_head_free(store_shard_head *h); /* frees the arrays, leaves *h zeroed */

/* Which of two records of one document wins, the rule every reader applies
 * (the resume index, the consolidation plan, a shard's own de-duplication):
 * a record that did not fail (status ok or skipped) beats a failed one (error
 * or timeout), so a retry that worked replaces the failure and one that failed
 * again never hides an earlier success; otherwise the record of the shard
 * closed last wins (created_ns, then the later shard name; `seq` orders
 * records by shard name, or by append order inside one shard). Negative when
 * `a` wins, positive when `b` wins. */
typedef struct {
    uint8_t status;
    uint64_t created, seq;
} store_record_key;
int store_record_cmp(const store_record_key *a, const store_record_key *b);

/* ---- the journal seen by remap.c (journal.c) ---- */
/* The position, in the sorted list of closed shards the scan read, of the
 * shard holding document `doc`'s counted record; 0 when `doc` is not done. */
int store_journal_winner(const store_journal *j, uint64_t doc, size_t *shard);
size_t store_journal_nshards(const store_journal *j); /* closed shards the scan read */
/* Removes a leftover OUT/journal-remap (--force). */
q_status store_remap_clear(const char *outdir);

/* ---- consolidation plan (plan.c) and batches (batch.c) ---------------------
 * Every rank holds the same plan: all documents of the journal in doc order,
 * each with the shard and rows it comes from. */
typedef struct {
    store_index_row r;
    uint64_t row;     /* row in the shard's /documents */
    uint64_t shard;   /* position in the sorted shard list */
    uint64_t created; /* the shard's close time, for store_record_cmp */
    uint8_t status;   /* the record's */
} store_plan_entry;

typedef struct {
    MPI_Comm comm;
    int rank, size;
    char jdir[4096];
    store_names names;
    store_plan_entry *e; /* every document of the journal, sorted by doc, unique */
    size_t n;
    store_doc_layout dl;
    hid_t tdoc, tpage, tline;
    uint64_t batch; /* bytes per batch */
} store_plan;

/* Output offsets (rows, or bytes for text) of one rank or batch. */
typedef struct {
    uint64_t docs, pages, lines, text;
} store_rows;

/* One batch of a rank's slice: entries [lo, hi) and their rows, packed in
 * output order; off is where they start in results.h5. */
typedef struct {
    size_t lo, hi;     /* entries */
    store_rows off, n; /* global offsets and counts */
    char *docs, *pages, *lines, *text;
} store_batch;

/* COLLECTIVE: lists the journal (rank 0, broadcast), reads the /index of
 * every closed shard (shared out among ranks, then all-gathered) and builds
 * the plan. Errors name the shard and are the same on every rank. */
q_status store_plan_build(store_plan *p, MPI_Comm comm, const char *jdir);
void store_plan_free(store_plan *p);
/* This rank's slice [lo, hi) of p->e: contiguous, balanced by output bytes. */
void store_plan_split(const store_plan *p, size_t *lo, size_t *hi);
/* Rows of entries [lo, hi). */
void store_plan_count(const store_plan *p, size_t lo, size_t hi, store_rows *n);
/* End of the batch that starts at entry lo (at most p->batch bytes of
 * output, or one document). */
size_t store_plan_next_batch(const store_plan *p, size_t lo, size_t hi);

/* Reads batch b (lo, hi, off and n set) from the shards into its buffers. */
q_status store_batch_fill(const store_plan *p, store_batch *b);
void store_batch_free(store_batch *b); /* frees the buffers, keeps lo/hi */

/* ---- consolidation checks (cons_check.c) -----------------------------------
 * Creates `path` holding enough disk for results.h5's metadata (a floor plus
 * a share of the rows in *tot); removing it before the flush gives HDF5 room.
 * On error nothing is left at `path`. */
q_status store_cons_reserve(const char *path, const store_plan *c, const store_rows *tot);
/* Opens the closed file at `path` on its own (not collective), checks each
 * table's row count against *tot and reads back this rank's rows (*mine from
 * *off), so that every chunk holding them is inflated: a lost write fails. */
q_status store_cons_verify(const char *path, const store_plan *c, const store_rows *off,
                           const store_rows *mine, const store_rows *tot);

/* ---- /ranks (ranks.c) -------------------------------------------------------
 * Every rank holds the same rows (rank 0's, broadcast), so that all create
 * the same dataset type (the host field is as long as the longest host). */
typedef struct {
    store_rank_row *v;
    uint64_t n;       /* 0: the file gets no /ranks */
    size_t host_size; /* bytes of the host field (>= 1) */
} store_ranks;

/* COLLECTIVE: rank 0's `n` rows `v` to every rank, into `out` (freed with
 * store_ranks_free, also after a failure). Agreed: the same status on all. */
q_status store_ranks_share(MPI_Comm comm, int rank, const store_rank_row *v, size_t n,
                           store_ranks *out);
void store_ranks_free(store_ranks *r);
/* Creates /ranks in `f` (n rows) and its type in *type; -1 (with the error
 * recorded) on failure. Not called when r->n == 0. */
hid_t store_ranks_create(hid_t f, const store_ranks *r, hid_t *type);
/* COLLECTIVE: rank 0 writes every row, the others nothing (deflated
 * datasets take collective writes only). */
q_status store_ranks_write(hid_t d, hid_t type, hid_t dxpl, const store_ranks *r, int rank);
/* Reopens the closed file at `path` and checks that /ranks reads back as
 * written (not collective; rank 0 calls it). */
q_status store_ranks_verify(const char *path, const store_ranks *r);

/* ---- HDF5 helpers --------------------------------------------------------- */
/* Turns automatic error printing off for this thread (idempotent). */
void store_h5_quiet(void);
/* Records `code` with the formatted context and the HDF5 error stack walked
 * into one line, clears the stack and returns `code`. */
q_status store_h5_fail(q_status code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define STORE_H5_FAIL(...) store_h5_fail(Q_ERR_LIB, __FILE__, __LINE__, __VA_ARGS__)

void store_h5_close(hid_t *id); /* closes any HDF5 id kind when >= 0, sets -1 */

/* Creates a 1-D chunked, shuffled, deflated dataset of `n` rows (maxdims
 * unlimited, so n may be 0) whose rows are `row_size` bytes. */
hid_t store_h5_table(hid_t loc, const char *name, hid_t type, uint64_t n, size_t row_size);
/* Reads rows [first, first+n) of `dset` as `memtype` into `buf`. */
q_status store_h5_read_rows(hid_t dset, hid_t memtype, uint64_t first, uint64_t n, void *buf);
/* Writes rows [first, first+n) of `dset` from `buf` with transfer list `dxpl`;
 * n == 0 selects nothing (collective callers still take part). */
q_status store_h5_write_rows(hid_t dset, hid_t memtype, hid_t dxpl, uint64_t first, uint64_t n,
                             const void *buf);
/* Rows in a 1-D dataset, or UINT64_MAX on error. */
uint64_t store_h5_nrows(hid_t dset);
/* Writes a scalar fixed-length UTF-8 string / a scalar int attribute. */
q_status store_h5_attr_str(hid_t loc, const char *name, const char *value);
q_status store_h5_attr_int(hid_t loc, const char *name, int value);
q_status store_h5_attr_read_int(hid_t loc, const char *name, int *value);
/* A scalar u64 attribute; reading one that is absent gives 0 (fields added
 * to a format later). */
q_status store_h5_attr_u64(hid_t loc, const char *name, uint64_t value);
q_status store_h5_attr_read_u64_opt(hid_t loc, const char *name, uint64_t *value);

/* ---- MPI helpers ---------------------------------------------------------- */
/* Records an MPI failure of `what` with MPI's error string. */
q_status store_mpi_fail(int rc, const char *what);
#define STORE_MPI(call)                                                                            \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != MPI_SUCCESS) {                                                                  \
            st = store_mpi_fail(rc_, #call);                                                       \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)
/* COLLECTIVE: agrees on `st` over `comm`. When any rank failed, every rank
 * returns the error of the lowest failing rank (its message is broadcast), so
 * all ranks report the same one line; otherwise Q_OK. */
q_status store_coll_agree(MPI_Comm comm, q_status st);

/* fsyncs a file or directory by path. */
q_status store_fsync_path(const char *path, int is_dir);

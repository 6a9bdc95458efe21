/* store: everything HDF5. Journal shards (per-rank files in OUT/journal/,
 * written as *.tmp and renamed when closed), the resume index read back from
 * them, and the consolidation of all shards into OUT/results.h5 (schema 1,
 * DESIGN.md §3) written by all ranks together with parallel HDF5. hdf5.h is
 * included nowhere else. Parallel HDF5 is an MPI library, so the collective
 * functions here take an MPI communicator: the one place outside src/run where
 * mpi.h appears. */
#pragma once

#include <mpi.h>
#include <stdint.h>

#include "layout/layout.h"

/* ---- journal shards (one writer per rank) ---- */
typedef struct store_shard store_shard;

/* Opens a writer for `rank` in OUT/journal/ (created if missing). Nothing is
 * written until the first append. */
q_status store_shard_open(const char *outdir, int rank, store_shard **out);
/* Appends one complete document record to the open shard (opening a new
 * *.tmp shard file if none is open). Records are buffered and written sorted
 * by doc id when the shard closes; a shard closes by itself after 4096
 * documents or 64 MiB of rows, so those documents count as done early. A
 * record whose page or line ranges are inconsistent is Q_ERR_INTERNAL and is
 * not appended. */
q_status store_shard_append(store_shard *s, const lay_doc *d);
/* Closes the open shard file and renames it from *.tmp to its final name, so
 * its documents count as done (fsync before and after the rename). No-op when
 * nothing is open. On failure the buffered documents are dropped (they are
 * not done) and the error says why. */
q_status store_shard_close(store_shard *s);
size_t store_shard_pending(const store_shard *s); /* documents in the open shard */
void store_shard_free(store_shard *s);            /* closes (and renames) first; NULL-safe */

/* ---- record log (write-ahead) ----
 * Beside the shard writer, each finished record is also appended at once to
 * OUT/journal/r<rank>-<host>-<pid>-<seq>.rlog, so that a process killed
 * before its shard closes loses nothing: the next run turns the log into a
 * shard (store_journal_recover). A record goes to the log first, then to
 * the shard; once the shard is closed, store_reclog_reset drops the log.
 * Frames: u32 magic "QRL1", u32 CRC-32C of (length, payload), u64 length,
 * payload = lay_doc_pack's image; all little-endian. The writer holds a lock
 * on its log (fcntl, open file description) so that a recovery running at
 * the same time (another array task on the same journal) leaves it alone. */
typedef struct store_reclog store_reclog;

/* A writer for `rank` in OUT/journal/ (created if missing); no log file is
 * created until the first append. */
q_status store_reclog_open(const char *outdir, int rank, store_reclog **out);
/* Appends one record: framed and written with write(2) at once, so it
 * survives the death of this process; fdatasync'd when the last sync is
 * about 1 s old (and the directory fsync'd once after the file is created).
 * On a failed write (disk full) the file is cut back to its last whole frame
 * and the error returned: the record is then only in the shard writer. */
q_status store_reclog_append(store_reclog *l, const lay_doc *d);
/* fdatasync now if records were written since the last sync and the oldest
 * unsynced one is ~1 s old; the caller calls this at least once a second
 * while it waits (for work, for OCR results). */
q_status store_reclog_sync_due(store_reclog *l);
/* fdatasync now (a stop signal came). No-op when nothing is unsynced. */
q_status store_reclog_sync(store_reclog *l);
/* Every appended record is in a closed shard now: removes the log; the next
 * append starts a new file. An error (the file could not be removed) costs
 * nothing but duplicates at the next recovery: report it as a warning. */
q_status store_reclog_reset(store_reclog *l);
/* Syncs and closes; keeps the file when it holds records not reset (a rerun
 * recovers them). NULL-safe. */
void store_reclog_free(store_reclog *l);

typedef struct {
    uint64_t logs;          /* logs turned into shards (or removed, when empty) */
    uint64_t records;       /* records recovered into shards */
    uint64_t dropped_bytes; /* torn or damaged tails dropped */
    uint64_t damaged_logs;  /* logs with such a tail */
    uint64_t busy_logs;     /* logs left alone: a running process holds them */
} store_recovery;

/* Rank 0, before store_journal_scan and before any worker of this run
 * writes: turns every record log in OUT/journal into a closed shard holding
 * its valid prefix (records whose frame and CRC check and that
 * lay_doc_unpack accepts, up to the first bad one), then removes the log. A
 * torn or damaged tail is dropped, counted and logged as a warning, never
 * fatal; an empty log is just removed; a log another live process holds is
 * left alone (busy_logs). Failing to write the shard (disk full) is an error
 * naming the log, and the log stays. A record can end up twice in the
 * journal (in a closed shard and in a log whose process died before its
 * reset): consolidation keeps one row per document. */
q_status store_journal_recover(const char *outdir, store_recovery *out);

/* ---- resume index ---- */
typedef struct store_journal store_journal;

/* Reads the records of every closed shard in OUT/journal/. Leftover *.tmp
 * files (from a crash) are ignored. A closed shard that cannot be read is a
 * fatal error naming the file (exit 1: corrupt journal). A document with
 * several records (a retried one) counts by one of them, the same one that
 * consolidation keeps: one that did not fail beats a failed one (error,
 * timeout); among equals, the one of the shard closed last (its created_ns
 * attribute; shards older than it count as closed before any newer one), then
 * the later shard name. */
q_status store_journal_scan(const char *outdir, store_journal **out);
size_t store_journal_count(const store_journal *j); /* distinct documents done */
/* 1 when document `doc` is in a closed shard. */
int store_journal_has(const store_journal *j, uint64_t doc);
/* The path recorded for document `doc`, or NULL when it is not done. Borrowed:
 * lives as long as `j`. Lets a rerun check that OUT belongs to the same inputs. */
const char *store_journal_path(const store_journal *j, uint64_t doc);
/* How document `doc` ended: sets *status (lay_doc_status) and *retry (the
 * record's retryable flag: 1 = a failure a rerun tries again; 0 in shards
 * written before the flag existed) and returns 1; returns 0 and leaves both
 * alone when `doc` is not done. */
int store_journal_status(const store_journal *j, uint64_t doc, uint8_t *status, uint8_t *retry);
void store_journal_free(store_journal *j);
/* Removes every shard (closed and *.tmp), record log, old attempts log, the
 * input table, a leftover OUT/journal-remap and results.h5: --force. */
q_status store_journal_clear(const char *outdir);

/* The bytes field of document `doc`'s record (its file's size when it was
 * read), or 0 when it is not done. With the path, what a journal written
 * before the input table existed identifies its documents by. */
uint64_t store_journal_bytes(const store_journal *j, uint64_t doc);
/* The id of the k-th done document, k < store_journal_count, ascending. */
uint64_t store_journal_nth(const store_journal *j, size_t k);

/* ---- documents by identity: the input table (intable.c) ----
 * OUT/journal/inputs.qit records, for every document id of the journal (its
 * position in the list), which file it stands for. Rank 0 keeps it equal to
 * the inputs of the run that writes the journal; a rerun compares its own
 * inputs with it (src/run/ident.c) and carries finished records over to
 * their new ids with store_journal_remap. */
#define STORE_INPUTS_NAME "inputs.qit"
typedef struct {
    const char *path;    /* as given on the command line, in a manifest or walked */
    const char *abspath; /* realpath(); the path made absolute as written when it
                            does not resolve (a missing file) */
    uint64_t bytes;      /* size, 0 when the file cannot be stat'ed */
    int64_t mtime_ns;    /* modification time, ns since the epoch; 0 when unknown */
} store_input;

typedef struct {
    store_input *v; /* v[id] */
    size_t n;
    char *mem; /* owns the strings of a table read from a file */
} store_inputs;

/* Reads OUT/journal/inputs.qit into `out`. No table (a new OUT, or a journal
 * from before the table existed) is Q_OK with *found = 0 and an empty `out`.
 * A damaged table (wrong magic, checksum, bounds) is Q_ERR_FORMAT naming the
 * file, never a crash. The caller frees `out` with store_inputs_free. */
q_status store_inputs_read(const char *outdir, store_inputs *out, int *found);
/* Replaces OUT/journal/inputs.qit with v[0..n) atomically: written to a name
 * of this process's own, fsync'd, renamed, the folder fsync'd; on error the
 * old table stays. Several processes writing the same table at once (array
 * tasks starting together) is fine: the last rename wins. */
q_status store_inputs_write(const char *outdir, const store_input *v, size_t n);
void store_inputs_free(store_inputs *t); /* NULL-safe; leaves *t zeroed */

/* ---- documents by identity: rewriting the journal (remap.c) ---- */
#define STORE_DOC_DROPPED UINT64_MAX

typedef struct {
    uint64_t kept;    /* records carried over to their new ids */
    uint64_t dropped; /* documents whose records were left out */
} store_remap_stats;

/* Rank 0, after store_journal_recover, before any worker writes: rewrites
 * OUT/journal once into the numbering of `next` (the new input table, n
 * entries). `j` is the journal's scan (store_journal_scan, after the
 * recovery): it says which record of each document counts. map[old] is the new id of old document
 * `old` or STORE_DOC_DROPPED; an old id >= nmap is dropped. Of each document only the record
 * store_journal_scan counts is carried over (so no duplicates are left), its doc field set to the
 * new id and its path to next[new].path; every other field (status, seconds, rank, pages, lines,
 * text) is kept. The new shards and `next` as the table are written into OUT/journal-remap/journal,
 * then switched in with two renames (the old journal goes to OUT/journal-remap/old, removed last):
 * a crash at any point leaves a state store_remap_recover turns into either the old or the new
 * journal. Refuses (Q_ERR_USAGE) while a record log of another live process
 * is in the journal. Errors name the file; OUT/journal is then unchanged. */
q_status store_journal_remap(const char *outdir, const store_journal *j, const uint64_t *map,
                             size_t nmap, const store_input *next, size_t n,
                             store_remap_stats *out);

/* Rank 0, first thing on a journal (before store_journal_recover): finishes
 * or undoes a store_journal_remap that was killed. OUT/journal-remap present
 * with OUT/journal: the journal is whole (the old one, or the new one after
 * the switch), the leftover is removed (*what = 1). OUT/journal missing: the
 * switch was cut between its renames, the complete new journal is moved in
 * (*what = 2). Nothing left over: *what = 0. */
q_status store_remap_recover(const char *outdir, int *what);

/* ---- per-rank accounting: /ranks (ranks.c) ----
 * One row per rank of the run that wrote results.h5: what it did and where
 * its time went. A plain struct of explicit widths, so that src/run can
 * gather it from every rank as bytes. */
typedef enum { STORE_ROLE_COORDINATOR, STORE_ROLE_GPU, STORE_ROLE_CPU } store_rank_role;
typedef struct {
    int32_t rank;
    int32_t device; /* the CUDA ordinal the rank was given, -1 = none */
    uint8_t role;   /* store_rank_role */
    uint8_t pad[7];
    char host[64];                      /* NUL-terminated */
    uint64_t documents, pages;          /* recorded by this rank, and their pages */
    uint64_t pages_sent, pages_served;  /* OCR pages sent to / read for another rank */
    double seconds_wall, seconds_nn;    /* its work phase; inside network runs */
    double seconds_other, seconds_wait; /* busy outside networks; idle, waiting */
} store_rank_row;

/* ---- consolidation ---- */
typedef struct {
    const char *quire_version;
    const char *models_json; /* JSON: file names and SHA-256 */
    const char *config_json; /* JSON of the options in force */
} store_meta;

/* COLLECTIVE over `comm`: every rank calls it after all shards are closed.
 * Writes OUT/results.h5 (via a temporary name, renamed when complete) from
 * all closed shards, rows ordered by (doc, page, line), one /documents row
 * per document id: of several records, the one store_journal_scan counts.
 * No /ranks (as files of older writers). */
q_status store_consolidate(MPI_Comm comm, const char *outdir, const store_meta *meta);
/* The same with /ranks: rank 0's `nranks` rows `ranks`, in the order given
 * (the other ranks' arguments are ignored; none on rank 0: no /ranks). */
q_status store_consolidate_ranks(MPI_Comm comm, const char *outdir, const store_meta *meta,
                                 const store_rank_row *ranks, size_t nranks);

/* ---- reading results.h5 back (results.c; quire export) ---- */
typedef struct store_results store_results;

/* Opens a finished results.h5 read-only, on its own (no MPI-IO: each rank of
 * an export job opens it itself), and reads the doc ids of /documents. A file
 * that is not results.h5 schema 1 is an error naming it. */
q_status store_results_open(const char *path, store_results **out);
void store_results_close(store_results *r); /* NULL-safe */
size_t store_results_ndocs(const store_results *r);
/* The doc id of /documents row `row` (< ndocs); rows are in doc order. */
uint64_t store_results_doc_id(const store_results *r, size_t row);
/* 1 and *row set when document id `doc` has a row, else 0. */
int store_results_find(const store_results *r, uint64_t doc, size_t *row);
/* Reads /documents row `row` into `d` (initialised here; the caller
 * lay_doc_free's it): every scalar field, path, error and warning; no pages,
 * lines or text. Strings are made valid UTF-8. */
q_status store_results_read_head(store_results *r, size_t row, lay_doc *d);
/* Reads the whole record of /documents row `row` into `d` (initialised
 * here): the head, its /pages rows (first_line relative to the record), its
 * /lines rows (text_start relative to the record's text) and its text bytes.
 * Fields a file of an older schema-1 writer lacks read as 0. Any row range
 * out of bounds is Q_ERR_FORMAT naming the document; `d` is then zeroed.
 * Reading rows in increasing order is fastest. */
q_status store_results_read(store_results *r, size_t row, lay_doc *d);

/* "HDF5 1.10.8 (parallel)" */
const char *store_version(void);

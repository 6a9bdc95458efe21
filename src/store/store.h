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
/* Removes every shard (closed and *.tmp), old attempts logs and results.h5:
 * --force. */
q_status store_journal_clear(const char *outdir);

/* ---- consolidation ---- */
typedef struct {
    const char *quire_version;
    const char *models_json; /* JSON: file names and SHA-256 */
    const char *config_json; /* JSON of the options in force */
} store_meta;

/* COLLECTIVE over `comm`: every rank calls it after all shards are closed.
 * Writes OUT/results.h5 (via a temporary name, renamed when complete) from
 * all closed shards, rows ordered by (doc, page, line), one /documents row
 * per document id: of several records, the one store_journal_scan counts. */
q_status store_consolidate(MPI_Comm comm, const char *outdir, const store_meta *meta);

/* "HDF5 1.10.8 (parallel)" */
const char *store_version(void);

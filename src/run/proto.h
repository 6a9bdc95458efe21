/* The coordinator-worker protocol: every MPI tag quire uses, and the
 * messages. Messages are fixed-size structs of explicit-width fields plus
 * length-prefixed bytes, never pointers. */
#pragma once

#include <mpi.h>
#include <stdint.h>

#include "util/util.h"

enum run_tag {
    RUN_TAG_REQUEST = 101,  /* worker -> 0: run_request, "give me work" */
    RUN_TAG_WORK = 102,     /* 0 -> worker: packed batch of documents */
    RUN_TAG_STOP = 103,     /* 0 -> worker: no more work (empty message) */
    RUN_TAG_HALT = 104,     /* 0 -> worker: a stop signal came; finish the current
                               document, leave the rest of the batch (empty) */
    RUN_TAG_NET_REQ = 105,  /* CPU rank -> its GPU rank: a network request (ocr.h's remote;
                               ocrserve.c) */
    RUN_TAG_NET_REP = 106,  /* GPU rank -> CPU rank: its reply, or a refusal */
    RUN_TAG_OCR_DONE = 107, /* CPU rank -> its GPU rank: no more requests (empty) */
};

/* run_request.flags. STOPPING: this worker got a stop signal. FAILED: this
 * worker failed (journal unwritable, disk full) and asks for nothing more; no
 * answer is sent, and rank 0 stops the others so that the job ends at once. */
enum { RUN_REQ_STOPPING = 1, RUN_REQ_FAILED = 2 };

/* Counts since the worker's previous request; rank 0 sums them for progress. */
typedef struct {
    int32_t rank;
    uint32_t docs;        /* documents finished */
    uint32_t docs_failed; /* of which status error or timeout */
    uint32_t pages;       /* pages finished */
    uint32_t text_pages;
    uint32_t ocr_pages;
    uint32_t failed_pages;
    uint32_t flags; /* RUN_REQ_* */
    uint32_t ndone; /* run_done entries that follow this struct in the message */
    uint32_t pad;
    uint64_t lines;
} run_request;

/* One finished document, as a request reports it to rank 0 (after the
 * run_request, `ndone` of them): rank 0 names failures as they come and
 * keeps the end-of-job summary from these. */
typedef struct {
    uint64_t doc;
    double seconds;
    uint32_t status;    /* lay_doc_status */
    const char *reason; /* "" when none; as unpacked, points into the message */
} run_done;

/* Appends `d` to `out` (on the wire: fixed-size fields, then the reason's
 * length-prefixed bytes). */
q_status run_done_pack(q_buf *out, const run_done *d);
/* Reads the entry at `*off` of `buf` (`len` bytes) into `d` and advances
 * `*off`; every length is checked against the bytes left. */
q_status run_done_unpack(const char *buf, size_t len, size_t *off, run_done *d);

/* One document of a WORK batch, as unpacked. Strings point into the batch buffer. */
typedef struct {
    uint64_t doc;
    uint64_t bytes;
    const char *path;
    const char *error; /* NULL when none */
} run_item;

/* Packs `n` items into `out` (cleared first). */
q_status run_batch_pack(q_buf *out, const run_item *items, uint32_t n);
/* Unpacks a received batch; every length is checked against the bytes
 * received. `items` must hold RUN_BATCH_MAX entries. */
enum { RUN_BATCH_MAX = 1024 };
q_status run_batch_unpack(char *buf, size_t len, run_item *items, uint32_t *n);

/* Growing naps between polls: short right after activity (low latency), up to
 * 2 ms when idle (no core spent), in one place for every polling loop. Each
 * nap also sends and takes the rank's signs of life that are due (alive.h):
 * a loop that never naps while busy must call run_alive_tick itself. */
enum { RUN_NAP_MIN_US = 20, RUN_NAP_MAX_US = 2000 };
typedef struct {
    double nap;
    double woke; /* q_now() at the end of the last nap; 0 after a reset */
} run_backoff;
void run_backoff_reset(run_backoff *b);
void run_backoff_sleep(run_backoff *b);

/* Waits for a request to complete without spinning a core: tests it and
 * sleeps between tests (Open MPI's blocking calls busy-poll, which on a
 * 2-core node steals the CPU from the ranks doing real work). */
q_status run_wait(MPI_Request *req, MPI_Status *status);

/* Sends `len` bytes to `dest` and waits as run_wait does: a blocking MPI_Send
 * of a large message waits for the receiver to take it, spinning, deaf to
 * signals and to a peer that is lost (alive.h). `what` names it in an error. */
q_status run_send(const void *buf, size_t len, int dest, int tag, MPI_Comm comm, const char *what);

/* Receives the message that MPI_Iprobe found (`probed`) into `buf`, which
 * grows to fit: buf->len = the message's bytes, NUL after them. */
q_status run_recv_probed(MPI_Comm comm, const MPI_Status *probed, q_buf *buf);

/* The same without waiting: posts the receive into `buf` (len set, bytes
 * valid once *req completes). Where MPI has no single-copy transfer (vader's
 * single_copy_mechanism=none), a large message moves in fragments only as
 * fast as its sender calls MPI, and a blocking receive would sit out every
 * pause of the sender. */
q_status run_irecv_probed(MPI_Comm comm, const MPI_Status *probed, q_buf *buf, MPI_Request *req);

/* Converts an MPI return code into the thread's error record. */
q_status run_mpi_fail(int rc, const char *what);

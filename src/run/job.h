/* Private to src/run: the state of one `quire run`, shared by the
 * coordinator, the workers and the progress reporter. */
#pragma once

#include <mpi.h>

#include "run/proto.h"
#include "run/roles.h"
#include "run/run.h"

typedef struct {
    uint64_t docs, docs_failed, pages, text_pages, ocr_pages, failed_pages, lines;
} run_counts;

/* What rank 0 learned of this run's finished documents (report.c): counts
 * by status, the most common failure reasons, the slowest documents. */
enum { RUN_REPORT_TOP = 3, RUN_REPORT_REASONS = 256 };
typedef struct {
    char *reason;
    uint64_t n;
} run_reason;
typedef struct {
    const char *path; /* borrowed from the job's input list */
    double seconds;
} run_slow;
typedef struct {
    uint64_t status[4];            /* documents by lay_doc_status */
    run_reason *reasons;           /* distinct reasons, in order first seen */
    size_t nreasons;               /* at most RUN_REPORT_REASONS */
    uint64_t more_reasons;         /* failures whose reason did not fit in the table */
    run_slow slow[RUN_REPORT_TOP]; /* slowest first */
    size_t nslow;
} run_report;

typedef struct {
    const run_options *opt;
    MPI_Comm comm;
    int rank, size;
    run_input_list inputs; /* rank 0 only */
    uint64_t *todo;        /* rank 0: document ids still to do, largest first */
    size_t ntodo, next;    /* rank 0 */
    uint64_t resumed;      /* documents already done in the journal (rank 0) */
    uint64_t total;        /* documents of this run's slice (rank 0) */
    double t_start;
    run_role role;     /* this rank's */
    int workers;       /* rank 0: ranks that ask for documents */
    char *asks;        /* rank 0: asks[r] = 1 when rank r asks for documents (not
                          a coordinator, not a GPU rank serving CPU ranks) */
    int halted;        /* this rank left work undone because of a stop signal */
    run_counts counts; /* what this run did (rank 0 after the work phase) */
    run_report report; /* rank 0 */
} run_job;

/* Rank 0, in job_prepare after store_journal_recover and the scan: makes the
 * journal's ids positions in this run's input list (ident.c). Inputs as in
 * the journal's input table: nothing is written. Otherwise the records of
 * files that are still there, unchanged (absolute path, size, modification
 * time; path and size for a journal without a table), are carried over to
 * their new ids, the rest dropped, and *journal is scanned again; with
 * --slice that is refused instead. Returns the exit status (0, or 1 after
 * printing why). */
struct store_journal;
int run_ident_sync(run_job *job, struct store_journal **journal);

/* Rank 0 takes the `ndone` run_done entries of a request (`msg`, `len`
 * bytes after the run_request): prints a line naming each failed document
 * (path, status, reason) unless --quiet, and tallies them for the summary.
 * Fails only on a malformed message or out of memory. */
q_status run_report_take(run_job *job, uint32_t ndone, const char *msg, size_t len);
/* Rank 0, at the end: counts by status, the top reasons and the slowest
 * documents, printed even with --quiet. */
void run_report_print(const run_job *job);
void run_report_free(run_report *r);

/* Progress line state (rank 0). */
typedef struct {
    double t_start, t_last;
    uint64_t total, resumed;
    run_counts c;
    int tty;
    int quiet;
    double interval;
    uint32_t page, pages; /* one process: where its document in flight is (pages 0: none) */
} run_progress;

void run_progress_init(run_progress *p, uint64_t total, uint64_t resumed, double interval,
                       int quiet);
void run_progress_add(run_progress *p, const run_request *r);
/* Prints a line when `interval` has passed since the last one, or when `force`. */
void run_progress_tick(run_progress *p, int force);
void run_progress_done(run_progress *p);

/* `quire info`'s "mpi:" line: the MPI library's version. */
void run_info_print_mpi(void);

/* Whether `path` is named as an image file (TIFF, PNG, JPEG: pages that
 * always need OCR), by the extensions a folder walk takes (inputs.c). */
int run_input_is_image(const char *path);

/* Right after MPI_Init, before any message: fails when the MPI runtime has
 * put this rank on a node that is not its own (two nodes with one host
 * name), with the fix in the message. Q_OK where it cannot tell (no PMIx). */
q_status run_nodes_check(void);

/* Coordinator loop (rank 0 when size > 1): answers requests until every
 * worker was told to stop. */
q_status run_coordinate(run_job *job);

/* A rank that takes documents (worker.c). */
typedef struct run_worker run_worker;

/* Opens what the worker writes (its journal shard, creating
 * OUT/journal) and the document reader. Every rank that takes documents calls
 * it before any work is handed out, so that an output folder a rank cannot
 * write is a failure all ranks agree on, not a worker that leaves while rank
 * 0 waits for it. An I/O failure's message says to choose a writable --out. */
q_status run_worker_new(run_job *job, run_worker **out);
void run_worker_free(run_worker *w); /* NULL-safe; closes the open shard */

/* Worker loop: asks rank 0 for batches (or, when size == 1, takes them from
 * the job's own list) and processes them into the rank's journal shard. On a
 * failure before rank 0 said STOP it tells rank 0 (RUN_REQ_FAILED), which
 * then stops the other workers. */
q_status run_work(run_job *job, run_worker *w);

/* Takes the next batch from rank 0's list; returns its size. Its size is
 * --batch, else (several ranks) `max_items` as the coordinator chose it, else
 * (one process) a share of what is left; never more than `max_items`. */
uint32_t run_job_take(run_job *job, run_item *items, uint32_t max_items);

/* ---- OCR on the GPU rank of the node (ocrserve.c) ---- */

/* A CPU rank's line to its GPU rank (netlink.c): network requests out,
 * replies back, up to RUN_NET_SLOTS sends in flight. */
enum { RUN_NET_SLOTS = OCR_NET_DEPTH_MAX };
typedef struct {
    MPI_Comm comm;
    int server;
    q_buf slot[RUN_NET_SLOTS];
    MPI_Request req[RUN_NET_SLOTS];
    int inflight;     /* requests sent whose replies have not come */
    MPI_Request recv; /* the reply being received into `in` */
    q_buf in;
} run_netlink;

void run_netlink_init(run_netlink *l, MPI_Comm comm, int server);
/* Sends the request in `msg`, taking its memory (msg is left empty). */
q_status run_netlink_send(run_netlink *l, q_buf *msg);
/* Sends in progress (they need this process to call MPI to move on). */
int run_netlink_sending(const run_netlink *l);
/* Takes a reply if one has come (*got = 1). */
q_status run_netlink_poll(run_netlink *l, q_buf *reply, int *got);
/* Waits for the next reply, napping. */
q_status run_netlink_recv(run_netlink *l, q_buf *reply);
/* Waits for and drops the replies still due (their asker is gone). */
q_status run_netlink_drain(run_netlink *l);
void run_netlink_free(run_netlink *l); /* waits for the sends in progress */

/* A CPU rank's side of OCR on the GPU rank (ocrclient.c): the page is read
 * here by an engine whose networks run on `server` (ocr.h's remote); only
 * tensors travel. */
typedef struct {
    MPI_Comm comm;
    int server;     /* world rank of the GPU rank */
    run_ocr *local; /* its deadline is the document's; after a refusal, pages are
                       read here with models of its own */
    run_ocr remote; /* the engine that sends its networks to the server */
    ocr_remote wire;
    run_netlink link; /* used by the process that talks MPI */
    uint64_t pages;   /* pages whose networks ran on the server */
    int refused;      /* the server runs no networks any more: read pages here */
    /* How a request reaches the server from a reader child: through its
     * parent (NULL = this process talks MPI itself, over `link`). */
    q_status (*xfer_send)(void *user, q_buf *msg);
    q_status (*xfer_recv)(void *user, q_buf *msg);
    void *xfer_user;
} run_ocr_client;

/* The GPU rank's answer to a request when it runs no networks any more
 * (followed by `len` bytes of why). LOCAL: read your pages yourself. FATAL:
 * the server cannot load the models, which the client cannot either (same
 * folder): the job must stop, and the page's document gets no record. */
enum {
    RUN_OCR_REFUSAL_MAGIC = 0x5546524e /* "NRFU" */,
    RUN_REFUSE_LOCAL = 1,
    RUN_REFUSE_FATAL = 2
};
typedef struct {
    uint32_t magic, how, len, pad;
    uint64_t ticket; /* the refused request's (ocr_net_req) */
} run_ocr_refusal;

void run_ocr_client_init(run_ocr_client *c, MPI_Comm comm, int server);
void run_ocr_client_free(run_ocr_client *c); /* NULL-safe */

/* A doc_ocr_fn: `user` is a run_ocr_client. */
q_status run_ocr_client_page(void *user, doc_file *f, uint32_t page, lay_doc *rec);
/* Tells the server that this rank sends no more requests. */
q_status run_ocr_client_done(run_ocr_client *c);

/* A GPU rank with clients: reads the pages they send, several at a time
 * (ocr_images batches recognition across pages), until each has said done.
 * It takes no documents itself. */
q_status run_ocr_serve(run_job *job);

/* The options of this rank's OCR engine: the models folder resolved into
 * `models` (cap bytes); threads unless --threads: a GPU rank with clients gets
 * the node's cores shared by its GPU ranks, others run_ocr_threads(); a rank
 * with a device gets the AUTO backend on it. */
ocr_options run_ocr_engine_options(const run_job *job, char *models, size_t cap);

/* ---- reading documents (reader.c, child.c) ---- */

/* What reads a document: the doc reader, this process's OCR engine and the
 * route of OCR pages to the node's GPU rank. */
typedef struct {
    const run_options *opt;
    int rank;
    doc_reader *reader;     /* opened in the process that reads (run_reader_open) */
    run_ocr ocr;            /* loaded on the first page that needs it */
    char models[4096];      /* the models folder, which `ocr` points to */
    run_ocr_client *client; /* pages go to the node's GPU rank; NULL = read here */
    run_ocr_client client_v;
    const char *crash_on, *hang_on; /* test hooks (reader.c) */
} run_reader;

/* Sets up `rd` for this job; `client` (copied), when given, sends OCR pages to
 * the node's GPU rank. Opens nothing: a reader child opens its own. */
q_status run_reader_init(run_reader *rd, run_job *job, run_ocr_client *client);
q_status run_reader_open(run_reader *rd); /* the doc reader, unless open */
void run_reader_free(run_reader *rd);     /* NULL-safe */
/* Reads document `it` into `rec` (initialised by the caller) with `deadline`
 * (q_now() seconds, 0 = none); `progress`, when set, follows the pages
 * (doc_options). A bad document is a record, not a failure; a failure of
 * quire itself (out of memory) is a record too, retryable. */
q_status run_reader_read(run_reader *rd, const run_item *it, double deadline,
                         volatile uint32_t *progress, lay_doc *rec);

/* A reader child process (DESIGN.md §6, issue 15): documents are read in a
 * forked process that shares nothing with MPI, so that a decoder's crash, an
 * overrun or a runaway allocation costs one document, never the rank. The
 * child is long-lived (models loaded once) and replaced after a crash. */
typedef struct run_child run_child;

/* Called by the parent while it waits for the child, at least once a second
 * and after every signal. Returns 1 to abandon the document in flight (a
 * stop signal that must not wait for it). */
typedef int (*run_child_tick)(void *user);

/* `rd` is the reading state the child starts from (copied at each fork; its
 * doc reader must not be open). `max_memory`: bytes the child may use above
 * what it holds when it starts (0 = no limit). Forks nothing yet. The
 * parent must not start OpenMP or CUDA: a child forked after would inherit
 * their locks without their threads. */
q_status run_child_new(run_reader *rd, double max_memory, run_child **out);
/* Forks the child unless one is running (run_child_read forks on demand). */
q_status run_child_start(run_child *c);
/* Reads `it` in the child into `rec` (initialised here; lay_doc_free it even
 * after a failure). A crash is read once more in a fresh child; a second
 * crash, a crash of a kind that cannot be retried, and --timeout (the child
 * is killed within a second of the deadline) are error/timeout records.
 * Q_ERR_INTERRUPTED: `tick` abandoned the document (no record). Other
 * failures are the parent's own (MPI, fork): the rank cannot go on. */
/* Where the document being read is: `*page` (from 0) of `*pages` (0 while
 * unknown). */
void run_child_where(const run_child *c, uint32_t *page, uint32_t *pages);
q_status run_child_read(run_child *c, const run_item *it, run_child_tick tick, void *tick_user,
                        lay_doc *rec);
/* Ends the child (it exits when its socket closes) and frees. NULL-safe. */
void run_child_free(run_child *c);
/* The default --max-memory: the node's memory shared by its ranks. */
double run_child_default_memory(int local_ranks);

/* Stop signals (stop.c). run_stop_install sets handlers for SIGTERM and
 * SIGUSR1; run_stop_signal returns the first one received, 0 when none. */
void run_stop_install(void);
int run_stop_signal(void);
const char *run_stop_name(int sig);

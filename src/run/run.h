/* run: the MPI job. Expands the inputs, hands documents out from rank 0 on
 * request, runs workers, reports progress, and has every rank write
 * results.h5 together at the end. The only module besides main that sees
 * mpi.h (store takes a communicator for parallel HDF5). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "doc/doc.h"
#include "ocr/ocr.h"
#include "util/util.h"

typedef struct {
    const char *out_dir;    /* --out, default "quire-out" */
    const char *models_dir; /* --models; NULL = default search */
    const char *manifest;   /* --manifest FILE or NULL */
    char **inputs;          /* INPUT... (files or folders) */
    int ninputs;
    int dpi;                 /* --dpi, default 300 */
    int gpus;                /* --gpus: -1 = auto */
    double timeout;          /* --timeout seconds per document, 0 = none */
    int batch;               /* --batch documents per request, 0 = automatic */
    int force;               /* --force */
    int no_retry;            /* --no-retry: keep failed documents marked retryable */
    int retry_failed;        /* --retry-failed: redo every failed document */
    int redo_ocr;            /* --redo-ocr */
    int quiet;               /* --quiet */
    double progress_seconds; /* --progress interval, default 5 */
    int shard_docs;          /* --shard-docs: close a journal shard after N documents */
    double shard_seconds;    /* ... or after this many seconds */
    int slice, slices;       /* --slice K/N: only documents of slice K of N (0 = all) */
    ocr_options ocr;         /* --threads (0 = cores / ranks on the node), --det-side, ...;
                                models_dir is taken from models_dir */
    double max_pixels;       /* --max-pixels */
    double max_memory;       /* --max-memory bytes per reader process, 0 = none;
                                -1 = the default (run_child_default_memory) */
    double peer_timeout;     /* --peer-timeout: a rank silent this long stops the job; 0 = never */
} run_options;

/* --peer-timeout's default: longer than anything a rank does between two
 * signs of life (closing a shard on a slow shared file system, a large page's
 * OCR on a GPU rank's CPU), short against a day's allocation. */
#define RUN_PEER_TIMEOUT_DEFAULT 300.0

void run_options_default(run_options *o);

/* Runs `quire run` with MPI (initialises and finalises it; works as a
 * singleton without mpirun). Returns the process exit status (0, or 1 with
 * one line on stderr naming what failed and what to do). */
int run_main(const run_options *o);

/* The rank this process will have, read from the launcher's environment
 * before MPI is initialised (0 when not launched by mpirun/srun). Lets only
 * one rank print usage errors. */
int run_env_rank(void);

/* ---- inputs (used by run_main; public for tests) ---- */
typedef struct {
    char *path; /* as given or as walked from a folder */
    uint64_t bytes;
    char *error;      /* NULL, or why this entry cannot be a document (missing, loop …) */
    char *abspath;    /* realpath(), or the path made absolute as written when it does
                         not resolve: the document's identity across runs */
    int64_t mtime_ns; /* modification time, ns since the epoch; 0 when unknown */
} run_input;

typedef struct {
    run_input *v;
    size_t n, cap;
    size_t repeats; /* entries dropped because an earlier one is the same file */
} run_input_list;

/* Expands files, folders (walked recursively, sorted, document extensions
 * only, symlink loops detected) and manifest lines into `out`, in order. An
 * input that cannot be read becomes an entry with `error` set, so that it
 * still gets its record. A file listed more than once (the same absolute
 * path after realpath, however it was reached) is kept at its first place
 * only; out->repeats counts the others. Fails only on an unreadable
 * manifest. */
q_status run_inputs_expand(char *const *inputs, int ninputs, const char *manifest,
                           run_input_list *out);
void run_inputs_free(run_input_list *l);

/* The files of the models folder (models/fetch.sh; models/SHA256SUMS). */
enum { RUN_MODEL_FILES = 4 };
extern const char *const run_model_files[RUN_MODEL_FILES];

/* The models folder: `given` (--models), else $QUIRE_MODELS, else
 * $XDG_CACHE_HOME/quire/models, else ~/.cache/quire/models. Returns `given`,
 * the environment's string, or `buf`. */
const char *run_models_dir(const char *given, char *buf, size_t cap);

/* Prints `quire info`'s MPI and launch-environment lines, and the role table
 * row of this process (host, rank, role, device) for --gpus `gpus` (-1 = auto). */
void run_info_print(int gpus);

/* `quire info` once per launch (inforanks.c). run_info_begin: when the launch
 * environment names more than one process (mpirun, srun), starts MPI and sets
 * *rank to this process's world rank; the caller prints its own block only on
 * rank 0. Otherwise (alone, or MPI cannot start: then each rank prints its
 * own block, as before) MPI is left alone, *rank is 0 and it returns 0. */
int run_info_begin(int *rank);
/* COLLECTIVE when run_info_begin returned 1: rank 0 prints the MPI line and the
 * role table of every rank in rank order (host, rank, role, GPUs seen, device,
 * whether its models folder, from `models_dir` or the default, holds the model
 * files), the roles decided as `quire run` decides them; then MPI ends.
 * Alone: run_info_print(gpus). Returns the exit code (1 after an MPI error,
 * with a line on stderr). */
int run_info_end(int started, int gpus, const char *models_dir);

/* ---- the OCR route of a page, in-process (ocrpage.c) ---- */

typedef struct {
    ocr_options opt;
    ocr_engine *engine; /* loaded on the first page that needs OCR */
    int load_failed;    /* the models are missing or unusable: job-fatal (worker.c) */
    char why[1024];     /* why the engine could not be loaded, with the fix */
    double deadline;    /* the current document's (q_now() seconds), 0 = none */
    uint64_t pages;     /* pages read */
    /* optional: sees each page's pixels and lines (quire ocr prints them) */
    void (*on_page)(void *user, uint32_t page, const doc_page_image *pi, const ocr_result *r);
    void *on_page_user;
} run_ocr;

void run_ocr_init(run_ocr *r, const ocr_options *o);
/* Threads for one rank's networks: the cores shared by the ranks of this node
 * (from the launcher's environment; all cores for a process alone). */
int run_ocr_threads(void);
void run_ocr_free(run_ocr *r); /* NULL-safe; keeps the options */
/* Loads the engine unless it is loaded; after a failure, fails at once with
 * the same reason ("cannot load the OCR models in DIR: ...; run
 * models/fetch.sh ..."), kept in `why`. A failed load is not a fault of the
 * document: the worker ends the job with it instead of recording the
 * document as failed, so that a rerun with the models reads it. */
q_status run_ocr_engine_load(run_ocr *r);
/* The end of a page's OCR route: when `st` is Q_OK, appends the page read
 * into `res` to `rec` (seconds since t0); frees `res` and `pi` either way. */
q_status run_ocr_finish(q_status st, ocr_result *res, doc_page_image *pi, uint32_t page, double t0,
                        lay_doc *rec);
/* A doc_ocr_fn: `user` is a run_ocr. */
q_status run_ocr_page(void *user, doc_file *f, uint32_t page, lay_doc *rec);

/* ---- a job of independent ranks (world.c; quire export) ----
 * Starts MPI (a singleton without mpirun; errors returned, never aborting)
 * and gives this process's rank and the job's size. */
q_status run_world_begin(int *rank, int *size);
/* COLLECTIVE: adds up n counters over every rank, in place. */
q_status run_world_sum(uint64_t *v, size_t n);
/* Stops MPI when it was started (no-op otherwise). */
void run_world_end(void);

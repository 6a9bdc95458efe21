/* `quire run` from start to end: MPI set-up, rank 0's preparation (inputs,
 * journal, resume), the work phase, and the collective consolidation into
 * results.h5. Every phase ends with an agreement of all ranks, so that one
 * rank's fatal error makes all of them exit 1 instead of hanging. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/alive.h"
#include "run/job.h"
#include "ocr/ocr.h"
#include "run/meta.h"
#include "run/rankstats.h"
#include "store/store.h"

void run_options_default(run_options *o) {
    memset(o, 0, sizeof *o);
    o->out_dir = "quire-out";
    o->dpi = 300;
    o->gpus = -1;
    o->progress_seconds = 5;
    o->shard_docs = 100;
    o->shard_seconds = 30;
    o->slice = 0;
    o->slices = 0;
    ocr_options_default(&o->ocr);
    o->ocr.threads = 0;
    o->max_pixels = DOC_MAX_PIXELS_DEFAULT;
    o->max_memory = -1;
    o->peer_timeout = RUN_PEER_TIMEOUT_DEFAULT;
}

int run_env_rank(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                       "SLURM_PROCID"};
    for (size_t i = 0; i < Q_ARRAY_LEN(vars); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return atoi(v);
    }
    return 0;
}

/* Largest first; equal sizes keep input order, so dispatch is deterministic. */
static const run_input *job_sort_base;
static int job_cmp_size(const void *a, const void *b) {
    const run_input *x = &job_sort_base[*(const uint64_t *)a];
    const run_input *y = &job_sort_base[*(const uint64_t *)b];
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
    uint64_t i = *(const uint64_t *)a, j = *(const uint64_t *)b;
    return (i > j) - (i < j);
}

/* Failed documents of the journal (status error or timeout) that this run
 * does again, and those it keeps. */
typedef struct {
    uint64_t retryable, others, kept;
} job_retries;

/* Whether a document whose record in the journal ended with `status` is done
 * again: a failure marked retryable (a timeout, out of memory, a crashed
 * reader) unless --no-retry, any failure with --retry-failed (which wins
 * over --no-retry: it asks for more). */
static int job_redo(const run_options *o, uint8_t status, uint8_t retry, job_retries *n) {
    if (status != LAY_DOC_ERROR && status != LAY_DOC_TIMEOUT) return 0;
    if (retry && !o->no_retry) {
        n->retryable++;
        return 1;
    }
    if (o->retry_failed) {
        n->others++;
        return 1;
    }
    n->kept++;
    return 0;
}

/* One line on the failed documents of the journal: how many are retried and
 * why, and how many stay failed. */
static void job_log_retries(const run_options *o, const job_retries *n) {
    unsigned long long again = n->retryable + n->others;
    q_buf b = {0};
    q_status st = Q_OK;
    if (again) st = q_buf_printf(&b, "retrying %llu failed documents of the journal (", again);
    if (!st && n->retryable)
        st = q_buf_printf(&b, "%llu retryable: timed out, out of memory or crashed",
                          (unsigned long long)n->retryable);
    if (!st && n->others)
        st = q_buf_printf(&b, "%s%llu more: --retry-failed", n->retryable ? "; " : "",
                          (unsigned long long)n->others);
    if (!st && again) st = q_buf_puts(&b, n->kept ? "); " : ")");
    if (!st && n->kept)
        st = q_buf_printf(&b, "%llu failed documents of the journal stay failed (%s)",
                          (unsigned long long)n->kept,
                          o->no_retry ? "--no-retry; --retry-failed retries every failure"
                                      : "not retryable; --retry-failed retries them");
    if (!st && b.len) q_log(Q_LOG_INFO, "%s", b.data);
    q_buf_free(&b);
}

/* Fills job->todo with the documents [lo, hi) that are not done, or whose
 * record failed and is retried. Returns 1 (after printing why) when OUT
 * holds results of other inputs. */
static int job_pick_todo(run_job *job, const store_journal *journal, size_t lo, size_t hi) {
    const run_options *o = job->opt;
    job_retries n = {0};
    for (size_t i = lo; i < hi; i++) {
        job->total++;
        uint8_t status = 0, retry = 0;
        if (!store_journal_status(journal, i, &status, &retry)) {
            job->todo[job->ntodo++] = i;
            continue;
        }
        const char *was = store_journal_path(journal, i);
        if (was && strcmp(was, job->inputs.v[i].path) != 0) {
            q_log(Q_LOG_ERROR,
                  "%s holds results of a run over other inputs (document %zu was '%s', now "
                  "'%s'): rerun with --force to start over, or use another --out",
                  o->out_dir, i, was, job->inputs.v[i].path);
            return 1;
        }
        if (job_redo(o, status, retry, &n))
            job->todo[job->ntodo++] = i;
        else
            job->resumed++;
    }
    job_log_retries(o, &n);
    return 0;
}

/* Before any document is handed out: image files always need OCR, so a job
 * with some to do and models that cannot load stops now, with the fix, and
 * no document is recorded as failed for it. Whether a PDF needs OCR is known
 * only once it is read: its first such page stops the job (ocrpage.c). */
static int job_check_models(const run_job *job) {
    size_t images = 0;
    for (size_t i = 0; i < job->ntodo; i++) {
        const run_input *in = &job->inputs.v[job->todo[i]];
        images += !in->error && run_input_is_image(in->path);
    }
    if (!images) return 0;
    char buf[4096];
    const char *dir = run_models_dir(job->opt->models_dir, buf, sizeof buf);
    if (!dir || ocr_models_check(dir) == Q_OK) return 0;
    q_log(Q_LOG_ERROR, "%zu images to read need OCR, and the OCR models cannot be used: %s", images,
          q_errmsg());
    return 1;
}

/* Rank 0: output folder, inputs, journal. Returns the exit status the job
 * must end with when it is not 0 (after printing the reason). */
static int job_prepare(run_job *job) {
    const run_options *o = job->opt;
    q_status st = q_mkdirs(o->out_dir);
    if (st) {
        q_log(Q_LOG_ERROR, "%s (choose a writable --out folder)", q_errmsg());
        return 1;
    }
    if (o->force && (st = store_journal_clear(o->out_dir)) != Q_OK) {
        q_log(Q_LOG_ERROR, "--force could not clear %s: %s", o->out_dir, q_errmsg());
        return 1;
    }
    st = run_inputs_expand(o->inputs, o->ninputs, o->manifest, &job->inputs);
    if (st) {
        q_log(Q_LOG_ERROR, "%s", q_errmsg());
        return 2;
    }
    if (job->inputs.n == 0) {
        q_log(Q_LOG_ERROR, "no documents found in the inputs (folders are searched for "
                           ".pdf, .tif, .tiff, .png, .jpg, .jpeg files)");
        return 2;
    }
    if (job->inputs.repeats)
        q_log(Q_LOG_INFO,
              "%zu repeated inputs listed once: the same file (after realpath) as an earlier "
              "input, which is kept",
              job->inputs.repeats);
    int undone = 0;
    if ((st = store_remap_recover(o->out_dir, &undone)) != Q_OK) {
        q_log(Q_LOG_ERROR, "%s", q_errmsg());
        return 1;
    }
    if (undone)
        q_log(Q_LOG_WARN, "a rewrite of %s/journal for changed inputs was interrupted: %s",
              o->out_dir, undone == 2 ? "finished now" : "the journal is whole, leftover removed");
    store_recovery rec = {0};
    if ((st = store_journal_recover(o->out_dir, &rec)) != Q_OK) {
        q_log(Q_LOG_ERROR, "%s (free space in %s, then rerun)", q_errmsg(), o->out_dir);
        return 1;
    }
    if (rec.records || rec.dropped_bytes)
        q_log(Q_LOG_INFO,
              "recovered %llu finished documents from %llu record logs of a run that was "
              "stopped or killed%s",
              (unsigned long long)rec.records, (unsigned long long)rec.logs,
              rec.dropped_bytes ? " (a torn last record was dropped: its document is redone)" : "");
    store_journal *journal = NULL;
    if ((st = store_journal_scan(o->out_dir, &journal)) != Q_OK) {
        q_log(Q_LOG_ERROR,
              "%s (the journal in %s/journal is damaged: move the named file away "
              "to redo its documents, or rerun with --force to start over)",
              q_errmsg(), o->out_dir);
        return 1;
    }
    if (run_ident_sync(job, &journal)) {
        store_journal_free(journal);
        return 1;
    }
    job->todo = malloc(job->inputs.n * sizeof *job->todo);
    if (!job->todo) {
        store_journal_free(journal);
        q_log(Q_LOG_ERROR, "out of memory for %zu documents", job->inputs.n);
        return 1;
    }
    /* --slice K/N: the K-th of N contiguous ranges of document ids; ids stay
     * positions in the whole input list, so slices share one journal */
    size_t lo = 0, hi = job->inputs.n;
    if (o->slices > 1) {
        lo = (size_t)((uint64_t)job->inputs.n * (uint64_t)o->slice / (uint64_t)o->slices);
        hi = (size_t)((uint64_t)job->inputs.n * (uint64_t)(o->slice + 1) / (uint64_t)o->slices);
    }
    int bad = job_pick_todo(job, journal, lo, hi);
    store_journal_free(journal);
    if (bad || job_check_models(job)) return 1;
    job_sort_base = job->inputs.v;
    qsort(job->todo, job->ntodo, sizeof *job->todo, job_cmp_size);
    if (o->slices > 1)
        q_log(Q_LOG_INFO, "slice %d/%d: documents %zu to %zu of %zu", o->slice, o->slices, lo,
              hi ? hi - 1 : 0, job->inputs.n);
    if (job->resumed)
        q_log(Q_LOG_INFO, "resuming: %llu of %llu documents already done in %s/journal, %zu to do",
              (unsigned long long)job->resumed, (unsigned long long)job->total, o->out_dir,
              job->ntodo);
    else
        q_log(Q_LOG_INFO, "%llu documents to do, %d rank%s", (unsigned long long)job->total,
              job->size, job->size > 1 ? "s (rank 0 dispatches)" : "");
    return 0;
}

/* COLLECTIVE: the largest of every rank's `code`, without spinning. */
static q_status job_agree(run_job *job, int code, int *worst) {
    MPI_Request req;
    int rc = MPI_Iallreduce(&code, worst, 1, MPI_INT, MPI_MAX, job->comm, &req);
    if (rc != MPI_SUCCESS) return run_mpi_fail(rc, "MPI_Iallreduce");
    return run_wait(&req, NULL);
}

/* COLLECTIVE: whether any rank failed (st != Q_OK there). When one did, rank
 * 0 prints the lowest failing rank's message, followed by `after`, as the
 * job's one line on what went wrong; a failing rank prints its own message
 * only when it could not be sent. Returns 1 when the job must exit 1. */
static int job_agree_cause(run_job *job, q_status st, const char *after) {
    enum { CAUSE_MAX = 1200 };
    char cause[CAUSE_MAX] = "";
    if (st && job->size > 1)
        snprintf(cause, sizeof cause, "rank %d on %s: %s", job->rank, job->role.host, q_errmsg());
    else if (st)
        snprintf(cause, sizeof cause, "%s", q_errmsg());
    int mine = st ? job->rank : job->size, first = job->size;
    MPI_Request req;
    int rc = MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, job->comm, &req);
    q_status ms = rc == MPI_SUCCESS ? run_wait(&req, NULL) : run_mpi_fail(rc, "MPI_Iallreduce");
    if (!ms && first < job->size && first != 0) {
        rc = MPI_Ibcast(cause, CAUSE_MAX, MPI_CHAR, first, job->comm, &req);
        ms = rc == MPI_SUCCESS ? run_wait(&req, NULL) : run_mpi_fail(rc, "MPI_Ibcast");
    }
    if (ms) { /* no agreement: every rank says what it knows */
        if (st) q_log(Q_LOG_ERROR, "%s%s", cause, after);
        q_log(Q_LOG_ERROR, "%s", q_errmsg());
        return 1;
    }
    cause[CAUSE_MAX - 1] = 0;
    if (first < job->size && job->rank == 0) q_log(Q_LOG_ERROR, "%s%s", cause, after);
    return first < job->size;
}

/* COLLECTIVE: rank 0's string to every rank (into `b`). */
static q_status job_bcast_str(run_job *job, q_buf *b) {
    unsigned long long len = b->len;
    MPI_Request req;
    int rc = MPI_Ibcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, job->comm, &req);
    q_status st = rc == MPI_SUCCESS ? run_wait(&req, NULL) : run_mpi_fail(rc, "MPI_Ibcast");
    if (!st && job->rank != 0) {
        q_buf_clear(b);
        if (!(st = q_buf_reserve(b, (size_t)len))) b->len = (size_t)len, b->data[len] = 0;
    }
    if (!st && len) {
        rc = MPI_Ibcast(b->data, (int)len, MPI_CHAR, 0, job->comm, &req);
        st = rc == MPI_SUCCESS ? run_wait(&req, NULL) : run_mpi_fail(rc, "MPI_Ibcast");
    }
    return st;
}

/* COLLECTIVE: results.h5, with /ranks from every rank's accounting, whose
 * rows rank 0 keeps in *ranks for the summary (the caller frees them). */
static q_status job_consolidate(run_job *job, store_rank_row **ranks) {
    q_buf models = {0}, config = {0};
    q_status st = run_stats_gather(job, ranks);
    if (!st && job->rank == 0) {
        char dirbuf[4096];
        const char *dir = run_models_dir(job->opt->models_dir, dirbuf, sizeof dirbuf);
        st = run_models_json(dir, &models);
        if (!st) st = run_config_json(job->opt, job->size, job->inputs.n, &config);
    }
    int worst = 0;
    if (job_agree(job, st ? 1 : 0, &worst) || worst) goto done;
    if ((st = job_bcast_str(job, &models)) || (st = job_bcast_str(job, &config))) goto done;
    store_meta meta = {.quire_version = q_version,
                       .models_json = models.data ? models.data : "{}",
                       .config_json = config.data ? config.data : "{}"};
    st = store_consolidate_ranks(job->comm, job->opt->out_dir, &meta, *ranks,
                                 *ranks ? (size_t)job->size : 0);
done:
    q_buf_free(&models);
    q_buf_free(&config);
    return st;
}

/* COLLECTIVE: the work phase. Every rank that takes documents first opens
 * its journal, agreed on before any document is handed out: a rank that
 * cannot write --out fails the job at once instead of leaving rank 0 waiting
 * for its requests. Then each rank works, coordinates or serves OCR. Returns
 * 1 when the job must exit 1 (rank 0 has printed why). */
static int job_work_phase(run_job *job) {
    run_worker *worker = NULL;
    int takes = job->size == 1 || (job->rank != 0 && run_role_asks(&job->role));
    q_status st = Q_OK;
    if (run_alive_start(job->comm, job->opt->peer_timeout))
        st = Q_FAIL(Q_ERR_NOMEM, "cannot set up the watch over the job's ranks");
    if (!st && takes) st = run_worker_new(job, &worker);
    if (job_agree_cause(job, st, "")) {
        run_alive_stop();
        run_worker_free(worker);
        return 1;
    }
    run_stats_begin(); /* every rank leaves the agreement together */
    if (takes)
        st = run_work(job, worker);
    else
        st = job->rank == 0 ? run_coordinate(job) : run_ocr_serve(job);
    run_stats_end();
    /* agreed on before the worker is freed: closing its shard could replace
     * the error record with a later failure than the first */
    int failed = job_agree_cause(job, st,
                                 "; the job stopped: documents in closed journal shards are kept "
                                 "and a rerun with the same --out resumes from them");
    run_alive_stop();        /* every rank is past the work phase: nobody waits on a lost peer */
    run_worker_free(worker); /* the OCR engine's memory, before consolidation */
    return failed;
}

static void job_summary(const run_job *job, double seconds, double writing) {
    const run_counts *c = &job->counts;
    q_log(Q_LOG_INFO,
          "done: %zu documents in %s/results.h5 (%llu this run, %llu resumed, %llu failed this "
          "run); this run: %llu pages (%llu text, %llu ocr, %llu failed), %llu lines in %.1f s "
          "(results.h5 written in %.2f s)",
          job->inputs.n, job->opt->out_dir, (unsigned long long)c->docs,
          (unsigned long long)job->resumed, (unsigned long long)c->docs_failed,
          (unsigned long long)c->pages, (unsigned long long)c->text_pages,
          (unsigned long long)c->ocr_pages, (unsigned long long)c->failed_pages,
          (unsigned long long)c->lines, seconds, writing);
}

int run_main(const run_options *o) {
    /* CPU ranks fork reader processes (child.c): on InfiniBand, libibverbs
     * keeps memory it registered for MPI out of the child only when told so
     * before it starts */
    setenv("RDMAV_FORK_SAFE", "1", 0);
    setenv("IBV_FORK_SAFE", "1", 0);
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) {
        fprintf(stderr,
                "quire: cannot start MPI (error %d): run under mpirun/srun, or check the "
                "Open MPI installation\n",
                rc);
        return 1;
    }
    run_job job = {.opt = o, .t_start = q_now()};
    store_rank_row *ranks = NULL; /* rank 0: /ranks, for the summary */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &job.rank);
    q_log_init(job.rank, o->quiet ? Q_LOG_WARN : Q_LOG_INFO);
    if (run_nodes_check()) { /* before the first message, which would crash */
        q_log(Q_LOG_ERROR, "%s", q_errmsg());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &job.comm);
    MPI_Comm_set_errhandler(job.comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(job.comm, &job.rank);
    MPI_Comm_size(job.comm, &job.size);
    run_stop_install(); /* after MPI_Init, which may set its own handlers */

    int exit_code = job.rank == 0 ? job_prepare(&job) : 0;
    int worst = 0;
    q_status st = job_agree(&job, exit_code, &worst);
    if (st || worst) {
        exit_code = st ? 1 : worst;
        goto out;
    }
    st = run_roles_decide(job.comm, o->gpus, &job.role);
    if (job.rank == 0) job.asks = calloc((size_t)job.size, 1);
    if (!st) st = run_roles_print(job.comm, &job.role, job.asks);
    /* after the collective, so that a failure here is agreed on, not a hang */
    if (!st && job.rank == 0 && !job.asks)
        st = Q_FAIL(Q_ERR_NOMEM, "out of memory for %d ranks", job.size);
    if (st) q_log(Q_LOG_ERROR, "deciding roles: %s", q_errmsg());
    if (job_agree(&job, st ? 1 : 0, &worst) || worst) {
        exit_code = 1;
        goto out;
    }

    if (job_work_phase(&job)) {
        exit_code = 1;
        goto out;
    }
    /* Stopped by a signal with work left, or one slice of several: the
     * journal holds this run's documents; results.h5 waits for the rest. */
    if (job_agree(&job, job.halted, &worst)) {
        exit_code = 1;
        goto out;
    }
    if (worst || o->slices > 1) {
        if (job.rank == 0) {
            run_report_print(&job);
            if (worst)
                q_log(Q_LOG_WARN,
                      "stopped: %llu documents done in this run are in closed journal shards; "
                      "rerun (or requeue) with the same --out and inputs to resume",
                      (unsigned long long)job.counts.docs);
            else
                q_log(Q_LOG_INFO,
                      "slice %d/%d done (%llu documents this run); results.h5 is written by a "
                      "run over all inputs without --slice once every slice is done",
                      o->slice, o->slices, (unsigned long long)job.counts.docs);
        }
        goto out;
    }

    double t_write = q_now();
    st = job_consolidate(&job, &ranks);
    /* one line, from rank 0: consolidation agrees its errors, so every rank
     * holds the same one */
    if (job_agree_cause(&job, st, "; the previous results.h5, if any, is unchanged")) {
        exit_code = 1;
        goto out;
    }
    if (job.rank == 0) {
        job_summary(&job, q_now() - job.t_start, q_now() - t_write);
        run_report_print(&job);
        run_report_ranks(ranks, ranks ? (size_t)job.size : 0);
    }
out:
    free(ranks);
    run_report_free(&job.report);
    run_inputs_free(&job.inputs);
    free(job.todo);
    free(job.asks);
    MPI_Comm_free(&job.comm);
    MPI_Finalize();
    return exit_code;
}

void run_info_print_mpi(void) {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (MPI_Get_library_version(version, &len) == MPI_SUCCESS) {
        char *nl = strchr(version, '\n');
        if (nl) *nl = 0;
        printf("mpi:       %s\n", version);
    }
}

void run_info_print(int gpus) {
    run_info_print_mpi();
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK",
                                       "SLURM_PROCID",         "SLURM_LOCALID",
                                       "CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID"};
    for (size_t i = 0; i < Q_ARRAY_LEN(vars); i++) {
        const char *v = getenv(vars[i]);
        if (v) printf("env:       %s=%s\n", vars[i], v);
    }
    run_role r;
    run_role_from_env(gpus, &r);
    printf("gpus:      %d visible", run_gpus_visible(-1, NULL, 0));
    if (getenv("CUDA_VISIBLE_DEVICES"))
        printf(" (CUDA_VISIBLE_DEVICES=%s)", getenv("CUDA_VISIBLE_DEVICES"));
    printf(", %d GPU rank%s on this node%s\n", r.node_gpus, r.node_gpus == 1 ? "" : "s",
           gpus >= 0 ? " (--gpus)" : "");
    printf("role:      %-20s %6s %6s  %-12s %s\n", "host", "rank", "local", "role", "device");
    char dev[64];
    if (r.device >= 0)
        snprintf(dev, sizeof dev, "cuda:%d (%s)", r.device, r.device_name);
    else
        snprintf(dev, sizeof dev, "-");
    printf("           %-20s %6d %6d  %-12s %s\n", r.host, r.rank, r.local_rank,
           run_role_name(r.kind), dev);
}

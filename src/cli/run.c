/* `quire run`: option parsing; the job itself is run_main. Every rank parses
 * the same arguments; only the rank that will be 0 prints usage errors. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/run.h"

static const char run_help[] =
    "usage: quire run [options] INPUT...\n"
    "       mpirun -np N quire run [options] INPUT...\n"
    "\n"
    "Processes documents into OUT/results.h5. INPUT is a file or a folder (walked\n"
    "recursively for .pdf .tif .tiff .png .jpg .jpeg; hidden files skipped). Files are\n"
    "recognised by their bytes, not their names. Every input gets one record in\n"
    "/documents, bad ones with status=error and the reason. A rerun with the same --out\n"
    "skips documents already done (resume) and retries those that failed for a\n"
    "reason a rerun may not meet (see --no-retry); --force starts over.\n"
    "\n"
    "With N > 1 ranks, rank 0 hands out documents (largest first) and the others\n"
    "process them; a single process does everything itself. On each node the first\n"
    "--gpus ranks (rank 0 left out) are GPU ranks: the node's other ranks send them\n"
    "the pixels of pages that need OCR, and they read those pages in batches.\n"
    "\n"
    "options:\n"
    "  -o, --out DIR          output folder (default quire-out): results.h5, journal/\n"
    "  -m, --manifest FILE    read inputs from FILE, one path per line ('#' comments)\n"
    "      --gpus auto|N      GPU ranks per node (default auto: the GPUs visible;\n"
    "                         0: every rank runs OCR itself on the CPU)\n"
    "      (the OCR options below; --threads defaults to the node's cores shared by\n"
    "       its ranks)\n"
    "      --timeout SECONDS  per-document time limit; status=timeout after it (default none)\n"
    "      --max-memory SIZE  memory one document may take (its reader process), e.g. 4G;\n"
    "                         above it the document fails with 'out of memory' (default:\n"
    "                         the node's memory shared by its ranks, at least 2G; 0: none)\n"
    "      --batch N          documents per work request (default automatic)\n"
    "      --force            ignore and delete the journal and results in --out\n"
    "      --no-retry         keep documents that failed in an earlier run as they are;\n"
    "                         by default a rerun retries those whose failure is marked\n"
    "                         retryable (timeout, out of memory, crashed reader)\n"
    "      --retry-failed     retry every document that failed in an earlier run\n"
    "      --redo-ocr         OCR pages whose text layer is invisible text over a scan\n"
    "      --progress SECONDS interval of progress lines from rank 0 (default 5)\n"
    "      --shard-docs N     close a journal shard after N documents (default 100)\n"
    "      --shard-seconds S  ... or after S seconds (default 30)\n"
    "      --slice K/N        only the K-th of N equal slices of the inputs (K from 0);\n"
    "                         slices share --out; a run without --slice writes results.h5\n"
    "      --peer-timeout S   a rank not heard from for S seconds (stopped, hung, its node\n"
    "                         lost) stops the job with exit 1 (default 300; 0: never)\n"
    "  -q, --quiet            only warnings, errors and the end-of-job summary\n"
    "  -h, --help             this help\n"
    "  -V, --version          print quire's version and exit\n"
    "\n"
    "%s"
    "\n"
    "Each rank reads documents in a reader process of its own: a document that\n"
    "crashes it twice, overruns --timeout or --max-memory is an error record and the\n"
    "rank goes on. Finished records are on disk at once (OUT/journal/*.rlog): a kill of\n"
    "any process loses only the documents in flight; the rerun recovers the rest.\n"
    "SIGUSR1 (Slurm's warning before the time limit): every rank finishes the document\n"
    "it has, closes its journal shard and the job exits 0 without results.h5; SIGTERM\n"
    "or SIGINT: the same, abandoning the documents in flight (a second SIGINT kills).\n"
    "A rerun (or requeued job) with the same --out resumes.\n"
    "\n"
    "exit status: 0 when every document got a record (failed documents are records\n"
    "too) or the job was stopped by a signal, 1 on a fatal error (unwritable output,\n"
    "damaged journal), 2 on a usage error.\n";

enum {
    OPT_GPUS = 256,
    OPT_TIMEOUT,
    OPT_BATCH,
    OPT_FORCE,
    OPT_NO_RETRY,
    OPT_RETRY_FAILED,
    OPT_REDO_OCR,
    OPT_PROGRESS,
    OPT_SHARD_DOCS,
    OPT_SHARD_SECONDS,
    OPT_SLICE,
    OPT_MAX_MEMORY,
    OPT_PEER_TIMEOUT,
};

/* "4G", "512M", "1.5g", "1000000" (bytes); 0 = no limit. */
static int run_parse_size(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    static const char units[] = "kmgt";
    const char *u = *end ? strchr(units, *end | 0x20) : NULL;
    if (u && *end) {
        for (const char *k = units; k <= u; k++)
            v *= 1024;
        end++;
        if ((*end | 0x20) == 'b') end++;
    }
    if (!*s || *end || !(v >= 0) || v > 1e18) return -1;
    *out = v;
    return 0;
}

static int run_parse_seconds(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= 0) || v > 1e9) return -1;
    *out = v;
    return 0;
}

int cli_run(int argc, char **argv) {
    static const struct option longs[] = {
        {"out", required_argument, 0, 'o'},
        {"manifest", required_argument, 0, 'm'},
        CLI_OCR_LONG_OPTIONS,
        {"gpus", required_argument, 0, OPT_GPUS},
        {"timeout", required_argument, 0, OPT_TIMEOUT},
        {"max-memory", required_argument, 0, OPT_MAX_MEMORY},
        {"batch", required_argument, 0, OPT_BATCH},
        {"force", no_argument, 0, OPT_FORCE},
        {"no-retry", no_argument, 0, OPT_NO_RETRY},
        {"retry-failed", no_argument, 0, OPT_RETRY_FAILED},
        {"redo-ocr", no_argument, 0, OPT_REDO_OCR},
        {"progress", required_argument, 0, OPT_PROGRESS},
        {"shard-docs", required_argument, 0, OPT_SHARD_DOCS},
        {"shard-seconds", required_argument, 0, OPT_SHARD_SECONDS},
        {"slice", required_argument, 0, OPT_SLICE},
        {"peer-timeout", required_argument, 0, OPT_PEER_TIMEOUT},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    run_options o;
    run_options_default(&o);
    doc_options dopt = {.dpi = o.dpi, .max_pixels = o.max_pixels};
    int quiet_errors = run_env_rank() != 0;
    long v;
    int c;
    opterr = 0;
    optind = 1;
#define RUN_USAGE(...) (quiet_errors ? CLI_USAGE : cli_usage_error("run", __VA_ARGS__))
    while ((c = getopt_long(argc, argv, "o:m:qhV", longs, NULL)) != -1) {
        const char *why = NULL;
        int r = cli_ocr_opt(c, optarg, &o.ocr, &dopt, &why);
        if (r < 0) return RUN_USAGE("%s, not '%s'", why, optarg);
        if (r == 0) continue;
        switch (c) {
        case 'o':
            o.out_dir = optarg;
            break;
        case 'm':
            o.manifest = optarg;
            break;
        case OPT_GPUS:
            if (!strcmp(optarg, "auto"))
                o.gpus = -1;
            else if (cli_parse_long(optarg, 0, 64, &v))
                return RUN_USAGE("--gpus wants 'auto' or a number from 0 to 64, not '%s'", optarg);
            else
                o.gpus = (int)v;
            break;
        case OPT_TIMEOUT:
            if (run_parse_seconds(optarg, &o.timeout))
                return RUN_USAGE("--timeout wants seconds (0 = none), not '%s'", optarg);
            break;
        case OPT_MAX_MEMORY:
            if (run_parse_size(optarg, &o.max_memory))
                return RUN_USAGE("--max-memory wants a size such as 4G or 512M (0 = no limit), "
                                 "not '%s'",
                                 optarg);
            break;
        case OPT_BATCH:
            if (cli_parse_long(optarg, 0, 1024, &v))
                return RUN_USAGE("--batch wants a number from 0 (automatic) to 1024, not '%s'",
                                 optarg);
            o.batch = (int)v;
            break;
        case OPT_FORCE:
            o.force = 1;
            break;
        case OPT_NO_RETRY:
            o.no_retry = 1;
            break;
        case OPT_RETRY_FAILED:
            o.retry_failed = 1;
            break;
        case OPT_REDO_OCR:
            o.redo_ocr = 1;
            break;
        case OPT_PROGRESS:
            if (run_parse_seconds(optarg, &o.progress_seconds) || o.progress_seconds < 0.1)
                return RUN_USAGE("--progress wants seconds (at least 0.1), not '%s'", optarg);
            break;
        case OPT_SHARD_DOCS:
            if (cli_parse_long(optarg, 1, 1000000, &v))
                return RUN_USAGE("--shard-docs wants a number from 1 to 1000000, not '%s'", optarg);
            o.shard_docs = (int)v;
            break;
        case OPT_SHARD_SECONDS:
            if (run_parse_seconds(optarg, &o.shard_seconds) || o.shard_seconds < 0.1)
                return RUN_USAGE("--shard-seconds wants seconds (at least 0.1), not '%s'", optarg);
            break;
        case OPT_PEER_TIMEOUT:
            if (run_parse_seconds(optarg, &o.peer_timeout) ||
                (o.peer_timeout > 0 && o.peer_timeout < 1))
                return RUN_USAGE("--peer-timeout wants seconds (at least 1; 0 = never), not '%s'",
                                 optarg);
            break;
        case OPT_SLICE: {
            int k = -1, n = 0, used = 0;
            if (sscanf(optarg, "%d/%d%n", &k, &n, &used) != 2 || optarg[used] || n < 1 ||
                n > 1000000 || k < 0 || k >= n)
                return RUN_USAGE("--slice wants K/N with 0 <= K < N, not '%s'", optarg);
            o.slice = k;
            o.slices = n;
            break;
        }
        case 'q':
            o.quiet = 1;
            break;
        case 'h':
            if (!quiet_errors) {
                /* one write(2): `quire run --help | grep -q X` must not die of
                 * SIGPIPE when grep leaves after the first of several */
                q_buf help = {0};
                if (q_buf_printf(&help, run_help, cli_ocr_help) == Q_OK) {
                    fflush(stdout);
                    if (write(STDOUT_FILENO, help.data, help.len) < 0) perror("quire run --help");
                }
                q_buf_free(&help);
            }
            return CLI_OK;
        case 'V':
            return quiet_errors ? CLI_OK : cli_version();
        default:
            return RUN_USAGE("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (o.force && o.slices > 1)
        return RUN_USAGE("--force with --slice would delete the other slices' work: clear --out "
                         "once, before submitting the slices");
#undef RUN_USAGE
    o.models_dir = o.ocr.models_dir;
    o.dpi = dopt.dpi;
    o.max_pixels = dopt.max_pixels;
    o.inputs = argv + optind;
    o.ninputs = argc - optind;
    if (o.ninputs == 0 && !o.manifest) {
        if (!quiet_errors)
            cli_usage_error("run", "no INPUT given: name files or folders, or --manifest FILE");
        return CLI_USAGE;
    }
    return run_main(&o);
}

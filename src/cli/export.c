/* `quire export`: a finished OUT (or its results.h5) to one file per
 * document in a folder, in one of the formats archives load. Runs alone or
 * under mpirun (each rank writes its share of the documents); every rank
 * parses the options, only rank 0 prints usage errors and the summary. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "export/export.h"
#include "run/run.h"

static const char export_help[] =
    "usage: quire export OUT|RESULTS.h5 --format FORMAT --to DIR [options]\n"
    "\n"
    "Writes one file per document of a finished run (OUT/results.h5) into DIR,\n"
    "named DDDDDD-NAME.EXT (the document id and the source's name). Documents\n"
    "whose record failed are skipped with their reason. Runs alone or under\n"
    "mpirun (the documents are shared out among the ranks).\n"
    "\n"
    "  -f, --format FORMAT  text   the text: lines in reading order, a blank line\n"
    "                              between blocks, a form feed between pages (.txt)\n"
    "                       jsonl  one JSON object per line of text: doc, page, block,\n"
    "                              line, bbox (points, origin top-left), confidence,\n"
    "                              text (.jsonl)\n"
    "                       hocr   hOCR 1.2 XHTML: pages, blocks, lines, words with\n"
    "                              boxes in 300-dpi pixels and confidences (.hocr)\n"
    "                       alto   ALTO 4.4 XML, measurements in mm10 (.alto.xml)\n"
    "                       pdf    searchable PDF: scans and images with an invisible\n"
    "                              text layer on each line; born-digital PDFs copied;\n"
    "                              needs the source files, unchanged (.pdf)\n"
    "  -t, --to DIR         output folder (created when missing)\n"
    "      --id N[,N...]    only these document ids (repeatable)\n"
    "      --path P         only documents whose recorded path is P or ends in /P\n"
    "                       (repeatable)\n"
    "  -q, --quiet          no per-document lines, only failures and the summary\n"
    "  -h, --help           this help\n"
    "  -V, --version        print quire's version and exit\n"
    "\n"
    "Exit status: 0 when every selected document was written or skipped for its\n"
    "failed record, 1 when some could not be written (or an --id/--path matched\n"
    "nothing, or results.h5 is unreadable), 2 on a usage error.\n";

typedef struct {
    export_options o;
    uint64_t *ids;
    size_t nids;
    char **paths;
    size_t npaths;
    int have_format, quiet;
} export_args;

/* Appends the ids of "N[,N...]"; returns 0, or -1 on a bad number. */
static int export_parse_ids(export_args *a, const char *s) {
    char *dup = strdup(s), *save = NULL;
    if (!dup) return -1;
    int bad = 0;
    for (char *t = strtok_r(dup, ",", &save); t && !bad; t = strtok_r(NULL, ",", &save)) {
        char *end;
        if (*t < '0' || *t > '9') bad = 1;
        unsigned long long v = bad ? 0 : strtoull(t, &end, 10);
        uint64_t *p = bad || *end ? NULL : realloc(a->ids, (a->nids + 1) * sizeof *p);
        if (!p)
            bad = 1;
        else
            a->ids = p, a->ids[a->nids++] = v;
    }
    free(dup);
    return bad || !a->nids ? -1 : 0;
}

/* Usage errors: printed by the first rank only (every rank parses). */
#define EXPORT_USAGE(...) (run_env_rank() != 0 ? CLI_USAGE : cli_usage_error("export", __VA_ARGS__))

/* Parses argv into *a; returns -1 to go on, or the exit status. */
static int export_parse(int argc, char **argv, export_args *a) {
    enum { OPT_ID = 2000, OPT_PATH };
    static const struct option longs[] = {
        {"format", required_argument, 0, 'f'}, {"to", required_argument, 0, 't'},
        {"id", required_argument, 0, OPT_ID},  {"path", required_argument, 0, OPT_PATH},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},      {0, 0, 0, 0}};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":f:t:qhV", longs, NULL)) != -1) {
        if (c == 'h') {
            fputs(export_help, stdout);
            return CLI_OK;
        } else if (c == 'V') {
            return cli_version();
        } else if (c == 'f') {
            if (export_format_parse(optarg, &a->o.format))
                return EXPORT_USAGE("unknown format '%s' (text, jsonl, hocr, alto, pdf)", optarg);
            a->have_format = 1;
        } else if (c == 't') {
            a->o.to = optarg;
        } else if (c == OPT_ID) {
            if (export_parse_ids(a, optarg))
                return EXPORT_USAGE("--id wants N[,N...] (document ids), not '%s'", optarg);
        } else if (c == OPT_PATH) {
            char **p = realloc(a->paths, (a->npaths + 1) * sizeof *p);
            if (!p) return EXPORT_USAGE("out of memory");
            a->paths = p, a->paths[a->npaths++] = optarg;
        } else if (c == 'q') {
            a->quiet = 1;
        } else if (c == ':') { /* the leading ':' of the option string: a value is missing */
            return EXPORT_USAGE("option '%s' needs a value", argv[optind - 1]);
        } else {
            return EXPORT_USAGE("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return EXPORT_USAGE("no OUT folder or results.h5 given");
    if (optind + 1 < argc)
        return EXPORT_USAGE("one OUT or results.h5 only (got '%s' too)", argv[optind + 1]);
    if (!a->have_format) return EXPORT_USAGE("--format is required");
    if (!a->o.to || !*a->o.to) return EXPORT_USAGE("--to DIR is required");
    if (a->nids && a->npaths) return EXPORT_USAGE("--id and --path do not combine");
    return -1;
}

/* OUT/results.h5 for a folder, the argument itself for a file. */
static void export_results_path(const char *arg, char *out, size_t cap) {
    struct stat sb;
    if (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode))
        q_path_join(out, cap, arg, "results.h5");
    else
        snprintf(out, cap, "%s", arg);
}

/* Adds up counts and --path hits over the ranks; rank 0 prints the summary. */
static int export_finish(export_args *a, export_counts *c, uint64_t *hits, q_status fatal) {
    size_t n = 5 + a->npaths;
    uint64_t *v = calloc(n, sizeof *v);
    if (!v) return CLI_FATAL;
    v[0] = c->written, v[1] = c->skipped, v[2] = c->failed, v[3] = fatal != Q_OK;
    v[4] = fatal != Q_OK && a->o.rank == 0;
    for (size_t i = 0; i < a->npaths; i++)
        v[5 + i] = hits[i];
    char why[1024];
    snprintf(why, sizeof why, "%s", fatal ? q_errmsg() : "");
    if (run_world_sum(v, n)) {
        q_log(Q_LOG_ERROR, "%s", q_errmsg());
        free(v);
        return CLI_FATAL;
    }
    /* the same fatal error on every rank (results.h5 unreadable) prints once */
    if (fatal && (a->o.rank == 0 || !v[4])) q_log(Q_LOG_ERROR, "%s", why);
    uint64_t unmatched = 0;
    for (size_t i = 0; i < a->npaths; i++)
        if (!v[5 + i]) {
            unmatched++;
            if (a->o.rank == 0)
                q_log(Q_LOG_WARN, "failed: no document's path matches '%s'", a->paths[i]);
        }
    if (a->o.rank == 0 && !v[3])
        q_log_always("export: %llu written, %llu skipped, %llu failed (%s in %s)",
                     (unsigned long long)v[0], (unsigned long long)v[1],
                     (unsigned long long)(v[2] + unmatched), export_format_name(a->o.format),
                     a->o.to);
    int code = v[3] || v[2] || unmatched ? CLI_FATAL : CLI_OK;
    free(v);
    return code;
}

int cli_export(int argc, char **argv) {
    export_args a = {.o = {.format = EXPORT_TEXT}};
    int code = export_parse(argc, argv, &a);
    if (code >= 0) {
        free(a.ids), free(a.paths);
        return code;
    }
    char results[4096];
    export_results_path(argv[optind], results, sizeof results);
    a.o.results = results;
    a.o.ids = a.ids, a.o.nids = a.nids;
    a.o.paths = a.paths, a.o.npaths = a.npaths;
    if (run_world_begin(&a.o.rank, &a.o.size)) {
        fprintf(stderr, "quire export: %s\n", q_errmsg());
        free(a.ids), free(a.paths);
        return CLI_FATAL;
    }
    q_log_init(a.o.rank, a.quiet ? Q_LOG_WARN : Q_LOG_INFO);
    export_counts c = {0};
    uint64_t *hits = calloc(a.npaths + 1, sizeof *hits);
    q_status st = hits ? export_run(&a.o, &c, hits) : Q_FAIL(Q_ERR_NOMEM, "out of memory");
    code = export_finish(&a, &c, hits, st);
    free(hits), free(a.ids), free(a.paths);
    run_world_end();
    return code;
}

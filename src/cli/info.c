/* `quire info`: what this build and this machine offer, so a user can check a
 * node before submitting a week-long job. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "doc/doc.h"
#include "run/run.h"
#include "store/store.h"

/* The versions, backends, GPUs and model files this process sees. */
static void info_block(const char *models) {
    printf("quire:     %s\n", q_version);
    printf("documents: %s\n", doc_version());
    printf("storage:   %s\n", store_version());
    nn_gpu_info g[16];
    int ngpu = 0;
    if (nn_gpu_list(g, (int)Q_ARRAY_LEN(g), &ngpu) != Q_OK) {
        printf("backends:  cpu (cuda: %s)\n", q_errmsg());
    } else {
        printf("backends:  cpu, cuda (%d GPU%s)\n", ngpu, ngpu == 1 ? "" : "s");
        for (int i = 0; i < ngpu && i < (int)Q_ARRAY_LEN(g); i++)
            printf("  cuda:%d   %s, %.1f GiB, compute capability %d.%d\n", g[i].index, g[i].name,
                   (double)g[i].memory_bytes / (1024.0 * 1024 * 1024), g[i].cc_major,
                   g[i].cc_minor);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("cpu cores: %ld\n", cores);
    char buf[4096];
    const char *dir = run_models_dir(models, buf, sizeof buf);
    printf("models:    %s\n", dir);
    for (size_t i = 0; i < RUN_MODEL_FILES; i++) {
        char path[4096], hex[65];
        if (q_path_join(path, sizeof path, dir, run_model_files[i]) || access(path, R_OK) != 0)
            printf("  missing  %s (run models/fetch.sh)\n", run_model_files[i]);
        else if (q_sha256_file(path, hex) != Q_OK)
            printf("  unreadable %s: %s\n", run_model_files[i], q_errmsg());
        else
            printf("  found    %s sha256 %s\n", run_model_files[i], hex);
    }
}

int cli_info(int argc, char **argv) {
    const char *models = NULL;
    int gpus = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts("usage: quire info [--models DIR] [--gpus auto|N] [-V, --version]\n\n"
                 "Prints versions, backends, GPUs seen, model files found (with SHA-256)\n"
                 "and the role this process would take (host, rank, role, device).\n"
                 "Under mpirun or srun it prints once, from rank 0: its block, then a\n"
                 "table of every rank's role as `quire run` would decide it, with the\n"
                 "GPUs each rank sees and whether its models folder holds the models.");
            return CLI_OK;
        } else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
            return cli_version();
        } else if (!strcmp(argv[i], "--models") && i + 1 < argc) {
            models = argv[++i];
        } else if (!strcmp(argv[i], "--gpus") && i + 1 < argc) {
            long v;
            const char *a = argv[++i];
            if (!strcmp(a, "auto"))
                gpus = -1;
            else if (cli_parse_long(a, 0, 64, &v))
                return cli_usage_error("info", "--gpus wants 'auto' or 0 to 64, not '%s'", a);
            else
                gpus = (int)v;
        } else {
            return cli_usage_error("info", "unknown argument '%s'", argv[i]);
        }
    }
    int rank, mpi = run_info_begin(&rank);
    if (rank == 0) info_block(models);
    return run_info_end(mpi, gpus, models) ? CLI_FATAL : CLI_OK;
}

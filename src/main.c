/* quire's entry point: picks the subcommand. Each subcommand lives in
 * src/cli/ and returns the exit status. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/util.h"

static const char main_usage[] =
    "usage: quire <command> [options] [arguments]\n"
    "\n"
    "Turns archives of documents into searchable text, on one workstation (mpirun)\n"
    "or a whole cluster (sbatch). Results land in OUT/results.h5 (HDF5).\n"
    "\n"
    "commands:\n"
    "  run    process documents: quire run [options] INPUT...   (under mpirun or alone)\n"
    "  text   print one document's text:   quire text FILE\n"
    "  ocr    print one image's OCR lines: quire ocr IMAGE\n"
    "  nn     run one ONNX model on one tensor: quire nn MODEL.onnx --input X.npy --output Y.npy\n"
    "  export write a finished run's documents as files: quire export OUT --format\n"
    "         text|jsonl|hocr|alto|pdf --to DIR   (under mpirun or alone)\n"
    "  info   versions, backends, GPUs, models and the roles quire would take\n"
    "\n"
    "options:\n"
    "  -h, --help     this help\n"
    "  -V, --version  print quire's version and exit\n"
    "\n"
    "'quire <command> --help' describes each command's options.\n";

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(main_usage, stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(main_usage, stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
        return cli_version();
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"run", cli_run}, {"export", cli_export}, {"text", cli_text},
                {"ocr", cli_ocr}, {"nn", cli_nn},         {"info", cli_info}};
    for (size_t i = 0; i < Q_ARRAY_LEN(cmds); i++)
        if (!strcmp(cmd, cmds[i].name)) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "quire: unknown command '%s'\n\n%s", cmd, main_usage);
    return CLI_USAGE;
}

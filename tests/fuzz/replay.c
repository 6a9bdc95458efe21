/* A main() for the fuzz targets where libFuzzer is not linked (gcc builds,
 * the CI's ASan pass): runs the target once on each file named, or on each
 * file of each folder named, in sorted order. Exits non-zero when a folder or
 * file cannot be read; a finding aborts the program as under libFuzzer. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t k; buf && (k = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) free(buf);
            buf = b;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        return -1;
    }
    /* an exact-size copy: ASan then sees a read one byte past the input */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) abort();
    memcpy(exact, buf, n);
    free(buf);
    fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_path(const char *path, int *count) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) return run_file(path) ? -1 : (++*count, 0);
    struct dirent **ents = NULL;
    int n = scandir(path, &ents, NULL, by_name), rc = n < 0 ? -1 : 0;
    for (int i = 0; i < n; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, ents[i]->d_name);
        if (ents[i]->d_name[0] != '.' && stat(sub, &sb) == 0 && S_ISREG(sb.st_mode)) {
            if (run_file(sub))
                rc = -1;
            else
                ++*count;
        }
        free(ents[i]);
    }
    free(ents);
    if (n < 0) perror(path);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0, count = 0;
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count)) rc = 1;
    printf("%s: %d inputs replayed, no finding\n", argv[0], count);
    return rc;
}

/* Helpers shared by the OCR post-processing tests (test_dbpost.c,
 * test_hostile.c): a CHECK that counts failures instead of stopping at the
 * first, and probability maps to draw on. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, __func__, #cond); \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* A w x h map of zeros; exits on no memory (a test has nothing to fall back on). */
static inline float *map_new(int w, int h) {
    float *m = calloc((size_t)w * (size_t)h, sizeof(*m));
    if (!m) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return m;
}

/* Shared by the libFuzzer targets of tests/fuzz: the entry points libFuzzer
 * calls, and the check that turns a broken contract into a finding. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A contract of the code under test does not hold: abort, which libFuzzer
 * (and the replay driver) report as a finding with this input. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Keeps a result the target computes only to read memory (every pixel of a
 * page) from being optimised away. */
static inline void fuzz_keep(unsigned v) {
    __asm__ volatile("" : : "r"(v) : "memory");
}

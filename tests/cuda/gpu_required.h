/* What a CUDA test does where no GPU is usable. CI has none, so by default the
 * test is skipped (exit 77). On a machine that has one, QUIRE_TEST_REQUIRE_GPU=1
 * turns "no usable GPU" into a failure (exit 1) that says why, so that a
 * broken driver, plugin or cuDNN cannot pass as a skip. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when the environment says this machine has a usable GPU. */
static inline int cuda_test_gpu_required(void) {
    const char *s = getenv("QUIRE_TEST_REQUIRE_GPU");
    return s && !strcmp(s, "1");
}

/* Prints `why` and returns the test's exit status for "no usable GPU":
 * 77 (skipped), or 1 under QUIRE_TEST_REQUIRE_GPU=1. */
static inline int cuda_test_no_gpu(const char *why) {
    if (cuda_test_gpu_required()) {
        printf("FAIL no usable GPU, but QUIRE_TEST_REQUIRE_GPU=1 says there is one: %s\n", why);
        return 1;
    }
    printf("%s: skipped (set QUIRE_TEST_REQUIRE_GPU=1 where a GPU must be used)\n", why);
    return 77;
}

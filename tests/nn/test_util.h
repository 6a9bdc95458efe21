/* Small helpers shared by the nn tests: a seeded PRNG (QUIRE_TEST_SEED),
 * buffers with canary values around them, and error measures. */
#pragma once

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t tu_state;

static inline uint64_t tu_seed_init(void) {
    const char *s = getenv("QUIRE_TEST_SEED");
    uint64_t seed = s && *s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
    tu_state = seed * 2654435761u + 1;
    printf("seed %llu (set QUIRE_TEST_SEED to repeat)\n", (unsigned long long)seed);
    return seed;
}

static inline uint32_t tu_rand(void) {
    tu_state ^= tu_state << 13;
    tu_state ^= tu_state >> 7;
    tu_state ^= tu_state << 17;
    return (uint32_t)(tu_state >> 11);
}

/* Integer in [lo, hi]. */
static inline int tu_int(int lo, int hi) {
    return lo + (int)(tu_rand() % (uint32_t)(hi - lo + 1));
}
static inline float tu_float(float lo, float hi) {
    return lo + (hi - lo) * (float)(tu_rand() % 1000000) / 1e6f;
}

static inline void tu_fill(float *p, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++)
        p[i] = tu_float(lo, hi);
}

/* A buffer of n floats with CANARY values before and after it. */
enum { TU_CANARY = 16 };
static const float tu_canary_value = -12345.678f;

static inline float *tu_alloc(size_t n) {
    float *p = malloc(sizeof(float) * (n + 2 * TU_CANARY));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n + 2 * TU_CANARY; i++)
        p[i] = tu_canary_value;
    return p + TU_CANARY;
}

/* 1 when the canaries around a tu_alloc buffer are intact. */
static inline int tu_canaries_ok(const float *p, size_t n) {
    for (int i = 1; i <= TU_CANARY; i++)
        if (p[-i] != tu_canary_value || p[n + (size_t)i - 1] != tu_canary_value) return 0;
    return 1;
}

static inline void tu_free(float *p) {
    if (p) free(p - TU_CANARY);
}

/* Normalised mean squared error of `got` against `want` (as ggml's
 * test-backend-ops); NaN/inf in either gives INFINITY. */
static inline double tu_nmse(const float *got, const float *want, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) || !isfinite(want[i])) return INFINITY;
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
    }
    return den > 0 ? num / den : num;
}

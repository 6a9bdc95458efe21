/* Word lists: compiled from text (duplicates, CRLF, blank and broken lines),
 * cached, the cache used while its source is unchanged, rebuilt when the
 * source changes or the cache is damaged or truncated (never trusted), a
 * missing language list named with its Debian package. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ocr/ocr_private.h"
#include "tests/ocr/ocr_test.h"

static char dir[4096];

static void write_file(const char *path, const char *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

/* Sets the file's modification time to `sec` (seconds since the epoch). */
static void set_mtime(const char *path, time_t sec) {
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    if (utimensat(AT_FDCWD, path, ts, 0)) perror(path);
}

static int has(const ocr_wordlist *wl, const char *w) {
    return ocr_wordlist_has(wl, w, strlen(w));
}

static void test_compile(void) {
    char src[4200];
    snprintf(src, sizeof src, "%s/list.txt", dir);
    const char text[] =
        "zebra\r\napple\n\napple\nhas space\nbad\xff\xfe\nfin \n\xc3\xa9t\xc3\xa9\nlast";
    write_file(src, text, sizeof text - 1);
    ocr_wordlist wl;
    CHECK(!ocr_wordlist_from_file(src, &wl));
    CHECK(wl.n == 5); /* zebra apple fin été last */
    CHECK(has(&wl, "zebra") && has(&wl, "apple") && has(&wl, "fin") && has(&wl, "last"));
    CHECK(has(&wl, "\xc3\xa9t\xc3\xa9"));
    CHECK(!has(&wl, "app") && !has(&wl, "apples") && !has(&wl, "") && !has(&wl, "has space"));
    ocr_wordlist_free(&wl);
    ocr_wordlist_free(NULL);
    CHECK(ocr_wordlist_from_file("/nonexistent/words", &wl) == Q_ERR_IO);
}

/* Loads src through the cache; returns whether it was compiled. */
static int load(const char *src, const char *cache, const char *word, int want_has) {
    ocr_wordlist wl;
    int built = -1;
    q_status st = ocr_wordlist_load(src, cache, &wl, &built);
    CHECK(!st);
    if (!st) CHECK(has(&wl, word) == want_has);
    ocr_wordlist_free(&wl);
    return built;
}

static void test_cache(void) {
    char src[4200], cache[4200], file[8400];
    snprintf(src, sizeof src, "%s/english", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(file, sizeof file, "%s/english.lex", cache);
    write_file(src, "one\ntwo\nthree\n", 14);
    set_mtime(src, 1000000000);
    remove(file);
    CHECK(load(src, cache, "two", 1) == 1); /* compiled and cached */
    CHECK(load(src, cache, "two", 1) == 0); /* from the cache */
    /* stale: same size, new time; then a new size */
    write_file(src, "one\nsix\nthree\n", 14);
    set_mtime(src, 1000000000);
    CHECK(load(src, cache, "six", 0) == 0); /* size and time match: the cache is used */
    set_mtime(src, 1000000100);
    CHECK(load(src, cache, "six", 1) == 1);
    write_file(src, "one\nsix\nthree\nfour\n", 19);
    set_mtime(src, 1000000100);
    CHECK(load(src, cache, "four", 1) == 1);
    CHECK(load(src, cache, "four", 1) == 0);
    /* damaged: one flipped bit in a word, in the header, or a truncated file */
    size_t n = 0;
    char *good = read_file(file, &n);
    CHECK(good && n > 80);
    if (!good || n <= 80) return;
    for (int k = 0; k < 3; k++) {
        char *bad = malloc(n);
        memcpy(bad, good, n);
        size_t len = n;
        if (k == 0) bad[n - 3] ^= 1; /* a letter of the last word */
        if (k == 1) bad[12] ^= 0x40; /* the word count */
        if (k == 2) len = n - 5;     /* cut short */
        write_file(file, bad, len);
        CHECK(load(src, cache, "four", 1) == 1);
        CHECK(load(src, cache, "four", 1) == 0); /* and rewritten whole */
        free(bad);
    }
    write_file(file, "", 0); /* empty */
    CHECK(load(src, cache, "four", 1) == 1);
    free(good);
    /* a cache folder that cannot be made: compiled, no error */
    char blocked[8400];
    snprintf(blocked, sizeof blocked, "%s/cache/english.lex/sub", dir);
    CHECK(load(src, blocked, "four", 1) == 1);
}

static void test_languages(void) {
    char d[4200], p[8400];
    snprintf(d, sizeof d, "%s/dict", dir);
    q_mkdirs(d);
    snprintf(p, sizeof p, "%s/american-english", d);
    write_file(p, "colour\ncolor\n", 13);
    snprintf(p, sizeof p, "%s/british-english", d);
    write_file(p, "colour\nlorry\n", 13);
    snprintf(p, sizeof p, "%s/french", d);
    write_file(p, "\xc3\xa9t\xc3\xa9\n", 5);
    setenv("QUIRE_DICT_DIR", d, 1);
    char cache[8400];
    snprintf(cache, sizeof cache, "%s/langcache", dir);
    ocr_lexicon *lx = NULL;
    CHECK(!ocr_lexicon_new(NULL, NULL, cache, &lx)); /* en */
    CHECK(lx && ocr_lexicon_has(lx, "lorry", 5) && ocr_lexicon_has(lx, "color", 5));
    CHECK(lx && !ocr_lexicon_has(lx, "\xc3\xa9t\xc3\xa9", 5) && !lx->accents);
    ocr_lexicon_free(lx);
    /* a user list adds words */
    snprintf(p, sizeof p, "%s/mine.txt", dir);
    write_file(p, "Quirewood\n", 10);
    CHECK(!ocr_lexicon_new("en,fr", p, cache, &lx));
    CHECK(lx && ocr_lexicon_has(lx, "Quirewood", 9) && ocr_lexicon_has(lx, "\xc3\xa9t\xc3\xa9", 5));
    CHECK(lx && lx->accents);
    ocr_lexicon_free(lx);
    /* German is not installed here: the error names the package */
    CHECK(ocr_lexicon_new("en,de", NULL, cache, &lx) == Q_ERR_IO && !lx);
    CHECK(strstr(q_errmsg(), "wngerman") && strstr(q_errmsg(), "--lang de"));
    CHECK(ocr_lexicon_new("en,xx", NULL, cache, &lx) == Q_ERR_USAGE && !lx);
    CHECK(ocr_lexicon_new("fr", "/nonexistent/words.txt", cache, &lx) == Q_ERR_IO && !lx);
    CHECK(strstr(q_errmsg(), "--words"));
    ocr_lexicon_free(NULL);
}

int main(void) {
    const char *tmp = getenv("QUIRE_TMP");
    snprintf(dir, sizeof dir, "%s/lexicon", tmp ? tmp : "/tmp/quire_test_lexicon");
    if (q_mkdirs(dir)) {
        fprintf(stderr, "%s\n", q_errmsg());
        return 1;
    }
    test_compile();
    test_cache();
    test_languages();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    puts("ocr_lexicon: all checks passed");
    return 0;
}

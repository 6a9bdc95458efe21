/* The languages quire has word lists for (Debian's w* packages), the
 * lexicon made of a --lang selection plus a user list, and its lookup with
 * the case rules of printed text: a sentence's first word and a heading in
 * capitals are still words of the list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"

typedef struct {
    const char *code;
    const char *files[2]; /* under the dictionary folder */
    const char *packages; /* what apt-get installs them from */
} lex_lang;

static const lex_lang langs[] = {
    {"en", {"american-english", "british-english"}, "wamerican and wbritish"},
    {"fr", {"french", NULL}, "wfrench"},
    {"de", {"ngerman", NULL}, "wngerman"},
    {"es", {"spanish", NULL}, "wspanish"},
    {"it", {"italian", NULL}, "witalian"},
};

/* The language of the code at s (n bytes), or NULL. */
static const lex_lang *find_lang(const char *s, size_t n) {
    for (size_t i = 0; i < Q_ARRAY_LEN(langs); i++)
        if (strlen(langs[i].code) == n && !memcmp(langs[i].code, s, n)) return &langs[i];
    return NULL;
}

const char *ocr_lang_check(const char *lang) {
    if (!lang) return NULL;
    if (!*lang) return "--lang takes language codes: en, fr, de, es, it (e.g. en,fr)";
    for (const char *s = lang;;) {
        const char *c = strchr(s, ',');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        if (!find_lang(s, n))
            return "--lang takes language codes separated by commas: en, fr, de, es, it";
        if (!c) return NULL;
        s = c + 1;
    }
}

void ocr_lexicon_cache_dir(const char *models_dir, char *out, size_t cap) {
    const char *env = getenv("QUIRE_LEXICON_CACHE");
    if (env && *env)
        snprintf(out, cap, "%s", env);
    else
        snprintf(out, cap, "%s/lexicon", models_dir ? models_dir : ".");
}

static q_status add_list(ocr_lexicon *lx, const char *path, const char *cache_dir, int cached) {
    ocr_wordlist *l = realloc(lx->lists, (lx->n + 1) * sizeof *l);
    if (!l) return Q_FAIL(Q_ERR_NOMEM, "out of memory for word lists");
    lx->lists = l;
    q_status st = cached ? ocr_wordlist_load(path, cache_dir, &l[lx->n], NULL)
                         : ocr_wordlist_from_file(path, &l[lx->n]);
    if (!st) lx->n++;
    return st;
}

q_status ocr_lexicon_new(const char *lang, const char *words, const char *cache_dir,
                         ocr_lexicon **out) {
    *out = NULL;
    if (!lang) lang = "en";
    const char *why = ocr_lang_check(lang);
    if (why) return Q_FAIL(Q_ERR_USAGE, "%s (not '%s')", why, lang);
    const char *dir = getenv("QUIRE_DICT_DIR");
    if (!dir || !*dir) dir = "/usr/share/dict";
    ocr_lexicon *lx = calloc(1, sizeof *lx);
    if (!lx) return Q_FAIL(Q_ERR_NOMEM, "out of memory");
    q_status st = Q_OK;
    for (const char *s = lang; !st && s;) {
        const char *c = strchr(s, ',');
        const lex_lang *L = find_lang(s, c ? (size_t)(c - s) : strlen(s));
        /* English words with accents are loanwords: in English text a bare
         * letter is more likely a name or a foreign word than a lost accent */
        lx->accents |= strcmp(L->code, "en") != 0;
        for (int k = 0; !st && k < 2 && L->files[k]; k++) {
            char path[4096];
            st = q_path_join(path, sizeof path, dir, L->files[k]);
            if (!st && add_list(lx, path, cache_dir, 1))
                st = Q_FAIL(q_errcode(),
                            "%s; the word list of --lang %s is not installed: apt-get install "
                            "%s (or leave %s out of --lang, or use --decode greedy)",
                            q_errmsg(), L->code, L->packages, L->code);
        }
        s = c ? c + 1 : NULL;
    }
    if (!st && words && add_list(lx, words, NULL, 0)) st = q_fail_context("--words");
    if (st) {
        ocr_lexicon_free(lx);
        return st;
    }
    *out = lx;
    return Q_OK;
}

void ocr_lexicon_free(ocr_lexicon *lx) {
    if (!lx) return;
    for (size_t i = 0; i < lx->n; i++)
        ocr_wordlist_free(&lx->lists[i]);
    free(lx->lists);
    free(lx);
}

static int any_has(const ocr_lexicon *lx, const char *w, size_t n) {
    for (size_t i = 0; i < lx->n; i++)
        if (ocr_wordlist_has(&lx->lists[i], w, n)) return 1;
    return 0;
}

/* Case of the letter at s[i] (ASCII, or Latin-1's two-byte letters):
 * 1 capital, -1 small, 0 not a cased letter; *len its bytes. */
static int letter_case(const unsigned char *s, size_t n, size_t i, size_t *len) {
    *len = 1;
    if (s[i] >= 'A' && s[i] <= 'Z') return 1;
    if (s[i] >= 'a' && s[i] <= 'z') return -1;
    if (s[i] == 0xC3 && i + 1 < n) {
        *len = 2;
        unsigned c = s[i + 1];
        if (c >= 0x80 && c <= 0x9E && c != 0x97) return 1;  /* À..Þ but × */
        if (c >= 0xA0 && c <= 0xBE && c != 0xB7) return -1; /* à..þ but ÷ */
    }
    return 0;
}

/* Sets the case of the letter at s[i] (see letter_case) to `to` (1 or -1). */
static void set_case(unsigned char *s, size_t i, int to) {
    if (s[i] == 0xC3)
        s[i + 1] = (unsigned char)(to > 0 ? s[i + 1] & ~0x20u : s[i + 1] | 0x20u);
    else
        s[i] = (unsigned char)(to > 0 ? s[i] & ~0x20u : s[i] | 0x20u);
}

int ocr_lexicon_has(const ocr_lexicon *lx, const char *w, size_t n) {
    if (!lx || !n) return 0;
    unsigned char b[256];
    size_t m = 0;
    /* U+2019 (right single quotation mark) is the apostrophe of print */
    for (size_t i = 0; i < n && m < sizeof b; i++) {
        if (i + 2 < n && !memcmp(w + i, "\xe2\x80\x99", 3)) {
            b[m++] = '\'';
            i += 2;
        } else {
            b[m++] = (unsigned char)w[i];
        }
    }
    if (m == sizeof b) return 0; /* not a word */
    if (any_has(lx, (const char *)b, m)) return 1;
    size_t caps = 0, smalls = 0, len;
    int first = letter_case(b, m, 0, &len);
    for (size_t i = 0; i < m; i += len) {
        int c = letter_case(b, m, i, &len);
        caps += c > 0;
        smalls += c < 0;
    }
    if (first <= 0 || (caps > 1 && smalls)) return 0; /* "iPhone", "McDonald": as written */
    for (size_t i = 0; i < m; i += len)
        if (letter_case(b, m, i, &len) > 0) set_case(b, i, -1);
    if (any_has(lx, (const char *)b, m)) return 1; /* "The", "THE" -> "the" */
    if (caps < 2) return 0;
    set_case(b, 0, 1);
    return any_has(lx, (const char *)b, m); /* "PARIS" -> "Paris" */
}

/* Spellings the recognizer cannot give, decided by the word lists: a
 * doubled letter read once ("miror"), a ligature glyph read as its first letter ("specifed" for
 * "specified": the fi, fl and ff ligatures of print) and an accented letter read as its bare letter
 * where the model's alphabet lacks it or misread it ("eleve" with the list of fr: "élève"; not with
 * English alone). A word the lexicon does not know is tried with one or two such changes; exactly
 * one spelling in the lexicon replaces it, none or several leave it as read. */
#include <string.h>

#include "ocr/ocr_private.h"

typedef struct {
    const char *bare;
    const char *alt[5];
} spell_alt;

/* What a letter as read may stand for. */
static const spell_alt alts[] = {
    {"f", {"fi", "fl", "ff", NULL}},
    {"e", {"\xc3\xa9", "\xc3\xa8", "\xc3\xaa", "\xc3\xab", NULL}}, /* é è ê ë */
    {"a", {"\xc3\xa0", "\xc3\xa2", "\xc3\xa4", "\xc3\xa1", NULL}}, /* à â ä á */
    {"o", {"\xc3\xb6", "\xc3\xb4", "\xc3\xb3", NULL}},             /* ö ô ó */
    {"u", {"\xc3\xbc", "\xc3\xbb", "\xc3\xb9", "\xc3\xba", NULL}}, /* ü û ù ú */
    {"i", {"\xc3\xae", "\xc3\xaf", "\xc3\xad", NULL}},             /* î ï í */
    {"c", {"\xc3\xa7", NULL}},                                     /* ç */
    {"n", {"\xc3\xb1", NULL}},                                     /* ñ */
    {"E", {"\xc3\x89", "\xc3\x88", "\xc3\x8a", NULL}},             /* É È Ê */
    {"A", {"\xc3\x80", "\xc3\x82", "\xc3\x84", NULL}},             /* À Â Ä */
    {"O", {"\xc3\x96", "\xc3\x94", NULL}},                         /* Ö Ô */
    {"U", {"\xc3\x9c", NULL}},                                     /* Ü */
    {"C", {"\xc3\x87", NULL}},                                     /* Ç */
};

/* A letter twice: CTC gives a repeated letter only with a blank step between
 * its two readings, and at a few steps per character the recognizer often
 * has none ("miror", "botle", "leter" in a typewriter face). */
static const char doubled[26][3] = {"aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh", "ii",
                                    "jj", "kk", "ll", "mm", "nn", "oo", "pp", "qq", "rr",
                                    "ss", "tt", "uu", "vv", "ww", "xx", "yy", "zz"};

/* The alternatives of s into alt (a NULL after the last). Tier 0: the
 * ligatures always, the accents with lx->accents (what the model's alphabet
 * cannot give: tried first, "appele" is "appelé" before "appelle"); tier 1:
 * a lower-case letter twice. */
static void alt_of(const ocr_lexicon *lx, const char *s, int tier, const char *alt[6]) {
    int k = 0;
    if (tier == 1 && s[0] >= 'a' && s[0] <= 'z' && !s[1]) alt[k++] = doubled[s[0] - 'a'];
    for (size_t i = 0; tier == 0 && i < (lx->accents ? Q_ARRAY_LEN(alts) : 1); i++)
        if (!strcmp(alts[i].bare, s))
            for (int x = 0; x < 5 && alts[i].alt[x]; x++)
                alt[k++] = alts[i].alt[x];
    alt[k] = NULL;
}

enum { SPELL_MAX = 32 }; /* characters of a word respelled, at most */

/* The word of strs[0..n) with strs[j] = a and strs[k] = b (j or k -1: no
 * change) is in the lexicon. */
static int known(const ocr_lexicon *lx, const ocr_beam_params *bp, const char **strs, int n, int j,
                 const char *a, int k, const char *b) {
    char w[SPELL_MAX * 8];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        const char *s = i == j ? a : i == k ? b : strs[i];
        size_t l = strlen(s);
        if (len + l > sizeof w) return 0;
        memcpy(w + len, s, l);
        len += l;
    }
    return ocr_beam_word_score(lx, bp, w, len, 0) == 0;
}

/* Spellings of strs[0..n) with `changes` (1 or 2) alternatives of `tier`
 * that are words: how many (counting stops at 2); the one found into
 * (*bj, *ba) and (*bk, *bb). */
static int spellings(const ocr_lexicon *lx, const ocr_beam_params *bp, const char **strs, int n,
                     int tier, int changes, int *bj, const char **ba, int *bk, const char **bb) {
    int hits = 0;
    for (int j = 0; j < n && hits < 2; j++) {
        const char *aj[6], *ak[6];
        alt_of(lx, strs[j], tier, aj);
        for (int x = 0; aj[x] && hits < 2; x++) {
            if (changes == 1) {
                if (known(lx, bp, strs, n, j, aj[x], -1, NULL)) hits++, *bj = j, *ba = aj[x];
                continue;
            }
            for (int k = j + 1; k < n && hits < 2; k++) {
                alt_of(lx, strs[k], tier, ak);
                for (int y = 0; ak[y] && hits < 2; y++)
                    if (known(lx, bp, strs, n, j, aj[x], k, ak[y]))
                        hits++, *bj = j, *ba = aj[x], *bk = k, *bb = ak[y];
            }
        }
    }
    return hits;
}

/* One word, strs[0..n): respelled in place when exactly one spelling with
 * one change of tier 0 (or, when none has one, two changes; or, when none
 * has two, a letter doubled) is a word. */
static void respell_word(const ocr_lexicon *lx, const ocr_beam_params *bp, const char **strs,
                         int n) {
    if (n > SPELL_MAX || known(lx, bp, strs, n, -1, NULL, -1, NULL)) return;
    static const int tiers[3][2] = {{0, 1}, {0, 2}, {1, 1}}; /* tier, changes */
    for (int t = 0; t < 3; t++) {
        int bj = -1, bk = -1;
        const char *ba = NULL, *bb = NULL;
        int hits = spellings(lx, bp, strs, n, tiers[t][0], tiers[t][1], &bj, &ba, &bk, &bb);
        if (hits == 1) {
            strs[bj] = ba;
            if (bk >= 0) strs[bk] = bb;
        }
        if (hits) return;
    }
}

void ocr_beam_respell(const ocr_lexicon *lx, const ocr_beam_params *bp, const char **strs, int n) {
    if (!lx) return;
    for (int a = 0; a < n;) {
        while (a < n && !strcmp(strs[a], " "))
            a++;
        int b = a;
        while (b < n && strcmp(strs[b], " "))
            b++;
        if (b > a) respell_word(lx, bp, strs + a, b - a);
        a = b;
    }
}

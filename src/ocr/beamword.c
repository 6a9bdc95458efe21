/* What a word costs the beam: nothing when the lexicon knows it or when it is
 * not the kind of word a lexicon could know (numbers, codes, URLs), nothing
 * when the recognizer read it clearly (a name, a rare word), a fixed
 * log-probability otherwise. An elided article or preposition before a word
 * of the list ("l'entrée") makes no non-word. Punctuation around a word, and hyphens and
 * slashes inside, are not part of the words looked up: the beam still
 * chooses them, by their probabilities alone. */
#include <string.h>

#include "ocr/ocr_private.h"

static int is_lead(const char *s, size_t n, size_t *len) {
    static const char *const lead[] = {
        "\"",           "'",        "(",        "[",       "{", "\xe2\x80\x9c",
        "\xe2\x80\x98", "\xc2\xab", "\xc2\xbf", "\xc2\xa1"}; /* “ ‘ « ¿ ¡ */
    for (size_t i = 0; i < Q_ARRAY_LEN(lead); i++) {
        *len = strlen(lead[i]);
        if (*len <= n && !memcmp(s, lead[i], *len)) return 1;
    }
    return 0;
}

static int is_trail(const char *s, size_t n, size_t *len) {
    static const char *const trail[] = {".",
                                        ",",
                                        ";",
                                        ":",
                                        "!",
                                        "?",
                                        ")",
                                        "]",
                                        "}",
                                        "\"",
                                        "'",
                                        "\xe2\x80\x9d",
                                        "\xe2\x80\x99",
                                        "\xc2\xbb",
                                        "\xe2\x80\xa6"}; /* ” ’ » … */
    for (size_t i = 0; i < Q_ARRAY_LEN(trail); i++) {
        *len = strlen(trail[i]);
        if (*len <= n && !memcmp(s + n - *len, trail[i], *len)) return 1;
    }
    return 0;
}

/* Counts the letters of w: ASCII ones, and any non-ASCII character
 * (accented and other scripts). 0 when w holds anything but letters, the
 * apostrophe, hyphens and slashes: digits, @, ., :, _ make it a number, code
 * or address that no word list holds. */
static int plain(const char *w, size_t n, size_t *letters) {
    *letters = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            ++*letters;
        else if (c >= 0x80)
            *letters += (c & 0xC0) != 0x80;
        else if (c != '\'' && c != '-' && c != '/')
            return 0;
    }
    return 1;
}

/* 1 when every part of w between hyphens and slashes is a word of lx (or
 * empty): "well-known", "and/or". */
static int parts_known(const ocr_lexicon *lx, const char *w, size_t n) {
    for (size_t s = 0; s <= n;) {
        size_t e = s;
        while (e < n && w[e] != '-' && w[e] != '/')
            e++;
        if (e > s && !ocr_lexicon_has(lx, w + s, e - s)) return 0;
        s = e + 1;
    }
    return 1;
}

/* Elision (French l', d', qu', lorsqu'; Italian dell', un'): a short head, an
 * apostrophe (' or U+2019), and a word of lx after it: "l'entrée",
 * "qu'il", "dell'anno". Word lists hold the word without its article; a
 * head of at most 4 letters, or one ending in "qu", is taken as elided. */
static int elided_known(const ocr_lexicon *lx, const char *w, size_t n) {
    for (size_t i = 1; i + 1 < n; i++) {
        size_t alen = w[i] == '\'' ? 1 : (n - i >= 3 && !memcmp(w + i, "\xe2\x80\x99", 3)) ? 3 : 0;
        if (!alen) continue;
        int qu = i >= 2 && (w[i - 2] | 0x20) == 'q' && (w[i - 1] | 0x20) == 'u';
        if (i > 4 && !qu) return 0;
        return i + alen < n && ocr_lexicon_has(lx, w + i + alen, n - i - alen);
    }
    return 0;
}

float ocr_beam_word_score(const ocr_lexicon *lx, const ocr_beam_params *bp, const char *w, size_t n,
                          float min_p) {
    if (!lx || min_p >= bp->clear) return 0;
    size_t len;
    while (n && is_lead(w, n, &len))
        w += len, n -= len;
    while (n && is_trail(w, n, &len))
        n -= len;
    size_t letters;
    if (!n || !plain(w, n, &letters) || !letters) return 0;
    if (ocr_lexicon_has(lx, w, n)) return 0;
    if ((memchr(w, '-', n) || memchr(w, '/', n)) && parts_known(lx, w, n)) return 0;
    if (elided_known(lx, w, n)) return 0;
    return bp->nonword_log;
}

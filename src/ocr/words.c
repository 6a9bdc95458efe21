/* Words the recognizer half-read, the mirror of numbers.c: a thin stroke
 * between lowercase letters read as 1 ("Tab1e"), a ring as 0 ("m0re"), a
 * word's first l as 1 ("1ightning"); and a final period read as the middle
 * dot of its Chinese dictionary ("memory·"). Without a language model the
 * network has nothing else to go on, and a digit inside a lowercase word, or
 * a middle dot after one, is not English. */
#include <ctype.h>
#include <string.h>

#include "ocr/ocr_private.h"

static const char middle_dot[] = "\xc2\xb7"; /* U+00B7 */

static int lower(const char *s, size_t n, size_t i) {
    return i < n && islower((unsigned char)s[i]);
}

/* One token (no spaces) of n bytes, in place, same length. */
static void fix_letters(char *s, size_t n) {
    static const char lead[] = "\"'([{", trail[] = ".,;:!?)]}\"'";
    while (n && *s && strchr(lead, *s))
        s++, n--;
    while (n && s[n - 1] && strchr(trail, s[n - 1]))
        n--;
    size_t letters = 0;
    for (size_t i = 0; i < n; i++) {
        if (isalpha((unsigned char)s[i]))
            letters++;
        else if (s[i] != '0' && s[i] != '1')
            return; /* other digits, signs or non-ASCII: not a plain word */
    }
    if (letters < 3 || letters == n) return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '0' && s[i] != '1') continue;
        /* between two lowercase letters, or first and followed by four */
        int inside = i > 0 && lower(s, n, i - 1) && lower(s, n, i + 1);
        int first = i == 0 && lower(s, n, 1) && lower(s, n, 2) && lower(s, n, 3) && lower(s, n, 4);
        if (!inside && !first) return; /* "1st", "B12", "10am": something else */
    }
    for (size_t i = 0; i < n; i++)
        if (s[i] == '0' || s[i] == '1') s[i] = s[i] == '1' ? 'l' : 'o';
}

size_t ocr_fix_words(char *s, size_t n) {
    ocr_each_token(s, n, fix_letters);
    /* "word·" at a token's end: a period */
    for (size_t i = 1; i + 1 < n; i++)
        if (!memcmp(s + i, middle_dot, 2) && (i + 2 == n || s[i + 2] == ' ') &&
            isalnum((unsigned char)s[i - 1])) {
            s[i] = '.';
            memmove(s + i + 1, s + i + 2, n - i - 2);
            n--;
        }
    return n;
}

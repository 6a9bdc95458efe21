/* Numbers the recognizer half-read: "1l05", "194l", "2o03". Its dictionary
 * holds Chinese and English, and without a language model it takes a thin
 * stroke for "l" or "I" and a ring for "o" or "O" as readily as for a digit.
 * In a token that is mostly digits those letters are the digits they look
 * like; dates and numbers are what archives are searched for. */
#include <string.h>

#include "ocr/ocr_private.h"

static int confusable(char c) {
    return c == 'l' || c == 'I' || c == 'o' || c == 'O';
}

/* Characters inside a number that neither count nor change ("12/05", "3.5"). */
static int neutral(char c) {
    return c == '.' || c == ',' || c == ':' || c == '/' || c == '-';
}

static void fix_token(char *s, size_t n) {
    static const char lead[] = "\"'([{", trail[] = ".,;:!?)]}\"'%";
    while (n && strchr(lead, *s) && *s)
        s++, n--;
    while (n && strchr(trail, s[n - 1]) && s[n - 1])
        n--;
    size_t digits = 0, letters = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else if (confusable(s[i]))
            letters++;
        else if (!neutral(s[i]))
            return; /* a real word, or something else */
    }
    if (digits < 2 || letters == 0 || letters > digits) return;
    for (size_t i = 0; i < n; i++)
        if (confusable(s[i])) s[i] = s[i] == 'l' || s[i] == 'I' ? '1' : '0';
}

void ocr_each_token(char *s, size_t n, void (*fix)(char *tok, size_t len)) {
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        if (j > i) fix(s + i, j - i);
        i = j;
    }
}

void ocr_fix_numbers(char *s, size_t n) {
    ocr_each_token(s, n, fix_token);
}

/* ocr_fix_words on hand-made lines: digits inside lowercase words become the
 * letters they look like, a word-final middle dot a period; numbers, codes,
 * ordinals and units stay as read. */
#include <stdio.h>
#include <string.h>

#include "ocr/ocr_private.h"

static int failed;

static void expect(const char *in, const char *want) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", in);
    size_t n = ocr_fix_words(buf, strlen(buf));
    buf[n] = 0;
    if (strcmp(buf, want)) {
        fprintf(stderr, "FAIL: '%s' -> '%s', want '%s'\n", in, buf, want);
        failed = 1;
    }
}

int main(void) {
    /* the recognizer's confusions seen on the benchmark pages */
    expect("the 1ightning. Tab1e 1ibrary,", "the lightning. Table library,");
    expect("m0re (c0ld) sh0w!", "more (cold) show!");
    expect("memory\xc2\xb7", "memory.");
    expect("a memory\xc2\xb7 then 12\xc2\xb7 x", "a memory. then 12. x");
    /* numbers, ordinals, units, codes and short tokens stay */
    expect("1st 21st 10th 10am 1pm 1min B12 H1N1 MP3", "1st 21st 10th 10am 1pm 1min B12 H1N1 MP3");
    expect("1990s 100kg 1000 0.5 l0 a1b", "1990s 100kg 1000 0.5 l0 a1b");
    expect("ABC1DEF x1y2z", "ABC1DEF x1y2z");
    /* middle dots that are not a period: alone, inside a word, after a space */
    expect("\xc2\xb7 l\xc2\xb7l a \xc2\xb7", "\xc2\xb7 l\xc2\xb7l a \xc2\xb7");
    expect("", "");
    expect("  ", "  ");
    if (!failed) printf("ok: ocr_fix_words\n");
    return failed;
}

/* The beam decoder on hand-made probability matrices, where the answer is
 * known: a lexicon word beats a close non-word, a clearly read word outside
 * the lexicon stays, numbers stay, and wherever the recognizer is certain the
 * beam gives exactly what greedy decoding gives (text, confidence and each
 * character's time steps), so that the fixes after decoding keep working. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr_private.h"
#include "tests/ocr/ocr_test.h"

/* classes: 0 blank, 1.. the dictionary below, then the space */
static const char dict_src[] = "t\nh\ne\nc\na\n1\n0\no\n,\n.\nx\nP\nM\nu\nl\nr\nT\n";
enum { MAXT = 64 };

static ocr_dict dict;
static ocr_lexicon lex;
static int C; /* classes */

static int cls(const char *s) {
    if (!strcmp(s, " ")) return C - 1;
    for (uint32_t i = 0; i < dict.n; i++)
        if (!strcmp(dict.chars.data + dict.off[i], s)) return (int)i + 1;
    fprintf(stderr, "no class for '%s'\n", s);
    exit(1);
}

/* A matrix from a spec: steps separated by spaces, each "x" (x certain),
 * "x:p" (x at p, the rest spread evenly), "x:p/y:q" (two classes), "-" a
 * certain blank, "_" (a space class) certain. */
static int matrix(const char *spec, float *m) {
    int t = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && t < MAXT;
         tok = strtok_r(NULL, " ", &save), t++) {
        float *row = m + t * C;
        int c[2] = {0, 0}, k = 0;
        float p[2] = {1, 0};
        for (char *s2 = NULL, *part = strtok_r(tok, "/", &s2); part && k < 2;
             part = strtok_r(NULL, "/", &s2), k++) {
            char *colon = strchr(part, ':');
            p[k] = colon ? strtof(colon + 1, NULL) : 1;
            if (colon) *colon = 0;
            c[k] = !strcmp(part, "-") ? 0 : !strcmp(part, "_") ? C - 1 : cls(part);
        }
        float rest = 1 - p[0] - (k > 1 ? p[1] : 0);
        int others = C - k;
        for (int j = 0; j < C; j++)
            row[j] = rest > 0 ? rest / others : 0;
        row[c[0]] = p[0];
        if (k > 1) row[c[1]] = p[1];
    }
    return t;
}

typedef struct {
    q_buf text;
    float conf;
    ocr_ctc_char ch[MAXT];
    size_t n;
    q_status st;
} decoded;

static void run(int beam, const float *m, int steps, decoded *d) {
    memset(d, 0, sizeof *d);
    ocr_beam_params bp;
    ocr_beam_params_default(&bp, 10);
    d->st = beam ? ocr_beam_decode(&dict, &lex, &bp, m, steps, C, &d->conf, &d->text, d->ch, &d->n)
                 : ocr_ctc_decode(&dict, m, steps, C, &d->conf, &d->text, d->ch, &d->n);
    if (!d->text.data) q_buf_puts(&d->text, "");
}

/* Greedy reads `greedy`, the beam `want`. */
static void expect(const char *spec, const char *greedy, const char *want) {
    float m[MAXT * 32];
    int steps = matrix(spec, m);
    decoded g, b;
    run(0, m, steps, &g);
    run(1, m, steps, &b);
    if (g.st || b.st || strcmp(g.text.data, greedy) || strcmp(b.text.data, want)) {
        fprintf(stderr, "'%s': greedy '%s' (want '%s'), beam '%s' (want '%s') %s\n", spec,
                g.text.data, greedy, b.text.data, want, b.st ? q_errmsg() : "");
        failures++;
    }
    q_buf_free(&g.text);
    q_buf_free(&b.text);
}

/* Both decoders give the same text, confidence and character steps. */
static void same(const char *spec, const char *want) {
    float m[MAXT * 32];
    int steps = matrix(spec, m);
    decoded g, b;
    run(0, m, steps, &g);
    run(1, m, steps, &b);
    CHECK(!g.st && !b.st);
    CHECK(!strcmp(g.text.data, want));
    CHECK(!strcmp(b.text.data, want));
    CHECK(fabsf(g.conf - b.conf) < 1e-6f);
    CHECK(g.n == b.n);
    for (size_t i = 0; i < g.n && i < b.n; i++)
        CHECK(g.ch[i].byte == b.ch[i].byte && g.ch[i].t0 == b.ch[i].t0 && g.ch[i].t1 == b.ch[i].t1);
    if (strcmp(b.text.data, want)) fprintf(stderr, "'%s': beam '%s'\n", spec, b.text.data);
    q_buf_free(&g.text);
    q_buf_free(&b.text);
}

static void test_lexicon_word_wins(void) {
    /* "thc" with a doubtful c that has some e in it: the word is "the" */
    expect("t - h - c:0.55/e:0.4 -", "thc", "the");
    /* in a line, with punctuation attached: "the," */
    expect("a - _ - t - h - c:0.55/e:0.4 - , -", "a thc,", "a the,");
    /* a capitalised first word is looked up in lowercase */
    expect("T:0.5/t:0.01 - h - c:0.6/e:0.35", "Thc", "The");
}

static void test_clear_word_stays(void) {
    /* "thx" read clearly (0.95) is kept although "the" is a word */
    expect("t - h - x:0.95/e:0.04 -", "thx", "thx");
    /* a name in capitals: clear, kept */
    expect("P - u - l - l:0.97/e:0.02 - a -", "Pulla", "Pulla");
}

static void test_numbers_stay(void) {
    /* "10" read with doubt where "to" is a word: a number is not a word */
    expect("1:0.6/t:0.35 - 0:0.6/o:0.35 -", "10", "10");
    expect("x - _ 1:0.6/t:0.35 0:0.6/o:0.35 .", "x 10.", "x 10.");
}

static void test_same_as_greedy(void) {
    /* certain steps: identical in every output, repeats and blanks included */
    same("t t - h e e - - _ c a a t - - _ 1 0 - 0", "the cat 100");
    same("- - M - M - r . - - _ x", "MMr. x");
    /* doubtful but a lexicon word either way: the same reading and steps */
    same("c:0.6 - a:0.7 a:0.5 t:0.8 - ,:0.9", "cat,");
}

static void test_empty(void) {
    decoded d;
    float m[MAXT * 32] = {0};
    run(1, m, 0, &d); /* no steps */
    CHECK(!d.st && !strcmp(d.text.data, "") && d.conf == 0 && d.n == 0);
    q_buf_free(&d.text);
    int steps = matrix("- - - - -", m);
    run(1, m, steps, &d);
    CHECK(!d.st && !strcmp(d.text.data, "") && d.conf == 0 && d.n == 0);
    q_buf_free(&d.text);
    steps = matrix("_ _ - _", m); /* spaces only: no word to score */
    run(1, m, steps, &d);
    CHECK(!d.st && !strcmp(d.text.data, "  "));
    q_buf_free(&d.text);
}

static void test_non_finite(void) {
    float m[MAXT * 32];
    int steps = matrix("t - h - e - x - x", m);
    /* a row of NaN says nothing; +inf reads as certain; -inf and negatives as 0 */
    for (int c = 0; c < C; c++) {
        m[1 * C + c] = NAN;
        m[7 * C + c] = c == 0 ? INFINITY : -INFINITY;
        m[8 * C + c] = -1.0f;
    }
    decoded d;
    run(1, m, steps, &d);
    CHECK(!d.st);
    CHECK(!strcmp(d.text.data, "thex"));
    CHECK(d.conf >= 0 && d.conf <= 1);
    q_buf_free(&d.text);
    for (int i = 0; i < steps * C; i++)
        m[i] = NAN;
    run(1, m, steps, &d);
    CHECK(!d.st && !strcmp(d.text.data, "") && d.conf == 0);
    q_buf_free(&d.text);
}

static void test_wrong_classes(void) {
    float m[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    decoded d;
    ocr_beam_params bp;
    ocr_beam_params_default(&bp, 4);
    q_buf text = {0};
    float conf;
    size_t n;
    CHECK(ocr_beam_decode(&dict, &lex, &bp, m, 1, 8, &conf, &text, d.ch, &n) == Q_ERR_FORMAT);
    q_buf_free(&text);
}

static void test_lexicon_case(void) {
    CHECK(ocr_lexicon_has(&lex, "the", 3));
    CHECK(ocr_lexicon_has(&lex, "The", 3));
    CHECK(ocr_lexicon_has(&lex, "THE", 3));
    CHECK(!ocr_lexicon_has(&lex, "tHe", 3));
    CHECK(ocr_lexicon_has(&lex, "Paris", 5));
    CHECK(ocr_lexicon_has(&lex, "PARIS", 5));
    CHECK(!ocr_lexicon_has(&lex, "paris", 5));
    CHECK(ocr_lexicon_has(&lex, "\xc3\x89t\xc3\xa9", 5)); /* "Été" -> "été" */
    CHECK(ocr_lexicon_has(&lex, "don\xe2\x80\x99t", 7));  /* curly apostrophe */
    CHECK(ocr_lang_check("en,fr,de") == NULL && ocr_lang_check(NULL) == NULL);
    CHECK(ocr_lang_check("en,xx") && ocr_lang_check("") && ocr_lang_check("en,"));
}

/* What a word costs: 0 or the non-word penalty. */
static void word_cost(const char *w, float min_p, int pays) {
    ocr_beam_params bp;
    ocr_beam_params_default(&bp, 10);
    float got = ocr_beam_word_score(&lex, &bp, w, strlen(w), min_p);
    if (got != (pays ? bp.nonword_log : 0)) {
        fprintf(stderr, "word '%s' (min p %.2f) costs %g, want %s\n", w, min_p, got,
                pays ? "the penalty" : "nothing");
        failures++;
    }
}

static void test_word_cost(void) {
    word_cost("thc", 0.5f, 1);
    word_cost("thc", 0.95f, 0);                        /* read clearly */
    word_cost("(the),", 0.5f, 0);                      /* punctuation around a word */
    word_cost("\xe2\x80\x9cthe\xe2\x80\x9d", 0.5f, 0); /* curly quotes */
    word_cost("\xe2\x80\x9cthc\xe2\x80\x9d", 0.5f, 1);
    word_cost("cat-to", 0.5f, 0); /* hyphenated words of the list */
    word_cost("cat/the", 0.5f, 0);
    word_cost("cat-thc", 0.5f, 1);
    word_cost("1990s", 0.1f, 0); /* numbers, codes, addresses */
    word_cost("A-12", 0.1f, 0);
    word_cost("http://thc.example", 0.1f, 0);
    word_cost("x@thc", 0.1f, 0);
    word_cost("...", 0.1f, 0);
    word_cost("", 0.1f, 0);
    word_cost("THE", 0.5f, 0);
    word_cost("tHE", 0.5f, 1);
    word_cost("l'cat", 0.5f, 0); /* elision: a short head, a word after it */
    word_cost("qu'cat", 0.5f, 0);
    word_cost("d\xe2\x80\x99"
              "cat",
              0.5f, 0);
    word_cost("l'thc", 0.5f, 1);
    word_cost("lorsqu'cat", 0.5f, 0);
    word_cost("thcthc'cat", 0.5f, 1); /* a long head is no elision */
    word_cost("l'", 0.5f, 1);
}

/* Respells the word given as characters (space-separated in `in`). */
static void respell(const char *in, const char *want) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", in);
    const char *strs[64];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && n < 64;
         tok = strtok_r(NULL, " ", &save))
        strs[n++] = !strcmp(tok, "_") ? " " : tok;
    ocr_beam_params bp;
    ocr_beam_params_default(&bp, 10);
    ocr_beam_respell(&lex, &bp, strs, n);
    char got[512] = "";
    for (int i = 0; i < n; i++)
        strncat(got, strs[i], sizeof got - strlen(got) - 1);
    if (strcmp(got, want)) {
        fprintf(stderr, "respell '%s': '%s', want '%s'\n", in, got, want);
        failures++;
    }
}

static void test_respell(void) {
    /* a ligature read as its f: the lexicon has the word with fi */
    respell("s p e c i f e d", "specified");
    respell("t h e _ f e l d ,", "the field,");
    /* accents the model's alphabet lacks, two at once; only with a language
     * other than English */
    respell("e t e", "ete");
    lex.accents = 1;
    respell("e t e", "\xc3\xa9t\xc3\xa9");
    /* two readings are words: left as read; a known word and a number stay */
    respell("f e x", "fex");
    respell("t h e _ 1 0", "the 10");
    /* a doubled letter read once (CTC needs a blank step between the two) */
    respell("m i r o r", "mirror");
    respell("b o t l e ,", "bottle,");
    respell("t h e _ l e t e r", "the letter");
    /* a known word stays; two doublings that are words: left as read */
    respell("d i n e r", "diner");
    respell("b e s", "bes");
    /* an accent the alphabet lacks comes before a doubled letter: "hôte", not "hotte" */
    respell("h o t e", "h\xc3\xb4te");
    /* a long word is not tried */
    respell("f e l d f e l d f e l d f e l d f e l d f e l d f e l d f e l d",
            "feldfeldfeldfeldfeldfeldfeldfeld");
}

/* Random matrices, some with NaN, infinities and negatives: the beam never
 * fails on them and its characters' steps are ordered and disjoint. */
static void test_random(void) {
    static float m[MAXT * 32];
    unsigned seed = 12345;
    for (int iter = 0; iter < 300; iter++) {
        int steps = 1 + iter % MAXT;
        for (int i = 0; i < steps * C; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            m[i] = (float)(r % 1000) / 1000.0f * ((r % 7) ? 0.3f : 1.0f);
            if (r % 97 == 0) m[i] = NAN;
            if (r % 89 == 0) m[i] = (r & 1) ? INFINITY : -INFINITY;
            if (r % 83 == 0) m[i] = -0.5f;
        }
        decoded d;
        run(1, m, steps, &d);
        CHECK(!d.st);
        CHECK(d.n <= (size_t)steps && d.conf >= 0 && d.conf <= 1);
        CHECK(q_utf8_valid(d.text.data, d.text.len));
        for (size_t i = 0; i < d.n; i++) {
            CHECK(d.ch[i].t0 <= d.ch[i].t1 && d.ch[i].t1 < steps && d.ch[i].byte < d.text.len);
            if (i) CHECK(d.ch[i - 1].t1 < d.ch[i].t0 && d.ch[i - 1].byte < d.ch[i].byte);
        }
        q_buf_free(&d.text);
    }
}

int main(void) {
    if (ocr_dict_parse(dict_src, sizeof dict_src - 1, &dict)) {
        fprintf(stderr, "dictionary: %s\n", q_errmsg());
        return 1;
    }
    C = (int)dict.n + 2;
    const char *tmp = getenv("QUIRE_TMP");
    char path[4096];
    snprintf(path, sizeof path, "%s/words.txt", tmp ? tmp : "/tmp");
    if (tmp) q_mkdirs(tmp);
    FILE *f = fopen(path, "w");
    if (!f) return perror(path), 1;
    fputs("the\ncat\nto\nParis\n\xc3\xa9t\xc3\xa9\ndon't\na\nspecified\nfield\nfiex\nflex\n"
          "mirror\nbottle\nletter\ndiner\ndinner\nbees\nbess\nh\xc3\xb4te\nhotte\n",
          f);
    fclose(f);
    lex.n = 1;
    lex.lists = calloc(1, sizeof *lex.lists);
    if (!lex.lists || ocr_wordlist_from_file(path, lex.lists)) {
        fprintf(stderr, "word list: %s\n", q_errmsg());
        return 1;
    }
    test_lexicon_word_wins();
    test_clear_word_stays();
    test_numbers_stay();
    test_same_as_greedy();
    test_empty();
    test_non_finite();
    test_wrong_classes();
    test_lexicon_case();
    test_word_cost();
    test_respell();
    test_random();
    ocr_wordlist_free(lex.lists);
    free(lex.lists);
    ocr_dict_free(&dict);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    puts("ocr_beam: all checks passed");
    return 0;
}

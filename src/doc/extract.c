/* Text-layer extraction: MuPDF structured text to lay_lines. One line per
 * stext line, split where MuPDF joined text across a column gap; boxes in the
 * page's displayed space, origin top-left. Words are found from the glyphs'
 * geometry, not from MuPDF's spaces (see the rule below). Linear in the
 * characters, no allocation per character (one scratch buffer reused). */
#include "doc_int.h"

#include <math.h>
#include <mupdf/ucdn.h>

/* The word rule, after pdftotext. Along the line's direction, the gap between
 * two glyphs is the next glyph's origin minus the furthest end (origin plus
 * advance width) of the glyphs before it in the word; it is measured in font
 * sizes (em) of the larger of the two glyphs.
 * - A gap wider than DOC_WORD_GAP_EM is a word space, whatever the text says:
 *   text set with positioning or character spacing (Td, TJ, Tc) has no space
 *   characters between its words.
 * - A space character in the text (or one MuPDF added) is a word space only
 *   where it leaves a visible gap wider than DOC_SPACE_GAP_EM: typesetters
 *   that kern with spaces and a negative word spacing (Tw) write "Copyr ight"
 *   with a space that moves the pen by a hundredth of an em.
 * - Kerning and tracking up to DOC_WORD_GAP_EM join glyphs into one word.
 * The values are pdftotext's (minWordBreakSpace, maxCharSpacing), so words
 * agree with the tool users compare against. A gap must pass a threshold by
 * more than DOC_GAP_ROUND_EM, the rounding of float page coordinates: kerning
 * in steps of 0.005 em puts many gaps exactly on 0.03 em, and those are
 * kerning, not spaces. */
#define DOC_WORD_GAP_EM  0.1f
#define DOC_SPACE_GAP_EM 0.03f
#define DOC_GAP_ROUND_EM 1e-4f

/* A gap wider than this many font sizes between two characters of one stext
 * line is a column gutter, not a word space: the line is split there. */
#define DOC_SPLIT_GAP_EM 1.5f

typedef struct {
    fz_rect page;
    q_buf *text;
    float box[4];
    double size_sum;
    int nchars;      /* glyphs in the segment */
    size_t last_off; /* where the last glyph's UTF-8 bytes begin */
    uint32_t last_c; /* ... and its character */
} seg;

/* Where the current word of a line ends, for the gap to the next glyph. */
typedef struct {
    fz_point dir;                /* the line's direction, unit length */
    int have_prev;               /* a glyph of this line is in the current segment */
    int spaced;                  /* a space character came after the previous glyph */
    float end;                   /* furthest glyph end along dir since the last break */
    float size;                  /* font size of the previous glyph */
    float mid;                   /* middle of the previous glyph along dir */
    const fz_stext_char *accent; /* a spacing accent not yet placed */
} word_state;

static void seg_reset(seg *s) {
    q_buf_clear(s->text);
    s->box[0] = s->box[1] = INFINITY;
    s->box[2] = s->box[3] = -INFINITY;
    s->size_sum = 0;
    s->nchars = 0;
}

static float clampf(float v, float lo, float hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Emits the segment as a line when it has any glyph. */
static q_status seg_flush(seg *s, lay_doc *rec) {
    q_status st = Q_OK;
    if (s->nchars > 0 && s->box[0] <= s->box[2]) {
        float w = s->page.x1 - s->page.x0, h = s->page.y1 - s->page.y0;
        float bbox[4] = {clampf(s->box[0] - s->page.x0, 0, w), clampf(s->box[1] - s->page.y0, 0, h),
                         clampf(s->box[2] - s->page.x0, 0, w),
                         clampf(s->box[3] - s->page.y0, 0, h)};
        float size = (float)(s->size_sum / s->nchars);
        st = lay_line_add(rec, bbox, 1.0f, size, s->text->data, s->text->len);
    }
    seg_reset(s);
    return st;
}

/* Appends one glyph (never a space) with its box. */
static void seg_box(seg *s, const fz_stext_char *ch) {
    fz_rect r = fz_rect_from_quad(ch->quad);
    s->box[0] = fminf(s->box[0], r.x0);
    s->box[1] = fminf(s->box[1], r.y0);
    s->box[2] = fmaxf(s->box[2], r.x1);
    s->box[3] = fmaxf(s->box[3], r.y1);
}

/* Appends glyph `ch` as character c (never a space) with its box. */
static q_status seg_add(seg *s, const fz_stext_char *ch, uint32_t c) {
    char u[4];
    int n = q_utf8_encode(c, u);
    size_t off = s->text->len;
    q_status st = q_buf_append(s->text, u, (size_t)n);
    if (st) return st;
    s->last_off = off;
    s->last_c = c;
    s->nchars++;
    s->size_sum += ch->size;
    seg_box(s, ch);
    return Q_OK;
}

/* Whitespace that separates words: ASCII spaces and controls (tabs), no-break
 * and typographic spaces. */
static int is_space(int c) {
    return c <= 0x20 || c == 0x7F || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

typedef enum { GAP_NONE, GAP_SPACE, GAP_COLUMN } gap_kind;

/* What lies between the current word and glyph `ch` (see the rule above). */
static gap_kind gap_before(const word_state *w, const fz_stext_char *ch) {
    if (!w->have_prev) return GAP_NONE;
    float em = fmaxf(w->size, ch->size);
    if (!(em > 0)) return w->spaced ? GAP_SPACE : GAP_NONE;
    float gap = (ch->origin.x * w->dir.x + ch->origin.y * w->dir.y - w->end) / em;
    if (gap > DOC_SPLIT_GAP_EM) return GAP_COLUMN;
    gap -= DOC_GAP_ROUND_EM;
    if (gap > DOC_WORD_GAP_EM || (w->spaced && gap > DOC_SPACE_GAP_EM)) return GAP_SPACE;
    return GAP_NONE;
}

/* The glyph's far end along dir: its origin plus its advance (MuPDF's quad is
 * the advance wide along the baseline). */
static float glyph_end(const word_state *w, const fz_stext_char *ch) {
    float pos = ch->origin.x * w->dir.x + ch->origin.y * w->dir.y;
    float adv =
        (ch->quad.lr.x - ch->quad.ll.x) * w->dir.x + (ch->quad.lr.y - ch->quad.ll.y) * w->dir.y;
    return pos + fmaxf(adv, 0);
}

/* Spacing accents that TeX and others draw as glyphs of their own over a
 * letter, as the combining marks they stand for; 0 for other characters.
 * pdftotext merges the same ones into the letter. */
static uint32_t accent_mark(int c) {
    static const uint32_t map[][2] = {
        {0x60, 0x300},  {0xB4, 0x301},  {0x2C6, 0x302}, {0x2DC, 0x303}, {0xAF, 0x304},
        {0x2D8, 0x306}, {0x2D9, 0x307}, {0xA8, 0x308},  {0x2DA, 0x30A}, {0x2DD, 0x30B},
        {0x2C7, 0x30C}, {0xB8, 0x327},  {0x2DB, 0x328}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i][0] == (uint32_t)c) return map[i][1];
    return 0;
}

/* An accent belongs to a letter whose middle is within DOC_ACCENT_MID_EM of
 * its own along the line (pdftotext's combMaxMidDelta). */
#define DOC_ACCENT_MID_EM 0.3f

static float glyph_mid(const word_state *w, const fz_stext_char *ch) {
    float pos = ch->origin.x * w->dir.x + ch->origin.y * w->dir.y;
    return (pos + glyph_end(w, ch)) / 2;
}

/* Places glyph `ch` as character c after the current word (see the rule). */
static q_status put_glyph(word_state *w, seg *s, lay_doc *rec, const fz_stext_char *ch,
                          uint32_t c) {
    gap_kind g = gap_before(w, ch);
    q_status st = Q_OK;
    if (g == GAP_COLUMN) {
        st = seg_flush(s, rec);
        w->have_prev = 0;
    } else if (g == GAP_SPACE) {
        st = q_buf_append(s->text, " ", 1);
    }
    if (!st) st = seg_add(s, ch, c);
    float end = glyph_end(w, ch);
    w->end = w->have_prev && g == GAP_NONE ? fmaxf(w->end, end) : end;
    w->size = ch->size;
    w->mid = glyph_mid(w, ch);
    w->have_prev = 1;
    w->spaced = 0;
    return st;
}

/* Places the pending accent: composed with `next` (NULL at the line's end)
 * or the previous letter, whichever is nearer and close enough, else as a
 * glyph of its own. Returns in *used whether `next` was placed too. */
static q_status put_accent(word_state *w, seg *s, lay_doc *rec, const fz_stext_char *next,
                           int *used) {
    const fz_stext_char *a = w->accent;
    w->accent = NULL;
    *used = 0;
    float mid = glyph_mid(w, a), em = fmaxf(a->size, 1e-3f);
    float d_prev = w->have_prev ? fabsf(mid - w->mid) / em : INFINITY;
    float d_next = next ? fabsf(mid - glyph_mid(w, next)) / em : INFINITY;
    uint32_t c, mark = accent_mark(a->c);
    if (d_next <= d_prev && d_next <= DOC_ACCENT_MID_EM &&
        ucdn_compose(&c, (uint32_t)next->c, mark)) {
        *used = 1;
        seg_box(s, a);
        return put_glyph(w, s, rec, next, c);
    }
    if (d_prev <= DOC_ACCENT_MID_EM && !w->spaced && ucdn_compose(&c, s->last_c, mark)) {
        /* the letter again, composed, still one glyph of the segment */
        s->text->len = s->last_off;
        double sum = s->size_sum;
        int n = s->nchars;
        q_status st = seg_add(s, a, c);
        s->size_sum = sum;
        s->nchars = n;
        return st;
    }
    return put_glyph(w, s, rec, a, (uint32_t)a->c);
}

/* One stext line in wmode 0 (horizontal writing, any direction). */
static q_status extract_line(const fz_stext_line *ln, seg *s, lay_doc *rec) {
    word_state w = {.dir = ln->dir};
    float norm = hypotf(w.dir.x, w.dir.y);
    w.dir = norm > 0 ? fz_make_point(w.dir.x / norm, w.dir.y / norm) : fz_make_point(1, 0);
    q_status st = Q_OK;
    for (const fz_stext_char *ch = ln->first_char; ch && !st; ch = ch->next) {
        int used = 0;
        if (is_space(ch->c)) {
            if (w.accent) st = put_accent(&w, s, rec, NULL, &used);
            w.spaced = 1;
            continue;
        }
        if (w.accent) st = put_accent(&w, s, rec, accent_mark(ch->c) ? NULL : ch, &used);
        if (st || used) continue;
        if (accent_mark(ch->c))
            w.accent = ch;
        else
            st = put_glyph(&w, s, rec, ch, (uint32_t)ch->c);
    }
    int used;
    if (!st && w.accent) st = put_accent(&w, s, rec, NULL, &used);
    return st ? st : seg_flush(s, rec);
}

/* Vertical writing (wmode 1): no advance along the line to measure, so the
 * words are MuPDF's; runs of spaces become one. */
static q_status extract_vertical(const fz_stext_line *ln, seg *s, lay_doc *rec) {
    q_status st = Q_OK;
    int spaced = 0;
    for (const fz_stext_char *ch = ln->first_char; ch && !st; ch = ch->next) {
        if (is_space(ch->c)) {
            spaced = s->nchars > 0;
            continue;
        }
        if (spaced) st = q_buf_append(s->text, " ", 1);
        if (!st) st = seg_add(s, ch, (uint32_t)ch->c);
        spaced = 0;
    }
    return st ? st : seg_flush(s, rec);
}

q_status doc_extract_lines(fz_stext_page *tp, fz_rect page, q_buf *scratch, lay_doc *rec) {
    seg s = {.page = page, .text = scratch};
    seg_reset(&s);
    q_status st = Q_OK;
    for (fz_stext_block *b = tp->first_block; b && !st; b = b->next) {
        if (b->type != FZ_STEXT_BLOCK_TEXT) continue;
        for (fz_stext_line *ln = b->u.t.first_line; ln && !st; ln = ln->next)
            st = ln->wmode == 0 ? extract_line(ln, &s, rec) : extract_vertical(ln, &s, rec);
    }
    return st;
}

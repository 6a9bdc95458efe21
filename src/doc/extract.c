/* Text-layer extraction: MuPDF structured text to lay_lines. One line per
 * stext line, split where MuPDF joined text across a column gap; boxes in the
 * page's displayed space, origin top-left. Linear in the characters, no
 * allocation per character (one scratch buffer reused). */
#include "doc_int.h"

#include <math.h>

/* A horizontal gap wider than this many font sizes between two characters of
 * one stext line is a column gutter, not a word space. */
#define DOC_SPLIT_GAP_EM 1.5f

typedef struct {
    fz_rect page;
    q_buf *text;
    float box[4];
    double size_sum;
    int nchars;     /* characters in the segment, spaces included */
    size_t trimmed; /* text length without trailing spaces */
} seg;

static void seg_reset(seg *s) {
    q_buf_clear(s->text);
    s->box[0] = s->box[1] = INFINITY;
    s->box[2] = s->box[3] = -INFINITY;
    s->size_sum = 0;
    s->nchars = 0;
    s->trimmed = 0;
}

static float clampf(float v, float lo, float hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Emits the segment as a line when it has any visible character. */
static q_status seg_flush(seg *s, lay_doc *rec) {
    q_status st = Q_OK;
    if (s->trimmed > 0 && s->box[0] <= s->box[2]) {
        float w = s->page.x1 - s->page.x0, h = s->page.y1 - s->page.y0;
        float bbox[4] = {clampf(s->box[0] - s->page.x0, 0, w), clampf(s->box[1] - s->page.y0, 0, h),
                         clampf(s->box[2] - s->page.x0, 0, w),
                         clampf(s->box[3] - s->page.y0, 0, h)};
        float size = s->nchars ? (float)(s->size_sum / s->nchars) : 0;
        st = lay_line_add(rec, bbox, 1.0f, size, s->text->data, s->trimmed);
    }
    seg_reset(s);
    return st;
}

static q_status seg_add(seg *s, const fz_stext_char *ch) {
    int c = ch->c;
    if (c < 0x20 || c == 0x7F) c = ' '; /* tabs and controls are word separators in a line */
    if (c == ' ' && s->text->len == 0) return Q_OK; /* no leading spaces */
    char u[4];
    int n = q_utf8_encode((uint32_t)c, u);
    q_status st = q_buf_append(s->text, u, (size_t)n);
    if (st) return st;
    s->nchars++;
    s->size_sum += ch->size;
    if (c != ' ') {
        s->trimmed = s->text->len;
        fz_rect r = fz_rect_from_quad(ch->quad);
        s->box[0] = fminf(s->box[0], r.x0);
        s->box[1] = fminf(s->box[1], r.y0);
        s->box[2] = fmaxf(s->box[2], r.x1);
        s->box[3] = fmaxf(s->box[3], r.y1);
    }
    return Q_OK;
}

q_status doc_extract_lines(fz_stext_page *tp, fz_rect page, q_buf *scratch, lay_doc *rec) {
    seg s = {.page = page, .text = scratch};
    seg_reset(&s);
    q_status st = Q_OK;
    for (fz_stext_block *b = tp->first_block; b && !st; b = b->next) {
        if (b->type != FZ_STEXT_BLOCK_TEXT) continue;
        for (fz_stext_line *ln = b->u.t.first_line; ln && !st; ln = ln->next) {
            /* Gaps are measured along x only for left-to-right horizontal lines. */
            int horizontal = ln->wmode == 0 && ln->dir.x > 0.99f;
            float prev_x1 = 0;
            int have_prev = 0;
            for (fz_stext_char *ch = ln->first_char; ch && !st; ch = ch->next) {
                if (ch->c == ' ') {
                    st = seg_add(&s, ch);
                    continue;
                }
                fz_rect r = fz_rect_from_quad(ch->quad);
                if (horizontal && have_prev && r.x0 - prev_x1 > DOC_SPLIT_GAP_EM * ch->size)
                    st = seg_flush(&s, rec);
                if (!st) st = seg_add(&s, ch);
                prev_x1 = r.x1;
                have_prev = 1;
            }
            if (!st) st = seg_flush(&s, rec);
        }
    }
    return st;
}

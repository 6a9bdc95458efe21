/* dbpost: the text boxes of a DB probability map as PaddleOCR 2.7 finds them
 * (DBPostProcess with box_type quad and score_mode fast, then TextDetector's
 * filter_tag_det_res and TextSystem's sorted_boxes), step for step, so that
 * quire's boxes are PaddleOCR's to the pixel. The geometry is in geom.c.
 * One addition: a tilted line that the fast score drops only for the white
 * its rectangle takes in is scored on its contour (tilted_scores, at_skew);
 * PaddleOCR's boxes are all kept as they are. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/dbscore.h"
#include "ocr/geom.h"
#include "ocr/ocr_private.h"

void ocr_db_params_default(ocr_db_params *p) {
    memset(p, 0, sizeof *p); /* a field added later starts as PaddleOCR's 0 */
    p->thresh = 0.3f;
    p->box_thresh = 0.6f;
    p->unclip_ratio = 1.5f;
    p->max_candidates = 1000;
    p->min_size = 3;
}

/* A rectangle within this many degrees of the axes is axis-aligned (float
 * rounding of OpenCV's angle): its fast score is PaddleOCR's alone. */
#define DB_AXIS_DEG 1e-3

/* A box rescued by its contour score is kept only when it lies along the
 * page's lines: it is long (as ocr_page_skew's measurements are, at least
 * 2.5 times as long as high) and within 1 degree (ocr_page_skew's inlier
 * band) of the page's skew. A fragment of a glyph or a speck whose kernel
 * is not a band has a rectangle at any angle; a line of text at the skew of
 * the page is what the staircase argument is about. */
#define DB_RESCUE_ASPECT 2.5
#define DB_RESCUE_DEG    1.0

/* get_mini_boxes' result: corners and the rectangle's short side; and, for
 * a tilted rectangle (below), its score by the rectangle and by the contour
 * (NaN when not worked out). */
typedef struct {
    float pt[4][2];
    float sside;
    float fast, slow;
} db_quad;

/* PaddleOCR's get_mini_boxes: cv::boxPoints stably sorted by x; of the two
 * left corners the upper comes first, of the two right ones the upper second. */
static void mini_box(const geom_rrect *r, db_quad *q) {
    float p[4][2];
    geom_rrect_points(r, p);
    for (int i = 1; i < 4; i++)
        for (int j = i; j > 0 && p[j - 1][0] > p[j][0]; j--) {
            float t0 = p[j][0], t1 = p[j][1];
            p[j][0] = p[j - 1][0], p[j][1] = p[j - 1][1];
            p[j - 1][0] = t0, p[j - 1][1] = t1;
        }
    int i1 = p[1][1] > p[0][1] ? 0 : 1, i4 = 1 - i1;
    int i2 = p[3][1] > p[2][1] ? 2 : 3, i3 = 5 - i2;
    const int order[4] = {i1, i2, i3, i4};
    for (int k = 0; k < 4; k++) {
        q->pt[k][0] = p[order[k]][0];
        q->pt[k][1] = p[order[k]][1];
    }
    q->sside = r->w < r->h ? r->w : r->h;
    q->fast = q->slow = NAN;
}

/* ---- contours: the last max_candidates, in OpenCV's order ----------------- */
/* OpenCV lists RETR_LIST contours in reverse order of discovery and PaddleOCR
 * keeps the first max_candidates of that list: the last ones discovered. A
 * ring of that many mini boxes keeps memory bounded however noisy the map. */
typedef struct db_ctx db_ctx;
typedef struct {
    db_quad *ring;
    size_t cap, seen;
    geom_work work;
    geom_pts copy;       /* the contour as found (the rectangle sorts it) */
    ocr_db_scratch poly; /* the contour score's scratch */
    db_ctx *c;
    size_t rescuable; /* tilted candidates whose contour scores, not rectangle */
} db_scan;

static q_status tilted_scores(db_scan *s, const geom_rrect *r, const geom_pts *contour, db_quad *q);

static q_status on_contour(void *user, geom_pt *pts, size_t n) {
    db_scan *s = user;
    s->copy.n = 0;
    for (size_t i = 0; i < n; i++) {
        q_status st = geom_pts_push(&s->copy, pts[i].x, pts[i].y);
        if (st) return st;
    }
    geom_rrect r;
    q_status st = geom_min_area_rect(pts, n, &s->work, &r);
    if (st) return st;
    db_quad *q = &s->ring[s->seen % s->cap];
    mini_box(&r, q);
    s->seen++;
    return tilted_scores(s, &r, &s->copy, q);
}

/* ---- one candidate ------------------------------------------------------- */
static int clampi(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* How far outside the map a corner may lie once converted to int: far beyond
 * any box of a real map (a few thousand pixels), near enough that the fill's
 * and the offset's integer arithmetic cannot overflow. */
#define DB_COORD_MAX (1 << 20)

static int db_int(float v) {
    return ocr_to_int(v, -DB_COORD_MAX, DB_COORD_MAX);
}

/* box_score_fast: the mean of prob under the box as cv::fillPoly draws it on
 * the box's bounding box (clipped to the map), corners truncated to ints. */
static double box_score_fast(const float *prob, int w, int h, const db_quad *b,
                             unsigned char *mask) {
    float x_lo = b->pt[0][0], x_hi = x_lo, y_lo = b->pt[0][1], y_hi = y_lo;
    for (int k = 1; k < 4; k++) {
        x_lo = fminf(x_lo, b->pt[k][0]), x_hi = fmaxf(x_hi, b->pt[k][0]);
        y_lo = fminf(y_lo, b->pt[k][1]), y_hi = fmaxf(y_hi, b->pt[k][1]);
    }
    int xmin = ocr_to_int(floorf(x_lo), 0, w - 1), xmax = ocr_to_int(ceilf(x_hi), 0, w - 1);
    int ymin = ocr_to_int(floorf(y_lo), 0, h - 1), ymax = ocr_to_int(ceilf(y_hi), 0, h - 1);
    geom_pt q[4];
    for (int k = 0; k < 4; k++) {
        q[k].x = db_int(b->pt[k][0] - (float)xmin);
        q[k].y = db_int(b->pt[k][1] - (float)ymin);
    }
    return geom_fill_mean(prob, w, xmin, ymin, xmax - xmin + 1, ymax - ymin + 1, q, mask);
}

/* shapely's area (GEOS shoelace relative to the first x) and length. */
static void poly_area_length(const float pt[4][2], double *area, double *length) {
    double x0 = pt[0][0], sum = 0, len = 0;
    for (int i = 1; i < 4; i++) {
        double y_prev = pt[i - 1][1], y_next = pt[(i + 1) & 3][1];
        sum += ((double)pt[i][0] - x0) * (y_prev - y_next);
    }
    for (int i = 0; i < 4; i++) {
        double dx = (double)pt[(i + 1) & 3][0] - pt[i][0];
        double dy = (double)pt[(i + 1) & 3][1] - pt[i][1];
        len += sqrt(dx * dx + dy * dy);
    }
    *area = fabs(sum / 2.0);
    *length = len;
}

/* unclip: D = area * ratio / perimeter of the float box, then pyclipper's
 * rounded offset of the box, whose corners pyclipper truncates to integers. */
static q_status unclip(const db_quad *b, float ratio, geom_pts *out) {
    double area, length;
    poly_area_length(b->pt, &area, &length);
    geom_pt poly[4];
    for (int k = 0; k < 4; k++) {
        poly[k].x = db_int(b->pt[k][0]);
        poly[k].y = db_int(b->pt[k][1]);
    }
    out->n = 0;
    if (!(length > 0)) return Q_OK;
    return geom_offset_round(poly, 4, area * (double)ratio / length, out);
}

/* order_points_clockwise: top-left = smallest x + y, bottom-right = largest,
 * of the other two the smaller y - x is top-right (numpy's first-of-equals). */
static void order_clockwise(int in[4][2], int out[4][2]) {
    int imin = 0, imax = 0;
    for (int k = 1; k < 4; k++) {
        int s = in[k][0] + in[k][1];
        if (s < in[imin][0] + in[imin][1]) imin = k;
        if (s > in[imax][0] + in[imax][1]) imax = k;
    }
    int dmin = -1, dmax = -1;
    for (int k = 0; k < 4; k++) {
        if (k == imin || k == imax) continue;
        int d = in[k][1] - in[k][0];
        if (dmin < 0 || d < in[dmin][1] - in[dmin][0]) dmin = k;
        if (dmax < 0 || d > in[dmax][1] - in[dmax][0]) dmax = k;
    }
    const int idx[4] = {imin, dmin, imax, dmax};
    for (int k = 0; k < 4; k++) {
        out[k][0] = in[idx[k]][0];
        out[k][1] = in[idx[k]][1];
    }
}

/* 1 when the corners turn clockwise on screen (y down) at every corner: a
 * convex quadrilateral with no repeated corner and no three in a line. */
static int convex_clockwise(int c[4][2]) {
    /* corners on the page: each product of differences is at most its pixel
     * count, exact in a double */
    double d[4][2];
    for (int k = 0; k < 4; k++)
        d[k][0] = c[k][0], d[k][1] = c[k][1];
    return geom_quad_turn(d) == 1;
}

/* The corners clockwise on screen by their angle around the centre, from the
 * one with the smallest x + y (of two such, the higher). */
static void order_by_angle(int in[4][2], int out[4][2]) {
    double cx = (in[0][0] + in[1][0] + in[2][0] + in[3][0]) / 4.0;
    double cy = (in[0][1] + in[1][1] + in[2][1] + in[3][1]) / 4.0;
    double ang[4];
    int idx[4] = {0, 1, 2, 3};
    for (int k = 0; k < 4; k++)
        ang[k] = atan2(in[k][1] - cy, in[k][0] - cx); /* grows clockwise: y is down */
    for (int i = 1; i < 4; i++)
        for (int j = i; j > 0 && ang[idx[j - 1]] > ang[idx[j]]; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    int first = 0;
    for (int i = 1; i < 4; i++) {
        const int *p = in[idx[i]], *f = in[idx[first]];
        if (p[0] + p[1] < f[0] + f[1] || (p[0] + p[1] == f[0] + f[1] && p[1] < f[1])) first = i;
    }
    for (int k = 0; k < 4; k++) {
        out[k][0] = in[idx[(first + k) & 3]][0];
        out[k][1] = in[idx[(first + k) & 3]][1];
    }
}

static void clip_to_page(int c[4][2], int page_w, int page_h) {
    for (int k = 0; k < 4; k++) {
        c[k][0] = clampi(c[k][0], 0, page_w - 1);
        c[k][1] = clampi(c[k][1], 0, page_h - 1);
    }
}

/* The box on the page: x * page_w / map_w rounded half to even in float (as
 * numpy), clipped to [0, page_w]; then filter_tag_det_res: corners ordered,
 * clipped to [0, page_w - 1], and kept only when int(norm) of the top and
 * left edges exceeds 3 -- for integer corners, squared length >= 16.
 * Where quire differs: order_clockwise's sums or differences tie for a box at
 * 45 degrees, and its first-of-equals choice then crosses two edges (a bow
 * tie) or repeats a corner. PaddleOCR warps such a box through a singular
 * perspective transform; here its corners are ordered by angle instead, and a
 * box that is still not convex once clipped (corners on one line) is dropped. */
static int page_box(const db_quad *q, int map_w, int map_h, int page_w, int page_h, ocr_box *out) {
    int raw[4][2], c[4][2];
    for (int k = 0; k < 4; k++) {
        if (!isfinite(q->pt[k][0]) || !isfinite(q->pt[k][1])) return 0;
        float x = rintf(q->pt[k][0] / (float)map_w * (float)page_w);
        float y = rintf(q->pt[k][1] / (float)map_h * (float)page_h);
        raw[k][0] = ocr_to_int(x, 0, page_w);
        raw[k][1] = ocr_to_int(y, 0, page_h);
    }
    order_clockwise(raw, c);
    clip_to_page(c, page_w, page_h);
    if (!convex_clockwise(c)) {
        order_by_angle(raw, c);
        clip_to_page(c, page_w, page_h);
        if (!convex_clockwise(c)) return 0;
    }
    for (int k = 0; k < 4; k++) {
        out->pt[k][0] = (float)c[k][0];
        out->pt[k][1] = (float)c[k][1];
    }
    int64_t wx = c[0][0] - c[1][0], wy = c[0][1] - c[1][1];
    int64_t hx = c[0][0] - c[3][0], hy = c[0][1] - c[3][1];
    return wx * wx + wy * wy >= 16 && hx * hx + hy * hy >= 16;
}

struct db_ctx {
    const float *prob;
    int map_w, map_h, page_w, page_h;
    const ocr_db_params *p;
    unsigned char *mask; /* map_w * map_h bytes for the score */
    geom_pts grown;      /* the unclipped polygon */
    geom_work *work;     /* min-area rectangle scratch */
    double skew;         /* the page's skew from the boxes PaddleOCR keeps (NaN: none yet) */
};

/* A tilted rectangle's score by the contour. PaddleOCR's fast score, the mean
 * under the minimum-area rectangle, stands for the mean inside the contour:
 * for an axis-aligned band of text the two are nearly the same pixels. A
 * tilted band is a staircase of pixels, and the rectangle that holds one h
 * rows thick is at least h + 1 high; the map's band also wavers by a pixel
 * or two along a long line, which a level band's rectangle takes in too but
 * a tilted one takes in on top of the staircase. A large title's kernel is
 * thin for its length (a 24-point bold title at the default 960 px: 6 rows,
 * 440 px long), and on a page 3 degrees askew its rectangle was 10 rows high:
 * its fast score fell to 0.56 where its contour's mean is 0.98, and the title
 * was lost. So a tilted candidate whose rectangle scores under the threshold
 * is also scored as PaddleOCR's score_mode "slow" scores, on its contour
 * (kept, if at all, only along the page's lines: at_skew below). Axis-aligned
 * candidates -- every line of an upright page -- score as PaddleOCR's. */
static q_status tilted_scores(db_scan *s, const geom_rrect *r, const geom_pts *contour,
                              db_quad *q) {
    db_ctx *c = s->c;
    double off = fmod(fabs((double)r->angle), 90.0);
    /* only a line can be rescued (at_skew): a contour that is not long is
     * not scored twice */
    float lside = r->w < r->h ? r->h : r->w;
    if (c->p->fast_only || !(q->sside >= (float)c->p->min_size) ||
        !(off > DB_AXIS_DEG && off < 90.0 - DB_AXIS_DEG) || !(lside >= DB_RESCUE_ASPECT * q->sside))
        return Q_OK;
    q->fast = (float)box_score_fast(c->prob, c->map_w, c->map_h, q, c->mask);
    if (q->fast >= c->p->box_thresh || !isfinite(q->fast)) return Q_OK;
    double slow;
    q_status st =
        ocr_db_contour_mean(c->prob, c->map_w, c->map_h, contour->p, contour->n, &s->poly, &slow);
    if (!st) q->slow = (float)slow;
    s->rescuable += q->slow >= c->p->box_thresh;
    return st;
}

static int at_skew(const ocr_box *b, double skew) {
    const float(*q)[2] = b->pt;
    double dx = (q[1][0] - q[0][0]) + (q[2][0] - q[3][0]);
    double dy = (q[1][1] - q[0][1]) + (q[2][1] - q[3][1]);
    double h = (hypot(q[3][0] - q[0][0], q[3][1] - q[0][1]) +
                hypot(q[2][0] - q[1][0], q[2][1] - q[1][1])) /
               2;
    if (!(hypot(dx, dy) / 2 >= DB_RESCUE_ASPECT * h)) return 0;
    double deg = atan2(-dy, dx) * (180.0 / 3.14159265358979323846);
    return fabs(deg - skew) <= DB_RESCUE_DEG;
}

/* The page's skew (ocr_page_skew) from the boxes kept so far. */
static q_status boxes_skew(const ocr_box *b, size_t n, double *skew) {
    ocr_line *l = calloc(n, sizeof *l);
    if (!l) return Q_FAIL(Q_ERR_NOMEM, "ocr_db_boxes: %zu boxes", n);
    for (size_t i = 0; i < n; i++)
        memcpy(l[i].quad, b[i].pt, sizeof l[i].quad);
    float deg = 0;
    q_status st = ocr_page_skew(l, n, &deg);
    free(l);
    *skew = deg;
    return st;
}

/* One contour's mini box through score, unclip and page mapping; *keep = 0
 * when PaddleOCR drops it. */
static q_status candidate(db_ctx *c, const db_quad *q, ocr_box *out, int *keep) {
    *keep = 0;
    if (!(q->sside >= (float)c->p->min_size)) return Q_OK; /* NaN too */
    double score =
        isnan(q->fast) ? box_score_fast(c->prob, c->map_w, c->map_h, q, c->mask) : (double)q->fast;
    int rescued = 0;
    if (!(score >= (double)c->p->box_thresh) && q->slow >= c->p->box_thresh && !isnan(c->skew))
        score = q->slow, rescued = 1;
    /* a map with NaN or infinities (a broken model) gives no boxes there */
    if (!(score >= (double)c->p->box_thresh) || !isfinite(score)) return Q_OK;
    q_status st = unclip(q, c->p->unclip_ratio, &c->grown);
    if (st || c->grown.n == 0) return st;
    geom_rrect r;
    st = geom_min_area_rect(c->grown.p, c->grown.n, c->work, &r);
    if (st) return st;
    db_quad big;
    mini_box(&r, &big);
    if (!(big.sside >= (float)(c->p->min_size + 2))) return Q_OK;
    *keep = page_box(&big, c->map_w, c->map_h, c->page_w, c->page_h, out);
    if (*keep && rescued) *keep = at_skew(out, c->skew);
    out->score = (float)score;
    return Q_OK;
}

/* The candidates newest first (OpenCV's order), kept boxes into out[]. */
static q_status collect(db_ctx *c, const db_scan *s, ocr_box *out, size_t *n) {
    size_t m = s->seen < s->cap ? s->seen : s->cap;
    *n = 0;
    for (size_t i = 0; i < m; i++) {
        int keep;
        q_status st = candidate(c, &s->ring[(s->seen - 1 - i) % s->cap], &out[*n], &keep);
        if (st) return st;
        *n += (size_t)keep;
    }
    return Q_OK;
}

q_status ocr_db_boxes(const float *prob, int map_w, int map_h, int page_w, int page_h,
                      const ocr_db_params *p, ocr_box **boxes, size_t *n) {
    if (!boxes || !n) return Q_FAIL(Q_ERR_USAGE, "ocr_db_boxes: no output");
    *boxes = NULL;
    *n = 0;
    if (!prob || !p || map_w <= 0 || map_h <= 0 || page_w <= 0 || page_h <= 0)
        return Q_FAIL(Q_ERR_USAGE, "ocr_db_boxes: map %dx%d, page %dx%d", map_w, map_h, page_w,
                      page_h);
    if (p->max_candidates <= 0) return Q_OK;
    /* a map has fewer borders than pixels: each starts at its own pixel */
    size_t cells = (size_t)map_w * (size_t)map_h;
    db_scan s = {.cap = Q_MIN((size_t)p->max_candidates, cells)};
    db_ctx c = {prob, map_w, map_h, page_w, page_h, p, NULL, {0}, &s.work, NAN};
    s.c = &c;
    ocr_box *out = NULL;
    size_t count = 0;
    q_status st = Q_OK;
    s.ring = malloc(s.cap * sizeof(*s.ring));
    c.mask = malloc(cells);
    if (!s.ring || !c.mask) {
        st = Q_FAIL(Q_ERR_NOMEM, "ocr_db_boxes: %zu candidates", s.cap);
        goto done;
    }
    st = geom_contours(prob, map_w, map_h, p->thresh, on_contour, &s);
    if (st || s.seen == 0) goto done;
    out = malloc(Q_MIN(s.seen, s.cap) * sizeof(*out));
    if (!out) {
        st = Q_FAIL(Q_ERR_NOMEM, "ocr_db_boxes: %zu boxes", s.cap);
        goto done;
    }
    st = collect(&c, &s, out, &count);
    if (!st && s.rescuable && count) {
        st = boxes_skew(out, count, &c.skew);
        if (!st) st = collect(&c, &s, out, &count);
    }
    if (st || count == 0) goto done;
    ocr_boxes_sort(out, count);
    *boxes = out;
    *n = count;
    out = NULL;
done:
    free(out);
    free(s.ring);
    free(c.mask);
    geom_pts_free(&c.grown);
    geom_work_free(&s.work);
    geom_pts_free(&s.copy);
    ocr_db_scratch_free(&s.poly);
    return st;
}

/* ---- reading order ---------------------------------------------------------- */
static int box_before(const ocr_box *a, const ocr_box *b) {
    return a->pt[0][1] < b->pt[0][1] || (a->pt[0][1] == b->pt[0][1] && a->pt[0][0] < b->pt[0][0]);
}

/* Python's sorted is stable: a merge sort keeps boxes with equal corners in
 * their order (insertion sort when no scratch can be had). */
static void stable_sort(ocr_box *b, size_t n) {
    ocr_box *tmp = n > 1 ? malloc(n * sizeof(*tmp)) : NULL;
    if (!tmp) {
        for (size_t i = 1; i < n; i++) {
            ocr_box v = b[i];
            size_t j = i;
            for (; j > 0 && box_before(&v, &b[j - 1]); j--)
                b[j] = b[j - 1];
            b[j] = v;
        }
        return;
    }
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = Q_MIN(lo + w, n), hi = Q_MIN(lo + 2 * w, n), i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = box_before(&b[j], &b[i]) ? b[j++] : b[i++];
            while (i < mid)
                tmp[k++] = b[i++];
            while (j < hi)
                tmp[k++] = b[j++];
        }
        memcpy(b, tmp, n * sizeof(*b));
    }
    free(tmp);
}

void ocr_boxes_sort(ocr_box *boxes, size_t n) {
    if (n < 2) return;
    stable_sort(boxes, n);
    /* sorted_boxes' single pass: each box bubbles left past neighbours on
     * (nearly) the same line that lie to its right, stopping at the first
     * that does not -- not a full sort, and PaddleOCR's order depends on it */
    for (size_t i = 0; i + 1 < n; i++)
        for (size_t j = i + 1; j-- > 0;) {
            ocr_box *a = &boxes[j], *b = &boxes[j + 1];
            if (!(fabsf(b->pt[0][1] - a->pt[0][1]) < 10 && b->pt[0][0] < a->pt[0][0])) break;
            ocr_box t = *a;
            *a = *b;
            *b = t;
        }
}

/* geom: contours, convex hull, minimum-area rectangle, polygon fill and
 * rounded offset for DB post-processing. Each follows the arithmetic of the
 * library PaddleOCR calls (OpenCV 4, Clipper 6.4 through pyclipper), because
 * PaddleOCR truncates and rounds these floats: the same rounding gives the
 * same boxes. */
#include "ocr/geom.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GEOM_CV_PI  3.1415926535897932384626433832795
#define GEOM_CLP_PI 3.141592653589793238 /* Clipper's own constant */

/* ---- point lists ----------------------------------------------------------- */
q_status geom_pts_push(geom_pts *v, int x, int y) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        geom_pt *p = realloc(v->p, cap * sizeof(*p));
        if (!p) return Q_FAIL(Q_ERR_NOMEM, "geom: %zu contour points", cap);
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n].x = x;
    v->p[v->n].y = y;
    v->n++;
    return Q_OK;
}

void geom_pts_free(geom_pts *v) {
    if (!v) return;
    free(v->p);
    v->p = NULL;
    v->n = v->cap = 0;
}

/* ---- contours (Suzuki-Abe border following, as OpenCV's icvFetchContour) -- */
/* Marks on the padded map: 0 background, 1 foreground not yet on a border,
 * 2 on a traced border, -2 on a traced border whose right neighbour is
 * background (OpenCV's nbd | -128). Only the sign and 0/1 are ever read. */
enum { MARK_POS = 2, MARK_NEG = -2 };

/* OpenCV's chain codes: 0 = +x, counter-clockwise on screen (y down). */
static const int code_dx[8] = {1, 1, 0, -1, -1, -1, 0, 1};
static const int code_dy[8] = {0, -1, -1, -1, 0, 1, 1, 1};

typedef struct {
    signed char *m;
    ptrdiff_t delta[16]; /* chain code -> offset in m, twice so s + 8 needs no wrap */
    geom_pts pts;
} tracer;

/* Follows the border through i0 (pixel x, y); the search starts at the
 * background neighbour: left for an outer border, right for a hole. */
static q_status trace_border(tracer *t, signed char *i0, int x, int y, int hole) {
    int s = hole ? 0 : 4, s_end = s;
    signed char *i1;
    t->pts.n = 0;
    do {
        s = (s + 7) & 7;
        i1 = i0 + t->delta[s];
    } while (*i1 == 0 && s != s_end);
    if (s == s_end) { /* a lone pixel */
        *i0 = MARK_NEG;
        return geom_pts_push(&t->pts, x, y);
    }
    signed char *i3 = i0, *i4;
    int prev_s = s ^ 4;
    for (;;) {
        s_end = s;
        do
            i4 = i3 + t->delta[++s];
        while (*i4 == 0 && s < 15);
        s &= 7;
        /* the right neighbour was looked at (and is background) when the
         * counter-clockwise search wrapped past code 0 */
        if ((unsigned)(s - 1) < (unsigned)s_end)
            *i3 = MARK_NEG;
        else if (*i3 == 1)
            *i3 = MARK_POS;
        if (s != prev_s) { /* CHAIN_APPROX_SIMPLE keeps the turns only */
            q_status st = geom_pts_push(&t->pts, x, y);
            if (st) return st;
            prev_s = s;
        }
        x += code_dx[s];
        y += code_dy[s];
        if (i4 == i0 && i3 == i1) return Q_OK;
        i3 = i4;
        s = (s + 4) & 7;
    }
}

/* The map binarized into a zero frame of one pixel, so that borders on the
 * map's edge are followed like any other (OpenCV pads the same way). */
static q_status binarize(const float *map, int w, int h, float thresh, signed char **out) {
    size_t pw = (size_t)w + 2, ph = (size_t)h + 2;
    if (pw > SIZE_MAX / ph) return Q_FAIL(Q_ERR_NOMEM, "geom: map %dx%d too large", w, h);
    signed char *m = calloc(pw * ph, 1);
    if (!m) return Q_FAIL(Q_ERR_NOMEM, "geom: map %dx%d too large", w, h);
    for (int y = 0; y < h; y++) {
        const float *src = map + (size_t)y * (size_t)w;
        signed char *dst = m + (size_t)(y + 1) * pw + 1;
        for (int x = 0; x < w; x++)
            dst[x] = src[x] > thresh;
    }
    *out = m;
    return Q_OK;
}

q_status geom_contours(const float *map, int w, int h, float thresh, geom_contour_fn fn,
                       void *user) {
    tracer t = {0};
    q_status st = binarize(map, w, h, thresh, &t.m);
    if (st) return st;
    ptrdiff_t step = (ptrdiff_t)w + 2;
    const ptrdiff_t d[8] = {1, -step + 1, -step, -step - 1, -1, step - 1, step, step + 1};
    for (int i = 0; i < 16; i++)
        t.delta[i] = d[i & 7];
    for (int y = 0; y < h && !st; y++) {
        signed char *row = t.m + (y + 1) * step + 1;
        for (int x = 0; x < w && !st; x++) {
            int p = row[x], prev = row[x - 1]; /* read now: tracing rewrites marks */
            if (prev == 0 && p == 1)
                st = trace_border(&t, row + x, x, y, 0);
            else if (p == 0 && prev >= 1)
                st = trace_border(&t, row + x - 1, x - 1, y, 1);
            else
                continue;
            if (!st) st = fn(user, t.pts.p, t.pts.n);
        }
    }
    geom_pts_free(&t.pts);
    free(t.m);
    return st;
}

/* ---- convex hull ------------------------------------------------------------ */
static int pt_cmp(const void *a, const void *b) {
    const geom_pt *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

static int64_t cross(geom_pt o, geom_pt a, geom_pt b) {
    return (int64_t)(a.x - o.x) * (b.y - o.y) - (int64_t)(a.y - o.y) * (b.x - o.x);
}

static void reverse(geom_pt *p, size_t from, size_t to) {
    for (; from + 1 < to; from++, to--) {
        geom_pt t = p[from];
        p[from] = p[to - 1];
        p[to - 1] = t;
    }
}

size_t geom_hull(geom_pt *pts, size_t n, geom_pt *out) {
    if (n == 0) return 0;
    qsort(pts, n, sizeof(*pts), pt_cmp);
    if (pts[0].x == pts[n - 1].x && pts[0].y == pts[n - 1].y) {
        out[0] = pts[0];
        return 1;
    }
    /* Andrew's monotone chain; popping on cross <= 0 drops collinear points
     * as OpenCV's Sklansky scan does */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        while (k >= 2 && cross(out[k - 2], out[k - 1], pts[i]) <= 0)
            k--;
        out[k++] = pts[i];
    }
    size_t last = k - 1; /* the largest (x, y) ends the lower chain */
    for (size_t i = n - 1, lo = k + 1; i-- > 0;) {
        while (k >= lo && cross(out[k - 2], out[k - 1], pts[i]) <= 0)
            k--;
        out[k++] = pts[i];
    }
    k--; /* the first point closed the chain */
    /* same turn as OpenCV's counter-clockwise hull, which starts at the
     * largest (x, y): rotate the cycle by `last` (three reversals) */
    reverse(out, 0, last);
    reverse(out, last, k);
    reverse(out, 0, k);
    return k;
}

/* ---- minimum-area rectangle (OpenCV's rotatingCalipers, float) -------------- */
typedef struct {
    const float *px, *py;
    float *vx, *vy, *inv;
    int n;
} calipers;

/* Edge vectors, their inverse lengths and the extreme points' indices
 * (left, right, "top" = largest y, "bottom" = smallest y). Returns the hull's
 * orientation, +1 or -1 (0 for a degenerate hull). */
static float calipers_init(calipers *c, int ext[4]) {
    float left_x = c->px[0], right_x = c->px[0], top_y = c->py[0], bottom_y = c->py[0];
    ext[0] = ext[1] = ext[2] = ext[3] = 0; /* bottom, right, top, left */
    for (int i = 0; i < c->n; i++) {
        float x0 = c->px[i], y0 = c->py[i];
        if (x0 < left_x) left_x = x0, ext[3] = i;
        if (x0 > right_x) right_x = x0, ext[1] = i;
        if (y0 > top_y) top_y = y0, ext[2] = i;
        if (y0 < bottom_y) bottom_y = y0, ext[0] = i;
        int j = i + 1 < c->n ? i + 1 : 0;
        double dx = c->px[j] - x0, dy = c->py[j] - y0;
        c->vx[i] = (float)dx;
        c->vy[i] = (float)dy;
        c->inv[i] = (float)(1. / sqrt(dx * dx + dy * dy));
    }
    double ax = c->vx[c->n - 1], ay = c->vy[c->n - 1];
    for (int i = 0; i < c->n; i++) {
        double bx = c->vx[i], by = c->vy[i];
        double convexity = ax * by - ay * bx;
        if (convexity != 0) return convexity > 0 ? 1.f : -1.f;
        ax = bx;
        ay = by;
    }
    return 0;
}

/* out: corner (x, y), then the width vector, then the height vector. */
static void calipers_run(calipers *c, float out[6]) {
    int seq[4];
    float base_a = calipers_init(c, seq), base_b = 0;
    float minarea = FLT_MAX, best_a = 0, best_b = 0, best_w = 0, best_h = 0;
    int best_left = 0, best_bottom = 0;
    for (int k = 0; k < c->n; k++) {
        /* the side whose edge turns least: the edge vectors turned onto the
         * first caliper's frame, the rightmost one wins (OpenCV >= 4.5.1) */
        float rx[4], ry[4];
        rx[0] = c->vx[seq[0]], ry[0] = c->vy[seq[0]];
        rx[1] = c->vy[seq[1]], ry[1] = -c->vx[seq[1]];
        rx[2] = -c->vx[seq[2]], ry[2] = -c->vy[seq[2]];
        rx[3] = -c->vy[seq[3]], ry[3] = c->vx[seq[3]];
        int main_el = 0;
        for (int i = 1; i < 4; i++)
            if (ry[i] * rx[main_el] + -rx[i] * ry[main_el] < 0) main_el = i;
        int pi = seq[main_el];
        float lx = c->vx[pi] * c->inv[pi], ly = c->vy[pi] * c->inv[pi];
        switch (main_el) {
        case 0:
            base_a = lx, base_b = ly;
            break;
        case 1:
            base_a = ly, base_b = -lx;
            break;
        case 2:
            base_a = -lx, base_b = -ly;
            break;
        default:
            base_a = -ly, base_b = lx;
            break;
        }
        seq[main_el] = seq[main_el] + 1 == c->n ? 0 : seq[main_el] + 1;
        float dx = c->px[seq[1]] - c->px[seq[3]], dy = c->py[seq[1]] - c->py[seq[3]];
        float width = dx * base_a + dy * base_b;
        dx = c->px[seq[2]] - c->px[seq[0]];
        dy = c->py[seq[2]] - c->py[seq[0]];
        float height = -dx * base_b + dy * base_a;
        float area = width * height;
        if (area <= minarea) { /* <=: the last of equal rectangles, as OpenCV */
            minarea = area;
            best_left = seq[3];
            best_bottom = seq[0];
            best_a = base_a, best_b = base_b, best_w = width, best_h = height;
        }
    }
    float a1 = best_a, b1 = best_b, a2 = -best_b, b2 = best_a;
    float c1 = a1 * c->px[best_left] + c->py[best_left] * b1;
    float c2 = a2 * c->px[best_bottom] + c->py[best_bottom] * b2;
    float idet = 1.f / (a1 * b2 - a2 * b1);
    out[0] = (c1 * b2 - c2 * b1) * idet;
    out[1] = (a1 * c2 - a2 * c1) * idet;
    out[2] = a1 * best_w;
    out[3] = b1 * best_w;
    out[4] = a2 * best_h;
    out[5] = b2 * best_h;
}

void geom_work_free(geom_work *w) {
    if (!w) return;
    free(w->hull);
    free(w->f);
    w->hull = NULL;
    w->f = NULL;
    w->cap = 0;
}

static q_status work_reserve(geom_work *w, size_t n) {
    if (n <= w->cap) return Q_OK;
    if (n > SIZE_MAX / (5 * sizeof(float)) - 1) return Q_FAIL(Q_ERR_NOMEM, "geom: %zu points", n);
    geom_pt *h = realloc(w->hull, (2 * n + 1) * sizeof(*h));
    if (h) w->hull = h;
    float *f = realloc(w->f, 5 * n * sizeof(*f));
    if (f) w->f = f;
    if (!h || !f) return Q_FAIL(Q_ERR_NOMEM, "geom: %zu points", n);
    w->cap = n;
    return Q_OK;
}

static void rrect_of_two(const float *px, const float *py, geom_rrect *r) {
    r->cx = (px[0] + px[1]) * 0.5f;
    r->cy = (py[0] + py[1]) * 0.5f;
    double dx = px[1] - px[0], dy = py[1] - py[0];
    r->w = (float)sqrt(dx * dx + dy * dy);
    r->h = 0;
    r->angle = (float)atan2(dy, dx);
}

q_status geom_min_area_rect(geom_pt *pts, size_t n, geom_work *w, geom_rrect *out) {
    memset(out, 0, sizeof(*out));
    q_status st = work_reserve(w, n);
    if (st || n == 0) return st;
    size_t k = geom_hull(pts, n, w->hull);
    calipers c = {w->f, w->f + k, w->f + 2 * k, w->f + 3 * k, w->f + 4 * k, (int)k};
    for (size_t i = 0; i < k; i++) {
        w->f[i] = (float)w->hull[i].x;
        w->f[k + i] = (float)w->hull[i].y;
    }
    if (k > 2) {
        float o[6];
        calipers_run(&c, o);
        out->cx = o[0] + (o[2] + o[4]) * 0.5f;
        out->cy = o[1] + (o[3] + o[5]) * 0.5f;
        out->w = (float)sqrt((double)o[2] * o[2] + (double)o[3] * o[3]);
        out->h = (float)sqrt((double)o[4] * o[4] + (double)o[5] * o[5]);
        out->angle = (float)atan2((double)o[3], (double)o[2]);
    } else if (k == 2) {
        rrect_of_two(c.px, c.py, out);
    } else {
        out->cx = c.px[0];
        out->cy = c.py[0];
    }
    /* float times 180 first, then the double division: OpenCV's expression */
    out->angle = (float)((double)(out->angle * 180.0f) / GEOM_CV_PI);
    return Q_OK;
}

void geom_rrect_points(const geom_rrect *r, float pt[4][2]) {
    double ang = r->angle * GEOM_CV_PI / 180.;
    float b = (float)cos(ang) * 0.5f;
    float a = (float)sin(ang) * 0.5f;
    pt[0][0] = r->cx - a * r->h - b * r->w;
    pt[0][1] = r->cy + b * r->h - a * r->w;
    pt[1][0] = r->cx + a * r->h - b * r->w;
    pt[1][1] = r->cy - b * r->h - a * r->w;
    pt[2][0] = 2 * r->cx - pt[0][0];
    pt[2][1] = 2 * r->cy - pt[0][1];
    pt[3][0] = 2 * r->cx - pt[1][0];
    pt[3][1] = 2 * r->cy - pt[1][1];
}

/* ---- polygon fill (cv::fillPoly, LINE_8, shift 0) --------------------------- */
/* OpenCV 4.6 (the newest PaddleOCR 2.7 allows) clips an edge's line to the
 * mask before drawing it, but fills between the unclipped edges: a box on the
 * map's border can get a mask with gaps, so the mask is kept pixel by pixel. */
typedef struct {
    unsigned char *m;
    int cw, ch;
} spans;

static void span_put(spans *s, int x, int y) {
    if (x >= 0 && x < s->cw && y >= 0 && y < s->ch) s->m[(size_t)y * (size_t)s->cw + x] = 1;
}

static int out_code(int64_t x, int64_t y, int64_t right, int64_t bottom) {
    return (x < 0) + (x > right) * 2 + (y < 0) * 4 + (y > bottom) * 8;
}

/* cv::clipLine: moves the end points onto the w x h rectangle (truncating
 * double arithmetic, end points updated in place even when it fails);
 * returns whether the segment meets the rectangle. */
static int clip_line(int w, int h, geom_pt *p1, geom_pt *p2) {
    int64_t right = w - 1, bottom = h - 1;
    int64_t x1 = p1->x, y1 = p1->y, x2 = p2->x, y2 = p2->y;
    int c1 = out_code(x1, y1, right, bottom), c2 = out_code(x2, y2, right, bottom);
    if ((c1 & c2) == 0 && (c1 | c2) != 0) {
        if (c1 & 12) {
            int64_t a = c1 < 8 ? 0 : bottom;
            x1 += (int64_t)((double)(a - y1) * (double)(x2 - x1) / (double)(y2 - y1));
            y1 = a;
            c1 = (x1 < 0) + (x1 > right) * 2;
        }
        if (c2 & 12) {
            int64_t a = c2 < 8 ? 0 : bottom;
            x2 += (int64_t)((double)(a - y2) * (double)(x2 - x1) / (double)(y2 - y1));
            y2 = a;
            c2 = (x2 < 0) + (x2 > right) * 2;
        }
        if ((c1 & c2) == 0 && (c1 | c2) != 0) {
            if (c1) {
                int64_t a = c1 == 1 ? 0 : right;
                y1 += (int64_t)((double)(a - x1) * (double)(y2 - y1) / (double)(x2 - x1));
                x1 = a;
                c1 = 0;
            }
            if (c2) {
                int64_t a = c2 == 1 ? 0 : right;
                y2 += (int64_t)((double)(a - x2) * (double)(y2 - y1) / (double)(x2 - x1));
                x2 = a;
                c2 = 0;
            }
        }
    }
    p1->x = (int)x1, p1->y = (int)y1, p2->x = (int)x2, p2->y = (int)y2;
    return (c1 | c2) == 0;
}

static int inside(const spans *s, geom_pt p) {
    return p.x >= 0 && p.x < s->cw && p.y >= 0 && p.y < s->ch;
}

/* The pixels of cv::LineIterator(8-connected, left to right) from a to b. */
static void span_line(spans *s, geom_pt a, geom_pt b) {
    if ((!inside(s, a) || !inside(s, b)) && !clip_line(s->cw, s->ch, &a, &b)) return;
    if (b.x < a.x) {
        geom_pt t = a;
        a = b;
        b = t;
    }
    int dx = b.x - a.x, dy = b.y - a.y, sy = dy < 0 ? -1 : 1;
    dy = abs(dy);
    int x_major = dx >= dy;
    int len = x_major ? dx : dy, minor = x_major ? dy : dx;
    int err = len - 2 * minor, x = a.x, y = a.y;
    for (int i = 0; i <= len; i++) {
        span_put(s, x, y);
        int step_minor = err < 0;
        err += -2 * minor + (step_minor ? 2 * len : 0);
        if (x_major) {
            x++;
            y += step_minor ? sy : 0;
        } else {
            y += sy;
            x += step_minor;
        }
    }
}

/* floor(v / 65536) for negative v too (>> of a negative is implementation-defined). */
static int64_t floor16(int64_t v) {
    return v >= 0 ? v / 65536 : -((-v + 65535) / 65536);
}

typedef struct {
    int y0, y1;
    int64_t x, dx; /* 16.16 fixed point, as OpenCV's PolyEdge */
} fill_edge;

/* CollectPolyEdges (OpenCV 4.6): the edge a -> b in 16.16, unclipped.
 * Returns 0 for a horizontal edge. */
static int make_edge(geom_pt a, geom_pt b, fill_edge *e) {
    if (a.y == b.y) return 0;
    geom_pt top = a.y < b.y ? a : b;
    e->y0 = Q_MIN(a.y, b.y);
    e->y1 = Q_MAX(a.y, b.y);
    e->dx = (int64_t)(b.x - a.x) * 65536 / (b.y - a.y);
    e->x = (int64_t)top.x * 65536;
    return 1;
}

/* The scanline interior: per row, from ceil(left edge) to floor(right edge),
 * edges stepped in 16.16 fixed point with OpenCV's truncated slope. */
static void span_interior(spans *s, const geom_pt q[4]) {
    fill_edge e[4];
    int ne = 0, ymin = INT_MAX, ymax = INT_MIN;
    for (int k = 0; k < 4; k++) {
        if (!make_edge(q[(k + 3) & 3], q[k], &e[ne])) continue;
        ymin = Q_MIN(ymin, e[ne].y0);
        ymax = Q_MAX(ymax, e[ne].y1);
        ne++;
    }
    if (ne < 2) return;
    for (int y = Q_MAX(ymin, 0); y < Q_MIN(ymax, s->ch); y++) {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        int active = 0;
        for (int k = 0; k < ne; k++) {
            if (y < e[k].y0 || y >= e[k].y1) continue;
            int64_t x = e[k].x + (int64_t)(y - e[k].y0) * e[k].dx;
            lo = Q_MIN(lo, x);
            hi = Q_MAX(hi, x);
            active++;
        }
        if (active < 2) continue;
        int64_t x1 = floor16(lo + 65535), x2 = floor16(hi);
        for (int64_t x = Q_MAX(x1, 0); x <= Q_MIN(x2, (int64_t)s->cw - 1); x++)
            span_put(s, (int)x, y);
    }
}

double geom_fill_mean(const float *map, int map_w, int x0, int y0, int cw, int ch,
                      const geom_pt q[4], unsigned char *mask) {
    spans s = {mask, cw, ch};
    memset(mask, 0, (size_t)cw * (size_t)ch);
    for (int k = 0; k < 4; k++)
        span_line(&s, q[(k + 3) & 3], q[k]);
    span_interior(&s, q);
    return geom_mask_mean(map, map_w, x0, y0, cw, ch, mask);
}

double geom_mask_mean(const float *map, int map_w, int x0, int y0, int cw, int ch,
                      const unsigned char *mask) {
    double sum = 0;
    size_t count = 0;
    for (int y = 0; y < ch; y++) {
        const float *row = map + (size_t)(y0 + y) * (size_t)map_w + x0;
        const unsigned char *mrow = mask + (size_t)y * (size_t)cw;
        for (int x = 0; x < cw; x++)
            if (mrow[x]) {
                sum += row[x];
                count++;
            }
    }
    return count ? sum / (double)count : 0.0;
}

/* ---- rounded offset (ClipperLib::ClipperOffset, closed polygon, jtRound) ---- */
typedef struct {
    double x, y;
} dpt;

typedef struct {
    const geom_pt *src;
    const dpt *nrm;
    double delta, sin_a, step_sin, step_cos, steps_per_rad;
    geom_pts *out;
} offsetter;

static long long clp_round(double v) {
    return v < 0 ? (long long)(v - 0.5) : (long long)(v + 0.5);
}

static q_status off_push(offsetter *o, int j, dpt n) {
    return geom_pts_push(o->out, (int)clp_round(o->src[j].x + n.x * o->delta),
                         (int)clp_round(o->src[j].y + n.y * o->delta));
}

static q_status off_round(offsetter *o, int j, int k) {
    dpt nk = o->nrm[k], nj = o->nrm[j];
    double a = atan2(o->sin_a, nk.x * nj.x + nk.y * nj.y);
    int steps = (int)clp_round(o->steps_per_rad * fabs(a));
    dpt v = nk;
    q_status st = Q_OK;
    for (int i = 0; i < Q_MAX(steps, 1) && !st; i++) {
        st = off_push(o, j, v);
        double x2 = v.x;
        v.x = v.x * o->step_cos - o->step_sin * v.y;
        v.y = x2 * o->step_sin + v.y * o->step_cos;
    }
    return st ? st : off_push(o, j, nj);
}

/* Clipper's OffsetPoint: k is the previous edge, left unchanged (as Clipper
 * does) when the vertex is flat enough to give one point. */
static q_status off_point(offsetter *o, int j, int *k) {
    dpt nk = o->nrm[*k], nj = o->nrm[j];
    q_status st;
    o->sin_a = nk.x * nj.y - nj.x * nk.y;
    if (fabs(o->sin_a * o->delta) < 1.0) {
        if (nk.x * nj.x + nj.y * nk.y > 0) return off_push(o, j, nk);
    } else if (o->sin_a > 1.0) {
        o->sin_a = 1.0;
    } else if (o->sin_a < -1.0) {
        o->sin_a = -1.0;
    }
    if (o->sin_a * o->delta < 0) { /* concave vertex */
        st = off_push(o, j, nk);
        if (!st) st = geom_pts_push(o->out, o->src[j].x, o->src[j].y);
        if (!st) st = off_push(o, j, nj);
    } else {
        st = off_round(o, j, *k);
    }
    *k = j;
    return st;
}

/* Clipper's Area: positive for a counter-clockwise polygon (y up). */
static double clp_area(const geom_pt *p, int n) {
    double a = 0;
    for (int i = 0, j = n - 1; i < n; j = i++)
        a += ((double)p[j].x + p[i].x) * ((double)p[j].y - p[i].y);
    return -a * 0.5;
}

static dpt unit_normal(geom_pt a, geom_pt b) {
    dpt r = {0, 0};
    if (a.x == b.x && a.y == b.y) return r;
    double dx = (double)(b.x - a.x), dy = (double)(b.y - a.y);
    double f = 1 * 1.0 / sqrt(dx * dx + dy * dy);
    r.x = dy * f;
    r.y = -(dx * f);
    return r;
}

/* AddPath: repeated points dropped, the closing copy of the first too. */
static int clp_clean(const geom_pt *poly, int n, geom_pt *src) {
    int hi = n - 1, len = 1;
    while (hi > 0 && poly[0].x == poly[hi].x && poly[0].y == poly[hi].y)
        hi--;
    src[0] = poly[0];
    for (int i = 1; i <= hi; i++)
        if (poly[i].x != src[len - 1].x || poly[i].y != src[len - 1].y) src[len++] = poly[i];
    return len;
}

q_status geom_offset_round(const geom_pt *poly, int n, double delta, geom_pts *out) {
    /* delta 0 or NaN makes the arc step count NaN, a huge one overflows the
     * rounded vertices: neither comes from a real box */
    if (n < 3 || !(delta > 0 && delta <= GEOM_OFFSET_MAX)) return Q_OK;
    geom_pt *src = malloc((size_t)n * sizeof(*src));
    dpt *nrm = malloc((size_t)n * sizeof(*nrm));
    q_status st = Q_OK;
    if (!src || !nrm) {
        st = Q_FAIL(Q_ERR_NOMEM, "geom: offset of %d points", n);
        goto done;
    }
    int len = clp_clean(poly, n, src);
    if (len < 3) goto done;
    if (clp_area(src, len) < 0) /* FixOrientations: outward is then to the right */
        for (int i = 0, j = len - 1; i < j; i++, j--) {
            geom_pt t = src[i];
            src[i] = src[j];
            src[j] = t;
        }
    double tol = 0.25 > fabs(delta) * 0.25 ? fabs(delta) * 0.25 : 0.25;
    double steps = GEOM_CLP_PI / acos(1 - tol / fabs(delta));
    if (steps > fabs(delta) * GEOM_CLP_PI) steps = fabs(delta) * GEOM_CLP_PI;
    offsetter o = {src,
                   nrm,
                   delta,
                   0,
                   sin(GEOM_CLP_PI * 2 / steps),
                   cos(GEOM_CLP_PI * 2 / steps),
                   steps / (GEOM_CLP_PI * 2),
                   out};
    for (int j = 0; j < len; j++)
        nrm[j] = unit_normal(src[j], src[j + 1 < len ? j + 1 : 0]);
    for (int j = 0, k = len - 1; j < len && !st; j++)
        st = off_point(&o, j, &k);
done:
    free(src);
    free(nrm);
    return st;
}

int geom_quad_turn(double q[4][2]) {
    int sign = 0;
    for (int k = 0; k < 4; k++) {
        const double *a = q[(k + 3) & 3], *b = q[k], *c = q[(k + 1) & 3];
        double turn = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
        int s = turn > 1e-6 ? 1 : turn < -1e-6 ? -1 : 0;
        if (s == 0 || (sign && s != sign)) return 0;
        sign = s;
    }
    return sign;
}

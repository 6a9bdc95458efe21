/* geom: the plane geometry of DB post-processing (dbpost.c), written to give
 * the numbers OpenCV and pyclipper give PaddleOCR: contours of a binary map,
 * convex hull, minimum-area rectangle, polygon fill and rounded offset.
 * Module-private: only src/ocr and tests/ocr include this. */
#pragma once

#include <stddef.h>

#include "util/util.h"

typedef struct {
    int x, y;
} geom_pt;

/* Growable point list; geom_pts_free is NULL-safe and leaves it empty. */
typedef struct {
    geom_pt *p;
    size_t n, cap;
} geom_pts;
q_status geom_pts_push(geom_pts *v, int x, int y);
void geom_pts_free(geom_pts *v);

/* cv::RotatedRect: centre, width and height, angle in degrees. */
typedef struct {
    float cx, cy, w, h, angle;
} geom_rrect;

/* Called once per contour with its points (CHAIN_APPROX_SIMPLE: the turns of
 * the border). `pts` may be reordered by the callee; it lives until return. */
typedef q_status (*geom_contour_fn)(void *user, geom_pt *pts, size_t n);

/* Every border of the binary map `map[i] > thresh` (w x h, rows of w floats)
 * as cv::findContours(RETR_LIST, CHAIN_APPROX_SIMPLE) finds them: outer
 * borders of 8-connected regions and borders of their holes, in the order
 * of the raster scan that discovers them (OpenCV returns them reversed).
 * Stops at the first callback that fails and returns its status. */
q_status geom_contours(const float *map, int w, int h, float thresh, geom_contour_fn fn,
                       void *user);

/* Convex hull of pts[0..n) without collinear points, in the order of
 * cv::convexHull(clockwise = false), which cv::minAreaRect uses since OpenCV
 * 4.5.1: from the largest (x, y), counter-clockwise with y up.
 * Sorts `pts`; `out` holds at least 2n + 1 points. Returns the vertex count. */
size_t geom_hull(geom_pt *pts, size_t n, geom_pt *out);

/* Scratch of geom_min_area_rect, grown as needed; free with geom_work_free. */
typedef struct {
    geom_pt *hull;
    float *f;
    size_t cap; /* points */
} geom_work;
void geom_work_free(geom_work *w);

/* cv::minAreaRect(pts) with OpenCV's float arithmetic (hull + rotating
 * calipers as in OpenCV 4.5.1 to 4.6, the versions PaddleOCR 2.7 allows), so
 * that the corners PaddleOCR later truncates agree. Sorts pts. */
q_status geom_min_area_rect(geom_pt *pts, size_t n, geom_work *w, geom_rrect *out);

/* cv::boxPoints: the four corners of `r`. */
void geom_rrect_points(const geom_rrect *r, float pt[4][2]);

/* Mean of the floats under what cv::fillPoly(mask, [q], 1) sets on a cw x ch
 * mask (LINE_8 edges plus the scanline interior), where mask pixel (x, y) is
 * map[(y0 + y) * map_w + x0 + x]; q is in mask coordinates and may lie
 * partly outside the mask (OpenCV 4.6's clipping is followed). 0 when no
 * pixel is set. `mask` is scratch of cw * ch bytes. */
double geom_fill_mean(const float *map, int map_w, int x0, int y0, int cw, int ch,
                      const geom_pt q[4], unsigned char *mask);

/* Mean of map[(y0 + y) * map_w + x0 + x] over the pixels set in a cw x ch
 * mask; 0 when none is. */
double geom_mask_mean(const float *map, int map_w, int x0, int y0, int cw, int ch,
                      const unsigned char *mask);

/* pyclipper's PyclipperOffset().AddPath(poly, JT_ROUND, ET_CLOSEDPOLYGON) and
 * Execute(delta) for delta > 0 (Clipper 6.4: arc tolerance 0.25, vertices
 * rounded half away from zero): appends the vertices of the grown polygon to
 * `out`. A polygon of fewer than 3 distinct points adds nothing, nor does a
 * delta that is not in (0, GEOM_OFFSET_MAX] (NaN included). The points'
 * coordinates must lie within +-2^20 so that the grown ones fit an int. */
#define GEOM_OFFSET_MAX 65536.0
q_status geom_offset_round(const geom_pt *poly, int n, double delta, geom_pts *out);

/* How the corners of the quadrilateral q (x, y; y down) turn, the same way at
 * all four: 1 clockwise on screen, -1 counter-clockwise; 0 when it is not
 * strictly convex (crossed, a corner repeated, three corners in a line, a
 * corner not finite). Turns within 1e-6 of zero count as none, which for
 * integer corners is exactly "not zero". (Not const: C11 will not pass a
 * double[4][2] as const double (*)[2].) */
int geom_quad_turn(double q[4][2]);

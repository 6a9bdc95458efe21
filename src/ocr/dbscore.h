/* dbscore: DB post-processing's score of a box by its contour (dbscore.c).
 * Module-private: only src/ocr and tests/ocr include this. */
#pragma once

#include <stddef.h>

#include "ocr/geom.h"

/* Scratch of ocr_db_contour_mean, grown as needed; free with
 * ocr_db_scratch_free (which leaves it empty). */
typedef struct {
    void *mem;
    size_t cap;
} ocr_db_scratch;
void ocr_db_scratch_free(ocr_db_scratch *s);

/* PaddleOCR's box_score_slow: the mean of prob (map_h rows of map_w floats)
 * over the polygon pts[0..n) -- its border pixels and the pixels inside it
 * (even-odd rule) -- where the points are pixels of the map, as the contours
 * of geom_contours are. *mean = 0 for no points. A point off the map is a
 * usage error. */
q_status ocr_db_contour_mean(const float *prob, int map_w, int map_h, const geom_pt *pts, size_t n,
                             ocr_db_scratch *s, double *mean);

/* ocr module internals: the stages the pipeline chains, each testable alone
 * on hand-made inputs (tests/ocr). Only src/ocr and tests/ocr include this. */
#pragma once

#include "ocr/ocr.h"

/* ---- DB post-processing of the detection map (dbpost.c, geom.c) ---------- */
typedef struct {
    float thresh;       /* binary map = prob > thresh (0.3) */
    float box_thresh;   /* drop boxes whose mean probability is below (0.6) */
    float unclip_ratio; /* D = area * ratio / perimeter (1.5) */
    int max_candidates; /* contours considered, at most (1000) */
    int min_size;       /* drop rectangles whose short side is below (3) */
} ocr_db_params;

void ocr_db_params_default(ocr_db_params *p);

typedef struct {
    float pt[4][2]; /* corners in page pixels, clockwise from top-left */
    float score;    /* mean probability inside the detected rectangle */
} ocr_box;

/* Boxes of the probability map `prob` (map_h rows of map_w floats) scaled to a
 * page of page_w x page_h pixels (x * page_w / map_w, y * page_h / map_h),
 * rounded, clipped to the page, corners clockwise from top-left, boxes 3 px
 * or less wide or high dropped; then sorted into PaddleOCR's reading order
 * (ocr_boxes_sort). *boxes is malloc'ed (NULL when none). */
q_status ocr_db_boxes(const float *prob, int map_w, int map_h, int page_w, int page_h,
                      const ocr_db_params *p, ocr_box **boxes, size_t *n);

/* PaddleOCR's sort: by (top y, left x), then one pass swapping neighbours whose
 * top y differ by < 10 px when the later one lies further left. */
void ocr_boxes_sort(ocr_box *boxes, size_t n);

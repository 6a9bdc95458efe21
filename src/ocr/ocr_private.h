/* ocr module internals: the stages the pipeline chains, each testable alone
 * on hand-made inputs (tests/ocr). Only src/ocr and tests/ocr include this. */
#pragma once

#include "ocr/ocr.h"

/* v truncated to an int in [lo, hi]; NaN gives lo. Converting a float that is
 * not finite or out of int's range is undefined behaviour (a crop once read
 * pixels at x = -4.5e9 and NaN), so every conversion of a computed coordinate
 * in src/ocr goes through this. */
static inline int ocr_to_int(double v, int lo, int hi) {
    if (!(v >= lo)) return lo;
    if (v > hi) return hi;
    return (int)v;
}

/* ---- DB post-processing of the detection map (dbpost.c, geom.c) ---------- */
typedef struct {
    float thresh;       /* binary map = prob > thresh (0.3) */
    float box_thresh;   /* drop boxes whose mean probability is below (0.6) */
    float unclip_ratio; /* D = area * ratio / perimeter (1.5) */
    int max_candidates; /* contours considered, at most (1000) */
    int min_size;       /* drop rectangles whose short side is below (3) */
    int fast_only;      /* PaddleOCR's fast score alone: no contour score of tilted lines */
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
 * (ocr_boxes_sort). *boxes is malloc'ed (NULL when none). PaddleOCR's boxes,
 * plus any tilted line its fast score drops that scores on its contour and
 * lies within 1 degree of the skew of the others (dbpost.c). */
q_status ocr_db_boxes(const float *prob, int map_w, int map_h, int page_w, int page_h,
                      const ocr_db_params *p, ocr_box **boxes, size_t *n);

/* PaddleOCR's sort: by (top y, left x), then one pass swapping neighbours whose
 * top y differ by < 10 px when the later one lies further left. */
void ocr_boxes_sort(ocr_box *boxes, size_t n);

/* ---- the engine (engine.c) ------------------------------------------------ */
/* The recognizer's dictionary: one character (UTF-8) per line of the file. */
typedef struct {
    q_buf chars;   /* each character NUL-terminated */
    uint32_t *off; /* character i (class i + 1) starts at chars.data + off[i] */
    uint32_t n;    /* characters (6623 for ppocr_keys_v1.txt) */
} ocr_dict;

/* Parses dictionary bytes: lines split at '\n' ('\r' before it dropped), a
 * final line without newline counted; each line must be valid UTF-8. */
q_status ocr_dict_parse(const char *bytes, size_t n, ocr_dict *d);
void ocr_dict_free(ocr_dict *d); /* NULL-safe */

struct ocr_engine {
    ocr_options o;
    nn_model *det, *cls, *rec;
    ocr_dict dict;
    float *tensor;             /* input tensor scratch, grown as needed */
    struct ocr_lexicon *lex;   /* the beam decoder's word lists (NULL for greedy decoding) */
    double t_rec, t_decode;    /* seconds in recognition batches, and in their CTC decoding
                                  (printed at ocr_engine_free with QUIRE_DECODE_STATS=1) */
    double t_nn;               /* seconds inside network runs (ocr_engine_nn_seconds) */
    double t_nn_net[OCR_NETS]; /* the same per network */
    double t_stage[OCR_NETS];  /* seconds in each stage, networks included (pipeline.c) */
    double pages;              /* pages read (for the stage stats) */
    /* a remote engine (ocr_options.remote): requests in flight, replies that
     * came before they were asked for, the one being read, and recognition's
     * output expanded from its top classes */
    ocr_remote remote;
    uint64_t ticket; /* the last request's */
    int outstanding; /* requests sent, replies not yet received */
    q_buf stash[OCR_NET_DEPTH_MAX], cur, sendbuf;
    float *dense;
    size_t dense_cap;
    double deadline, t_wait;    /* the page's (ocr_images); seconds waiting for replies */
    double bytes_out, bytes_in; /* requests sent, replies taken (QUIRE_DECODE_STATS) */
    /* a local engine's last run, for ocr_net_collect */
    const float *last_out;
    nn_shape last_shape;
    q_status last_st;
    size_t tensor_cap; /* floats */
};

/* Runs one of the engine's networks on `in` (net.c), here or through the
 * engine's remote: *out is the network's output (recognition's: each step's
 * OCR_NET_TOPK most probable classes, the rest 0, when remote), valid until
 * the engine's next run or collect. */
q_status ocr_net_run(ocr_engine *e, ocr_net net, const float *in, const nn_shape *shape,
                     const float **out, nn_shape *out_shape);
/* The same in two halves, so that a remote engine keeps up to
 * ocr_net_depth(e) requests in flight: submit hands the input on (a local
 * engine runs it at once) and says its ticket; collect waits for that
 * ticket's output. A local engine's depth is 1: collect before the next
 * submit. */
int ocr_net_depth(const ocr_engine *e);
q_status ocr_net_submit(ocr_engine *e, ocr_net net, const float *in, const nn_shape *shape,
                        uint64_t *ticket);
q_status ocr_net_collect(ocr_engine *e, uint64_t ticket, const float **out, nn_shape *out_shape);
/* Waits for (and drops) every reply still due: after a failure, so that the
 * next page's requests do not meet this page's replies. */
void ocr_net_drain(ocr_engine *e);

/* ---- the wire of a remote (netwire.c) ---- */
/* Classes kept per recognition step in a reply: the greedy decoder reads the
 * first, the beam its blank and OCR_BEAM_TOPK others (beam.c). */
enum { OCR_NET_TOPK = 8, OCR_BEAM_TOPK = 6 };
enum { OCR_NET_REQ_MAGIC = 0x5145524e, OCR_NET_REP_MAGIC = 0x5045524e }; /* "NREQ", "NREP" */
enum { OCR_NET_DENSE = 0, OCR_NET_TOPK_KIND = 1 };

typedef struct {
    uint32_t magic, net;
    uint64_t ticket;
    double deadline;
    int64_t dims[4];
} ocr_net_req_head; /* followed by the input's floats */

typedef struct {
    uint32_t magic;
    int32_t status; /* q_status */
    uint64_t ticket;
    uint32_t errlen; /* error text, padded to 8 bytes, after the header */
    uint32_t kind;   /* OCR_NET_DENSE: floats; OCR_NET_TOPK_KIND: per row of the last
                        dimension, OCR_NET_TOPK (int32 class, float probability) pairs */
    int32_t ndim, pad;
    int64_t dims[4]; /* the output's shape (dense) */
} ocr_net_rep_head;

/* Packs a request (the engine's next ticket) into `msg`. */
q_status ocr_net_req_pack(ocr_net net, uint64_t ticket, double deadline, const float *in,
                          const nn_shape *shape, q_buf *msg);
/* Reads a reply: its ticket, and on success its output into *out (pointing
 * into `msg`, or into the engine's dense buffer for a top-k reply). A failed
 * request's error is returned as this call's. */
q_status ocr_net_reply_ticket(const q_buf *msg, uint64_t *ticket);
q_status ocr_net_reply_read(ocr_engine *e, const q_buf *msg, const float **out, nn_shape *shape);

/* Grows the engine's input scratch to n floats. */
q_status ocr_tensor_reserve(ocr_engine *e, size_t n);

/* ---- pixels (resize.c) ---------------------------------------------------- */
/* Bilinear resize with half-pixel centres and edge clamping (OpenCV's
 * INTER_LINEAR, which PaddleOCR uses; no antialiasing), u8 to u8. */
q_status ocr_resize_u8(const q_image *src, q_image *dst); /* dst allocated by the caller */
/* Writes `img` (gray or RGB) into a CHW float tensor of width `tw` (>= img.w,
 * right part zero) with the channels in B, G, R order: channel c value
 * (v / 255 - mean[c]) / std[c]. */
void ocr_to_tensor_bgr(const q_image *img, float *t, int tw, const float mean[3],
                       const float std[3]);

/* ---- detection (det.c) ---------------------------------------------------- */
/* The detector's input size for a page: longer side at most `side`, never
 * upscaled, each side rounded to the nearest multiple of 32 (at least 32). */
void ocr_det_size(int w, int h, int side, int *dw, int *dh);
q_status ocr_detect(ocr_engine *e, const q_image *img, ocr_box **boxes, size_t *n);

/* ---- crops (crop.c) ------------------------------------------------------- */
/* The quadrilateral `quad` of `img` warped to an upright rectangle (width the
 * longer of top and bottom edges, height the longer of left and right;
 * bicubic, replicated border), turned 90 degrees counter-clockwise when
 * height / width >= 1.5. A box that is not a convex quadrilateral with finite
 * corners inside the image (a pixel of slack), or is less than a pixel wide
 * or high, is Q_ERR_FORMAT with `out` empty: the crop is never larger than
 * the image's diagonal on either side. */
q_status ocr_crop(const q_image *img, const ocr_box *box, q_image *out);
/* ocr_crop of the box lengthened at both ends by a fifth of its height (the
 * detector's boxes often end inside a line's last letter): the crop the
 * recognizer reads. The box itself is not changed. */
q_status ocr_crop_line(const q_image *img, const ocr_box *box, q_image *out);
/* Turns `img` by 180 degrees in place. */
void ocr_rotate180(q_image *img);

/* ---- orientation and recognition (cls.c, rec.c, ctc.c) -------------------- */
/* A crop resized to height h and width min(ceil(h * w / crop_h), cap),
 * normalised to (v / 255 - 0.5) / 0.5 in B, G, R order, written CHW into `t`
 * with rows of width tw (zero-padded on the right), as PaddleOCR's
 * resize_norm_img for the classifier and the recognizer. */
q_status ocr_line_tensor(const q_image *crop, int h, int cap, int tw, float *t);
/* The width the crop takes in that tensor: min(ceil(h * w / crop_h), cap), >= 1. */
int ocr_line_width(const q_image *crop, int h, int cap);
/* The classifier's "upside down" score of each crop, in [0, 1]: the mean over
 * its windows of the 180 probability where 180 wins (0 where 0 wins). */
q_status ocr_cls_scores(ocr_engine *e, const q_image *crops, size_t n, float *score);
/* Turns crops that the classifier scores as upside down (> 0.9) by 180; their
 * scores go to `score` (n floats) unless it is NULL. */
q_status ocr_classify(ocr_engine *e, q_image *crops, size_t n, float *score);

typedef struct {
    float conf;
    uint64_t text_start; /* into the text buffer given to ocr_recognize */
    uint32_t text_len;
} ocr_rec_line;

/* Recognises every crop, in batches of similar width; out[i] belongs to
 * crops[i]. Text goes into `text`, NUL-separated. */
q_status ocr_recognize(ocr_engine *e, const q_image *crops, size_t n, ocr_rec_line *out,
                       q_buf *text);

/* In place, same length: in each space-separated token that is digits plus at
 * most as many l, I, o or O (around . , : / -), those letters become 1 and 0
 * ("1l05." -> "1105."). Other tokens are left as read. */
void ocr_fix_numbers(char *s, size_t n);

/* Calls fix on each space-separated token of s[0..n) (numbers.c). */
void ocr_each_token(char *s, size_t n, void (*fix)(char *tok, size_t len));

/* In place: in a plain word of at least 3 ASCII letters, a 1 or 0 between two
 * lowercase letters (or a word's first 1 or 0 before four) becomes l or o
 * ("Tab1e" -> "Table", "1ightning" -> "lightning"; "1st", "10am", "B12" stay),
 * and a middle dot (U+00B7) ending a token after a letter or digit becomes a
 * period. Returns the new length (shorter by one per dot). */
size_t ocr_fix_words(char *s, size_t n);

/* Where a decoded character came from: its first byte in the text buffer and
 * the first and last time steps of its run. */
typedef struct {
    size_t byte;
    int t0, t1;
} ocr_ctc_char;

/* CTC greedy decoding of `steps` rows of `classes` probabilities: argmax per
 * step, repeats merged, blanks (class 0) dropped; classes 1..ndict are the
 * dictionary's characters, class ndict + 1 a space. conf = mean of the kept
 * steps' probabilities (0 when nothing is kept). Appends the UTF-8 text.
 * A class outside 0..ndict + 1 is Q_ERR_FORMAT (model and dictionary differ).
 * With `chars` (room for `steps`), each kept character's origin goes there
 * and their count into *nchars. */
/* Whether a recognizer of `classes` outputs fits dictionary `d` (its
 * characters, a blank and a space); Q_ERR_FORMAT saying so when not. */
q_status ocr_ctc_check(const ocr_dict *d, int classes);
q_status ocr_ctc_decode(const ocr_dict *d, const float *probs, int steps, int classes, float *conf,
                        q_buf *text, ocr_ctc_char *chars, size_t *nchars);

/* Case by height for the letters whose capital is only a bigger lowercase:
 * a word's first letter (after a space or at the line's start) read as C, O,
 * S, c, o, s or 0 and followed by a lowercase letter becomes lowercase when
 * its ink starts at the line's x-height, a capital when it reaches a capital's
 * height, and stays as read in between. The x-height is fitted as a tilted
 * line to the letters without ascenders, capitals' height from the tall
 * letters (a third of an x-height above without two of them); the letter is
 * found at the ink after the space before its time steps (`cols_per_step`
 * crop columns each). Lines without three letters of known height, faint
 * ones, and fonts without ascenders stay as read. `line` is the line's text
 * (`len` bytes), `chars` its n characters with byte offsets relative to
 * `line`. In place, same length. */
void ocr_fix_case(const q_image *crop, double cols_per_step, const ocr_ctc_char *chars, size_t n,
                  char *line, size_t len);

/* ---- page orientation (turn.c, orient.c) -----------------------------------
 * A page's turn q is the number of quarter turns clockwise (0..3) that bring
 * its text upright; /pages rotation is 90 q. Points are pixel centres: x in
 * [0, w - 1] of a w-pixel-wide image. */

/* `src` turned q quarter turns clockwise, into `dst` (allocated here). */
q_status ocr_turn_image(const q_image *src, int q, q_image *dst);
/* Where point p of a w x h image lies once the image is turned by q. */
void ocr_turn_point(float p[2], int q, int w, int h);
/* Renumbers the corners as the image turned by q sees them (coordinates
 * unchanged): ocr_crop of the result is the crop of the turned image. */
void ocr_box_renumber(ocr_box *b, int q);
/* A box of a w x h image as it lies on the image turned by q: corners moved
 * and renumbered (corner 0 the top-left on the turned image). */
void ocr_turn_box(ocr_box *b, int q, int w, int h);

/* An axis-aligned rectangle (x0, y0, x1, y1) of a w x h page, in continuous
 * coordinates (points, edges at 0 and w), as it lies on the page turned by q. */
void ocr_turn_rect(float r[4], int q, float w, float h);

/* How a page's decision was reached, for the pipeline's second look. */
typedef struct {
    int q;      /* the turn to read the page at */
    int probed; /* candidates the recognizer compared (bit q), 0 when the cheap cues sufficed */
} ocr_orient;

/* Before any line of the page is cut: when its boxes stand mostly upright
 * (a sideways page), decides between a quarter turn either way from the
 * classifier's votes on a sample of lines turned 90, and the recognizer's
 * confidence at both turns when the votes are weak. o->q = -1 when the
 * lines lie along x (or no way clearly): the caller cuts and classifies the
 * lines as they are and asks ocr_orient_flat. */
q_status ocr_orient_sideways(ocr_engine *e, const q_image *img, const ocr_box *b, size_t n,
                             ocr_orient *o);
/* For a page read as it is: from the classifier's scores of its nc crops,
 * 0 when most of them read upright, 2 when most read upside down; the
 * recognizer's confidence decides when the votes are weak (between 0 and 2),
 * or when the boxes' shape says nothing either way (between all four). */
q_status ocr_orient_flat(ocr_engine *e, const q_image *img, const ocr_box *b, size_t nb,
                         const q_image *crops, const float *score, size_t nc, ocr_orient *o);
/* 1 when a page with nb boxes, of which `kept` lines survived the drop
 * score, read almost nothing: worth trying the other orientations. */
int ocr_orient_read_little(size_t nb, size_t kept);
/* The second look at a page that read almost nothing at turn o->q: the
 * recognizer's confidence at the turns not yet compared; o->q changes only
 * to a turn that reads clearly better. `b` are the boxes of `img` as it is. */
q_status ocr_orient_retry(ocr_engine *e, const q_image *img, const ocr_box *b, size_t n,
                          ocr_orient *o);

/* ---- word lists and the beam decoder (lexicon.c, lexlang.c, beam*.c) ------ */
/* One compiled word list: n distinct words, sorted by strcmp, word i at
 * blob + off[i] (NUL-terminated). Membership only. */
typedef struct {
    uint32_t n;
    uint32_t *off;
    char *blob;
    size_t blob_len;
    void *mem; /* owns off and blob */
} ocr_wordlist;

/* Compiles a text word list (UTF-8, one word per line; CR and trailing
 * blanks dropped; empty lines, lines with a space or tab inside and lines
 * that are not valid UTF-8 skipped; duplicates merged). Q_ERR_IO when it
 * cannot be read, Q_ERR_NOMEM above 256 MiB. */
q_status ocr_wordlist_from_file(const char *path, ocr_wordlist *wl);
/* The same, through a cache file cache_dir/<basename of src>.lex (cache_dir
 * created if needed; NULL: no cache): used when it was compiled from src as
 * it is now (same path, size and modification time) and passes its CRC-32C
 * and a check of its structure, else rebuilt and rewritten (a cache that
 * cannot be written is a warning, not an error). *built (may be NULL) says
 * whether the source was compiled. */
q_status ocr_wordlist_load(const char *src, const char *cache_dir, ocr_wordlist *wl, int *built);
/* 1 when the n bytes at w are one of the list's words (exactly). */
int ocr_wordlist_has(const ocr_wordlist *wl, const char *w, size_t n);
void ocr_wordlist_free(ocr_wordlist *wl); /* NULL-safe */

/* The word lists of a set of languages plus a user list. */
typedef struct ocr_lexicon {
    ocr_wordlist *lists;
    size_t n;
    int accents; /* a language other than English was asked for: bare letters may be
                    respelled with accents (ocr_beam_respell) */
} ocr_lexicon;

/* Loads the lists of `lang` (comma-separated codes, NULL = "en"; each code's
 * Debian lists under $QUIRE_DICT_DIR, else /usr/share/dict; a list that is
 * not installed is Q_ERR_IO naming the package to install) and of the user
 * list `words` (NULL = none), the system lists cached in `cache_dir`
 * (ocr_wordlist_load). */
q_status ocr_lexicon_new(const char *lang, const char *words, const char *cache_dir,
                         ocr_lexicon **out);
void ocr_lexicon_free(ocr_lexicon *lx); /* NULL-safe */
/* 1 when the n bytes at w are a word of any list: as written, or, for a word
 * with a capital first letter and no other capital, with that letter in
 * lowercase, or, for a word in capitals, in lowercase or with only its first
 * letter a capital (Latin letters of ASCII and Latin-1; a curly apostrophe
 * is read as '). */
int ocr_lexicon_has(const ocr_lexicon *lx, const char *w, size_t n);
/* Where quire keeps compiled word lists for an engine whose models are in
 * models_dir: $QUIRE_LEXICON_CACHE, else models_dir/lexicon. */
void ocr_lexicon_cache_dir(const char *models_dir, char *out, size_t cap);

/* Beam search settings (beam.c). */
typedef struct {
    int width;         /* prefixes kept per step */
    int topk;          /* classes tried per step, at most */
    float min_prob;    /* classes below this probability at a step are not tried */
    float clear;       /* a word whose every character was read at least this
                          probable is kept even when it is not in the lexicon */
    float nonword_log; /* log-probability a word outside the lexicon pays (< 0) */
} ocr_beam_params;

void ocr_beam_params_default(ocr_beam_params *p, int width);

/* CTC prefix beam search over the same input as ocr_ctc_decode, with the
 * same outputs: the text of the most probable label sequence once every word
 * completed in it (at a space or the line's end) is scored against `lx` (a
 * word that is in the lexicon, has no letters, has a digit, looks like a code
 * or URL, or was read clearly costs nothing; any other pays nonword_log; lx
 * NULL: no scoring). Its characters' time steps come from the most probable
 * alignment of that sequence (Viterbi), conf is the mean probability of each
 * character at its first step, as greedy's. Probabilities that are not
 * finite or not in [0, 1] are read as 0 (NaN, -inf, negatives) or 1 (+inf
 * and above). Q_ERR_FORMAT as ocr_ctc_decode for a model of the wrong class
 * count; Q_ERR_NOMEM. Agrees with greedy decoding wherever every step is
 * certain. */
q_status ocr_beam_decode(const ocr_dict *d, const ocr_lexicon *lx, const ocr_beam_params *bp,
                         const float *probs, int steps, int classes, float *conf, q_buf *text,
                         ocr_ctc_char *chars, size_t *nchars);

/* Scores one decoded word (beamword.c): 0 when it costs nothing (see
 * ocr_beam_decode), else bp->nonword_log. `w` is the word's n bytes with its
 * punctuation; min_p the lowest probability of its characters. */
float ocr_beam_word_score(const ocr_lexicon *lx, const ocr_beam_params *bp, const char *w, size_t n,
                          float min_p);

/* Respells the words of a decoded line (beamspell.c): strs[0..n) are its
 * characters' strings (" " between words); a word the lexicon does not know
 * whose spelling with one change, or else two, of a lower-case letter read
 * once into that letter twice ("miror"), of a letter read as "f" into
 * "fi", "fl" or "ff" (print's ligatures) or, when lx->accents, of a bare
 * letter into an accented one (e -> é, è, ê, ë; a, o, u, i, c, n, E, A, O, U,
 * C likewise) is a word,
 * in exactly one way, gets that spelling: the entries change to point at
 * static strings. Words of more than 32 characters stay. */
void ocr_beam_respell(const ocr_lexicon *lx, const ocr_beam_params *bp, const char **strs, int n);

/* The most probable CTC alignment of `labels` (nl classes, no blanks) to the
 * steps (beamalign.c): each label's first and last step into t0/t1 (arrays
 * of nl), and the label's probability at its first step into p0. Q_ERR_NOMEM;
 * Q_ERR_INTERNAL when the labels need more steps than there are. */
q_status ocr_ctc_align(const float *probs, int steps, int classes, const int *labels, int nl,
                       int *t0, int *t1, float *p0);

/* Probability p read for decoding: NaN and below 0 as 0, above 1 as 1. */
static inline float ocr_prob(float p) {
    if (!(p > 0)) return 0;
    return p > 1 ? 1 : p;
}

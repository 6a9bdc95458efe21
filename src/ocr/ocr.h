/* ocr: PP-OCRv4 as PaddleOCR runs it (shared/PPOCR.md): detection, DB
 * post-processing, crops, orientation, recognition, CTC decoding; then the
 * page's lines into a lay_doc record, grouped into blocks in reading order like
 * text-layer pages. Knows nothing of documents, MPI or HDF5: it takes pixels. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "layout/layout.h"
#include "nn/nn.h"
#include "util/util.h"

typedef struct ocr_engine ocr_engine; /* three models + dictionary; one per thread */

/* The engine's networks: detection, line orientation, recognition. */
typedef enum { OCR_NET_DET, OCR_NET_CLS, OCR_NET_REC, OCR_NETS } ocr_net;

/* Networks run by another process (the node's GPU rank): an engine made with
 * a remote (ocr_options.remote) loads no model; each network run becomes a
 * request (bytes the ocr module packs) sent through `send`, answered by a
 * reply that ocr_net_serve packed, received through `recv`. The transport
 * knows nothing of tensors; ocr knows nothing of MPI. Replies may come in any
 * order (the engine matches them by ticket). */
typedef struct {
    /* Hands one request on; may take `msg`'s memory (leaving it empty), so
     * that up to `depth` requests are in flight without copies. */
    q_status (*send)(void *user, q_buf *msg);
    /* Waits for the next reply and puts it into `msg`. A failure here (the
     * server refused or is gone) fails the page with the transport's error. */
    q_status (*recv)(void *user, q_buf *msg);
    void *user;
    int depth; /* requests the engine may have in flight; 1 to OCR_NET_DEPTH_MAX */
} ocr_remote;

enum { OCR_NET_DEPTH_MAX = 4 };

typedef struct {
    const char *models_dir;   /* folder with the model files (run_models_dir) */
    nn_backend_kind backend;  /* CPU unless asked */
    int threads;              /* CPU threads for the models; 0 = 1 */
    nn_precision precision;   /* NN_PRECISION_INT8 (the default): the recognizer's 1x1 convs in
                                 int8 on the CPU (its built-in scales table); det and cls, and
                                 other backends, run fp32 */
    int det_side;             /* detection: the page is scaled so its longer side is at most this
                                 (never up), sides rounded to multiples of 32; 0 = OCR_DET_SIDE;
                                 PaddleOCR's own is 960 */
    int no_cls;               /* skip the orientation classifier (it still votes on the page's
                                 way up unless no_rotate_pages) */
    int no_rotate_pages;      /* read every page as it is: no turn by 90, 180 or 270 degrees */
    int cls_whole;            /* PaddleOCR's classifier input: the whole line squeezed to
                                 192x48 (default: up to 3 windows of the line at 4:1) */
    int rec_batch;            /* recognition batch; 0 = default */
    int rec_cols;             /* CPU: a recognition batch stops growing at this many columns
                                 (OCR_REC_COLS, ocr_options_default's); 0 = no limit, batches of
                                 rec_batch lines as PaddleOCR's */
    int det_fast_score;       /* boxes scored only as PaddleOCR's fast score: no second look at
                                 tilted lines on their contour (dbpost.c) */
    float drop_score;         /* lines below are dropped; 0 = PaddleOCR's 0.5 */
    int skip_checksums;       /* do not verify the models' SHA-256 (tests of the engine only) */
    int decode;               /* OCR_DECODE_BEAM (ocr_options_default's) or
                                 OCR_DECODE_GREEDY (PaddleOCR's; 0) */
    int beam_width;           /* prefixes the beam keeps per time step; 0 = OCR_BEAM_WIDTH */
    const char *lang;         /* word lists of the beam: comma-separated codes (en, fr, de, es,
                                 it); NULL = "en" (ocr_lang_check says what is known) */
    const char *words;        /* a user word list (UTF-8, one word per line) added to them, or
                                 NULL */
    const ocr_remote *remote; /* networks run elsewhere (copied at ocr_engine_new); NULL =
                                 here. The folder must still hold the dictionary. */
} ocr_options;

enum { OCR_DECODE_GREEDY = 0, OCR_DECODE_BEAM = 1 };
enum { OCR_BEAM_WIDTH = 10, OCR_BEAM_WIDTH_MAX = 128 };

/* Checks a --lang value: NULL when every code is one quire has a word list
 * for, else a static line saying what is wrong (for a usage error). Whether
 * the list is installed is checked when the engine loads it. */
const char *ocr_lang_check(const char *lang);

void ocr_options_default(ocr_options *o);

enum { OCR_DET_SIDE = 960, OCR_REC_BATCH = 8 };

/* On the CPU a recognition batch also stops growing before its tensor is
 * wider than this many columns in all (a line wider still goes alone). The
 * recognizer's activations take about 7 KiB per column: past a few thousand
 * columns they no longer stay in the caches from one layer to the next and
 * recognition takes 1.4x as long (bench/RESULTS.md: flat from 320 to 2,560
 * columns, slower from 3,840-5,120); short batches also pad their lines less. A
 * GPU, local or remote, wants the full batch. */
enum { OCR_REC_COLS = 1280 };

/* Loads and checks the models (SHA-256 against the checksums built into quire)
 * and the dictionary. A missing or altered file is Q_ERR_IO/Q_ERR_FORMAT with
 * one line naming the file and what to do (models/fetch.sh). */
q_status ocr_engine_new(const ocr_options *o, ocr_engine **out);
/* The same checks of the files in `models_dir` (present, SHA-256) without
 * loading anything: about 30 ms. */
q_status ocr_models_check(const char *models_dir);
void ocr_engine_free(ocr_engine *e); /* NULL-safe */

/* Seconds this engine has spent inside network runs since it was made (0 for
 * NULL): the rest of a page's time is pre- and post-processing. */
double ocr_engine_nn_seconds(const ocr_engine *e);

/* Seconds a remote engine has waited for replies (0 for a local one). */
double ocr_engine_wait_seconds(const ocr_engine *e);

/* ---- the serving side of a remote (netwire.c) ---- */

/* One request as received: its network and input, pointing into the message. */
typedef struct {
    ocr_net net;
    nn_shape shape; /* 4-D; dims[0] is the request's own batch */
    const float *data;
    uint64_t ticket;
    double deadline; /* q_now() seconds (one clock per node), 0 = none */
} ocr_net_req;

/* Checks and views a request message (bytes as the remote's send got them).
 * Q_ERR_FORMAT with one line when it is not a well-formed request. */
q_status ocr_net_req_parse(const void *msg, size_t len, ocr_net_req *r);
/* Whether two requests can run as one batch: the same network and input
 * shape past the batch dimension. */
int ocr_net_req_joinable(const ocr_net_req *a, const ocr_net_req *b);
/* The largest batch (dims[0] summed over joined requests) worth building for
 * a network. */
int ocr_net_batch_max(ocr_net net);
/* Runs n joinable requests as one batch on a local engine and packs each
 * request's answer into replies[i] (cleared first): its output, recognition
 * as each step's OCR_NET_TOPK most probable classes (all the decoders read),
 * or the batch's error. Returns Q_OK unless there was no memory for the
 * replies. */
q_status ocr_net_serve(ocr_engine *e, const ocr_net_req *reqs, size_t n, q_buf *replies);
/* A reply saying that request `ticket` failed with `st` and `why`. */
q_status ocr_net_reply_fail(uint64_t ticket, q_status st, const char *why, q_buf *reply);

/* The backend the networks run on ("cpu" or "cuda"; an AUTO request says which
 * it became; "none" for NULL). A static string. */
const char *ocr_engine_backend(const ocr_engine *e);

/* One recognised line: its box on the image (image pixels, corners clockwise
 * from the line's own top-left: the top-left on the image, unless the page was
 * read turned, when corner 0 is where the line's text starts), confidence and
 * text (NUL-terminated UTF-8, points into the result's text buffer). */
typedef struct {
    float quad[4][2];
    float conf;
    const char *text;
    size_t len;
} ocr_line;

typedef struct {
    ocr_line *lines; /* in PaddleOCR's order (top to bottom, then left to right, on
                        the page turned upright) */
    size_t n;
    int rotation; /* 0, 90, 180 or 270: the page was read turned clockwise by this
                     (its text stood that far from upright) */
    q_buf text;
    /* what the page cost, for logs and benchmarks */
    double t_det, t_cls, t_rec;
} ocr_result;

/* Reads the lines of one image, turned upright first when it lies sideways or
 * upside down (unless no_rotate_pages; orient.c says how that is decided).
 * `deadline` (q_now() seconds, 0 = none) is checked between stages:
 * Q_ERR_TIMEOUT when it passes. */
q_status ocr_image(ocr_engine *e, const q_image *img, double deadline, ocr_result *out);
void ocr_result_free(ocr_result *r); /* NULL-safe */

/* Several images at once: each is detected alone, then the lines of all are
 * oriented and recognised together, so recognition batches fill up across
 * pages (a GPU rank serving several CPU ranks). out[i] belongs to imgs[i];
 * lines and text are the same as ocr_image's up to batching round-off. */
q_status ocr_images(ocr_engine *e, const q_image *imgs, size_t n, double deadline, ocr_result *out);

/* The skew of a page from its lines' boxes (ocr_image's quads): degrees
 * counter-clockwise, i.e. positive when lines rise to the right on the image
 * (PIL's Image.rotate(deg) of a straight page). The length-weighted median of
 * the angles of the line-like boxes (at least 2.5 times as long as high,
 * within 15 degrees of horizontal), refined by the weighted mean of those
 * within 1 degree of it; 0 when fewer than 3 boxes are line-like.
 * Q_ERR_NOMEM only. */
q_status ocr_page_skew(const ocr_line *lines, size_t n, float *deg);

/* Appends one OCR'd page to `rec`: page geometry in points, lines' boxes
 * (axis-aligned hull of each quad) scaled by pt_per_px, blocks in reading
 * order found on the page turned upright by r->rotation and deskewed (each
 * quad turned back by the page's skew, ocr_page_skew, recorded in skew_deg),
 * so that the lines of a turned or skewed page do not interleave; the boxes
 * stay on the page as given; kind ocr. The page's rotation is `rotation` (a
 * PDF page's /Rotate) plus r->rotation, modulo 360. */
q_status ocr_result_to_page(const ocr_result *r, uint32_t page, float width_pt, float height_pt,
                            float pt_per_px_x, float pt_per_px_y, int16_t rotation, float seconds,
                            lay_doc *rec);

#!/usr/bin/python3
"""Make real pre-processed input tensors for the model parity tests and benchmarks.

Usage: /usr/bin/python3 tests/parity/make_inputs.py OUTDIR [--scans DIR] [--png]

Writes float32 C-order .npy files, pre-processed as /work/shared/PPOCR.md says
(PaddleOCR 2.7 tools/infer), from real scans in the corpus:
  det_<page>.npy      1x3xHxW detection input of a whole page (longer side <= 960,
                      sides rounded to multiples of 32, B,G,R, ImageNet mean/std)
  det_bench.npy       1x3x960x736, the benchmark shape (linn.png, whose natural
                      detection size is exactly 960x736)
  rec_bench.npy       8x3x48x320 recognition batch of real text-line crops
  rec_wide.npy        4x3x48xW recognition batch of whole lines, W as PaddleOCR
                      computes it from the widest line (exercises odd widths)
  cls_bench.npy       8x3x48x192 classifier batch of real crops, every other one
                      rotated 180 degrees (so both labels occur)
  manifest.tsv        name, model kind (det/rec/cls), shape, where it came from
With --png, also writes crops.png, the crops used (for a human to check).

Needs /usr/bin/python3 with numpy and PIL (Debian python3-numpy, python3-pil).
Images are decoded with PIL and resized with an OpenCV-compatible bilinear resize
(INTER_LINEAR: half-pixel centres, no antialiasing) written here in numpy, because
PaddleOCR uses cv2.resize and OpenCV is not a dependency of quire's tests.
Text lines are found with a horizontal projection profile of the Otsu-binarized
page, then split at word gaps into crops.
"""
import argparse
import math
import os
import sys

import numpy as np
from PIL import Image

DET_PAGES = ["phototest.tif", "eurotext.tif", "en_img_10.jpg", "linn.png"]
# Pages with clean printed text lines for the crop-based inputs.
CROP_PAGES = ["phototest.tif", "eurotext.tif", "linn.png", "typewriter.png"]
DET_LIMIT = 960
DET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # applied to B, G, R
DET_STD = np.array([0.229, 0.224, 0.225], np.float32)
REC_H = 48


def die(msg):
    sys.stderr.write(f"make_inputs.py: error: {msg}\n")
    sys.exit(1)


def load_bgr(path):
    """Decode an image as OpenCV's imread(IMREAD_COLOR) would: HxWx3 uint8, B,G,R."""
    try:
        im = Image.open(path)
        im.load()
    except Exception as e:  # PIL raises many kinds; all mean "cannot read"
        die(f"cannot read {path}: {e}")
    # Bilevel, gray and palette pages become 3 equal (or palette-expanded) channels.
    rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _axis_coeffs(src_len, dst_len):
    """Source indices and weights of OpenCV INTER_LINEAR along one axis."""
    scale = src_len / dst_len
    s = (np.arange(dst_len, dtype=np.float64) + 0.5) * scale - 0.5
    i0 = np.floor(s).astype(np.int64)
    f = s - i0
    # OpenCV clamps: left of the first pixel and right of the last use one pixel.
    f[i0 < 0] = 0.0
    i0[i0 < 0] = 0
    over = i0 >= src_len - 1
    i0[over] = src_len - 1
    f[over] = 0.0
    i1 = np.minimum(i0 + 1, src_len - 1)
    return i0, i1, f


def resize_linear(img, w, h):
    """cv2.resize(img, (w, h)) with INTER_LINEAR for HxWxC uint8; returns uint8.
    Matches OpenCV to within 1 grey level (OpenCV uses 11-bit fixed point)."""
    src_h, src_w = img.shape[:2]
    if (src_w, src_h) == (w, h):
        return img.copy()
    x0, x1, fx = _axis_coeffs(src_w, w)
    y0, y1, fy = _axis_coeffs(src_h, h)
    a = img.astype(np.float32)
    fx = fx.astype(np.float32)[None, :, None]
    fy = fy.astype(np.float32)[:, None, None]
    rows = a[y0] * (1 - fy) + a[y1] * fy
    out = rows[:, x0] * (1 - fx) + rows[:, x1] * fx
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def det_size(h, w):
    """DetResizeForTest, limit_type 'max', limit_side_len 960 (PaddleOCR 2.7)."""
    ratio = float(DET_LIMIT) / max(h, w) if max(h, w) > DET_LIMIT else 1.0
    rh, rw = int(h * ratio), int(w * ratio)
    # Python's round, as PaddleOCR; at least 32.
    rh = max(int(round(rh / 32) * 32), 32)
    rw = max(int(round(rw / 32) * 32), 32)
    return rh, rw


def det_tensor(bgr):
    """Whole-page detection input 1x3xHxW float32."""
    rh, rw = det_size(*bgr.shape[:2])
    img = resize_linear(bgr, rw, rh).astype(np.float32) * np.float32(1.0 / 255.0)
    img = (img - DET_MEAN) / DET_STD
    return np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32)


def rec_norm(crop, width):
    """resize_norm_img (rec and cls): height 48, width min(ceil(48*w/h), width),
    v/255, -0.5, /0.5, zero padding on the right up to width. Returns 3x48xwidth."""
    h, w = crop.shape[:2]
    rw = min(int(math.ceil(REC_H * w / float(h))), width)
    img = resize_linear(crop, rw, REC_H).astype(np.float32)
    img = img.transpose(2, 0, 1) / 255.0
    img = (img - 0.5) / 0.5
    out = np.zeros((3, REC_H, width), np.float32)
    out[:, :, :rw] = img
    return out


def otsu(gray):
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    p = hist / hist.sum()
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        sb = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega))
    return int(np.nanargmax(sb))


def runs(mask):
    """[start, end) of the runs of True in a 1-D bool array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def find_lines(bgr):
    """Text lines of a page as (y0, y1, x0, x1, words) with words [(x0, x1)], from
    the horizontal projection profile of the binarized page."""
    gray = bgr.astype(np.float32).mean(axis=2).astype(np.uint8)
    ink = gray <= otsu(gray)  # Otsu splits into <= t and > t
    H, W = ink.shape
    prof = ink.sum(axis=1)
    line_runs = [(a, b) for a, b in runs(prof > max(2, 0.004 * W)) if b - a >= 8]
    if not line_runs:
        return []
    med = float(np.median([b - a for a, b in line_runs]))
    lines = []
    for y0, y1 in line_runs:
        h = y1 - y0
        # Too thin (rules, noise) or too tall (figures, merged lines) is not a line.
        if h < 0.5 * med or h > 2.0 * med or h > 150:
            continue
        cols = ink[y0:y1].sum(axis=0) > 0
        segs = runs(cols)
        if not segs:
            continue
        # Merge letters into words: gaps under a quarter of the line height (a word
        # space is about a quarter of an em; the line run is about an em tall).
        words = [list(segs[0])]
        for a, b in segs[1:]:
            if a - words[-1][1] < h / 4:
                words[-1][1] = b
            else:
                words.append([a, b])
        words = [(a, b) for a, b in words if b - a >= 3]
        if words:
            lines.append((y0, y1, words[0][0], words[-1][1], words))
    return lines


def pad_box(bgr, y0, y1, x0, x1):
    H, W = bgr.shape[:2]
    p = max(2, int(round(0.15 * (y1 - y0))))
    return bgr[max(0, y0 - p):min(H, y1 + p), max(0, x0 - p):min(W, x1 + p)]


def chunk_crops(bgr, lines, max_ratio):
    """Split lines into crops of whole words with width/height <= max_ratio."""
    crops = []
    for y0, y1, _, _, words in lines:
        h = (y1 - y0) + 2 * max(2, int(round(0.15 * (y1 - y0))))
        i = 0
        while i < len(words):
            j = i
            while j + 1 < len(words) and (words[j + 1][1] - words[i][0] + h * 0.3) / h <= max_ratio:
                j += 1
            crop = pad_box(bgr, y0, y1, words[i][0], words[j][1])
            # Skip lone punctuation and the like, and words too long to fit (they
            # would be squeezed, unlike anything PaddleOCR feeds the model).
            if crop.shape[0] <= crop.shape[1] <= max_ratio * crop.shape[0]:
                crops.append(crop)
            i = j + 1
    return crops


def pick(items, n):
    """n items spread evenly over the list (deterministic)."""
    if len(items) < n:
        die(f"found only {len(items)} text crops, need {n}")
    idx = np.linspace(0, len(items) - 1, n).round().astype(int)
    return [items[i] for i in idx]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--scans", default=os.environ.get(
        "QUIRE_SCANS", "/work/shared/corpus/scans"), help="directory of the corpus scans")
    ap.add_argument("--png", action="store_true", help="also write crops.png")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    manifest = []

    def save(name, kind, arr, src):
        assert arr.dtype == np.float32 and arr.flags.c_contiguous
        np.save(os.path.join(args.outdir, name + ".npy"), arr)
        manifest.append((name, kind, "x".join(map(str, arr.shape)), src))

    pages = {}
    for f in sorted(set(DET_PAGES + CROP_PAGES)):
        p = os.path.join(args.scans, f)
        if not os.path.exists(p):
            die(f"missing scan {p} (set --scans or QUIRE_SCANS)")
        pages[f] = load_bgr(p)

    for f in DET_PAGES:
        save("det_" + os.path.splitext(f)[0].replace(".", "_"), "det", det_tensor(pages[f]), f)
    bench = resize_linear(pages["linn.png"], 736, 960).astype(np.float32) / np.float32(255.0)
    bench = np.ascontiguousarray(((bench - DET_MEAN) / DET_STD).transpose(2, 0, 1)[None])
    save("det_bench", "det", bench.astype(np.float32), "linn.png resized to 736x960")

    # Crops: per page, word chunks that fit 320 px at height 48, and whole lines.
    chunks, whole = [], []
    for f in CROP_PAGES:
        lines = find_lines(pages[f])
        if not lines:
            die(f"no text lines found in {f}")
        chunks.append(chunk_crops(pages[f], lines, 320.0 / REC_H))
        whole.append([pad_box(pages[f], y0, y1, x0, x1) for y0, y1, x0, x1, _ in lines])
    # Two crops from each page for the 8-crop batches.
    rec_crops = [c for per_page in chunks for c in pick(per_page, 2)]
    save("rec_bench", "rec", np.stack([rec_norm(c, 320) for c in rec_crops]),
         "8 word-group crops, 2 each from " + ",".join(CROP_PAGES))

    # Whole lines, one per page, capped at w/h 25 so the batch stays moderate.
    wl = [pick([c for c in per_page if c.shape[1] / c.shape[0] <= 25], 1)[0] for per_page in whole]
    max_ratio = max(max(c.shape[1] / c.shape[0] for c in wl), 320.0 / REC_H)
    W = int(REC_H * max_ratio)
    save("rec_wide", "rec", np.stack([rec_norm(c, W) for c in wl]),
         "4 whole lines, 1 each from " + ",".join(CROP_PAGES))

    cls_crops = [c for per_page in chunks for c in pick(per_page[1:], 2)]
    cls_crops = [c[::-1, ::-1] if i % 2 else c for i, c in enumerate(cls_crops)]
    save("cls_bench", "cls", np.stack([rec_norm(c, 192) for c in cls_crops]),
         "8 crops, 2 each from " + ",".join(CROP_PAGES) + "; odd ones rotated 180")

    with open(os.path.join(args.outdir, "manifest.tsv"), "w") as fh:
        for row in manifest:
            fh.write("\t".join(row) + "\n")

    if args.png:
        tiles = [np.full((4, 1400, 3), 128, np.uint8)]
        for c in rec_crops + wl + cls_crops:
            t = resize_linear(np.ascontiguousarray(c), max(1, int(round(48 * c.shape[1] / c.shape[0]))), 48)
            t = t[:, :1400]
            tiles.append(np.pad(t, ((0, 4), (0, 1400 - t.shape[1]), (0, 0)), constant_values=128))
        Image.fromarray(np.concatenate(tiles)[:, :, ::-1]).save(os.path.join(args.outdir, "crops.png"))

    for row in manifest:
        print("\t".join(row))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Generate scanned pages whose text is known: quire's OCR test and benchmark corpus.

    gen_scans.py OUTDIR [--seed N] [--bench N] [--bench-format png|tiff-g4] [--no-test-sets]
                 [--skew DEG,...] [--rotate 90,180,270] [--skew-layouts single,two-column]
                 [--lang english|french|german]

Born-digital pages are laid out by gen_corpus.py (the same layout code and the
same kind of truth: every line drawn at a known place), rasterized by MuPDF
(`mutool draw`, gray) at 300 or 200 dpi, optionally degraded, and written as
the files a scanning campaign produces.  English text by default (words,
digits, punctuation): the PP-OCRv4 recognizer is a Chinese+English model.
--lang french / --lang german: real sentences from Debian's French or German
man pages instead (tests/gen/prose.py; needs manpages-fr / manpages-de), the
same sets, layouts and degradations; truth.json then says "lang".

Sets (the first component of each file's path, and `set` in truth.json):

  clean300/  300 dpi, no degradation: an image-only PDF (2 pages, lossless
             gray), a multi-page CCITT G4 TIFF (bilevel, 2 pages), an LZW gray
             TIFF, a PNG.
  degraded/  rotated 0.5-2 deg either way, paper/ink contrast loss, mild
             Gaussian blur, Gaussian noise, a JPEG round trip at quality
             35-45; an image-only PDF (JPEG inside; one 300-dpi and one 200-dpi
             page), a G4 TIFF at 200 dpi, a PNG at 200 dpi, a JPEG.
  mixed/     one PDF: a born-digital page, a clean 300-dpi scanned page, a
             born-digital page (routing is per page).
  bench/     (--bench N) N clean 300-dpi pages, half single-column
             (set bench_single), half two-column (set bench_twocol), each a
             gray PNG, plus bench/pages.pdf, an image-only PDF of the same
             pixels in the same order (for peers that take PDFs).  With
             --bench-format tiff-g4 each page is a bilevel CCITT G4 TIFF
             instead (threshold 128; a sixth of the bytes: the GPU check's
             pages, bench/gpu/pack.sh, must fit the device tool's 64 MiB).
  skew/      (--skew and/or --rotate) clean 300-dpi gray PNGs, one per layout
             (--skew-layouts, default single and two-column) and per angle:
             the page turned by the skew, degrees counter-clockwise (PIL's
             rotate, bicubic, white corners), then by the rotation, degrees
             clockwise as a PDF /Rotate or EXIF orientation would undo (the
             sheet fed sideways: 90 means the upright page's top is at the
             image's right; the image is turned, its size swapped).  Files
             skew/s<skew>_r<rot>_<layout>[_<k>].png (--skew-pages N: N
             pages per angle, k from 1 after the first); set skew<+S>_<layout>,
             rot<R>_<layout> or skew<+S>_rot<R>_<layout> (one per angle, so
             check_ocr.py scores each); text is the upright page's; page truth
             adds "skew" and "scan_rotation", its boxes are on the image.
             --skew alone: every skew at rotation 0; --rotate alone: every
             rotation at skew 0; both: every pair.  Also skew/manifest.txt.

Default test sets: 12 scanned pages (+2 born-digital), about 4 MB, a few seconds.

Also written: src/ (the born-digital sources; not inputs), truth/<file>.txt,
truth.json (the format of gen_corpus.py's, see tests/gen/README.md; scanned
pages have kind "ocr" plus "dpi", "pixels" and "degrade"; bounding boxes
follow the rotation), manifest.txt (absolute paths of the test-set inputs) and
bench/manifest.txt (the bench PNGs).  Byte-for-byte deterministic for a seed
with the same Debian packages (MuPDF, Pillow, libjpeg, libtiff, reportlab).

Needs /usr/bin/python3 with python3-reportlab, python3-pil, python3-numpy, and
mutool (mupdf-tools).
"""
import argparse
import functools
import io
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image, ImageFilter
from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_corpus as gc  # noqa: E402
import prose  # noqa: E402

rl_config.useA85 = 0     # raw binary streams: ASCII85 would make the image PDFs 25% larger

FONTS = ["Helvetica", "Times-Roman", "Courier", "DejaVuSans"]

# The test sets: every format in each set it makes sense in.  `dpi` per page.
TEST_DOCS = [
    dict(set="clean300", name="scan", fmt="pdf", layouts=["single", "two-column"], font="Times-Roman"),
    dict(set="clean300", name="g4", fmt="tiff-g4", layouts=["single", "two-column"], font="Helvetica"),
    dict(set="clean300", name="lzw", fmt="tiff-lzw", layouts=["two-column"], font="DejaVuSans"),
    dict(set="clean300", name="page", fmt="png", layouts=["single"], font="Courier"),
    dict(set="degraded", name="scan", fmt="pdf", layouts=["single", "two-column"], font="Times-Roman",
         dpi=[300, 200]),
    dict(set="degraded", name="g4_200", fmt="tiff-g4", layouts=["single"], font="Helvetica", dpi=[200]),
    dict(set="degraded", name="page_200", fmt="png", layouts=["two-column"], font="DejaVuSans", dpi=[200]),
    dict(set="degraded", name="q40", fmt="jpeg", layouts=["single"], font="Times-Roman"),
    dict(set="mixed", name="text_scan_text", fmt="mixed", layouts=["single", "two-column", "single"],
         font="Helvetica", scanned=[1]),
]
EXT = {"pdf": "pdf", "tiff-g4": "tif", "tiff-lzw": "tif", "png": "png", "jpeg": "jpg", "mixed": "pdf"}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("gen_scans: %s failed: %s" % (" ".join(cmd), r.stderr.strip()))


def rasterize(pdf, page, dpi, tmp):
    """One page (from 0) of pdf as an 8-bit gray PIL image, by MuPDF."""
    png = os.path.join(tmp, "r.png")
    run(["mutool", "draw", "-q", "-r", str(dpi), "-c", "gray", "-o", png, pdf, str(page + 1)])
    with Image.open(png) as im:
        im.load()
        return im.convert("L")


def degrade_params(rng, dpi):
    return {"angle": round(rng.choice([-1, 1]) * rng.uniform(0.5, 2.0), 3),
            "paper": rng.randint(225, 245), "ink": rng.randint(15, 45),
            "blur": round(rng.uniform(0.5, 0.9) * dpi / 300, 3),
            "noise": round(rng.uniform(6.0, 12.0), 2),
            "jpeg_quality": rng.randint(35, 45),
            "noise_seed": rng.getrandbits(32)}


def degrade(im, d, dpi):
    """Rotate, lose contrast, blur, add noise, JPEG round trip.  Returns the
    gray image and the JPEG bytes (the degraded PDF and .jpg keep those)."""
    im = im.rotate(d["angle"], resample=Image.BICUBIC, fillcolor=255)
    a = np.asarray(im, dtype=np.float32)
    a = d["ink"] + (d["paper"] - d["ink"]) * (a / 255.0)
    im = Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8), "L")
    im = im.filter(ImageFilter.GaussianBlur(d["blur"]))
    a = np.asarray(im, dtype=np.float32)
    a = a + np.random.default_rng(d["noise_seed"]).normal(0.0, d["noise"], a.shape)
    im = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")
    b = io.BytesIO()
    im.save(b, "JPEG", quality=d["jpeg_quality"], dpi=(dpi, dpi))
    jpg = b.getvalue()
    with Image.open(io.BytesIO(jpg)) as j:
        j.load()
        return j.convert("L"), jpg


def bilevel(im, threshold):
    return im.point(lambda v: 255 if v >= threshold else 0).convert("1")


def rotate_bboxes(page, angle, w, h):
    """Boxes (points, top-left origin) of a page rotated by angle degrees
    counter-clockwise about its centre, as PIL's rotate does: the axis-aligned
    bounds of each rotated box."""
    th = math.radians(angle)
    c, s = math.cos(th), math.sin(th)
    cx, cy = w / 2, h / 2
    for b in page["blocks"]:
        out = []
        for x0, y0, x1, y1 in b["bboxes"]:
            xs, ys = [], []
            for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
                dx, dy = x - cx, y - cy
                xs.append(cx + dx * c + dy * s)
                ys.append(cy - dx * s + dy * c)
            out.append([round(min(xs), 2), round(min(ys), 2), round(max(xs), 2), round(max(ys), 2)])
        b["bboxes"] = out


def scanned_page(page, im, dpi, deg, jpg=None):
    """Turn a born-digital page's truth into the scanned page's truth."""
    w, h = im.size[0] * 72.0 / dpi, im.size[1] * 72.0 / dpi
    page = dict(page)
    page["blocks"] = [dict(b, bboxes=[list(x) for x in b["bboxes"]]) for b in page["blocks"]]
    if deg:
        rotate_bboxes(page, deg["angle"], w, h)
    page.update(width=round(w, 4), height=round(h, 4), rotation=0, mediabox=[round(w, 4), round(h, 4)],
                kind="ocr", dpi=dpi, pixels=list(im.size), degrade=deg)
    return page


def image_pdf(path, images):
    """An image-only PDF: one image per page filling it.  images: (PIL image,
    dpi, JPEG bytes or None); JPEG bytes go in as they are (DCTDecode),
    other images as lossless Flate."""
    c = canvas.Canvas(path, invariant=1, pageCompression=1)
    for im, dpi, jpg in images:
        w, h = im.size[0] * 72.0 / dpi, im.size[1] * 72.0 / dpi
        c.setPageSize((w, h))
        c.drawImage(ImageReader(io.BytesIO(jpg)) if jpg else ImageReader(im), 0, 0, w, h)
        c.showPage()
    c.save()


def write_images(path, fmt, images, thresholds):
    ims = [im for im, _, _ in images]
    dpi = images[0][1]
    if fmt == "pdf":
        image_pdf(path, images)
    elif fmt == "tiff-g4":
        bl = [bilevel(im, t) for im, t in zip(ims, thresholds)]
        # photometric min-is-white, as fax and scanner G4 files are
        bl[0].save(path, "TIFF", compression="group4", dpi=(dpi, dpi), tiffinfo={262: 0},
                   save_all=True, append_images=bl[1:])
    elif fmt == "tiff-lzw":
        ims[0].save(path, "TIFF", compression="tiff_lzw", dpi=(dpi, dpi), save_all=True,
                    append_images=ims[1:])
    elif fmt == "png":
        assert len(ims) == 1
        ims[0].save(path, "PNG", dpi=(dpi, dpi), optimize=False)
    elif fmt == "jpeg":
        assert len(ims) == 1
        jpg = images[0][2]
        if jpg is None:
            b = io.BytesIO()
            ims[0].save(b, "JPEG", quality=92, dpi=(dpi, dpi))
            jpg = b.getvalue()
        with open(path, "wb") as f:    # the degraded JPEG's own bytes
            f.write(jpg)
    else:
        raise ValueError(fmt)


ENGLISH = ("english", None)


def source_pdf(outdir, name, layouts, font, body, size, rng, text=ENGLISH):
    """The born-digital source of a scanned document, laid out by gen_corpus.
    text: (lang, None) for gen_corpus's words, or (lang, a factory with
    gen_corpus.Words' interface)."""
    spec = [dict(size=gc.SIZES[size], rotation=0, layout=lay, font=font, lang=text[0], body=body)
            for lay in layouts]
    if text[1]:
        for sp in spec:
            sp["words"] = text[1]
    path = os.path.join(outdir, "src", name + ".pdf")
    return path, gc.make_pdf(path, spec, rng)


def gen_doc(outdir, spec, rng, tmp, text=ENGLISH):
    """One test-set document; returns its truth entry."""
    n = len(spec["layouts"])
    dpis = spec.get("dpi", [300] * n)
    degraded = spec["set"] == "degraded"
    body = rng.choice([11, 12]) if min(dpis) < 300 else rng.choice([10, 11, 12])
    size = rng.choice(["letter", "a4"])
    stem = "%s_%s" % (spec["set"], spec["name"])
    src, pages = source_pdf(outdir, stem, spec["layouts"], spec["font"], body, size, rng, text)
    rel = "%s/%s.%s" % (spec["set"], spec["name"], EXT[spec["fmt"]])
    path = os.path.join(outdir, rel)
    scanned = spec.get("scanned", range(n))
    images, thresholds, page_data = [], [], []
    for i, p in enumerate(pages):
        if i not in scanned:
            page_data.append(p)
            continue
        im = rasterize(src, i, dpis[i], tmp)
        deg, jpg = None, None
        if degraded:
            deg = degrade_params(rng, dpis[i])
            im, jpg = degrade(im, deg, dpis[i])
        images.append((im, dpis[i], jpg))
        thresholds.append((deg["paper"] + deg["ink"]) // 2 if deg else 128)
        page_data.append(scanned_page(p, im, dpis[i], deg, jpg))
    if spec["fmt"] == "mixed":
        scan = os.path.join(tmp, "scan.pdf")
        image_pdf(scan, images)
        args, k = [], 0
        for i in range(n):
            if i in scanned:
                args += [scan, str(k + 1)]
                k += 1
            else:
                args += [src, str(i + 1)]
        run(["mutool", "merge", "-o", path] + args)
    else:
        write_images(path, spec["fmt"], images, thresholds)
    feats = sorted({spec["font"], text[0], spec["fmt"], spec["set"]} | {p["layout"] for p in page_data}
                   | {"%ddpi" % d for d in dpis} | ({"degraded"} if degraded else set()))
    e = gc.doc_entry(outdir, rel, page_data, feats)
    e["source"] = os.path.relpath(src, outdir)
    return e


def turn_bboxes(page, rot, w, h):
    """Boxes (points, top-left origin) of a w x h page turned rot degrees
    clockwise (90, 180, 270) with its size swapped as needed."""
    for b in page["blocks"]:
        out = []
        for x0, y0, x1, y1 in b["bboxes"]:
            if rot == 90:
                x0, y0, x1, y1 = h - y1, x0, h - y0, x1
            elif rot == 180:
                x0, y0, x1, y1 = w - x1, h - y1, w - x0, h - y0
            elif rot == 270:
                x0, y0, x1, y1 = y0, w - x1, y1, w - x0
            out.append([round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)])
        b["bboxes"] = out


def angle_name(skew, rot, layout):
    lay = "single" if layout == "single" else "twocol"
    if rot and not skew:
        return "rot%d_%s" % (rot, lay)
    return "skew%+g%s_%s" % (skew, "_rot%d" % rot if rot else "", lay)


def gen_skew(outdir, seed, skews, rots, layouts, per_angle, tmp, text=ENGLISH):
    """Clean 300-dpi pages skewed and/or turned (the skew/ set); each page
    from its own random stream (text, font, size), so adding an angle leaves
    the others alone."""
    docs = []
    pairs = [(s, r) for r in (rots or [0]) for s in (skews or [0])]
    for layout in layouts:
        lay = "single" if layout == "single" else "twocol"
        for skew, rot in pairs:
            for k in range(per_angle):
                rng = random.Random("%d/skew/%s/%g/%d/%d" % (seed, layout, skew, rot, k))
                font = rng.choice(FONTS)
                body = rng.choice([10, 11, 12])
                size = rng.choice(["letter", "a4"])
                name = angle_name(skew, rot, layout)
                stem = "s%+g_r%d_%s%s" % (skew, rot, lay, "_%d" % k if k else "")
                src, pages = source_pdf(outdir, "skew_" + stem, [layout], font, body, size, rng, text)
                im = rasterize(src, 0, 300, tmp)
                w, h = im.size[0] * 72.0 / 300, im.size[1] * 72.0 / 300
                page = scanned_page(pages[0], im, 300, None)
                if skew:
                    im = im.rotate(skew, resample=Image.BICUBIC, fillcolor=255)
                    rotate_bboxes(page, skew, w, h)
                if rot:
                    im = im.transpose({90: Image.ROTATE_270, 180: Image.ROTATE_180,
                                       270: Image.ROTATE_90}[rot])
                    turn_bboxes(page, rot, w, h)
                    w, h = im.size[0] * 72.0 / 300, im.size[1] * 72.0 / 300
                page.update(width=round(w, 4), height=round(h, 4), mediabox=[round(w, 4), round(h, 4)],
                            pixels=list(im.size), skew=skew, scan_rotation=rot)
                rel = "skew/%s.png" % stem
                write_images(os.path.join(outdir, rel), "png", [(im, 300, None)], [128])
                e = gc.doc_entry(outdir, rel, [page], sorted({font, text[0], "png", "300dpi", layout, "skew"}))
                e["set"] = name
                e["source"] = os.path.relpath(src, outdir)
                docs.append(e)
    with open(os.path.join(outdir, "skew", "manifest.txt"), "w", encoding="utf-8") as f:
        for d in docs:
            f.write(os.path.join(outdir, d["file"]) + "\n")
    return docs


def angles(text, allowed=None):
    """A comma-separated list of degrees."""
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a comma-separated list of degrees" % text)
    out = [int(x) if x == int(x) else x for x in out]
    if allowed and any(x not in allowed for x in out):
        raise argparse.ArgumentTypeError("rotations are 90, 180 or 270")
    if not allowed and any(abs(x) > 45 for x in out):
        raise argparse.ArgumentTypeError("a skew is within +-45 degrees")
    return out


def gen_bench(outdir, rng, n_pages, tmp, fmt="png", text=ENGLISH):
    """n_pages clean 300-dpi pages, alternately single and two-column, as
    gray PNGs or (fmt "tiff-g4") bilevel G4 TIFFs."""
    docs, images = [], []
    for i in range(n_pages):
        layout = "single" if i % 2 == 0 else "two-column"
        font = FONTS[(i // 2) % len(FONTS)]
        body = rng.choice([10, 11, 12])
        size = rng.choice(["letter", "a4"])
        src, pages = source_pdf(outdir, "bench_p%03d" % i, [layout], font, body, size, rng, text)
        im = rasterize(src, 0, 300, tmp)
        rel = "bench/p%03d_%s.%s" % (i, "single" if layout == "single" else "twocol",
                                     "png" if fmt == "png" else "tif")
        write_images(os.path.join(outdir, rel), fmt, [(im, 300, None)], [128])
        images.append((im, 300, None))
        e = gc.doc_entry(outdir, rel, [scanned_page(pages[0], im, 300, None)],
                         sorted({font, text[0], fmt, "300dpi", layout, "bench"}))
        e["set"] = "bench_single" if layout == "single" else "bench_twocol"
        e["source"] = os.path.relpath(src, outdir)
        docs.append(e)
    image_pdf(os.path.join(outdir, "bench", "pages.pdf"), images)
    with open(os.path.join(outdir, "bench", "manifest.txt"), "w", encoding="utf-8") as f:
        for d in docs:
            f.write(os.path.join(outdir, d["file"]) + "\n")
    return docs, {"file": "bench/pages.pdf", "pages": [d["file"] for d in docs]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bench", type=int, default=0, metavar="N",
                    help="also write a benchmark set of N clean 300-dpi pages (bench/)")
    ap.add_argument("--bench-format", choices=("png", "tiff-g4"), default="png",
                    help="the benchmark pages' format (default png: gray)")
    ap.add_argument("--no-test-sets", action="store_true",
                    help="write only the benchmark set (with --bench) and the skew set")
    ap.add_argument("--skew", type=angles, default=[], metavar="DEG,...",
                    help="also write skewed pages (skew/), e.g. -3,-1,0.5,2 (counter-clockwise)")
    ap.add_argument("--rotate", type=lambda t: angles(t, (90, 180, 270)), default=[], metavar="DEG,...",
                    help="also write pages turned 90, 180 or 270 degrees clockwise (skew/)")
    ap.add_argument("--skew-pages", type=int, default=1, metavar="N",
                    help="pages per layout and angle in skew/ (default 1)")
    ap.add_argument("--skew-layouts", default="single,two-column",
                    help="layouts of the skew/ pages (default single,two-column)")
    ap.add_argument("--lang", choices=("english",) + tuple(sorted(prose.LANGS)), default="english",
                    help="the pages' text: english (gen_corpus's words, the default) or real "
                         "sentences of Debian's French or German man pages (tests/gen/prose.py)")
    a = ap.parse_args()
    layouts = [x for x in a.skew_layouts.split(",") if x]
    if any(x not in ("single", "two-column") for x in layouts):
        ap.error("--skew-layouts takes single and two-column")
    t0 = time.time()
    text = ENGLISH
    if a.lang != "english":
        text = (a.lang, functools.partial(prose.Prose, prose.load(a.lang)))
    gc.register_fonts()
    out = os.path.abspath(a.outdir)
    for sub in ("clean300", "degraded", "mixed", "bench", "skew", "src", "truth"):
        p = os.path.join(out, sub)
        if os.path.lexists(p):
            shutil.rmtree(p)
    for sub in ("src", "truth") + (() if a.no_test_sets else ("clean300", "degraded", "mixed")) + \
            (("bench",) if a.bench else ()) + (("skew",) if a.skew or a.rotate else ()):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    docs, bench_pdf = [], None
    with tempfile.TemporaryDirectory() as tmp:
        if not a.no_test_sets:
            # one stream per document, so that editing one leaves the others alone
            for k, spec in enumerate(TEST_DOCS):
                docs.append(gen_doc(out, spec, random.Random("%d/%s/%s" % (a.seed, spec["set"], spec["name"])),
                                    tmp, text))
        if a.bench:
            bdocs, bench_pdf = gen_bench(out, random.Random("%d/bench" % a.seed), a.bench, tmp,
                                         a.bench_format, text)
            docs += bdocs
        if a.skew or a.rotate:
            docs += gen_skew(out, a.seed, a.skew, a.rotate, layouts, max(a.skew_pages, 1), tmp, text)
    truth = {"format": "quire-corpus-truth/1", "seed": a.seed, "generator": "tests/gen/gen_scans.py",
             "documents": docs, "no_record": []}
    if bench_pdf:
        truth["bench_pdf"] = bench_pdf
    if text is not ENGLISH:     # absent by default: the English truth.json stays as it was
        truth["lang"] = a.lang
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1)
    with open(os.path.join(out, "manifest.txt"), "w", encoding="utf-8") as f:
        f.write("# quire scans corpus, seed %d: the test-set inputs, absolute paths\n" % a.seed)
        for d in docs:
            if not d["set"].startswith("bench"):
                f.write(os.path.join(out, d["file"]) + "\n")
    n_scan = sum(p["kind"] == "ocr" for d in docs for p in d["page_data"])
    size = sum(d["bytes"] for d in docs) + (os.path.getsize(os.path.join(out, "bench", "pages.pdf"))
                                            if bench_pdf else 0)
    print("gen_scans: %d documents, %d pages (%d scanned), %.1f MB, in %.1f s -> %s"
          % (len(docs), sum(d["pages"] for d in docs), n_scan, size / 1e6, time.time() - t0, out))


if __name__ == "__main__":
    sys.exit(main())

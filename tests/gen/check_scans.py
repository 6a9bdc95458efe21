#!/usr/bin/python3
"""Check a scans corpus (gen_scans.py) against its truth.json, without OCR.

    check_scans.py CORPUS

Validates the generator, not quire.  For every document: the file exists
with the recorded size and opens in independent readers (mutool for PDFs,
tiffinfo and Pillow for TIFFs, Pillow for PNG/JPEG); the page count; the
encoding really used (G4 bilevel / LZW 8-bit gray TIFF, DCT or Flate gray
images in the PDFs, exactly one image and no text on each scanned PDF page);
resolution tags and page sizes agree with the recorded dpi and pixels; the
born-digital pages of mixed PDFs give their text to mutool.  Then the truth
is checked against the pixels: every recorded line box (rotated with the
page) holds ink, and nearly all ink lies inside the boxes, so boxes and text
belong to what the image shows.  Exit 1 on any failure.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from textmetrics import cer  # noqa: E402

Image.MAX_IMAGE_PIXELS = None


def sh(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    return r.returncode, r.stdout, r.stderr


def pdf_checks(path, doc, errs):
    rc, out, err = sh(["mutool", "info", "-I", path])
    if rc != 0:
        errs.append("mutool info failed: %s" % err.strip()[-200:])
        return
    m = re.search(r"^Pages: (\d+)", out, re.M)
    if not m or int(m.group(1)) != doc["pages"]:
        errs.append("mutool: %s pages, truth %d" % (m and m.group(1), doc["pages"]))
    # per page: its images ("  3 (12 0 R): [ DCT ] 2550x3300 8bpc DevGray (4 0 R)")
    imgs = {}
    for pg, filt, w, h, bpc, cs in re.findall(
            r"^\s*(\d+)\s+\(\d+ 0 R\):\s+\[ ([^\]]*)\] (\d+)x(\d+) (\d+)bpc (\S+)", out, re.M):
        imgs.setdefault(int(pg) - 1, []).append((filt.split(), int(w), int(h), int(bpc), cs))
    rc, pages_xml, _ = sh(["mutool", "pages", path])
    boxes = [tuple(float(v) for v in b) for b in re.findall(
        r'<MediaBox l="([-\d.]+)" b="([-\d.]+)" r="([-\d.]+)" t="([-\d.]+)"', pages_xml)]
    for p in doc["page_data"]:
        i = p["page"]
        if i < len(boxes):
            l, b, r, t = boxes[i]
            if abs((r - l) - p["width"]) > 0.5 or abs((t - b) - p["height"]) > 0.5:
                errs.append("page %d: MediaBox %.1fx%.1f, truth %.1fx%.1f" % (i, r - l, t - b, p["width"], p["height"]))
        rc, txt, _ = sh(["mutool", "draw", "-q", "-F", "txt", "-o", "-", path, str(i + 1)])
        if p["kind"] == "ocr":
            im = imgs.get(i, [])
            if len(im) != 1:
                errs.append("page %d: %d images, expected 1" % (i, len(im)))
                continue
            filt, w, h, bpc, cs = im[0]
            want = "DCT" if p.get("degrade") else "Flate"
            if want not in filt or bpc != 8 or cs != "DevGray" or [w, h] != p["pixels"]:
                errs.append("page %d: image [%s] %dx%d %dbpc %s, expected %s %dx%d 8bpc DevGray"
                            % (i, " ".join(filt), w, h, bpc, cs, want, *p["pixels"]))
            if txt.strip():
                errs.append("page %d: scanned page has a text layer" % i)
        else:
            want = "\n\n".join("\n".join(b["lines"]) for b in p["blocks"])
            c = cer(txt, want)
            if c > 0.005 or imgs.get(i):
                errs.append("page %d: born-digital page: CER %.4f, %d images" % (i, c, len(imgs.get(i, []))))


def tiff_checks(path, doc, errs):
    rc, out, err = sh(["tiffinfo", path])
    if rc != 0:
        errs.append("tiffinfo failed: %s" % err.strip()[-200:])
        return
    dirs = out.split("=== TIFF directory")[1:]
    if len(dirs) != doc["pages"]:
        errs.append("tiffinfo: %d directories, truth %d pages" % (len(dirs), doc["pages"]))
    g4 = "tiff-g4" in doc["features"]
    for p, d in zip(doc["page_data"], dirs):
        comp = re.search(r"Compression Scheme: (.*)", d)
        bits = re.search(r"Bits/Sample: (\d+)", d)
        res = re.search(r"Resolution: ([\d.]+), ([\d.]+) pixels/inch", d)
        size = re.search(r"Image Width: (\d+) Image Length: (\d+)", d)
        want = ("CCITT Group 4", "1") if g4 else ("LZW", "8")
        got = (comp and comp.group(1).strip(), bits and bits.group(1))
        if got != want:
            errs.append("page %d: compression/bits %s, expected %s" % (p["page"], got, want))
        if not res or abs(float(res.group(1)) - p["dpi"]) > 0.01 or abs(float(res.group(2)) - p["dpi"]) > 0.01:
            errs.append("page %d: resolution tag %s, expected %d pixels/inch"
                        % (p["page"], res and res.group(0), p["dpi"]))
        if not size or [int(size.group(1)), int(size.group(2))] != p["pixels"]:
            errs.append("page %d: size %s, expected %s" % (p["page"], size and size.group(0), p["pixels"]))
        if g4 and "min-is-white" not in d:
            errs.append("page %d: G4 page not min-is-white" % p["page"])


def image_checks(path, doc, errs):
    with Image.open(path) as im:
        fmt = {"png": "PNG", "jpeg": "JPEG", "tiff-g4": "TIFF", "tiff-lzw": "TIFF"}
        want = next(v for k, v in fmt.items() if k in doc["features"])
        if im.format != want:
            errs.append("Pillow reads %s, expected %s" % (im.format, want))
        n = getattr(im, "n_frames", 1)
        if n != doc["pages"]:
            errs.append("Pillow: %d frames, truth %d pages" % (n, doc["pages"]))
        for p in doc["page_data"]:
            im.seek(p["page"])
            dpi = im.info.get("dpi")
            if not dpi or abs(float(dpi[0]) - p["dpi"]) > 0.01 or abs(float(dpi[1]) - p["dpi"]) > 0.01:
                errs.append("page %d: Pillow sees dpi %s, expected %d" % (p["page"], dpi, p["dpi"]))


def page_pixels(path, doc, p, tmp):
    """The scanned page as an 8-bit gray array at its own resolution."""
    if path.endswith(".pdf"):
        png = os.path.join(tmp, "pg.png")
        rc, _, err = sh(["mutool", "draw", "-q", "-r", str(p["dpi"]), "-c", "gray", "-o", png, path,
                         str(p["page"] + 1)])
        if rc != 0:
            return None
        path = png
    with Image.open(path) as im:
        if path.endswith(".tif"):
            im.seek(p["page"])
        return np.asarray(im.convert("L"))


def ink_checks(path, doc, errs, tmp):
    """Every line box holds ink and (almost) all ink is in a line box."""
    for p in doc["page_data"]:
        if p["kind"] != "ocr":
            continue
        a = page_pixels(path, doc, p, tmp)
        if a is None:
            errs.append("page %d: cannot render" % p["page"])
            continue
        if list(a.shape[::-1]) != p["pixels"]:
            errs.append("page %d: renders as %dx%d, expected %s" % (p["page"], a.shape[1], a.shape[0], p["pixels"]))
            continue
        d = p.get("degrade") or {"paper": 255, "ink": 0}
        ink = a < (d["paper"] + d["ink"]) // 2
        s = p["dpi"] / 72.0
        inside = np.zeros_like(ink)
        empty = 0
        n = 0
        for b in p["blocks"]:
            for x0, y0, x1, y1 in b["bboxes"]:
                n += 1
                # boxes are font ascent..descent boxes: a few pixels of slack
                X0, Y0 = max(0, int(x0 * s) - 4), max(0, int(y0 * s) - 4)
                X1, Y1 = int(x1 * s + 5), int(y1 * s + 5)
                inside[Y0:Y1, X0:X1] = True
                if ink[Y0:Y1, X0:X1].mean() < 0.01:
                    empty += 1
        total = int(ink.sum())
        outside = int((ink & ~inside).sum())
        if empty:
            errs.append("page %d: %d of %d line boxes hold no ink" % (p["page"], empty, n))
        if total == 0 or outside > 0.01 * total:
            errs.append("page %d: %d of %d ink pixels outside every line box" % (p["page"], outside, total))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    a = ap.parse_args()
    with open(os.path.join(a.corpus, "truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    fails = 0
    sets = {}
    with tempfile.TemporaryDirectory() as tmp:
        for doc in truth["documents"]:
            path = os.path.join(a.corpus, doc["file"])
            errs = []
            if not os.path.isfile(path):
                errs.append("missing")
            else:
                if os.path.getsize(path) != doc["bytes"]:
                    errs.append("size %d, truth %d" % (os.path.getsize(path), doc["bytes"]))
                with open(os.path.join(a.corpus, "truth", doc["file"].replace("/", "__") + ".txt"),
                          encoding="utf-8") as f:
                    if f.read() != doc["text"] + "\n":
                        errs.append("truth/*.txt differs from truth.json")
                if path.endswith(".pdf"):
                    pdf_checks(path, doc, errs)
                else:
                    if path.endswith(".tif"):
                        tiff_checks(path, doc, errs)
                    image_checks(path, doc, errs)
                ink_checks(path, doc, errs, tmp)
            st = sets.setdefault(doc["set"], [0, 0, 0])
            st[0] += 1
            st[1] += doc["pages"]
            st[2] += sum(p["kind"] == "ocr" for p in doc["page_data"])
            print("%-30s %-13s %d pages  %s" % (doc["file"], doc["set"], doc["pages"],
                                                  "ok" if not errs else "FAIL: " + "; ".join(errs)))
            fails += bool(errs)
        bp = truth.get("bench_pdf")
        if bp:
            doc = {"pages": len(bp["pages"]), "page_data": []}
            byfile = {d["file"]: d for d in truth["documents"]}
            for i, f in enumerate(bp["pages"]):
                doc["page_data"].append(dict(byfile[f]["page_data"][0], page=i))
            errs = []
            pdf_checks(os.path.join(a.corpus, bp["file"]), doc, errs)
            print("%-30s %-13s %d pages  %s" % (bp["file"], "(bench pdf)", doc["pages"],
                                                  "ok" if not errs else "FAIL: " + "; ".join(errs)))
            fails += bool(errs)
    print("check_scans: %d documents, %d failed; %s" % (
        len(truth["documents"]), fails,
        ", ".join("%s %d docs/%d pages/%d scanned" % (k, *v) for k, v in sorted(sets.items()))))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

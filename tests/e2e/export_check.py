#!/usr/bin/python3
"""Checks the files of `quire export` against the results.h5 they came from.

    export_check.py FORMAT RESULTS.h5 DIR [--pdf-max-bow X]

For every document of results.h5: status ok -> DIR holds exactly one file
DDDDDD-NAME.EXT for it; any other status -> no file.  No other files (and no
temporary ones) in DIR.  Then per format:
  text   pages (split at form feeds) equal results.h5's text of each page:
         lines joined by \\n, a blank line between blocks.
  jsonl  every line is a JSON object; the objects are results.h5's lines of
         the document in order (page, block, bbox within 0.01 pt,
         confidence within 1e-4, text).
  hocr   parses (html.parser); one ocr_page per page with bbox 0 0 W H and
         ppageno; ocr_carea > ocr_par > ocr_line > ocrx_word nested; every
         bbox inside its page's; every word has x_wconf 0..100; each line's
         words joined by spaces are its text (whitespace collapsed).
  alto   (schema validation is validate-alto.sh's job) MeasurementUnit mm10,
         one Page per page, each TextLine's String CONTENTs joined by spaces
         are its line's text, boxes inside the page.
  pdf    pdftotext's words against results.h5's text: bag-of-words error
         <= --pdf-max-bow (default 0.02) per document; the page count is the
         document's; on OCR'd pages every word pdftotext places (-bbox) lies
         inside one of the page's line boxes (within 1 pt), so a search
         highlights the right place, and `pdfimages -list` shows an image on
         each; a born-digital PDF (no OCR'd page) is a byte copy of its
         source (paths relative to the current folder).
Exit 1 with every failure listed, 0 when all hold.
"""
import argparse
import html.parser
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import h5py

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from textmetrics import bow_counts, collapse  # noqa: E402

EXT = {"text": ".txt", "jsonl": ".jsonl", "hocr": ".hocr", "alto": ".alto.xml", "pdf": ".pdf"}
FAIL = []


def fail(msg):
    FAIL.append(msg)


def load(path):
    with h5py.File(path, "r") as f:
        docs = f["documents"][...]
        pages = f["pages"][...]
        lines = f["lines"][...]
        text = f["text"][...].tobytes()
    out = []
    for d in docs:
        doc = int(d["doc"])
        pg = pages[pages["doc"] == doc]
        ln = lines[lines["doc"] == doc]
        recs = []
        for l in ln:
            s = int(l["text_start"])
            recs.append({"page": int(l["page"]), "block": int(l["block"]),
                         "bbox": [float(v) for v in l["bbox"]], "conf": float(l["conf"]),
                         "text": text[s:s + int(l["text_len"])].decode("utf-8", "replace")})
        out.append({"doc": doc, "path": d["path"].decode(), "status": int(d["status"]),
                    "pages": [(int(p["page"]), float(p["width"]), float(p["height"])) for p in pg],
                    "kinds": [int(p["kind"]) for p in pg],
                    "lines": recs})
    return out


def file_name(d, fmt):
    base = os.path.basename(d["path"])
    stem = base[:base.rfind(".")] if base.rfind(".") > 0 else base
    stem = re.sub(r"[^A-Za-z0-9._+-]", "_", stem) or "doc"
    return "%06d-%s%s" % (d["doc"], stem, EXT[fmt])


def page_text(d, page):
    out, prev = [], None
    for l in d["lines"]:
        if l["page"] != page:
            continue
        if prev is not None:
            out.append("\n\n" if l["block"] != prev else "\n")
        out.append(l["text"])
        prev = l["block"]
    return "".join(out)


def check_text(d, path):
    got = open(path, encoding="utf-8").read().split("\f")
    if len(got) != len(d["pages"]):
        return fail("%s: %d pages, want %d" % (path, len(got), len(d["pages"])))
    for (p, _, _), g in zip(d["pages"], got):
        want = page_text(d, p)
        if g != (want + "\n" if want else ""):
            fail("%s: page %d differs from results.h5" % (path, p))


def check_jsonl(d, path):
    rows = [json.loads(l) for l in open(path, encoding="utf-8").read().splitlines()]
    if len(rows) != len(d["lines"]):
        return fail("%s: %d objects, want %d lines" % (path, len(rows), len(d["lines"])))
    for i, (r, l) in enumerate(zip(rows, d["lines"])):
        ok = (r["doc"] == d["doc"] and r["page"] == l["page"] and r["block"] == l["block"]
              and r["line"] == i and all(abs(a - b) < 0.01 for a, b in zip(r["bbox"], l["bbox"]))
              and abs(r["confidence"] - l["conf"]) < 1e-4 and r["text"] == l["text"])
        if not ok:
            return fail("%s: object %d differs from results.h5: %r vs %r" % (path, i, r, l))


def props(title):
    out = {}
    for part in title.split(";"):
        k, _, v = part.strip().partition(" ")
        out[k] = v
    return out


class Hocr(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.pages, self.errors = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class")
        self.stack.append(cls)
        if not cls:
            return
        p = props(a.get("title", ""))
        parent = {"ocr_carea": "ocr_page", "ocr_par": "ocr_carea", "ocr_line": "ocr_par",
                  "ocrx_word": "ocr_line"}.get(cls)
        if parent and parent not in self.stack[:-1]:
            self.errors.append("%s %s outside an %s" % (cls, a.get("id"), parent))
        box = [int(v) for v in p.get("bbox", "").split()] if "bbox" in p else None
        if cls == "ocr_page":
            if not box or box[:2] != [0, 0] or "ppageno" not in p:
                self.errors.append("ocr_page %s: want bbox 0 0 W H and ppageno" % a.get("id"))
            self.pages.append({"box": box, "lines": []})
            return
        if box is None:
            return self.errors.append("%s %s has no bbox" % (cls, a.get("id")))
        pb = self.pages[-1]["box"] if self.pages else None
        if pb and not (0 <= box[0] <= box[2] <= pb[2] and 0 <= box[1] <= box[3] <= pb[3]):
            self.errors.append("%s %s bbox %s outside page %s" % (cls, a.get("id"), box, pb))
        if cls == "ocr_line":
            self.pages[-1]["lines"].append([])
        if cls == "ocrx_word":
            c = p.get("x_wconf")
            if c is None or not 0 <= float(c) <= 100:
                self.errors.append("word %s: x_wconf %r" % (a.get("id"), c))
            self.pages[-1]["lines"][-1].append("")

    def handle_endtag(self, tag):
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "ocrx_word":
            self.pages[-1]["lines"][-1][-1] += data


def check_hocr(d, path):
    h = Hocr()
    h.feed(open(path, encoding="utf-8").read())
    h.close()
    for e in h.errors[:5]:
        fail("%s: %s" % (path, e))
    if len(h.pages) != len(d["pages"]):
        return fail("%s: %d ocr_page, want %d" % (path, len(h.pages), len(d["pages"])))
    got = [" ".join(w) for pg in h.pages for w in pg["lines"]]
    want = [collapse(l["text"]) for l in d["lines"]]
    if got != want:
        fail("%s: the words of its lines are not results.h5's text" % path)


def check_alto(d, path):
    ns = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
    root = ET.parse(path).getroot()
    if root.find("a:Description/a:MeasurementUnit", ns).text != "mm10":
        fail("%s: MeasurementUnit is not mm10" % path)
    pages = root.findall("a:Layout/a:Page", ns)
    if len(pages) != len(d["pages"]):
        return fail("%s: %d Page, want %d" % (path, len(pages), len(d["pages"])))
    got = []
    for pg in pages:
        pw, ph = float(pg.get("WIDTH")), float(pg.get("HEIGHT"))
        for s in pg.iter("{%s}String" % ns["a"]):
            x, y = float(s.get("HPOS")), float(s.get("VPOS"))
            if not (0 <= x <= pw + 1 and 0 <= y <= ph + 1):
                fail("%s: String %s outside its page" % (path, s.get("ID")))
        for tl in pg.iter("{%s}TextLine" % ns["a"]):
            got.append(" ".join(s.get("CONTENT") for s in tl.findall("a:String", ns)))
    want = [collapse(l["text"]) for l in d["lines"] if collapse(l["text"])]
    if got != want:
        fail("%s: the Strings of its TextLines are not results.h5's text" % path)


def check_pdf(d, path, max_bow):
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True)
    m = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    if info.returncode or not m or int(m.group(1)) != len(d["pages"]):
        return fail("%s: pdfinfo: %s%s" % (path, info.stderr.strip(), m and m.group(0)))
    got = subprocess.run(["pdftotext", "-enc", "UTF-8", path, "-"], capture_output=True,
                         text=True).stdout
    want = "\n\n".join(page_text(d, p) for p, _, _ in d["pages"])
    miss, extra, total = bow_counts(got, want)
    bow = (miss + extra) / max(total, 1)
    print("%s: bag-of-words error %.4f (%d missing, %d extra of %d words)"
          % (os.path.basename(path), bow, miss, extra, total))
    if bow > max_bow:
        fail("%s: bag-of-words error %.4f > %.4f" % (path, bow, max_bow))
    ocr = [p for (p, _, _), k in zip(d["pages"], d["kinds"]) if k == 1]
    if not ocr:
        if open(path, "rb").read() != open(d["path"], "rb").read():
            fail("%s: a born-digital PDF, but not a copy of %s" % (path, d["path"]))
        return
    imgs = subprocess.run(["pdfimages", "-list", path], capture_output=True, text=True).stdout
    with_image = {int(l.split()[0]) - 1 for l in imgs.splitlines()[2:] if l.strip()}
    for p in ocr:
        if p not in with_image:
            fail("%s: pdfimages -list shows no image on page %d" % (path, p + 1))
        check_pdf_boxes(d, path, p)


WORD = re.compile(r'<word xMin="([-0-9.]+)" yMin="([-0-9.]+)" xMax="([-0-9.]+)" '
                  r'yMax="([-0-9.]+)">')


def check_pdf_boxes(d, path, p):
    """Every word pdftotext finds on page p lies in one of the page's lines."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(p + 1), "-l", str(p + 1), path, "-"],
                         capture_output=True, text=True).stdout
    boxes = [l["bbox"] for l in d["lines"] if l["page"] == p]
    words = [[float(v) for v in m.groups()] for m in WORD.finditer(out)]
    if boxes and not words:
        fail("%s: page %d: pdftotext places no words" % (path, p + 1))
    for w in words:
        if not any(b[0] - 1 <= w[0] and w[2] <= b[2] + 1 and b[1] - 1 <= w[1] and w[3] <= b[3] + 1
                   for b in boxes):
            return fail("%s: page %d: word at %s is in no line's box" % (path, p + 1, w))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("format", choices=sorted(EXT))
    ap.add_argument("results")
    ap.add_argument("dir")
    ap.add_argument("--pdf-max-bow", type=float, default=0.02)
    a = ap.parse_args()
    docs = load(a.results)
    expect = {file_name(d, a.format): d for d in docs if d["status"] == 0}
    have = set(os.listdir(a.dir))
    for n in sorted(have - set(expect)):
        fail("%s: unexpected file %s" % (a.dir, n))
    for n in sorted(set(expect) - have):
        fail("%s: missing %s" % (a.dir, n))
    check = {"text": check_text, "jsonl": check_jsonl, "hocr": check_hocr, "alto": check_alto}
    for n, d in sorted(expect.items()):
        if n not in have:
            continue
        p = os.path.join(a.dir, n)
        if a.format == "pdf":
            check_pdf(d, p, a.pdf_max_bow)
        else:
            check[a.format](d, p)
    for f in FAIL:
        print("FAIL:", f)
    print("%s: %d files checked, %d failures" % (a.format, len(expect), len(FAIL)))
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Pages scanned sideways or upside down: CER at 0/90/180/270 degrees for quire
and for Tesseract with its orientation detection, and what orientation costs
quire on upright pages.

    bench/ocr/bench_rotate.py WORK [--quire BIN] [--base BIN] [--repeat N]

Pages: gen_scans.py --bench 2 --seed 5 (one single-column, one two-column clean
300-dpi page) and its degraded/page_200.png and degraded/q40.jpg (200 dpi and
JPEG, noise, blur, a slight skew), each turned counter-clockwise by PIL by 0, 90,
180 and 270 degrees. quire: `quire run` (one process) over all 16, text rebuilt
from results.h5 (lines, blank line between blocks), CER by tests/tools/textmetrics
(whitespace collapsed). Tesseract 5: `--psm 1 -l eng` (page segmentation with
orientation and script detection), `OMP_THREAD_LIMIT=1`.

Cost on upright pages: the 4 upright pages through `quire run` with
--rotate-pages (default), --no-rotate-pages, and --base (a quire built without
orientation, when given), interleaved --repeat times; the sum of /pages seconds
(OCR time per page, model loading excluded) per variant, its median over the
repeats.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import h5py
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "tools"))
from textmetrics import collapse, levenshtein  # noqa: E402

PAGES = ["bench/p000_single.png", "bench/p001_twocol.png", "degraded/page_200.png",
         "degraded/q40.jpg"]
ANGLES = (0, 90, 180, 270)


def make(work):
    scans = os.path.join(work, "scans")
    if not os.path.exists(os.path.join(scans, "truth.json")):
        subprocess.run([sys.executable, os.path.join(SRC, "tests/gen/gen_scans.py"), scans,
                        "--seed", "5", "--bench", "2"], check=True, stdout=subprocess.DEVNULL)
    truth = {d["file"]: d["text"] for d in json.load(open(os.path.join(scans, "truth.json")))
             ["documents"]}
    table = {}
    for a in ANGLES:
        d = os.path.join(work, "in%d" % a)
        os.makedirs(d, exist_ok=True)
        for p in PAGES:
            im = Image.open(os.path.join(scans, p))
            dpi = im.info.get("dpi", (300, 300))
            name = p.replace("/", "_").rsplit(".", 1)[0] + ".png"
            im.rotate(a, expand=True).save(os.path.join(d, name), dpi=dpi)
            table[(a, name)] = truth[p]
    return table


def cer(want, got):
    w = collapse(want)
    return levenshtein(w, collapse(got)) / max(len(w), 1), len(w)


def quire_run(binary, folder, out, *opts):
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([binary, "run", "-q", "--out", out, *opts, folder], check=True,
                   stdout=subprocess.DEVNULL)
    res = {}
    with h5py.File(os.path.join(out, "results.h5"), "r") as f:
        docs, pages, lines = f["documents"][:], f["pages"][:], f["lines"][:]
        text = f["text"][:].tobytes()
    for d in docs:
        name = os.path.basename(d["path"].decode())
        pg = pages[pages["doc"] == d["doc"]][0]
        out_lines, block = [], None
        for r in lines[lines["doc"] == d["doc"]]:
            if block is not None and r["block"] != block:
                out_lines.append("")
            out_lines.append(text[r["text_start"]:r["text_start"] + r["text_len"]].decode())
            block = r["block"]
        res[name] = ("\n".join(out_lines), int(pg["rotation"]), float(pg["seconds"]))
    return res


def tesseract(path):
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    t = time.time()
    r = subprocess.run(["tesseract", path, "-", "--psm", "1", "-l", "eng"], env=env,
                       capture_output=True, text=True)
    return r.stdout, time.time() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--quire", default=os.path.join(SRC, "build", "quire"))
    ap.add_argument("--base")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    table = make(a.work)
    print("| pages turned (CCW) | quire CER | quire rotation found | Tesseract --psm 1 CER |")
    print("|---|---:|---|---:|")
    for ang in ANGLES:
        got = quire_run(a.quire, os.path.join(a.work, "in%d" % ang), os.path.join(a.work, "q"))
        qe = qn = te = 0
        rots = []
        for (aa, name), want in sorted(table.items()):
            if aa != ang:
                continue
            e, n = cer(want, got[name][0])
            qe, qn = qe + e * n, qn + n
            rots.append(got[name][1])
            e, _ = cer(want, tesseract(os.path.join(a.work, "in%d" % ang, name))[0])
            te += e * n
        print("| %d | %.4f | %s | %.4f |" % (ang, qe / qn, " ".join(map(str, rots)), te / qn),
              flush=True)
    variants = [("--rotate-pages", a.quire, ()), ("--no-rotate-pages", a.quire,
                                                  ("--no-rotate-pages",))]
    if a.base:
        variants.append(("base (no orientation code)", a.base, ()))
    secs = {v[0]: [] for v in variants}
    for _ in range(a.repeat):
        for label, binary, opts in variants:
            got = quire_run(binary, os.path.join(a.work, "in0"), os.path.join(a.work, "t"), *opts)
            secs[label].append(sum(g[2] for g in got.values()))
    print("\n| upright pages, 4 | OCR seconds (median of %d) | runs |" % a.repeat)
    print("|---|---:|---|")
    for label, _, _ in variants:
        print("| %s | %.2f | %s |" % (label, statistics.median(secs[label]),
                                      " ".join("%.2f" % s for s in secs[label])))


if __name__ == "__main__":
    main()

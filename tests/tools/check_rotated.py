#!/usr/bin/python3
"""Check quire's results on the pages of make_rotated.py (tests/e2e/rotate.sh).

    check_rotated.py RESULTS.h5 TRUTH.json [--max-cer-gap X] [--max-cer X]

Per page: /pages rotation is the expected turn; the CER (textmetrics: whitespace
collapsed) is at most --max-cer and, for a page with an upright twin, at most
--max-cer-gap above the twin's; every line's bbox lies on the page as given
(width x height, not the upright page's), and, turned the way the file was
made from its twin, lies where the twin's line of the same text lies (within a
few points). Prints a table; exit 1 when anything fails.
"""
import argparse
import json
import os
import sys

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from textmetrics import collapse, levenshtein  # noqa: E402

BOX_TOL = 3.0  # points: the same pixels give the same boxes, up to rounding


def pages(path):
    """file name -> (rotation, width, height, [(bbox, text)], plain text)"""
    out = {}
    with h5py.File(path, "r") as f:
        docs, pgs, lines = f["documents"][:], f["pages"][:], f["lines"][:]
        text = f["text"][:].tobytes()
    for d in docs:
        name = os.path.basename(d["path"].decode())
        p = [r for r in pgs if r["doc"] == d["doc"]]
        ls = [r for r in lines if r["doc"] == d["doc"]]
        items, plain, block = [], [], None
        for r in ls:
            s = text[r["text_start"]:r["text_start"] + r["text_len"]].decode()
            items.append((list(map(float, r["bbox"])), s))
            if block is not None and r["block"] != block:
                plain.append("")
            plain.append(s)
            block = r["block"]
        p0 = p[0] if p else None
        out[name] = (int(p0["rotation"]) if p0 else None, float(p0["width"]) if p0 else 0,
                     float(p0["height"]) if p0 else 0, items, "\n".join(plain), d["status"])
    return out


def ccw(box, a, w, h):
    """bbox of a w x h page, where it lies once the page is turned a degrees
    counter-clockwise (as PIL's rotate made the test files)."""
    x0, y0, x1, y1 = box
    for _ in range(a // 90):
        x0, y0, x1, y1 = y0, w - x1, y1, w - x0
        w, h = h, w
    return [x0, y0, x1, y1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("truth")
    ap.add_argument("--max-cer-gap", type=float, default=0.005)
    ap.add_argument("--max-cer", type=float, default=0.02)
    a = ap.parse_args()
    truth = json.load(open(a.truth))
    got = pages(a.results)
    bad = []
    cer = {}
    for name in sorted(truth):
        t = truth[name]
        if name not in got:
            bad.append("%s: no record" % name)
            continue
        rot, w, h, items, plain, status = got[name]
        want = collapse(t["text"])
        cer[name] = levenshtein(want, collapse(plain)) / max(len(want), 1)
        if status != 0:
            bad.append("%s: status %d" % (name, status))
        if rot != t["rotation"]:
            bad.append("%s: rotation %s, want %d" % (name, rot, t["rotation"]))
        if cer[name] > a.max_cer:
            bad.append("%s: CER %.4f above %.4f" % (name, cer[name], a.max_cer))
        for box, s in items:
            if not (-0.5 <= box[0] <= box[2] <= w + 0.5 and -0.5 <= box[1] <= box[3] <= h + 0.5):
                bad.append("%s: bbox %s of %r off the %gx%g page" % (name, box, s, w, h))
                break
    for name in sorted(truth):
        twin = truth[name]["upright"]
        if not twin or twin == name or name not in cer or twin not in cer:
            continue
        if cer[name] > cer[twin] + a.max_cer_gap:
            bad.append("%s: CER %.4f, upright %.4f" % (name, cer[name], cer[twin]))
        _, tw, th, titems, _, _ = got[twin]
        where = {}
        for box, s in titems:
            where.setdefault(s, ccw(box, truth[name]["rotation"], tw, th))
        for box, s in got[name][3]:
            e = where.get(s)
            if e and max(abs(u - v) for u, v in zip(box, e)) > BOX_TOL:
                bad.append("%s: %r at %s, its upright twin's turned is at %s" % (name, s, box, e))
                break
    print("%-16s %8s %8s" % ("page", "rotation", "CER"))
    for name in sorted(truth):
        if name in got:
            print("%-16s %8s %8.4f" % (name, got[name][0], cer.get(name, float("nan"))))
    for b in bad:
        print("FAIL " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

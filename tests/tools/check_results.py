#!/usr/bin/python3
"""Check quire's results against a corpus ground truth (tests/gen/gen_corpus.py).

    check_results.py OUTDIR TRUTH.json [--max-cer 0.005] [--allow-extra] [-v]

OUTDIR is quire's --out folder (OUTDIR/results.h5) or the .h5 file itself.
For every input in TRUTH.json: exactly one /documents row (matched by the
trailing components of its path, so absolute, relative and walked paths all
match), an accepted status, the page count, per-page kind, rotation and
display size (within 1 pt), text_pages, and the document's plain text
rebuilt from /lines and /text with a character error rate (Levenshtein on
whitespace-collapsed text / truth length) at most --max-cer.  Rows that match
no input (e.g. a path through the bad/loop/back symlink loop) fail unless
--allow-extra.  Prints a table and a summary; exit 1 on any failure.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from textmetrics import cer  # noqa: E402


def parts(p):
    return [x for x in os.path.normpath(p).split(os.sep) if x not in ("", ".")]


def match_rows(paths, truth_files):
    """Map truth file (relative to the corpus) -> list of row indices.  A row
    matches the truth file whose components are the longest suffix of its path;
    symlinks are deliberately not resolved (missing.pdf points nowhere and
    loop/back must stay visible as such)."""
    index = {tuple(parts(t)): t for t in truth_files}
    maxlen = max((len(k) for k in index), default=0)
    found = {t: [] for t in truth_files}
    extra = []
    for i, p in enumerate(paths):
        comps = parts(p)
        hit = None
        for n in range(min(maxlen, len(comps)), 0, -1):
            hit = index.get(tuple(comps[-n:]))
            if hit:
                break
        # a path through the loop ends like a real file; its extra components
        # ("loop/back") are what give it away
        if hit and "back" in comps[:-1] and "loop" in comps[:-1]:
            hit = None
        (found[hit] if hit else extra).append(i)
    return found, extra


def doc_text(lines, text, lo, hi):
    """Plain text of one document (DESIGN.md §3): lines in row order, '\\n'
    between lines, a blank line where the (page, block) changes."""
    out, prev = [], None
    for k in range(lo, hi):
        ln = lines[k]
        key = (int(ln["page"]), int(ln["block"]))
        if prev is not None:
            out.append("\n\n" if key != prev else "\n")
        s, n = int(ln["text_start"]), int(ln["text_len"])
        out.append(text[s:s + n].tobytes().decode("utf-8", "replace"))
        prev = key
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("truth")
    ap.add_argument("--max-cer", type=float, default=0.005)
    ap.add_argument("--allow-extra", action="store_true", help="rows matching no input are not a failure")
    ap.add_argument("-v", "--verbose", action="store_true", help="print passing documents too")
    a = ap.parse_args()
    h5 = a.outdir if a.outdir.endswith(".h5") else os.path.join(a.outdir, "results.h5")
    with open(a.truth, encoding="utf-8") as f:
        truth = json.load(f)
    with h5py.File(h5, "r") as f:
        docs, pages, lines = f["documents"][()], f["pages"][()], f["lines"][()]
        text = f["text"][()]
        status_names = {v: k for k, v in h5py.check_enum_dtype(f["documents"].dtype.fields["status"][0]).items()}
        kind_names = {v: k for k, v in h5py.check_enum_dtype(f["pages"].dtype.fields["kind"][0]).items()}

    paths = [bytes(p).rstrip(b"\0").decode("utf-8", "replace") for p in docs["path"]]
    tdocs = truth["documents"]
    found, extra = match_rows(paths, [d["file"] for d in tdocs])
    # rows of one doc in /pages and /lines (both ordered by doc)
    psort = np.argsort(pages["doc"], kind="stable")
    lsort = np.argsort(lines["doc"], kind="stable")
    pages, lines = pages[psort], lines[lsort]

    fails, total_err, total_len = 0, 0, 0
    hdr = "%-34s %-6s %-12s %-9s %-8s %s" % ("file", "result", "status", "pages", "CER", "problems")
    print(hdr)
    print("-" * len(hdr))
    for d in tdocs:
        rows = found[d["file"]]
        probs, c = [], None
        got_status, got_pages = "-", "-"
        if len(rows) != 1:
            probs.append("%d /documents rows, expected 1" % len(rows))
        if rows:
            row = docs[rows[0]]
            got_status = status_names.get(int(row["status"]), str(row["status"]))
            got_pages = int(row["pages"])
            if got_status not in d["accept_status"]:
                probs.append("status %s, expected %s" % (got_status, "/".join(d["accept_status"])))
            if d["bytes"] is not None and int(row["bytes"]) != d["bytes"]:
                probs.append("bytes %d, expected %d" % (row["bytes"], d["bytes"]))
            if got_status == "ok" and d["status"] == "ok":
                docid = row["doc"]
                pl, ph = np.searchsorted(pages["doc"], docid, "left"), np.searchsorted(pages["doc"], docid, "right")
                ll, lh = np.searchsorted(lines["doc"], docid, "left"), np.searchsorted(lines["doc"], docid, "right")
                if got_pages != d["pages"] or ph - pl != d["pages"]:
                    probs.append("pages %d (%d rows), expected %d" % (got_pages, ph - pl, d["pages"]))
                want_text_pages = sum(p["kind"] == "text" for p in d["page_data"])
                if int(row["text_pages"]) != want_text_pages:
                    probs.append("text_pages %d, expected %d" % (row["text_pages"], want_text_pages))
                for p, pr in zip(d["page_data"], pages[pl:ph]):
                    kind = kind_names.get(int(pr["kind"]), str(pr["kind"]))
                    if kind != p["kind"]:
                        probs.append("page %d kind %s, expected %s" % (p["page"], kind, p["kind"]))
                    if abs(pr["width"] - p["width"]) > 1 or abs(pr["height"] - p["height"]) > 1:
                        probs.append("page %d size %.1fx%.1f, expected %.1fx%.1f (after /Rotate)"
                                     % (p["page"], pr["width"], pr["height"], p["width"], p["height"]))
                    if int(pr["rotation"]) != p["rotation"]:
                        probs.append("page %d rotation %d, expected %d" % (p["page"], pr["rotation"], p["rotation"]))
                got = doc_text(lines, text, ll, lh)
                c = cer(got, d["text"])
                n = len(" ".join(d["text"].split()))
                total_err += c * n
                total_len += n
                if c > a.max_cer:
                    probs.append("CER %.4f > %.4f" % (c, a.max_cer))
        if probs:
            fails += 1
        if probs or a.verbose:
            print("%-34s %-6s %-12s %-9s %-8s %s" % (
                d["file"][-34:], "FAIL" if probs else "ok",
                "%s/%s" % (got_status, d["status"]), "%s/%s" % (got_pages, d["pages"]),
                "-" if c is None else "%.4f" % c, "; ".join(probs[:4]) + (" ..." if len(probs) > 4 else "")))
    for i in extra:
        print("%-34s %-6s row %d: matches no input in the truth" % (paths[i][-34:], "EXTRA", i))
    if extra and not a.allow_extra:
        fails += 1
    mean = total_err / total_len if total_len else 0.0
    print("-" * len(hdr))
    print("check_results: %d inputs, %d rows, %d extra rows, %d failed; overall CER %.5f on %d chars"
          % (len(tdocs), len(docs), len(extra), fails, mean, total_len))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

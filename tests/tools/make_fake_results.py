#!/usr/bin/python3
"""TEST-ONLY: write a results.h5 in schema 1 as a perfect quire would, from a
corpus truth.json, so the checkers can be tested before (and independently of)
quire's writer.  --fault injects one deliberate mistake; selftest.sh asserts
that the right checker catches each one.

    make_fake_results.py TRUTH.json OUT.h5 [--corpus-prefix P] [--fault NAME]
                         [--timing-seed N]

Paths are stored as P/<file> (default: the truth file's folder), like a run
given that folder's subfolders on the command line.
"""
import argparse
import json
import os
import random
import sys

import h5py
import numpy as np

STATUS = {"ok": 0, "error": 1, "timeout": 2, "skipped": 3}
KIND = {"text": 0, "ocr": 1, "empty": 2, "failed": 3}

FAULTS = {
    # caught by check_schema.py
    "no-compression": "a dataset stored without deflate",
    "not-chunked": "a contiguous dataset",
    "wrong-field-order": "/pages with width and height swapped in the compound",
    "wrong-int-type": "/documents.pages as u8 instead of u4",
    "status-not-enum": "/documents.status a plain integer",
    "enum-names": "kind enum missing 'failed'",
    "vlen-path": "path as a variable-length string",
    "ascii-path": "path with H5T_CSET_ASCII instead of UTF-8",
    "bad-created": "created not UTC ISO 8601",
    "schema-2": "root attribute schema = 2",
    "config-not-json": "config attribute not JSON",
    "unsorted-pages": "/pages rows out of (doc, page) order",
    "first-line-off": "a page's first_line off by one",
    "text-gap": "lines' text ranges not contiguous",
    "bad-utf8": "invalid UTF-8 inside /text",
    "page-count": "/documents.pages disagrees with /pages rows",
    # schema-valid, caught by check_results.py
    "missing-doc": "one input has no /documents row",
    "dup-doc": "one input has two rows",
    "wrong-status": "a bad input recorded as ok",
    "typos": "1% of characters in one document changed",
    "swap-columns": "a two-column page read right column first",
    "wrong-size": "a page's width off by 5 pt",
    "wrong-rotation": "a /Rotate 90 page recorded with rotation 0",
    "loop-followed": "a path through the bad/loop/back symlink",
    # caught by compare_results.py only
    "content-changed": "one bbox coordinate moved by 0.5 pt",
}


def str_dt(n):
    return h5py.string_dtype("utf-8", max(1, n))


def build(truth, prefix, fault, rng):
    docs = [d for d in truth["documents"]]
    if fault == "missing-doc":
        victim = next(d for d in docs if d["set"] == "docs" and d["pages"] >= 2)
        docs = [d for d in docs if d is not victim]
    if fault == "dup-doc":
        docs = docs + [docs[0]]
    if fault == "loop-followed":
        docs = docs + [dict(docs[0], file="bad/loop/back/" + os.path.basename(docs[0]["file"]))]
    drows, prows, lrows, text = [], [], [], bytearray()
    for i, d in enumerate(docs):
        path = os.path.join(prefix, d["file"])
        status = d["status"]
        if fault == "wrong-status" and d["set"] == "bad" and "ok" not in d["accept_status"]:
            status, fault = "ok", None
        error = "" if status == "ok" else "cannot open document: " + d.get("why", "error")
        n_text = n_ocr = 0
        for p in d["page_data"]:
            blocks = [b["lines"] for b in p["blocks"]]
            boxes = [b["bboxes"] for b in p["blocks"]]
            if fault == "swap-columns" and p["layout"] == "two-column" and len(blocks) > 3:
                # title first, then the blocks of the right half before the left
                rest = list(zip(blocks[1:], boxes[1:]))
                right = [x for x in rest if x[1][0][0] > p["width"] / 2]
                left = [x for x in rest if x[1][0][0] <= p["width"] / 2]
                blocks = [blocks[0]] + [x[0] for x in right + left]
                boxes = [boxes[0]] + [x[1] for x in right + left]
                fault = None
            first = len(lrows)
            for bi, (lines, bbs) in enumerate(zip(blocks, boxes)):
                for ln, bb in zip(lines, bbs):
                    if fault == "typos" and d["set"] == "docs" and p["page"] == 0:
                        ln = "".join("#" if rng.random() < 0.01 else ch for ch in ln)
                    if fault == "content-changed":
                        bb = [bb[0] + 0.5] + bb[1:]
                        fault = None
                    raw = ln.encode("utf-8")
                    lrows.append((i, p["page"], bi, bb, 1.0, len(text), len(raw)))
                    text += raw
            kind = p["kind"]
            n_text += kind == "text"
            n_ocr += kind == "ocr"
            w, h, rot = p["width"], p["height"], p["rotation"]
            if fault == "wrong-size" and p["page"] == 0:
                w, fault = w + 5, None
            if fault == "wrong-rotation" and rot == 90:
                rot, fault = 0, None
            prows.append((i, p["page"], KIND[kind], w, h, rot, len(lrows) - first,
                          first, rng.uniform(0.001, 0.2), 0.0))
        if fault == "typos" and d["set"] == "docs":
            fault = None
        drows.append((i, path.encode("utf-8"), d["bytes"] or 0, d["pages"], STATUS[status],
                      error.encode("utf-8"), n_text, n_ocr, rng.uniform(0.01, 2.0), rng.randrange(1, 4),
                      int(status == "timeout"), 0, b""))
    return drows, prows, lrows, bytes(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("truth")
    ap.add_argument("out")
    ap.add_argument("--corpus-prefix")
    ap.add_argument("--fault", choices=sorted(FAULTS))
    ap.add_argument("--timing-seed", type=int, default=0,
                    help="seed for the seconds/rank fields and the created attribute")
    a = ap.parse_args()
    with open(a.truth, encoding="utf-8") as f:
        truth = json.load(f)
    prefix = a.corpus_prefix or os.path.dirname(os.path.abspath(a.truth))
    rng = random.Random(a.timing_seed)
    fault = a.fault
    drows, prows, lrows, text = build(truth, prefix, fault, rng)

    plen = max(len(r[1]) for r in drows)
    elen = max(len(r[5]) for r in drows)
    status_dt = h5py.enum_dtype(STATUS, basetype="u1")
    kind_names = dict(KIND)
    if fault == "enum-names":
        del kind_names["failed"]
    kind_dt = h5py.enum_dtype(kind_names, basetype="u1")
    path_dt = str_dt(plen)
    if fault == "vlen-path":
        path_dt = h5py.string_dtype("utf-8")
    if fault == "ascii-path":
        path_dt = np.dtype("S%d" % plen)
    doc_fields = [("doc", "<u8"), ("path", path_dt), ("bytes", "<u8"),
                  ("pages", "<u8" if fault == "wrong-int-type" else "<u4"),
                  ("status", "u1" if fault == "status-not-enum" else status_dt),
                  ("error", str_dt(elen)), ("text_pages", "<u4"), ("ocr_pages", "<u4"),
                  ("seconds", "<f4"), ("rank", "<i4"), ("retryable", "u1"), ("warnings", "<u4"),
                  ("warning", str_dt(1))]
    page_fields = [("doc", "<u8"), ("page", "<u4"), ("kind", kind_dt), ("width", "<f4"),
                   ("height", "<f4"), ("rotation", "<i2"), ("lines", "<u4"), ("first_line", "<u8"),
                   ("seconds", "<f4"), ("skew_deg", "<f4")]
    if fault == "wrong-field-order":
        page_fields[3], page_fields[4] = page_fields[4], page_fields[3]
        prows = [(r[0], r[1], r[2], r[4], r[3]) + r[5:] for r in prows]
    line_fields = [("doc", "<u8"), ("page", "<u4"), ("block", "<u4"), ("bbox", "<f4", (4,)),
                   ("conf", "<f4"), ("text_start", "<u8"), ("text_len", "<u4")]
    if fault == "vlen-path":
        drows = [r[:1] + (r[1].decode(),) + r[2:] for r in drows]
    docs = np.array(drows, dtype=np.dtype(doc_fields))
    pages = np.array(prows, dtype=np.dtype(page_fields))
    lines = np.array(lrows, dtype=np.dtype(line_fields))
    tarr = np.frombuffer(text, dtype="u1").copy()

    if fault == "unsorted-pages" and len(pages) > 2:
        pages[[0, 1]] = pages[[1, 0]]
    if fault == "first-line-off":
        k = int(np.nonzero(pages["lines"] > 0)[0][3])
        pages["first_line"][k] += 1
    if fault == "text-gap":
        lines["text_start"][5:] += 1
        tarr = np.concatenate([tarr, np.zeros(1, "u1")])
    if fault == "bad-utf8":
        tarr[lines["text_start"][2]] = 0xFF
    if fault == "page-count":
        docs["pages"][0] += 1

    with h5py.File(a.out, "w") as f:
        f.attrs["schema"] = np.int32(2 if fault == "schema-2" else 1)
        f.attrs["quire_version"] = "0.1.0-fake"
        minute = rng.randrange(60)
        f.attrs["created"] = ("2026-11-22 04:%02d:00" if fault == "bad-created"
                              else "2026-11-22T04:%02d:00Z") % minute
        f.attrs["models"] = json.dumps({"det.onnx": "0" * 64, "rec.onnx": "1" * 64})
        f.attrs["config"] = "dpi=300" if fault == "config-not-json" else json.dumps(
            {"dpi": 300, "ranks": rng.randrange(1, 5)})
        for name, arr in (("documents", docs), ("pages", pages), ("lines", lines), ("text", tarr)):
            kw = dict(chunks=(max(1, min(len(arr), 4096)),), maxshape=(None,), compression="gzip")
            if fault == "no-compression" and name == "lines":
                kw.pop("compression")
            if fault == "not-chunked" and name == "pages":
                kw = {}
            f.create_dataset(name, data=arr, **kw)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Writes DIR/journal/r00001-old-1-000000.h5: a journal shard as quire wrote
them before /documents had retryable, warnings and warning, /index had
warning_len and the file had created_ns. Its records: document 0, ok, one
page of two lines; document 1, timeout, no pages. store_test oldshard reads
it back (tests/store/CMakeLists.txt).

    make_old_shard.py DIR"""
import os
import shutil
import sys

import h5py
import numpy as np

out = sys.argv[1]
jdir = os.path.join(out, "journal")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(jdir)

STATUS = h5py.enum_dtype({"ok": 0, "error": 1, "timeout": 2, "skipped": 3}, basetype="u1")
KIND = h5py.enum_dtype({"text": 0, "ocr": 1, "empty": 2, "failed": 3}, basetype="u1")

paths = [b"/old/zero.pdf", b"/old/one.pdf"]
errors = [b"", b"timeout after 9 s at page 1 of 3"]
lines = [b"old line one", b"old line two"]
P, E = max(map(len, paths)), max(map(len, errors))

index = np.zeros(2, dtype=[(n, "<u8") for n in ("doc", "page_row", "npages", "line_row", "nlines",
                                                 "text_off", "ntext", "path_len", "error_len")])
index["doc"] = [0, 1]
index["npages"] = [1, 0]
index["page_row"] = [0, 1]
index["nlines"] = [2, 0]
index["line_row"] = [0, 2]
index["ntext"] = [sum(map(len, lines)), 0]
index["text_off"] = [0, sum(map(len, lines))]
index["path_len"] = list(map(len, paths))
index["error_len"] = list(map(len, errors))

docs = np.zeros(2, dtype=[("doc", "<u8"), ("path", h5py.string_dtype("utf-8", P)),
                          ("bytes", "<u8"), ("pages", "<u4"), ("status", STATUS),
                          ("error", h5py.string_dtype("utf-8", E)), ("text_pages", "<u4"),
                          ("ocr_pages", "<u4"), ("seconds", "<f4"), ("rank", "<i4")])
docs["doc"] = [0, 1]
docs["path"] = paths
docs["bytes"] = [1000, 2000]
docs["pages"] = [1, 3]
docs["status"] = [0, 2]
docs["error"] = errors
docs["text_pages"] = [1, 0]
docs["seconds"] = [0.5, 9.0]
docs["rank"] = [1, 1]

pages = np.zeros(1, dtype=[("doc", "<u8"), ("page", "<u4"), ("kind", KIND), ("width", "<f4"),
                           ("height", "<f4"), ("rotation", "<i2"), ("lines", "<u4"),
                           ("first_line", "<u8"), ("seconds", "<f4")])
pages[0] = (0, 0, 0, 612, 792, 0, 2, 0, 0.25)

lrows = np.zeros(2, dtype=[("doc", "<u8"), ("page", "<u4"), ("block", "<u4"),
                           ("bbox", "<f4", (4,)), ("conf", "<f4"), ("text_start", "<u8"),
                           ("text_len", "<u4")])
for i, t in enumerate(lines):
    lrows[i] = (0, 0, 0, (72, 72 + 14 * i, 300, 84 + 14 * i), 1.0, sum(map(len, lines[:i])), len(t))

with h5py.File(os.path.join(jdir, "r00001-old-1-000000.h5"), "w") as f:
    f.attrs.create("quire_shard", 1, dtype="<i4")
    f.attrs.create("rank", 1, dtype="<i4")
    for name, data in (("index", index), ("documents", docs), ("pages", pages),
                       ("lines", lrows), ("text", np.frombuffer(b"".join(lines), np.uint8))):
        f.create_dataset(name, data=data, maxshape=(None,), chunks=True, compression="gzip")
print("old shard written in", jdir)

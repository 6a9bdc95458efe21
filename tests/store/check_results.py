"""results.h5 as h5py users see it: field names and dtypes of schema 1, enum
names, row order (doc, page, line), offsets that chain, valid UTF-8."""
import sys

import h5py
import numpy as np

path = sys.argv[1]
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


with h5py.File(path, "r") as f:
    check(int(f.attrs["schema"]) == 1, "schema attribute")
    for a in ("quire_version", "created", "models", "config"):
        v = f.attrs[a]
        check(isinstance(v, (bytes, np.bytes_)), f"attribute {a} is {type(v)}")
        v.decode("utf-8")
    check(f.attrs["created"].decode().endswith("Z"), "created is not UTC")

    d, p, l, t = f["documents"], f["pages"], f["lines"], f["text"]
    want = {
        "documents": ["doc", "path", "bytes", "pages", "status", "error",
                      "text_pages", "ocr_pages", "seconds", "rank",
                      "retryable", "warnings", "warning"],
        "pages": ["doc", "page", "kind", "width", "height", "rotation", "lines",
                  "first_line", "seconds", "skew_deg"],
        "lines": ["doc", "page", "block", "bbox", "conf", "text_start", "text_len"],
    }
    for name, fields in want.items():
        ds = f[name]
        check(list(ds.dtype.names) == fields, f"{name} fields {ds.dtype.names}")
        check(ds.ndim == 1 and ds.chunks is not None and ds.compression == "gzip",
              f"{name} chunked/deflate: {ds.chunks} {ds.compression}")
    check(t.dtype == np.uint8 and t.ndim == 1 and t.compression == "gzip", "text dtype")

    dt = d.dtype
    for fld, typ in (("doc", "<u8"), ("bytes", "<u8"), ("pages", "<u4"), ("text_pages", "<u4"),
                     ("ocr_pages", "<u4"), ("seconds", "<f4"), ("rank", "<i4"),
                     ("retryable", "u1"), ("warnings", "<u4")):
        check(dt[fld] == np.dtype(typ), f"documents.{fld} is {dt[fld]}")
    check(dt["path"].kind == "S" and dt["error"].kind == "S" and dt["warning"].kind == "S",
          "string fields")
    check(h5py.check_enum_dtype(dt["status"]) == {"ok": 0, "error": 1, "timeout": 2, "skipped": 3},
          f"status enum {h5py.check_enum_dtype(dt['status'])}")
    check(dt["status"] == np.dtype("u1"), "status base type")
    pt = p.dtype
    check(h5py.check_enum_dtype(pt["kind"]) == {"text": 0, "ocr": 1, "empty": 2, "failed": 3},
          f"kind enum {h5py.check_enum_dtype(pt['kind'])}")
    for fld, typ in (("doc", "<u8"), ("page", "<u4"), ("width", "<f4"), ("height", "<f4"),
                     ("rotation", "<i2"), ("lines", "<u4"), ("first_line", "<u8"),
                     ("seconds", "<f4"), ("skew_deg", "<f4")):
        check(pt[fld] == np.dtype(typ), f"pages.{fld} is {pt[fld]}")
    lt = l.dtype
    for fld, typ in (("doc", "<u8"), ("page", "<u4"), ("block", "<u4"), ("conf", "<f4"),
                     ("text_start", "<u8"), ("text_len", "<u4")):
        check(lt[fld] == np.dtype(typ), f"lines.{fld} is {lt[fld]}")
    check(lt["bbox"].shape == (4,) and lt["bbox"].base == np.dtype("<f4"), "bbox f4[4]")

    D, P, L, T = d[...], p[...], l[...], t[...]
    check(len(D) > 0 and np.all(np.diff(D["doc"].astype(np.int64)) > 0),
          "documents not strictly ascending")
    if len(P):
        key = P["doc"].astype(np.float64) * 2**32 + P["page"]
        check(np.all(np.diff(key) > 0), "pages not ordered by (doc, page)")
        check(np.all(P["first_line"][1:] == P["first_line"][:-1] + P["lines"][:-1]),
              "first_line does not chain")
        check(int(P["first_line"][0]) == 0 and
              int(P["first_line"][-1] + P["lines"][-1]) == len(L), "first_line range")
    if len(L):
        key = L["doc"].astype(np.float64) * 2**32 + L["page"]
        check(np.all(np.diff(key) >= 0), "lines not ordered by (doc, page)")
        check(np.all(L["text_start"][1:] == L["text_start"][:-1] + L["text_len"][:-1]),
              "text_start does not chain")
        check(int(L["text_start"][-1] + L["text_len"][-1]) == len(T), "text length")
        for i in range(len(L)):
            s, n = int(L["text_start"][i]), int(L["text_len"][i])
            T[s:s + n].tobytes().decode("utf-8")
    for row in D:
        row["path"].decode("utf-8")
        row["error"].decode("utf-8")
        row["warning"].decode("utf-8")
    check(any("文書" in r["path"].decode() for r in D), "non-ASCII path lost")
    check(any(r["status"] == 1 and r["pages"] == 0 for r in D), "error document missing")
    check(any(r["status"] == 2 and r["retryable"] == 1 for r in D), "retryable timeout missing")
    check(all(r["retryable"] == 0 for r in D if r["status"] != 2), "retryable without a timeout")
    check(any(r["warnings"] == 2 and r["warning"].decode().startswith("repaired: ") for r in D),
          "document with warnings missing")
    # The five-line README recipe works.
    txt = T[L["text_start"][0]:L["text_start"][0] + L["text_len"][0]].tobytes().decode()
    check(txt.startswith("d"), f"first line text {txt!r}")

if errors:
    for e in errors:
        print("FAIL:", e, file=sys.stderr)
    sys.exit(1)
print("h5py schema ok")

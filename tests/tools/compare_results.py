#!/usr/bin/python3
"""Compare two results.h5 files, ignoring what legitimately differs per run.

    compare_results.py A.h5 B.h5 [--float-tol 0]

Ignored: the seconds and rank fields, the created and config root
attributes, and /ranks (the accounting of the run that wrote the file).  Everything else (the other attributes, the set of datasets, their
types including enum maps and string sizes, every other field of every row,
and /text byte for byte) must be identical; --float-tol allows a tolerance on
float fields (for comparing a GPU run with a CPU run).  Used to prove that
mpirun -np 1, 3 and 4 write the same content.  Exit 1 with a diff summary.
"""
import argparse
import sys

import h5py
import numpy as np

IGNORE_FIELDS = {"seconds", "rank"}
IGNORE_ATTRS = {"created", "config"}
IGNORE_DATASETS = {"ranks"}
SHOW = 5


def attr_val(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def key_of(arr, i):
    return ", ".join("%s=%s" % (k, arr[k][i]) for k in ("doc", "page") if k in arr.dtype.names)


def compare_table(name, a, b, tol, out):
    if a.dtype != b.dtype:
        out.append("/%s: types differ:\n    A %s\n    B %s" % (name, a.dtype, b.dtype))
        return
    if a.dtype.names is None:  # /text
        if len(a) != len(b):
            out.append("/%s: %d vs %d bytes" % (name, len(a), len(b)))
        n = min(len(a), len(b))
        diff = np.nonzero(a[:n] != b[:n])[0]
        if len(diff):
            k = int(diff[0])
            out.append("/%s: %d bytes differ, first at %d: A %r / B %r" % (
                name, len(diff), k, a[k:k + 40].tobytes(), b[k:k + 40].tobytes()))
        return
    if len(a) != len(b):
        out.append("/%s: %d vs %d rows" % (name, len(a), len(b)))
    n = min(len(a), len(b))
    bad_rows = np.zeros(n, bool)
    per_field = []
    for f in a.dtype.names:
        if f in IGNORE_FIELDS:
            continue
        x, y = a[f][:n], b[f][:n]
        if x.dtype.kind == "f" and tol > 0:
            d = ~np.isclose(x, y, rtol=0, atol=tol, equal_nan=True)
        elif x.dtype.kind == "f":
            d = ~((x == y) | (np.isnan(x) & np.isnan(y)))
        else:
            d = x != y
        if d.ndim > 1:
            d = d.any(axis=tuple(range(1, d.ndim)))
        if d.any():
            per_field.append("%s: %d rows" % (f, int(d.sum())))
            bad_rows |= d
    if per_field:
        out.append("/%s: differing fields: %s" % (name, ", ".join(per_field)))
        for i in np.nonzero(bad_rows)[0][:SHOW]:
            fs = [f for f in a.dtype.names if f not in IGNORE_FIELDS and np.any(a[f][i] != b[f][i])]
            out.append("    row %d (%s): %s" % (i, key_of(a, i), "; ".join(
                "%s A=%s B=%s" % (f, a[f][i], b[f][i]) for f in fs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--float-tol", type=float, default=0.0)
    a = ap.parse_args()
    out = []
    with h5py.File(a.a, "r") as fa, h5py.File(a.b, "r") as fb:
        ka, kb = set(fa.attrs) - IGNORE_ATTRS, set(fb.attrs) - IGNORE_ATTRS
        for k in sorted(ka ^ kb):
            out.append("root attribute %r only in %s" % (k, "A" if k in ka else "B"))
        for k in sorted(ka & kb):
            va, vb = attr_val(fa.attrs[k]), attr_val(fb.attrs[k])
            if va != vb:
                out.append("root attribute %r: A=%r B=%r" % (k, va, vb))
        na, nb = set(fa.keys()) - IGNORE_DATASETS, set(fb.keys()) - IGNORE_DATASETS
        for k in sorted(na ^ nb):
            out.append("/%s only in %s" % (k, "A" if k in na else "B"))
        for k in sorted(na & nb):
            if isinstance(fa[k], h5py.Dataset) and isinstance(fb[k], h5py.Dataset):
                compare_table(k, fa[k][()], fb[k][()], a.float_tol, out)
            else:
                out.append("/%s: not a dataset in both files" % k)
    for line in out:
        print(line)
    print("compare_results: %s vs %s: %s" % (a.a, a.b, "DIFFERENT" if out else "same content"))
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Check results.h5's /ranks (issue 13, item 3) against the rest of the file.

    check_ranks.py RESULTS.h5 --roles coordinator,cpu,cpu [--gpu-reads|--gpu-refuses]
                   [--log LOG]

For a run that wrote every document of the file (not a resumed one): one row
per rank in rank order with the roles given (an HDF5 enum); device -1 except
on GPU ranks; each rank's documents and pages equal the /documents rows that
name it; every seconds field finite and >= 0, and seconds_wall = nn + other +
wait (other is what is left of the wall time: nn + wait above wall means
time counted twice); network time only where networks ran: none on the
coordinator, none on a CPU rank without OCR pages, some on a CPU rank that
read OCR pages itself (more OCR pages than it sent to a GPU rank); a GPU
rank's pages_served is what its CPU ranks sent; with --gpu-reads it read
every OCR page of its CPU ranks, with network time; with --gpu-refuses it
read none (they read their pages themselves) and spent no network time. With
--log, the end-of-job summary in LOG has one line per role with the sums of
its rows. Exit 1 with one line per failure.
"""
import argparse
import math
import re
import sys

import h5py
import numpy as np

ROLES = {"coordinator": 0, "gpu": 1, "cpu": 2}
FIELDS = ["rank", "host", "role", "device", "documents", "pages", "pages_sent", "pages_served",
          "seconds_wall", "seconds_nn", "seconds_other", "seconds_wait"]
SECONDS = ["seconds_wall", "seconds_nn", "seconds_other", "seconds_wait"]


def check_rows(f, want_roles, gpu, errs):
    d = f["ranks"]
    names = d.dtype.names or ()
    for k in FIELDS:
        if k not in names:
            errs.append("/ranks has no field %s" % k)
    if errs:
        return None
    enum = h5py.check_enum_dtype(d.dtype["role"])
    if enum != ROLES:
        errs.append("/ranks role is not the enum %s: %s" % (ROLES, enum))
    r = d[...]
    docs = f["documents"][...]
    if len(r) != len(want_roles):
        errs.append("/ranks has %d rows, the job had %d ranks" % (len(r), len(want_roles)))
        return None
    if list(r["rank"]) != list(range(len(r))):
        errs.append("/ranks rows are not ranks 0..%d in order: %s" % (len(r) - 1, list(r["rank"])))
    names_of = {v: k for k, v in ROLES.items()}
    for i, x in enumerate(r):
        where = "rank %d" % i
        role = names_of.get(int(x["role"]), "?")
        if role != want_roles[i]:
            errs.append("%s: role %s, want %s" % (where, role, want_roles[i]))
        if not x["host"].decode("utf-8"):
            errs.append("%s: empty host" % where)
        if (x["device"] >= 0) != (role == "gpu"):
            errs.append("%s (%s): device %d" % (where, role, x["device"]))
        mine = docs[docs["rank"] == i]
        if x["documents"] != len(mine) or x["pages"] != int(mine["pages"].sum()):
            errs.append("%s: %d documents, %d pages; /documents names it on %d documents, %d pages"
                        % (where, x["documents"], x["pages"], len(mine), int(mine["pages"].sum())))
        s = [float(x[k]) for k in SECONDS]
        if not all(math.isfinite(v) and v >= 0 for v in s):
            errs.append("%s: seconds not finite and >= 0: %s" % (where, s))
        if s[0] <= 0:
            errs.append("%s: no wall time" % where)
        if abs(s[0] - (s[1] + s[2] + s[3])) > 0.01 * s[0] + 1e-3:
            errs.append("%s: wall %.3f != nn %.3f + other %.3f + wait %.3f (time counted twice)"
                        % ((where,) + tuple(s)))
        nn = s[1]
        ocr = int(mine["ocr_pages"].sum())
        if role == "coordinator" and (nn != 0 or x["documents"] or x["pages_sent"]):
            errs.append("%s: the coordinator read something: %s" % (where, x))
        if role == "cpu" and ocr == 0 and nn != 0:
            errs.append("%s: %.3f s in networks without an OCR page" % (where, nn))
        if role == "cpu" and ocr > x["pages_sent"] and nn <= 0:
            errs.append("%s: read %d OCR pages itself (%d sent) with no network time"
                        % (where, ocr - x["pages_sent"], x["pages_sent"]))
        if role == "cpu" and x["pages_sent"] > ocr:
            errs.append("%s: sent %d pages for OCR, its documents have %d" % (where, x["pages_sent"], ocr))
        if role == "cpu" and gpu == "reads" and x["pages_sent"] != ocr:
            errs.append("%s: %d OCR pages, %d read by the GPU rank" % (where, ocr, x["pages_sent"]))
        if role == "cpu" and gpu == "refuses" and x["pages_sent"]:
            errs.append("%s: %d pages read by a GPU rank that refuses" % (where, x["pages_sent"]))
        if role != "gpu" and x["pages_served"]:
            errs.append("%s (%s): served %d pages" % (where, role, x["pages_served"]))
        if role == "gpu" and gpu == "reads" and (nn <= 0 or not x["pages_served"]):
            errs.append("%s: the GPU rank read %d pages in %.3f s of networks"
                        % (where, x["pages_served"], nn))
        if role == "gpu" and gpu == "refuses" and nn != 0:
            errs.append("%s: the refusing GPU rank spent %.3f s in networks" % (where, nn))
    if int(r["documents"].sum()) != len(docs):
        errs.append("/ranks documents sum to %d, /documents has %d rows" % (r["documents"].sum(), len(docs)))
    if int(r["pages"].sum()) != int(docs["pages"].sum()):
        errs.append("/ranks pages sum to %d, /documents to %d" % (r["pages"].sum(), docs["pages"].sum()))
    if int(r["pages_served"].sum()) != int(r["pages_sent"].sum()):
        errs.append("pages served %d != pages sent %d" % (r["pages_served"].sum(), r["pages_sent"].sum()))
    return r


def check_log(path, r, errs):
    text = open(path, encoding="utf-8", errors="replace").read()
    pat = re.compile(r"summary: (coordinator|gpu|cpu): (\d+) ranks?, (\d+) documents, (\d+) pages"
                     r"[^;]*; seconds summed: wall ([\d.]+), nn ([\d.]+) \((\d+) %\), "
                     r"other ([\d.]+), wait ([\d.]+)")
    seen = {}
    for m in pat.finditer(text):
        seen[m.group(1)] = m.groups()[1:]
    for role, v in ROLES.items():
        rows = r[r["role"] == v]
        if not len(rows):
            if role in seen:
                errs.append("summary line for %s, which has no ranks" % role)
            continue
        if role not in seen:
            errs.append("no summary line for the %s ranks" % role)
            continue
        g = seen[role]
        want = (len(rows), int(rows["documents"].sum()), int(rows["pages"].sum()))
        if tuple(int(x) for x in g[:3]) != want:
            errs.append("summary %s: %s, want ranks/documents/pages %s" % (role, g[:3], want))
        for k, got in zip(SECONDS, (g[3], g[4], g[6], g[7])):
            if abs(float(got) - float(rows[k].sum())) > 0.051:
                errs.append("summary %s: %s %s, rows sum to %.2f" % (role, k, got, rows[k].sum()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--roles", required=True, help="comma-separated role of each rank")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--gpu-reads", dest="gpu", action="store_const", const="reads")
    g.add_argument("--gpu-refuses", dest="gpu", action="store_const", const="refuses")
    ap.add_argument("--log")
    a = ap.parse_args()
    errs = []
    with h5py.File(a.results, "r") as f:
        if "ranks" not in f:
            print("FAIL: %s has no /ranks" % a.results)
            return 1
        r = check_rows(f, a.roles.split(","), a.gpu, errs)
    if r is not None and a.log:
        check_log(a.log, r, errs)
    for e in errs:
        print("FAIL: " + e)
    if r is not None:
        for x in r:
            print("  rank %d %-11s docs %3d pages %4d sent %3d served %3d  wall %7.2f nn %7.2f other %7.2f wait %7.2f"
                  % (x["rank"], [k for k, v in ROLES.items() if v == x["role"]][0], x["documents"], x["pages"],
                     x["pages_sent"], x["pages_served"], x["seconds_wall"], x["seconds_nn"],
                     x["seconds_other"], x["seconds_wait"]))
    print("check_ranks: %s: %s" % (a.results, "FAIL" if errs else "OK"))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())

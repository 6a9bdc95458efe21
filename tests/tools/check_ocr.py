#!/usr/bin/python3
"""Score OCR output against a scans corpus's truth (tests/gen/gen_scans.py), per set.

    check_ocr.py RESULTS TRUTH.json [--max-cer SET=X]... [--max-bow SET=X]...
                 [--sets A,B] [--no-kinds] [--json FILE] [-v]
    check_ocr.py --selftest

RESULTS is one of
  - quire's --out folder (RESULTS/results.h5) or a results.h5 file: each
    document's plain text is rebuilt from /lines and /text (DESIGN.md §3),
    rows matched to truth files by the trailing components of their paths;
  - a folder of plain-text files, RESULTS/<truth file>.txt (e.g.
    RESULTS/clean300/scan.pdf.txt): what another OCR engine wrote.

Metrics, per document and summed per set (each set is scored as a whole: sum
of the numerators over sum of the denominators, not a mean of ratios):
  CER  character error rate: Levenshtein distance (unit insert/delete/
       substitute costs, on Unicode code points) between the output and the
       truth, both NFC-normalised with every whitespace run collapsed to one
       space and the ends trimmed, divided by the truth's collapsed length.
       Reading order counts: columns read in the wrong order cost a lot.
  BoW  bag-of-words error: words are the whitespace-separated tokens of the
       collapsed texts (case-sensitive, punctuation attached).  With T and G
       the multisets of truth and output words, missing = |T - G|, extra =
       |G - T| (multiset differences), BoW = (missing + extra) / |T|.  Word
       order does not count; a misread word counts twice (missing + extra).
(tests/tools/textmetrics.py: collapse, cer_counts, bow_counts.)

Thresholds (defaults: CER clean300 0.02, degraded 0.05, mixed 0.02; no BoW
limit) apply to the set's summed score; sets without a threshold are reported
only.  A truth document with no output scores as empty output and fails.
With results.h5 each document must also have status ok and the recorded page
kinds (scanned pages "ocr", born-digital pages "text"; --no-kinds to skip).
Exit 1 when anything fails, 2 on usage errors.
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from textmetrics import KNOWN, bow_counts, cer_counts  # noqa: E402

DEFAULT_MAX_CER = {"clean300": 0.02, "degraded": 0.05, "mixed": 0.02}


def limits(items, defaults):
    out = dict(defaults)
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep:
            raise SystemExit("check_ocr: threshold %r is not SET=VALUE" % it)
        try:
            out[k] = float(v)
        except ValueError:
            raise SystemExit("check_ocr: threshold %r is not a number" % it)
    return out


def texts_from_h5(h5, docs, check_kinds):
    """{truth file: (text or None, [problems])} from a results.h5."""
    import h5py
    import numpy as np
    from check_results import doc_text, match_rows
    with h5py.File(h5, "r") as f:
        rows, pages, lines = f["documents"][()], f["pages"][()], f["lines"][()]
        text = f["text"][()]
        sn = {v: k for k, v in h5py.check_enum_dtype(f["documents"].dtype.fields["status"][0]).items()}
        kn = {v: k for k, v in h5py.check_enum_dtype(f["pages"].dtype.fields["kind"][0]).items()}
    paths = [bytes(p).rstrip(b"\0").decode("utf-8", "replace") for p in rows["path"]]
    found, _extra = match_rows(paths, [d["file"] for d in docs])
    pages = pages[np.argsort(pages["doc"], kind="stable")]
    lines = lines[np.argsort(lines["doc"], kind="stable")]
    out = {}
    for d in docs:
        rr = found[d["file"]]
        if not rr:
            out[d["file"]] = (None, ["no /documents row"])
            continue
        probs = [] if len(rr) == 1 else ["%d /documents rows" % len(rr)]
        row = rows[rr[0]]
        st = sn.get(int(row["status"]), str(row["status"]))
        if st != "ok":
            err = bytes(row["error"]).rstrip(b"\0").decode("utf-8", "replace")
            probs.append("status %s%s" % (st, ": " + err if err else ""))
        doc = row["doc"]
        pl, ph = np.searchsorted(pages["doc"], doc, "left"), np.searchsorted(pages["doc"], doc, "right")
        ll, lh = np.searchsorted(lines["doc"], doc, "left"), np.searchsorted(lines["doc"], doc, "right")
        if ph - pl != d["pages"]:
            probs.append("%d pages, truth %d" % (ph - pl, d["pages"]))
        elif check_kinds:
            got = [kn.get(int(k), str(k)) for k in pages["kind"][pl:ph]]
            want = [p["kind"] for p in d["page_data"]]
            if got != want:
                probs.append("page kinds %s, truth %s" % (",".join(got), ",".join(want)))
        out[d["file"]] = (doc_text(lines, text, ll, lh), probs)
    return out


def texts_from_dir(folder, docs):
    out = {}
    for d in docs:
        p = os.path.join(folder, d["file"] + ".txt")
        if os.path.isfile(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                out[d["file"]] = (f.read(), [])
        else:
            out[d["file"]] = (None, ["no %s" % os.path.relpath(p, folder)])
    return out


def score(results, truth_path, max_cer, max_bow, sets=None, check_kinds=True, verbose=False,
          json_out=None, log=print):
    with open(truth_path, encoding="utf-8") as f:
        truth = json.load(f)
    docs = [d for d in truth["documents"] if d.get("status", "ok") == "ok"
            and (not sets or d["set"] in sets)]
    if not docs:
        log("check_ocr: no documents%s in %s" % (" of sets " + ",".join(sets) if sets else "", truth_path))
        return 2, {}
    if os.path.isdir(results) and not os.path.exists(os.path.join(results, "results.h5")):
        got = texts_from_dir(results, docs)
    else:
        h5 = results if results.endswith(".h5") else os.path.join(results, "results.h5")
        got = texts_from_h5(h5, docs, check_kinds)
    per_set, fails = {}, 0
    if verbose:
        log("%-32s %-13s %5s %8s %8s  %s" % ("file", "set", "pages", "CER", "BoW", "problems"))
    for d in docs:
        text, probs = got[d["file"]]
        ed, n = cer_counts(text or "", d["text"])
        mi, ex, nw = bow_counts(text or "", d["text"])
        s = per_set.setdefault(d["set"], dict(docs=0, pages=0, scanned=0, edits=0, chars=0, missing=0,
                                              extra=0, words=0, problems=0))
        s["docs"] += 1
        s["pages"] += d["pages"]
        s["scanned"] += sum(p["kind"] == "ocr" for p in d["page_data"])
        s["edits"] += ed
        s["chars"] += n
        s["missing"] += mi
        s["extra"] += ex
        s["words"] += nw
        if text is None and not probs:
            probs = ["no output"]
        s["problems"] += bool(probs)
        fails += bool(probs)
        if verbose or probs:
            log("%-32s %-13s %5d %8.4f %8.4f  %s" % (d["file"][-32:], d["set"], d["pages"], ed / max(n, 1),
                                                     (mi + ex) / max(nw, 1), "; ".join(probs)))
    hdr = "%-13s %4s %5s %7s %8s %8s %7s %8s %8s  %s" % (
        "set", "docs", "pages", "chars", "CER", "max", "words", "BoW", "max", "result")
    log(hdr)
    log("-" * len(hdr))
    tot = dict(docs=0, pages=0, edits=0, chars=0, missing=0, extra=0, words=0)
    for name in sorted(per_set):
        s = per_set[name]
        for k in tot:
            tot[k] += s[k]
        s["cer"] = s["edits"] / max(s["chars"], 1)
        s["bow"] = (s["missing"] + s["extra"]) / max(s["words"], 1)
        bad = []
        if name in max_cer and s["cer"] > max_cer[name]:
            bad.append("CER")
        if name in max_bow and s["bow"] > max_bow[name]:
            bad.append("BoW")
        if s["problems"]:
            bad.append("%d docs with problems" % s["problems"])
        s["ok"] = not bad
        fails += bool(bad) and not s["problems"]
        fmt = lambda m: "%.4f" % m[name] if name in m else "-"  # noqa: E731
        log("%-13s %4d %5d %7d %8.4f %8s %7d %8.4f %8s  %s" % (
            name, s["docs"], s["pages"], s["chars"], s["cer"], fmt(max_cer), s["words"], s["bow"], fmt(max_bow),
            "ok" if not bad else "FAIL (" + ", ".join(bad) + ")"))
    log("-" * len(hdr))
    tot["cer"] = tot["edits"] / max(tot["chars"], 1)
    tot["bow"] = (tot["missing"] + tot["extra"]) / max(tot["words"], 1)
    log("%-13s %4d %5d %7d %8.4f %8s %7d %8.4f" % ("all", tot["docs"], tot["pages"], tot["chars"], tot["cer"], "",
                                                   tot["words"], tot["bow"]))
    log("check_ocr: %s" % ("ok" if not fails else "%d failures" % fails))
    report = {"sets": per_set, "all": tot, "ok": not fails}
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    return (1 if fails else 0), report


def selftest():
    """The metrics on hand-made strings (textmetrics.KNOWN), then the
    per-set scoring and thresholds on a hand-made truth and output."""
    from textmetrics import _selftest
    _selftest()
    with tempfile.TemporaryDirectory() as tmp:
        def doc(f, st, text, kind="ocr"):
            return {"file": f, "set": st, "status": "ok", "pages": 1, "text": text,
                    "page_data": [{"page": 0, "kind": kind, "blocks": []}]}
        truth = {"documents": [
            doc("clean300/a.png", "clean300", "alpha beta gamma delta\n\nepsilon"),   # 30 chars, 5 words
            doc("clean300/b.png", "clean300", "one two three four five six"),          # 27 chars, 6 words
            doc("degraded/c.jpg", "degraded", "left column\n\nright column"),          # 24 chars, 4 words
            doc("bench/d.png", "bench_twocol", "x y"),
        ]}
        tp = os.path.join(tmp, "truth.json")
        with open(tp, "w") as f:
            json.dump(truth, f)
        out = os.path.join(tmp, "ocr")

        def write(texts):
            for name, t in texts.items():
                os.makedirs(os.path.dirname(os.path.join(out, name)), exist_ok=True)
                with open(os.path.join(out, name + ".txt"), "w") as f:
                    f.write(t)

        quiet = lambda *a: None  # noqa: E731
        write({"clean300/a.png": "alpha beta gamma delta epsilon\n", "clean300/b.png": "one two three four five six",
               "degraded/c.jpg": "right column left column", "bench/d.png": "q"})
        rc, r = score(out, tp, DEFAULT_MAX_CER, {}, log=quiet)
        s = r["sets"]
        # c: 'right column left column' vs 'left column right column' = 8 edits / 24
        assert rc == 1 and s["clean300"]["cer"] == 0 and s["degraded"]["edits"] == 8, r
        assert s["degraded"]["bow"] == 0 and not s["degraded"]["ok"] and s["bench_twocol"]["ok"], r
        assert s["bench_twocol"]["bow"] == 3 / 2, r     # 'q' extra, 'x' 'y' missing
        rc, r = score(out, tp, limits(["degraded=0.5"], DEFAULT_MAX_CER), {}, log=quiet)
        assert rc == 0, r
        rc, r = score(out, tp, limits(["degraded=0.5"], DEFAULT_MAX_CER), {"bench_twocol": 1.0}, log=quiet)
        assert rc == 1 and not r["sets"]["bench_twocol"]["ok"], r
        # one character wrong in clean300: 1 / (30 + 27) = 0.0175 <= 0.02; two: 0.0351 > 0.02
        write({"clean300/a.png": "alpha beta gamma delta epsilom"})
        rc, r = score(out, tp, DEFAULT_MAX_CER, {}, sets=["clean300"], log=quiet)
        assert rc == 0 and abs(r["sets"]["clean300"]["cer"] - 1 / 57) < 1e-12, r
        assert abs(r["sets"]["clean300"]["bow"] - 2 / 11) < 1e-12, r
        write({"clean300/a.png": "alpha beta gamma delta epsilnm"})
        rc, r = score(out, tp, DEFAULT_MAX_CER, {}, sets=["clean300"], log=quiet)
        assert rc == 1 and abs(r["sets"]["clean300"]["cer"] - 2 / 57) < 1e-12, r
        # a missing output file fails even when the set's threshold is generous
        os.unlink(os.path.join(out, "clean300/b.png.txt"))
        rc, r = score(out, tp, {"clean300": 1.0}, {}, sets=["clean300"], log=quiet)
        assert rc == 1 and r["sets"]["clean300"]["edits"] == 2 + 27, r
    print("check_ocr selftest ok")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="?")
    ap.add_argument("truth", nargs="?")
    ap.add_argument("--max-cer", action="append", metavar="SET=X",
                    help="CER limit for a set (defaults: clean300=0.02 degraded=0.05 mixed=0.02)")
    ap.add_argument("--max-bow", action="append", metavar="SET=X", help="bag-of-words error limit for a set")
    ap.add_argument("--sets", help="comma-separated sets to score (default: all in the truth)")
    ap.add_argument("--no-kinds", action="store_true", help="do not check page kinds in results.h5")
    ap.add_argument("--json", metavar="FILE", help="also write the per-set numbers as JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per document")
    ap.add_argument("--selftest", action="store_true", help="test the metrics and thresholds, then exit")
    a = ap.parse_args()
    if a.selftest:
        return selftest()
    if not a.results or not a.truth:
        ap.print_usage(sys.stderr)
        return 2
    rc, _ = score(a.results, a.truth, limits(a.max_cer, DEFAULT_MAX_CER), limits(a.max_bow, {}),
                  sets=a.sets.split(",") if a.sets else None, check_kinds=not a.no_kinds,
                  verbose=a.verbose, json_out=a.json)
    return rc


if __name__ == "__main__":
    sys.exit(main())

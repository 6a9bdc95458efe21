#!/usr/bin/python3
"""How far two quire runs over the same pages agree, word by word.

    compare_runs.py A B TRUTH.json [--json FILE]

A and B are --out folders (or results.h5 files) of two runs over the documents
of TRUTH.json (tests/gen/gen_scans.py's truth): the GPU check compares a run
whose networks ran on the GPU (A) with a CPU-only run (B). Each document's text
is rebuilt from /lines and /text as tests/tools/check_ocr.py does; the word
difference is the word-level edit distance of A's text from B's (whitespace
tokens of the collapsed texts, unit costs) over B's word count, summed over all
documents. Prints one line; exit 0, or 1 when a document is missing from
either run (2 on usage errors). Not a threshold: the caller decides.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "tools"))
from check_ocr import texts_from_h5  # noqa: E402
from textmetrics import collapse, levenshtein  # noqa: E402


def word_edits(a, b):
    """(word-level edit distance of a from b, words in b): each distinct word
    becomes one code point, so the character Levenshtein counts words."""
    ids = {}
    wa, wb = collapse(a).split(), collapse(b).split()
    enc = lambda ws: "".join(chr(0x100000 + ids.setdefault(w, len(ids))) for w in ws)  # noqa: E731
    return levenshtein(enc(wa), enc(wb)), len(wb)


def h5_of(p):
    return p if p.endswith(".h5") else os.path.join(p, "results.h5")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("truth")
    ap.add_argument("--json", metavar="FILE")
    o = ap.parse_args()
    with open(o.truth, encoding="utf-8") as f:
        docs = [d for d in json.load(f)["documents"] if d.get("status", "ok") == "ok"]
    ta = texts_from_h5(h5_of(o.a), docs, False)
    tb = texts_from_h5(h5_of(o.b), docs, False)
    edits = words = same = missing = 0
    for d in docs:
        a, b = ta[d["file"]][0], tb[d["file"]][0]
        if a is None or b is None:
            missing += 1
            continue
        e, n = word_edits(a, b)
        edits, words, same = edits + e, words + n, same + (e == 0)
    frac = edits / words if words else 0.0
    print("word difference %.4f%% (%d edits in %d words); %d of %d documents identical%s"
          % (100 * frac, edits, words, same, len(docs), "; %d missing" % missing if missing else ""))
    if o.json:
        with open(o.json, "w") as f:
            json.dump({"word_diff": frac, "edits": edits, "words": words, "identical": same,
                       "documents": len(docs), "missing": missing}, f)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

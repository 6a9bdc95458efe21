#!/usr/bin/python3
"""Bag-of-words comparison of quire's text-layer text with pdftotext's.

    wordbag.py [--quire BIN] [--word copyright] [--max-diff PCT] [--same-count]
               [--clean-edges] [-v] PDF|DIR...

Runs `quire text --no-ocr` and `pdftotext` on each PDF (a DIR gives its
*.pdf) in the same run and compares the multisets of words:

  words      maximal runs of letters and digits, NFKC (ligatures, full-width
             forms), lower case
  missing    words pdftotext has that quire lacks (counted with multiplicity)
  extra      words quire has that pdftotext lacks
  diff       (missing + extra) / pdftotext's word count, in percent; a word
             split in two costs 3 (one missing, two extra)

One normalisation evens out a choice, not a reading: pdftotext joins a line
that ends in "-" with the next line of its block and drops the hyphen; quire
keeps lines as they are on the page (their boxes depend on it), so the same
join is applied to quire's text (within a block: lines not separated by a
blank line, since quire's blocks are not pdftotext's).  Also printed: how
often --word occurs (case-insensitive, as a word) in each text, for quire
both with that join and in its lines as they are, and how many quire lines
begin or end with whitespace.

Exit 1 when a file's diff is above --max-diff, when --same-count is given and
the --word counts differ (pdftotext's and quire's with hyphens joined), or when --clean-edges is given and a quire line
begins or ends with whitespace; 2 when a tool fails.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import unicodedata

_WORD = re.compile(r"[^\W_]+")


def words(text):
    return collections.Counter(_WORD.findall(unicodedata.normalize("NFKC", text).lower()))


def dehyphenate(text):
    """Joins "xxx-" at the end of a line with the next line of its block."""
    return re.sub(r"-\n+(?=\S)", "", text)


def count_word(text, word):
    return len(re.findall(r"(?<![^\W_])" + re.escape(word) + r"(?![^\W_])", text, re.I))


def bag_diff(q, p):
    """(missing, extra, diff %) of bag q against the reference bag p."""
    missing = sum((p - q).values())
    extra = sum((q - p).values())
    total = sum(p.values())
    return missing, extra, 100.0 * (missing + extra) / total if total else 0.0


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.stderr.write("wordbag: %s failed (%d): %s\n" % (cmd[0], r.returncode,
                                                           r.stderr.decode(errors="replace")))
        sys.exit(2)
    return r.stdout.decode("utf-8", errors="replace")


def pdfs(args):
    for a in args:
        if os.path.isdir(a):
            yield from sorted(os.path.join(a, f) for f in os.listdir(a) if f.endswith(".pdf"))
        else:
            yield a


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--quire", default=os.environ.get("QUIRE_BIN", "quire"))
    ap.add_argument("--word", default="copyright")
    ap.add_argument("--max-diff", type=float, default=None)
    ap.add_argument("--same-count", action="store_true")
    ap.add_argument("--clean-edges", action="store_true")
    ap.add_argument("-v", action="store_true", help="list the most frequent differing words")
    a = ap.parse_args()
    fail = False
    print("| file | words (pdftotext) | words (quire) | missing | extra | diff | "
          "%s: pdftotext | quire | quire, lines as they are | lines with edge spaces |" % a.word)
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in pdfs(a.inputs):
        qt = run([a.quire, "text", "--no-ocr", path])
        pt = run(["pdftotext", "-enc", "UTF-8", path, "-"])
        qj = dehyphenate(qt)
        qb, pb = words(qj), words(pt)
        missing, extra, diff = bag_diff(qb, pb)
        cq, cp, craw = count_word(qj, a.word), count_word(pt, a.word), count_word(qt, a.word)
        edges = sum(1 for ln in qt.split("\n") if ln != ln.strip())
        print("| %s | %d | %d | %d | %d | %.2f %% | %d | %d | %d | %d |" %
              (os.path.basename(path), sum(pb.values()), sum(qb.values()), missing, extra,
               diff, cp, cq, craw, edges))
        if a.v:
            print("  missing:", (pb - qb).most_common(12))
            print("  extra:  ", (qb - pb).most_common(12))
        fail |= a.max_diff is not None and diff > a.max_diff
        fail |= a.same_count and cq != cp
        fail |= a.clean_edges and edges > 0
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())

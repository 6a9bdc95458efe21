#!/usr/bin/python3
"""Check a generated corpus against its truth.json with independent extractors.

    check_corpus.py CORPUS [--max-cer 0.005]

This validates the generator, not quire: MuPDF's `mutool draw -F txt` must give
every page's text (CER < max after whitespace collapsing; order-free bag of
words for two-column pages, whose column order extractors may choose), the
right page count, and must refuse the bad inputs that are meant to be
unreadable.  poppler's pdftotext is a second opinion on documents without
Chinese (poppler needs the poppler-data package for the Adobe-GB1 CMap).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from textmetrics import bag_of_words_error, cer  # noqa: E402


def page_text(p):
    return "\n\n".join("\n".join(b["lines"]) for b in p["blocks"])


def mutool_pages(path, n, tmp):
    """One text file per page, so pages can be compared one by one."""
    pat = os.path.join(tmp, "p%d.txt")
    r = subprocess.run(["mutool", "draw", "-q", "-F", "txt", "-o", pat, path],
                       capture_output=True, text=True, errors="replace")
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1:]
    out = []
    for i in range(1, n + 2):
        f = pat % i
        if not os.path.exists(f):
            break
        with open(f, encoding="utf-8") as fh:
            out.append(fh.read())
        os.unlink(f)
    return out, None


def pdftotext_pages(path):
    r = subprocess.run(["pdftotext", "-enc", "UTF-8", path, "-"], capture_output=True)
    if r.returncode != 0:
        return None
    pages = r.stdout.decode("utf-8").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def compare(pages, doc, max_cer, tool):
    errs = []
    if pages is None:
        return ["%s could not read it" % tool]
    if len(pages) != doc["pages"]:
        errs.append("%s: %d pages, truth %d" % (tool, len(pages), doc["pages"]))
    for p, got in zip(doc["page_data"], pages):
        want = page_text(p)
        c = cer(got, want)
        if c > max_cer:
            b = bag_of_words_error(got, want)
            if p["layout"] == "two-column" and b <= max_cer:
                continue
            errs.append("%s: page %d (%s, rot %d) CER %.4f, bag-of-words %.4f"
                        % (tool, p["page"], p["layout"], p["rotation"], c, b))
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--max-cer", type=float, default=0.005)
    a = ap.parse_args()
    with open(os.path.join(a.corpus, "truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    fails, n_pages = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for d in truth["documents"]:
            path = os.path.join(a.corpus, d["file"])
            errs = []
            if d["set"] == "bad":
                pages, err = mutool_pages(path, 50, tmp)
                # Files MuPDF can partly repair are marked accept ok; the others
                # must be refused outright.
                if "ok" not in d["accept_status"] and pages:
                    errs.append("mutool read %d pages of a file meant to be unreadable" % len(pages))
            elif "blocks" in d["page_data"][0]:
                pages, err = mutool_pages(path, d["pages"], tmp)
                errs += compare(pages, d, a.max_cer, "mutool")
                if "chinese" not in d["features"]:
                    errs += compare(pdftotext_pages(path), d, a.max_cer, "pdftotext")
                n_pages += d["pages"]
            else:
                # bulk documents keep only the whole text: compare it at once
                pages, err = mutool_pages(path, d["pages"], tmp)
                if pages is None or len(pages) != d["pages"]:
                    errs.append("mutool: page count")
                elif cer("\n".join(pages), d["text"]) > a.max_cer:
                    errs.append("mutool: CER %.4f" % cer("\n".join(pages), d["text"]))
                n_pages += d["pages"]
            if errs:
                fails += 1
                print("FAIL %s: %s" % (d["file"], "; ".join(errs)))
    for nr in truth.get("no_record", []):
        if not os.path.islink(os.path.join(a.corpus, nr["file"]).rstrip("/")):
            fails += 1
            print("FAIL %s: should be a symlink" % nr["file"])
    print("check_corpus: %d documents, %d pages checked, %d failed"
          % (len(truth["documents"]), n_pages, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

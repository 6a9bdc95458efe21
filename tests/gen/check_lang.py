#!/usr/bin/python3
"""Checks a scans corpus made with `gen_scans.py --lang french|german`: the
text is real prose of that language, not the English word pool.

    check_lang.py OUTDIR LANG [OUTDIR2]

OUTDIR2: the same command's output once more; its truth.json and page files
must be byte-identical (the generator is deterministic for a seed).  Exits 77
(CTest's skip) when the language's man pages are not installed: they are a
benchmark dependency (bench/deps.txt), not a test one.
"""
import collections
import filecmp
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_corpus as gc  # noqa: E402
import prose  # noqa: E402

# Letters each language writes often and English text never does.
LETTERS = {"french": "éèàçêù", "german": "äöüß"}


def fail(msg):
    print("check_lang: FAIL: " + msg)
    sys.exit(1)


def missing_package_is_reported(lang):
    """prose.load on a directory without pages stops with a message that
    names the package to install."""
    saved = prose.LANGS[lang]
    prose.LANGS[lang] = ("/nonexistent/man",) + saved[1:]
    try:
        prose.load(lang)
    except SystemExit as e:
        if saved[1] not in str(e):
            fail("missing man pages: message %r does not name %s" % (str(e), saved[1]))
    else:
        fail("prose.load read a language from a directory that does not exist")
    finally:
        prose.LANGS[lang] = saved


def main():
    out, lang = sys.argv[1], sys.argv[2]
    mandir, package, common = prose.LANGS[lang]
    if not os.path.isdir(mandir):
        print("check_lang: %s is not installed (bench/deps.txt): skipped" % package)
        return 77
    missing_package_is_reported(lang)
    truth = json.load(open(os.path.join(out, "truth.json"), encoding="utf-8"))
    if truth.get("lang") != lang:
        fail("truth.json says lang %r, not %r" % (truth.get("lang"), lang))
    docs = [d for d in truth["documents"] if d["pages"]]
    if not docs:
        fail("no documents")
    words = collections.Counter()
    for d in docs:
        if lang not in d["features"] or "english" in d["features"]:
            fail("%s: features %s" % (d["file"], d["features"]))
        words.update(w.strip(".,;:!?()«»„“\"").lower() for w in d["text"].split())
    n = sum(words.values())
    if n < 150:
        fail("only %d words" % n)
    english = sum(words[w] for w in set(gc.ENGLISH)) / n
    own = sum(words[w] for w in common) / n
    letters = sum(d["text"].count(c) for d in docs for c in LETTERS[lang])
    print("check_lang: %s, %d words: %.1f %% common %s words, %.1f %% from the English pool, "
          "%d of %s" % (lang, n, 100 * own, lang, 100 * english, letters, LETTERS[lang]))
    if own < 0.10:
        fail("%.1f %% of the words are common %s words: not %s prose" % (100 * own, lang, lang))
    if english > 0.02:
        fail("%.1f %% of the words come from gen_corpus's English pool" % (100 * english))
    if letters < 5:
        fail("only %d of the letters %s" % (letters, LETTERS[lang]))
    if len(sys.argv) > 3:
        other = sys.argv[3]
        for d in ["truth.json"] + [d["file"] for d in docs]:
            if not filecmp.cmp(os.path.join(out, d), os.path.join(other, d), shallow=False):
                fail("%s differs between two runs with the same seed" % d)
        print("check_lang: the second run is byte-identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Real French and German sentences for the generators: prose from Debian's
translated man pages (manpages-fr, manpages-de), rendered to plain text by
groff and cleaned into sentences.

Random word sequences are not text: a recognizer with word lists, or a peer
with a language model, reads real sentences differently, and the letters of a
language (é, ç, ö, ß, œ, « ») come in their real proportions only in real
prose.  The text is read from the installed packages when a page is made,
never stored in the repository.

    pool = prose.load("french")          # sorted, deduplicated sentences
    words = prose.Prose(pool, rng, "french", font)   # gen_corpus.Words' interface

Deterministic for a given set of installed packages: pages are read in
sorted path order until MAX_SENTENCES sentences are kept.
"""
import glob
import gzip
import os
import re
import subprocess

LANGS = {
    # lang: (man page directory, Debian package, common short words of the language)
    "french": ("/usr/share/man/fr", "manpages-fr",
               {"le", "la", "les", "de", "des", "du", "un", "une", "est", "et", "pour", "dans", "qui",
                "pas", "sont", "avec", "sur", "par"}),
    "german": ("/usr/share/man/de", "manpages-de",
               {"der", "die", "das", "und", "ist", "nicht", "mit", "den", "ein", "eine", "wird", "werden",
                "von", "auf", "für", "zu", "dem", "des", "sich"}),
}
MAX_SENTENCES = 3000
MIN_WORDS, MAX_WORDS = 6, 28
# Characters of commands, paths and markup rather than prose.
CODE_CHARS = set("/\\=_<>{}[]|$~`*#@%^&+")
# Sections that are not the page's own prose (the translators' boilerplate is
# the same on every page; dedup keeps one copy, this keeps none).
SKIP_SECTIONS = {"ÜBERSETZUNG", "TRADUCTION", "COPYRIGHT", "AUTEUR", "AUTEURS", "AUTOR", "AUTOREN",
                 "FEHLER MELDEN", "SIGNALER DES BOGUES", "BOGUES", "FEHLER", "VOIR AUSSI", "SIEHE AUCH",
                 "SYNOPSIS", "ÜBERSICHT", "COLOPHON", "KOLOPHON"}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[«„\"(]?[A-ZÀ-ÖØ-Þ])")
WORD = re.compile(r"^[«„\"(]?[A-Za-zÀ-ÖØ-öø-ÿŒœ][A-Za-zÀ-ÖØ-öø-ÿŒœ'’\-]*[»“\")]?[.,;:!?]?[»“\")]?$")


def render(path):
    """A man page as plain text, one paragraph per line (groff, no
    hyphenation, a line length no paragraph reaches)."""
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        src = f.read()
    r = subprocess.run("preconv -e utf-8 | groff -mandoc -Tutf8 -rHY=0 -rLL=3000n -P-cbou",
                       shell=True, input=src, capture_output=True)
    return r.stdout.decode("utf-8", "replace")


def paragraphs(text):
    """The prose paragraphs of a rendered page: indented lines outside the
    skipped sections; an option's tag (before a run of spaces) is dropped."""
    section = ""
    for line in text.splitlines():
        if line and not line[0].isspace():
            section = line.strip()
            continue
        if section in SKIP_SECTIONS:
            continue
        body = re.split(r"\s{2,}", line.strip())[-1]
        if body:
            yield body


def is_prose(s, common):
    """A sentence worth printing: words, not code; in the language."""
    if s[-1] not in ".!?" or not s[0].isupper() or CODE_CHARS & set(s):
        return False
    try:
        s.encode("cp1252")     # every font of the generator can show it
    except UnicodeEncodeError:
        return False
    toks = s.split()
    if not MIN_WORDS <= len(toks) <= MAX_WORDS or any(t.startswith("-") for t in toks):
        return False
    if re.search(r"\w\(\d|\.\.|\d\.\d|https?:|www\.|\be\.g\b", s):
        return False
    words = sum(bool(WORD.match(t)) for t in toks)
    low = {t.strip(".,;:!?()«»„“\"").lower() for t in toks}
    return words >= 0.9 * len(toks) and len(low & common) >= 2


def load(lang):
    """The sentence pool of a language (sorted list of str).  Stops with a
    clear message when the package is missing."""
    mandir, package, common = LANGS[lang]
    pages = sorted(glob.glob(os.path.join(mandir, "man[1-8]", "*")))
    if not pages:
        raise SystemExit("gen_scans: --lang %s reads Debian's %s, which is not installed "
                         "(scripts/install-deps.sh bench/deps.txt installs it)" % (lang, package))
    seen, pool = set(), []
    for p in pages:
        for par in paragraphs(render(p)):
            for s in SENTENCE_END.split(par):
                s = " ".join(s.split())
                if s not in seen and is_prose(s, common):
                    seen.add(s)
                    pool.append(s)
        if len(pool) >= MAX_SENTENCES:
            break
    if len(pool) < 100:
        raise SystemExit("gen_scans: only %d %s sentences found in %s" % (len(pool), lang, mandir))
    return sorted(pool)


class Prose:
    """gen_corpus.Words' interface over a sentence pool: whole sentences,
    chosen by the layout's random stream."""

    def __init__(self, pool, rng, lang, font):
        self.pool, self.rng, self.lang = pool, rng, lang

    def sentence_words(self):
        return self.rng.choice(self.pool).split()

    def title(self, n_words):
        """The first n words of a sentence, without their punctuation."""
        ws = [w.strip(".,;:!?()«»„“\"") for w in self.rng.choice(self.pool).split()[:n_words]]
        t = " ".join(w for w in ws if w)
        return t[:1].upper() + t[1:]

"""Text comparison shared by the checkers: normalisation, edit distance, CER.

Stdlib only, so every tool (and the corpus smoke test) can import it.
"""
import re
import unicodedata

_WS = re.compile(r"\s+")


def collapse(s):
    """NFC, every whitespace run -> one space, trimmed.  Line and block breaks
    are layout, which the CER should not punish; the words and their order are
    what we measure."""
    return _WS.sub(" ", unicodedata.normalize("NFC", s)).strip()


def levenshtein(a, b):
    """Exact edit distance (unit costs).

    Hyyrö's bit-parallel form of Myers' algorithm, with Python's big ints as the
    bit vectors: one pass over b, each step a handful of big-int operations on
    len(a) bits, so two 50k-character texts take well under a second instead of
    the 2.5e9 cell updates of the textbook DP.  Common prefix and suffix are
    stripped first since extracted text is usually almost right."""
    if a == b:
        return 0
    i = 0
    n = min(len(a), len(b))
    while i < n and a[i] == b[i]:
        i += 1
    a, b = a[i:], b[i:]
    j = 0
    n = min(len(a), len(b))
    while j < n and a[-1 - j] == b[-1 - j]:
        j += 1
    if j:
        a, b = a[:-j], b[:-j]
    if not a:
        return len(b)
    if not b:
        return len(a)
    if len(a) > len(b):          # the shorter text makes the bit vectors
        a, b = b, a
    m = len(a)
    peq = {}
    for k, ch in enumerate(a):
        peq[ch] = peq.get(ch, 0) | (1 << k)
    mask = (1 << m) - 1
    last = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for ch in b:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & mask) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & mask
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv
    return score


def cer(got, truth):
    """Character error rate of got against truth, both whitespace-collapsed."""
    g, t = collapse(got), collapse(truth)
    if not t:
        return 0.0 if not g else 1.0
    return levenshtein(g, t) / len(t)


def bag_of_words_error(got, truth):
    """Share of truth words missing from got (as a multiset), plus extra words;
    order-independent, for pages whose reading order an extractor may pick
    differently (two columns)."""
    from collections import Counter
    g, t = Counter(collapse(got).split()), Counter(collapse(truth).split())
    n = sum(t.values())
    if not n:
        return 0.0 if not g else 1.0
    return (sum((t - g).values()) + sum((g - t).values())) / n


def _selftest():
    import random

    def dp(a, b):
        prev = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            cur = [i]
            for j, cb in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
            prev = cur
        return prev[-1]

    r = random.Random(7)
    for _ in range(2000):
        a = "".join(r.choice("abcé中 ") for _ in range(r.randint(0, 30)))
        b = "".join(r.choice("abcé中 ") for _ in range(r.randint(0, 30)))
        assert levenshtein(a, b) == dp(a, b), (a, b)
    assert levenshtein("kitten", "sitting") == 3
    print("textmetrics selftest ok")


if __name__ == "__main__":
    _selftest()

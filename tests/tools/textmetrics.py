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


def cer_counts(got, truth):
    """(edit distance, truth length), both texts whitespace-collapsed: the parts
    of cer(), so that a set of documents can be scored as sum(edits) /
    sum(lengths) rather than as a mean of ratios."""
    g, t = collapse(got), collapse(truth)
    return levenshtein(g, t), len(t)


def bow_counts(got, truth):
    """(missing, extra, truth words) for the bag-of-words error.

    Words are the whitespace-separated tokens of the collapsed (NFC) texts,
    case-sensitive, punctuation kept attached ("river," is not "river").  Each
    text becomes a multiset of words; missing = truth words not matched in got
    (counting multiplicity: sum over w of max(0, truth[w] - got[w])), extra =
    got words not matched in truth (sum of max(0, got[w] - truth[w])).  The
    error is (missing + extra) / truth words: 0 for any permutation of the
    words, 2 for a substituted word, and it can exceed 1 for junk output."""
    from collections import Counter
    g, t = Counter(collapse(got).split()), Counter(collapse(truth).split())
    return sum((t - g).values()), sum((g - t).values()), sum(t.values())


# Hand-made cases with known values: (got, truth, CER, bag-of-words error).
KNOWN = [
    ("Hello  world\n", "Hello world", 0.0, 0.0),              # whitespace runs collapse
    ("Hallo world", "Hello world", 1 / 11, 2 / 2),            # one substitution; 1 missing + 1 extra word
    ("abcd", "abc", 1 / 3, 2 / 1),
    ("", "abc def", 1.0, 1.0),                                # nothing read: every char, every word missing
    ("b a", "a b", 2 / 3, 0.0),                               # order: CER punishes, bag of words does not
    ("the dog cat cat", "the cat the dog", 9 / 15, 2 / 4),    # multiset: 'the' x1 missing, 'cat' x1 extra
    ("a\n\nb\tc", "a b c", 0.0, 0.0),
    ("river", "river,", 1 / 6, 2 / 1),                        # punctuation belongs to its word
    ("Cafe\u0301", "Caf\u00e9", 0.0, 0.0),                    # NFC
]


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
    for got, truth, c, b in KNOWN:
        assert abs(cer(got, truth) - c) < 1e-12, (got, truth, cer(got, truth), c)
        m, x, n = bow_counts(got, truth)
        assert abs((m + x) / n - b) < 1e-12, (got, truth, m, x, n, b)
        assert abs(bag_of_words_error(got, truth) - b) < 1e-12, (got, truth)
        d, n = cer_counts(got, truth)
        assert abs(d / n - c) < 1e-12
    print("textmetrics selftest ok")


if __name__ == "__main__":
    _selftest()

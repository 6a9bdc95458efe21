#!/bin/sh
# The beam decoder end to end: the options' usage errors (2), a missing word
# list as one fatal line naming the Debian package (1), and `quire text
# --decode beam` reading generated degraded scans (tests/gen/gen_scans.py)
# at least as well as `--decode greedy`: bag-of-words error no higher, CER at
# most 0.1 point higher, over three documents of the degraded set.
# Skipped (77) without the models or without Debian's wamerican/wbritish.
set -u
Q=${QUIRE_BIN:?}
SRC=${QUIRE_SRC:?}
M=${MODELS:?}
T=${QUIRE_TMP:?}
PY=/usr/bin/python3
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
[ -f "$M/ch_PP-OCRv4_det_infer.onnx" ] || { echo "models not fetched: skipped"; exit 77; }
[ -f /usr/share/dict/american-english ] && [ -f /usr/share/dict/british-english ] ||
    { echo "wamerican/wbritish not installed (scripts/deps.txt): skipped"; exit 77; }
fail=0
check() { # expected-status description command...
    want=$1; what=$2; shift 2
    "$@" >out.txt 2>err.txt; got=$?
    if [ "$got" != "$want" ]; then echo "FAIL $what: exit $got, want $want"; cat err.txt; fail=1; fi
    if [ "$want" = 1 ] && [ "$(wc -l <err.txt)" != 1 ]; then echo "FAIL $what: stderr is not one line"; cat err.txt; fail=1; fi
}
check 0 "help" "$Q" text --help
grep -q -- "--decode greedy|beam" out.txt || { echo "FAIL help does not list --decode"; fail=1; }
for sub in text ocr; do
    check 2 "$sub bad --decode" "$Q" $sub --decode best a.png
    check 2 "$sub bad --beam" "$Q" $sub --beam 0 a.png
    check 2 "$sub bad --lang" "$Q" $sub --lang en,xx a.png
    check 2 "$sub missing --words" "$Q" $sub --words "$T/none.txt" a.png
done
check 2 "run bad --lang" "$Q" run --lang klingon --out "$T/o" a.png

"$PY" "$SRC/tests/gen/gen_scans.py" "$T/scans" --seed 3 >gen.log 2>&1 || { cat gen.log; exit 1; }
page=$T/scans/degraded/q40.jpg
# a language whose list is not installed: one line, the package named
mkdir -p dict && cp /usr/share/dict/american-english /usr/share/dict/british-english dict/
export QUIRE_LEXICON_CACHE=$T/lexcache QUIRE_DICT_DIR=$T/dict
check 1 "missing word list" "$Q" text --models "$M" --decode beam --lang en,de "$page"
unset QUIRE_DICT_DIR
grep -q "apt-get install wngerman" err.txt || { echo "FAIL the error does not name wngerman"; cat err.txt; fail=1; }

rm -rf "$T/lexcache"
for mode in greedy beam; do
    for f in q40.jpg page_200.png g4_200.tif; do
        "$Q" text --models "$M" --decode $mode "$T/scans/degraded/$f" >"$mode-$f.txt" 2>"$mode-$f.err" ||
            { echo "FAIL quire text --decode $mode $f"; cat "$mode-$f.err"; fail=1; }
    done
done
ls "$T/lexcache/american-english.lex" >/dev/null || { echo "FAIL no word list cache written"; fail=1; }
"$PY" - "$T" "$SRC/tests/tools" <<'PY' || fail=1
import json, sys
t, tools = sys.argv[1:]
sys.path.insert(0, tools)
from textmetrics import cer_counts, bow_counts
truth = {d["file"]: d["text"] for d in json.load(open(t + "/scans/truth.json", encoding="utf-8"))["documents"]}
score = {}
for mode in ("greedy", "beam"):
    e = n = b = w = 0
    for f in ("q40.jpg", "page_200.png", "g4_200.tif"):
        got = open("%s/%s-%s.txt" % (t, mode, f), encoding="utf-8").read()
        ed, chars = cer_counts(got, truth["degraded/" + f])
        mi, ex, words = bow_counts(got, truth["degraded/" + f])
        e, n, b, w = e + ed, n + chars, b + mi + ex, w + words
    score[mode] = (e / n, b / w)
    print("%-6s CER %.4f  BoW %.4f" % (mode, *score[mode]))
g, b = score["greedy"], score["beam"]
ok = b[1] <= g[1] and b[0] <= g[0] + 0.001
print("beam %s greedy" % ("reads at least as well as" if ok else "reads WORSE than"))
sys.exit(0 if ok else 1)
PY
[ $fail = 0 ] && echo "ocr_beam_e2e: ok"
exit $fail

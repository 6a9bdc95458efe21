#!/usr/bin/env bash
# Large titles on skewed scans (issue 14): `quire ocr` at the default
# --det-side 960 on three clean 300-dpi two-column pages that gen_scans.py
# turned by -3, +2 and +3 degrees (seed 77), each with a bold 24-point
# title; every title line must be read: at least half of its words in the
# page's text. The +3 degree page's title (1,700 px long) was lost before the
# detector scored tilted boxes on their contours as well (src/ocr/dbpost.c):
# its kernel is thin for its length, and the rectangle of its tilted band
# took in so much white that the box score fell under 0.6.
# Needs the models (QUIRE_MODELS or ~/.cache/quire/models; models/fetch.sh).
#
# Outside CTest:  QUIRE_BIN=build/quire QUIRE_SRC=$PWD E2E_WORK=/tmp/e2e-title bash tests/e2e/skew_title.sh
. "$(dirname "$0")/lib.sh"
scans=$E2E_WORK/scans-skew-title
out=$E2E_WORK/out-skew-title
rm -rf "$out"
mkdir -p "$E2E_WORK" "$out"
"$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$scans" --seed 77 --no-test-sets --skew=-3,2,3 \
  --skew-layouts two-column
# --det-fast-score (PaddleOCR's box score alone) into $out/fast: there the
# +3 degree title is lost, as before the change
mkdir -p "$out/fast"
while read -r png; do
  "$QUIRE_BIN" ocr --quiet --threads 2 "$png" >"$out/$(basename "$png").tsv" ||
    fail "quire ocr $png"
  "$QUIRE_BIN" ocr --quiet --threads 2 --det-fast-score "$png" >"$out/fast/$(basename "$png").tsv" ||
    fail "quire ocr --det-fast-score $png"
done <"$scans/skew/manifest.txt"
check_titles() {
"$PY" - "$1" "$scans/truth.json" <<'PYEOF'
import json, os, sys
out, truth = sys.argv[1], json.load(open(sys.argv[2]))
bad = titles = 0
for d in truth["documents"]:
    tsv = os.path.join(out, os.path.basename(d["file"]) + ".tsv")
    words = set()
    for row in open(tsv, encoding="utf-8"):
        words.update(row.rstrip("\n").split("\t", 3)[3].split())
    for b in d["page_data"][0]["blocks"]:
        if b["role"] != "title":
            continue
        for line in b["lines"]:
            want = line.split()
            got = sum(w in words for w in want)
            ok = 2 * got >= len(want)
            titles += 1
            bad += not ok
            print("%-26s %-40s %d/%d words %s" % (d["file"], line[:40], got, len(want), "ok" if ok else "MISSED"))
print("%d title lines, %d missed" % (titles, bad))
sys.exit(2 if titles < 3 else 1 if bad else 0)
PYEOF
}
check_titles "$out" || fail "a title line of a skewed page was not read"
rc=0
check_titles "$out/fast" || rc=$?
[ "$rc" = 1 ] || fail "with --det-fast-score every title was read (rc $rc): the option does not restore PaddleOCR's score"
echo "skew_title: ok"

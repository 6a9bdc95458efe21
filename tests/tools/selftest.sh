#!/bin/bash
# selftest.sh [WORKDIR] -- test the result checkers before trusting them on quire.
# A fake results.h5 written straight from a generated corpus's truth must pass
# every checker; each deliberately broken variant must make the checker meant
# to catch it fail (a checker that passes everything would otherwise go
# unnoticed).  Needs /usr/bin/python3 with h5py + reportlab, and h5dump.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3     # Debian's python: the one with h5py/numpy/reportlab
W=${1:-$(mktemp -d)}
mkdir -p "$W"
PASS=0; FAIL=0
ok()  { PASS=$((PASS+1)); }
bad() { FAIL=$((FAIL+1)); echo "SELFTEST FAIL: $*"; }
expect() {  # expect 0|1 LABEL CMD... : the command's exit status must be 0 / nonzero
  local want=$1 label=$2; shift 2
  "$@" >"$W/last.log" 2>&1; local rc=$?
  if { [ "$want" = 0 ] && [ $rc = 0 ]; } || { [ "$want" = 1 ] && [ $rc = 1 ]; }; then ok
  else bad "$label: exit $rc, wanted $want"; tail -n 15 "$W/last.log"; fi
}

expect 0 "textmetrics" $PY "$HERE/textmetrics.py"
expect 0 "gen_corpus" $PY "$HERE/../gen/gen_corpus.py" "$W/corpus" --docs 16 --bad --seed 3
T=$W/corpus/truth.json
FAKE="$PY $HERE/make_fake_results.py $T"

# good files: absolute paths, relative paths, other timings
expect 0 "make good" $FAKE "$W/good.h5"
expect 0 "make good2" $FAKE "$W/good2.h5" --timing-seed 7 --corpus-prefix corpus
expect 0 "schema good" $PY "$HERE/check_schema.py" "$W/good.h5"
expect 0 "h5dump good" bash "$HERE/check_h5dump.sh" "$W/good.h5"
expect 0 "results good" $PY "$HERE/check_results.py" "$W/good.h5" "$T"
expect 0 "results good (relative paths)" $PY "$HERE/check_results.py" "$W/good2.h5" "$T"
expect 1 "compare sees other paths" $PY "$HERE/compare_results.py" "$W/good.h5" "$W/good2.h5"
# good2 stores other paths, so it must differ from good; the same prefix must not
expect 0 "make good3" $FAKE "$W/good3.h5" --timing-seed 11
expect 0 "compare same content" $PY "$HERE/compare_results.py" "$W/good.h5" "$W/good3.h5"

for f in no-compression not-chunked wrong-field-order wrong-int-type status-not-enum enum-names \
         vlen-path ascii-path bad-created schema-2 config-not-json unsorted-pages first-line-off \
         text-gap bad-utf8 page-count; do
  expect 0 "make $f" $FAKE "$W/f.h5" --fault $f
  expect 1 "schema catches $f" $PY "$HERE/check_schema.py" "$W/f.h5"
done
for f in status-not-enum enum-names no-compression; do
  $FAKE "$W/f.h5" --fault $f
  expect 1 "h5dump catches $f" bash "$HERE/check_h5dump.sh" "$W/f.h5"
done
for f in missing-doc dup-doc wrong-status typos swap-columns wrong-size wrong-rotation loop-followed; do
  expect 0 "make $f" $FAKE "$W/f.h5" --fault $f
  expect 1 "results catches $f" $PY "$HERE/check_results.py" "$W/f.h5" "$T"
done
for f in content-changed typos wrong-size; do
  $FAKE "$W/f.h5" --fault $f --timing-seed 5
  expect 1 "compare catches $f" $PY "$HERE/compare_results.py" "$W/good.h5" "$W/f.h5"
done
# OCR scoring (check_ocr.py): the metrics on hand-made strings with known CER and
# bag-of-words values, then fake results.h5 files of the scans corpus
expect 0 "check_ocr selftest" $PY "$HERE/check_ocr.py" --selftest
expect 0 "gen_scans" $PY "$HERE/../gen/gen_scans.py" "$W/scans" --seed 3
ST=$W/scans/truth.json
expect 0 "make scans good" $PY "$HERE/make_fake_results.py" "$ST" "$W/scans.h5"
expect 0 "check_ocr good" $PY "$HERE/check_ocr.py" "$W/scans.h5" "$ST"
for f in swap-columns dup-doc; do
  expect 0 "make scans $f" $PY "$HERE/make_fake_results.py" "$ST" "$W/scans-f.h5" --fault $f
  expect 1 "check_ocr catches $f" $PY "$HERE/check_ocr.py" "$W/scans-f.h5" "$ST"
done
# columns swapped: a CER failure only; the bag of words does not see order
$PY "$HERE/make_fake_results.py" "$ST" "$W/scans-f.h5" --fault swap-columns
expect 0 "check_ocr BoW ignores order" $PY "$HERE/check_ocr.py" "$W/scans-f.h5" "$ST" \
  --max-cer clean300=1 --max-cer degraded=1 --max-bow clean300=0 --max-bow degraded=0
echo "tools selftest: $PASS passed, $FAIL failed (work dir $W)"
[ $FAIL = 0 ]

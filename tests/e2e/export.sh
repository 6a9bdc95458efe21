#!/usr/bin/env bash
# quire export end to end (issue 16, item 3): a real run over generated
# born-digital PDFs, scans (PDF, TIFF G4/LZW, PNG, JPEG, a mixed PDF, three
# pages scanned sideways or upside down) and two bad inputs, then `quire
# export` in each format, checked against results.h5 by
# tests/e2e/export_check.py.
#   export.sh run      fixture: the corpora and `mpirun -np 3 quire run` on them
#   export.sh text     text files = results.h5's text; = `quire text` output
#   export.sh jsonl    JSON lines = results.h5's lines
#   export.sh alto     ALTO 4.4 files validate (validate-alto.sh), text and boxes
#   export.sh hocr     hOCR parses with its classes nested, boxes in the page
#   export.sh pdf      searchable PDFs: pdftotext words, page images, copies
#   export.sh select   --id / --path, failed documents skipped, exit codes
#   export.sh np3      under mpirun -np 3: the same files as one process
#   export.sh hostile  a line of text with XML and JSON specials, controls,
#                      CJK, an emoji and an invalid byte, in every format
#   export.sh leaks    pdf, alto and a damaged results.h5 under valgrind: no
#                      memory error, no definite leak (skipped without valgrind)
# Outside CTest: QUIRE_BIN=build/quire QUIRE_SRC=$PWD E2E_WORK=/tmp/e2e-export bash tests/e2e/export.sh run
. "$(dirname "$0")/lib.sh"

short_text() { # short_text FILE: a copy of results.h5 whose /text is cut in half
  cp "$OUT/results.h5" "$1"
  "$PY" - "$1" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    t = f["text"][...]
    del f["text"]
    f.create_dataset("text", data=t[:len(t) // 2])
PYEOF
}
mode=${1:?mode}
W=$E2E_WORK/export
OUT=out
CHECK=("$PY" "$QUIRE_SRC/tests/e2e/export_check.py")
export_to() { # export_to FORMAT DIR [ARGS...]: one process, exit status kept
  local f=$1 d=$2
  shift 2
  rm -rf "$d"
  "$QUIRE_BIN" export "$OUT" --format "$f" --to "$d" "$@"
}

if [ "$mode" = run ]; then
  rm -rf "$W"
  mkdir -p "$W"
  cd "$W" || exit 1
  "$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" corpus --docs 4 --bad --seed 11 >/dev/null
  "$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" scans --seed 7 >/dev/null
  "$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" turned --seed 3 --no-test-sets --rotate 90,180,270 \
    --skew-layouts single >/dev/null
  # paths as given (relative): export finds the sources from the same folder
  quire_np 3 --gpus 0 --out "$OUT" corpus/docs corpus/bad/zero.pdf corpus/bad/garbage.pdf \
    scans/clean300 scans/degraded/q40.jpg scans/mixed turned/skew
  exit 0
fi
cd "$W" || exit 1
[ -f "$OUT/results.h5" ] || fail "no $W/$OUT/results.h5 (the e2e_export_run fixture)"

case $mode in
text)
  export_to text x-text 2>&1 | tee text.log
  [ "${PIPESTATUS[0]}" = 0 ] || fail "export --format text failed"
  "${CHECK[@]}" text "$OUT/results.h5" x-text
  grep -Eq "skipped: [0-9]{6} corpus/bad/zero.pdf \(error: .+\)" text.log ||
    fail "the empty PDF was not skipped with its reason"
  grep -Eq "export: 13 written, 2 skipped, 0 failed" text.log || fail "wrong summary line"
  # the same text as `quire text` (pages: form feed there, a blank line here)
  for f in corpus/docs/d003_*.pdf scans/mixed/text_scan_text.pdf; do
    got=$(ls x-text/*-"$(basename "${f%.*}")".txt)
    "$QUIRE_BIN" text "$f" 2>/dev/null >qt.txt || fail "quire text $f"
    "$PY" - "$got" qt.txt <<'PYEOF' || fail "$got differs from quire text $f"
import sys
pages = [p.strip("\n") for p in open(sys.argv[1], encoding="utf-8").read().split("\f")]
got = "\n\n".join(p for p in pages if p) + "\n"
sys.exit(0 if got == open(sys.argv[2], encoding="utf-8").read() else 1)
PYEOF
  done
  ;;
jsonl | hocr)
  export_to "$mode" "x-$mode" || fail "export --format $mode failed"
  "${CHECK[@]}" "$mode" "$OUT/results.h5" "x-$mode"
  ;;
alto)
  export_to alto x-alto || fail "export --format alto failed"
  validate=${QUIRE_SHARED:-$QUIRE_SRC/../shared}/formats/validate-alto.sh
  [ -f "$validate" ] || { echo "SKIP: no $validate (../shared/formats)"; exit 77; }
  sh "$validate" x-alto/*.xml || fail "ALTO files do not validate"
  "${CHECK[@]}" alto "$OUT/results.h5" x-alto
  ;;
pdf)
  export_to pdf x-pdf || fail "export --format pdf failed"
  "${CHECK[@]}" pdf "$OUT/results.h5" x-pdf
  # sources changed or gone since the run: those documents fail, the others
  # are written, exit 1
  rm -rf alt && mkdir alt && cp -r corpus scans turned alt/
  echo >>alt/scans/clean300/page.png
  rm alt/corpus/docs/d000_single_helvetica.pdf
  rc=0
  (cd alt && "$QUIRE_BIN" export ../"$OUT" --format pdf --to ../x-alt) 2>alt.log || rc=$?
  cat alt.log
  [ "$rc" = 1 ] || fail "changed sources: exit $rc, want 1"
  grep -Eq "failed: 000008 scans/clean300/page.png: .*changed since the run" alt.log ||
    fail "a changed source was not named"
  grep -Eq "failed: 000000 corpus/docs/d000_single_helvetica.pdf: .*gone since the run" alt.log ||
    fail "a vanished source was not named"
  grep -q "export: 11 written, 2 skipped, 2 failed" alt.log || fail "wrong summary with bad sources"
  [ "$(ls x-alt | wc -l)" = 11 ] || fail "changed sources: want 11 files, got $(ls x-alt)"
  ;;
select)
  export_to jsonl x-sel --id 0,9 --id 9 || fail "--id 0,9 failed"
  [ "$(ls x-sel | wc -l)" = 2 ] || fail "--id 0,9: $(ls x-sel)"
  ls x-sel/000000-*.jsonl x-sel/000009-*.jsonl >/dev/null || fail "--id 0,9: wrong files"
  export_to text x-sel --path scan.pdf || fail "--path scan.pdf failed"
  [ "$(ls x-sel)" = "000009-scan.txt" ] || fail "--path scan.pdf: $(ls x-sel)"
  export_to text x-sel --path "$PWD/none.pdf" 2>sel.log && fail "--path matching nothing: exit 0"
  grep -q "no document's path matches" sel.log || fail "--path matching nothing: no reason"
  rc=0
  export_to text x-sel --id 4,999 2>sel.log || rc=$?
  [ "$rc" = 1 ] || fail "--id of an unknown document: exit $rc, want 1"
  grep -q "no document 999" sel.log || fail "unknown id: no reason given"
  grep -Eq "skipped: 000004 .*zero.pdf" sel.log || fail "--id of a failed document: not skipped"
  rc=0
  "$QUIRE_BIN" export "$OUT/results.h5" --format alto --to x-sel --id 1 || rc=$?
  [ "$rc" = 0 ] && [ -f x-sel/000001-*.alto.xml ] || fail "export RESULTS.h5 path: exit $rc"
  for bad in "--format xml --to d" "--to d" "--format text" "--format text --to d --id x" \
    "--format text --to d --bogus"; do
    rc=0
    # shellcheck disable=SC2086
    "$QUIRE_BIN" export "$OUT" $bad 2>/dev/null || rc=$?
    [ "$rc" = 2 ] || fail "quire export OUT $bad: exit $rc, want 2"
  done
  rc=0
  "$QUIRE_BIN" export nowhere --format text --to d 2>sel.log || rc=$?
  [ "$rc" = 1 ] && grep -q "no results.h5 at nowhere" sel.log || fail "missing results.h5: exit $rc"
  "$QUIRE_BIN" export --help | grep -q -- "--format" || fail "--help"
  # a file that is not HDF5: one clear line, exit 1
  head -c 5000 /dev/urandom >garbage.h5
  rc=0
  "$QUIRE_BIN" export garbage.h5 --format text --to d 2>sel.log || rc=$?
  [ "$rc" = 1 ] && grep -q "garbage.h5 is not a readable results.h5" sel.log ||
    fail "a garbage results.h5: exit $rc, $(cat sel.log)"
  # a results.h5 of an older schema-1 writer (no retryable, warnings,
  # warning, skew_deg): read by field names, the same files
  "$PY" - "$OUT/results.h5" old.h5 <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1]) as src, h5py.File(sys.argv[2], "w") as dst:
    dst.attrs["schema"] = 1
    drop = {"documents": ("retryable", "warnings", "warning"), "pages": ("skew_deg",)}
    for name in ("documents", "pages", "lines", "text"):
        a = src[name][...]
        if name in drop:
            keep = [n for n in a.dtype.names if n not in drop[name]]
            b = np.empty(len(a), dtype=np.dtype([(n, a.dtype.fields[n][0]) for n in keep]))
            for n in keep:
                b[n] = a[n]
            a = b
        dst.create_dataset(name, data=a, chunks=True, compression="gzip")
PYEOF
  for f in jsonl alto; do
    export_to "$f" x-new -q || fail "export $f"
    rm -rf x-old
    "$QUIRE_BIN" export old.h5 --format "$f" --to x-old -q || fail "export $f of an older results.h5"
    diff -r x-new x-old || fail "an older results.h5 gives other $f files"
  done
  # /text cut short: the documents whose lines point past it fail one by
  # one, the first ones are still written
  short_text short.h5
  rc=0
  "$QUIRE_BIN" export short.h5 --format jsonl --to x-short 2>sel.log || rc=$?
  [ "$rc" = 1 ] || fail "a damaged results.h5: exit $rc, want 1"
  grep -Eq "failed: [0-9]{6}: short.h5, document [0-9]+: line [0-9]+: its text is past the end" sel.log ||
    fail "a damaged document was not named: $(cat sel.log)"
  [ -f x-short/000000-d000_single_helvetica.jsonl ] || fail "documents before the damage lost"
  ;;
np3)
  export_to hocr x-np1 || fail "export --format hocr failed"
  rm -rf x-np3
  bounded 300 "$MPIEXEC" -np 3 "$QUIRE_BIN" export "$OUT" --format hocr --to x-np3 2>&1 |
    tee np3.log
  [ "${PIPESTATUS[0]}" = 0 ] || fail "mpirun -np 3 quire export failed"
  [ "$(grep -c "export: 13 written, 2 skipped, 0 failed" np3.log)" = 1 ] ||
    fail "want one summary line for the whole job"
  for r in 0 1 2; do
    grep -Eq " r$r\] this rank: [1-9][0-9]* written" np3.log || fail "rank $r wrote nothing"
  done
  diff -r x-np1 x-np3 || fail "mpirun -np 3 wrote other files than one process"
  ;;
hostile)
  # one line of a born-digital (0) and of a scanned document (9) rewritten in
  # place in a copy of results.h5 (same length)
  "$PY" - "$OUT/results.h5" hostile.h5 <<'PYEOF'
import shutil, sys, h5py, numpy as np
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r+") as f:
    lines, t = f["lines"][...], f["text"]
    bad = '<a&b> "q" \\ \t\x01 é 漢字 😀 '.encode() + b"\xff"
    for doc in (0, 9):
        i = [k for k, l in enumerate(lines) if l["doc"] == doc and l["text_len"] > len(bad) + 4][0]
        s, n = int(lines[i]["text_start"]), int(lines[i]["text_len"])
        t[s:s + n] = np.frombuffer(bad + b" " + b"x" * (n - len(bad) - 1), dtype=np.uint8)
PYEOF
  for f in text jsonl hocr alto pdf; do
    rm -rf "h-$f"
    "$QUIRE_BIN" export hostile.h5 --format "$f" --to "h-$f" --id 0,9 -q || fail "hostile $f"
  done
  validate=${QUIRE_SHARED:-$QUIRE_SRC/../shared}/formats/validate-alto.sh
  if [ -f "$validate" ]; then sh "$validate" h-alto/*.xml || fail "hostile text: ALTO invalid"; fi
  xmllint --nonet --noout h-hocr/*.hocr || fail "hostile text: hOCR is not well-formed XML"
  "$PY" - <<'PYEOF' || fail "hostile text did not survive"
import glob, json, subprocess, sys
want = '<a&b> "q" \\ \t\x01 é 漢字 😀 \ufffd'
for p in glob.glob("h-jsonl/*.jsonl"):
    texts = [json.loads(l)["text"] for l in open(p, encoding="utf-8")]
    assert any(t.startswith(want) for t in texts), p
for p in glob.glob("h-text/*.txt"):
    assert want in open(p, encoding="utf-8").read(), p
pdf = subprocess.run(["pdftotext", glob.glob("h-pdf/000009-*.pdf")[0], "-"], capture_output=True,
                     text=True).stdout
assert '<a&b> "q" \\' in pdf and "é 漢字 😀 \ufffd" in pdf, pdf[:300]
PYEOF
  ;;
leaks)
  command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
  short_text short.h5
  for args in "0 $OUT --format pdf --id 6,8,9,10,11,12,13" "0 $OUT --format alto" \
    "1 short.h5 --format hocr"; do
    want=${args%% *}
    args=${args#* }
    rm -rf x-vg
    rc=0
    # shellcheck disable=SC2086
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
      --error-exitcode=9 --num-callers=30 --suppressions="$QUIRE_SRC/tests/e2e/valgrind.supp" \
      "$QUIRE_BIN" export $args --to x-vg -q || rc=$?
    [ "$rc" = "$want" ] || fail "valgrind: quire export $args: exit $rc, want $want"
  done
  ;;
*) fail "unknown mode $mode" ;;
esac
echo "export $mode: ok"

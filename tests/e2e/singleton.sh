#!/usr/bin/env bash
# The same binary without mpirun is one process doing everything. Its progress
# lines (batch-log form: stderr is not a terminal) carry UTC wall-clock time.
. "$(dirname "$0")/lib.sh"
out=$E2E_WORK/out-singleton
rm -rf "$out"
rc=0
"$QUIRE_BIN" run --out "$out" "$(corpus_dir)" 2>"$out.log" || rc=$?
[ "$rc" = 0 ] || { cat "$out.log"; fail "quire run exited $rc"; }
cat "$out.log" >&2
check_out "$out"
"$PY" "$TOOLS/compare_results.py" "$E2E_WORK/out-np1/results.h5" "$out/results.h5"
grep "progress:" "$out.log" >"$out.progress" || fail "no progress line"
stamp='progress: ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z [0-9]+/[0-9]+ documents '
bad=$(grep -Ev "$stamp" "$out.progress" || true)
[ -z "$bad" ] || fail "progress line without a HH:MM:SSZ stamp: $bad"
# the last line's stamp is the current UTC time (within 2 minutes, across midnight too)
last=$(tail -1 "$out.progress" | sed -E 's/.*progress: ([0-9:]+)Z.*/\1/')
IFS=: read -r h m s <<<"$last"
now=$(date -u +%s)
diff=$(( ((now % 86400) - (10#$h * 3600 + 10#$m * 60 + 10#$s) + 86400) % 86400 ))
[ "$diff" -le 120 ] || fail "progress stamp $last is $diff s away from UTC now ($(date -u +%T))"
# a long document: lines keep coming while it is read, saying where it is
# (issue 16: one process used to print nothing until the document was done)
scan=$E2E_WORK/scans-models/clean300/scan.pdf
[ -f "$scan" ] || "$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$E2E_WORK/scans-models" --seed 7 >/dev/null
rm -rf "$out.long"
"$QUIRE_BIN" run --progress 0.2 --out "$out.long" "$scan" 2>"$out.long.log" ||
  { cat "$out.long.log"; fail "quire run over one scan failed"; }
grep -E "progress: .* 0/1 documents .*; reading page [12] of 2$" "$out.long.log" ||
  { cat "$out.long.log"; fail "no progress line while the document was read"; }

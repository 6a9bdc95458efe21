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

#!/usr/bin/env bash
# No leak in quire's own code: `quire run` as one process (every stage
# in-process) over a few mixed documents, good and bad, under valgrind;
# any definitely-lost block or memory error outside Open MPI's start-up
# (valgrind.supp) fails. Skipped (77) without valgrind.
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
out=$E2E_WORK/out-leaks
rm -rf "$out" "$out.manifest"
c=$(corpus_dir)
"$PY" - "$c" >"$out.manifest" <<'PYEOF'
import json, os, sys
docs = json.load(open(os.path.join(sys.argv[1], "truth.json")))["documents"]
# every bad input, and good ones of each kind of file
seen, pick = set(), []
for d in docs:
    kind = (d["set"], os.path.splitext(d["file"])[1])
    if os.path.isdir(os.path.join(sys.argv[1], d["file"])):
        continue
    if d["status"] != "ok" or kind not in seen:
        seen.add(kind)
        pick.append(d["file"])
for f in pick[:24]:
    print(os.path.join(sys.argv[1], f))
PYEOF
wc -l <"$out.manifest"
rc=0
valgrind --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  --error-exitcode=9 --num-callers=30 --suppressions="$QUIRE_SRC/tests/e2e/valgrind.supp" \
  "$QUIRE_BIN" run --quiet --out "$out" --manifest "$out.manifest" >"$out.log" 2>&1 || rc=$?
grep -E "definitely lost|ERROR SUMMARY" "$out.log" || true
[ "$rc" = 0 ] || { grep -A30 "definitely lost in\|Invalid\|uninitialised" "$out.log" | head -120; fail "valgrind: exit $rc"; }
[ -e "$out/results.h5" ] || fail "no results.h5"

#!/usr/bin/env bash
# A results.h5 without /ranks (the table came to schema 1 later, issue 13)
# still reads: the np3 run's file with /ranks deleted by h5py passes the
# schema check, has the same content as the original (compare_results.py
# ignores /ranks), and `quire export` writes the same files from both.
. "$(dirname "$0")/lib.sh"
src=$E2E_WORK/out-np3
w=$E2E_WORK/ranks-old
rm -rf "$w"
mkdir -p "$w/old"
cp "$src/results.h5" "$w/old/results.h5"
"$PY" - "$w/old/results.h5" <<'PYEOF'
import sys
import h5py
with h5py.File(sys.argv[1], "r+") as f:
    if "ranks" not in f:
        sys.exit("FAIL: the np3 run wrote no /ranks")
    del f["ranks"]
PYEOF
"$PY" "$TOOLS/check_schema.py" "$w/old/results.h5"
"$PY" "$TOOLS/compare_results.py" "$src/results.h5" "$w/old/results.h5"
"$QUIRE_BIN" export "$src" --format jsonl --to "$w/new-jsonl" -q || fail "export of the file with /ranks"
"$QUIRE_BIN" export "$w/old" --format jsonl --to "$w/old-jsonl" -q || fail "export of the file without /ranks"
[ -n "$(ls "$w/old-jsonl")" ] || fail "export wrote nothing"
diff -r "$w/new-jsonl" "$w/old-jsonl" || fail "export differs without /ranks"
echo "ranks_old: a results.h5 without /ranks reads as before"

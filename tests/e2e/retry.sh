#!/usr/bin/env bash
# Failed documents on a rerun (issue 15, item 6): a timeout is recorded as
# retryable and a rerun (without --timeout) does it again, ok now, with still
# one /documents row; --no-retry keeps it as it was; a corrupt document
# (error, not retryable) is not retried by default and is with
# --retry-failed. Tiny PDFs of tests/gen/small_pdfs.py: seconds, not minutes.
. "$(dirname "$0")/lib.sh"
w=$E2E_WORK/retry
out=$w/out
rm -rf "$w"
mkdir -p "$w"
"$PY" "$QUIRE_SRC/tests/gen/small_pdfs.py" "$w/in"
rm "$w/in/repaired.pdf" # repaired.sh's
"$QUIRE_BIN" run --help | grep -q -- "--no-retry" || fail "--help does not name --no-retry"
"$QUIRE_BIN" run --help | grep -q -- "--retry-failed" || fail "--help does not name --retry-failed"

shards() { find "$out/journal" -name 'r*.h5' | wc -l; }
run() { # run NAME NP ARGS...: quire run over $w/in into $out, log in $w/NAME.log
  local name=$1 np=$2 rc=0
  shift 2
  quire_np "$np" --out "$out" "$@" "$w/in" >"$w/$name.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$w/$name.log"; fail "$name: exit $rc"; }
  grep -v "progress:" "$w/$name.log"
}
# expect FIELD=VALUE... per file: good-1, good-2, corrupt
expect() {
  "$PY" - "$out/results.h5" "$@" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["documents"][:]
    names = {v: k for k, v in h5py.check_enum_dtype(f["documents"].dtype["status"]).items()}
    lines, text = f["lines"][:], f["text"][:].tobytes()
paths = [r["path"].decode().rsplit("/", 1)[1] for r in d]
assert sorted(paths) == ["corrupt.pdf", "good-1.pdf", "good-2.pdf"], paths
assert len(set(d["doc"].tolist())) == len(d), "a document has two rows"
for want in sys.argv[2:]:
    name, status, retryable = want.split(":")
    r = d[paths.index(name + ".pdf")]
    got = (names[int(r["status"])], int(r["retryable"]))
    assert got == (status, int(retryable)), "%s: %s, want %s" % (name, got, (status, retryable))
    if status == "ok":
        mine = lines[lines["doc"] == r["doc"]]
        got = [text[l["text_start"]:l["text_start"] + l["text_len"]].decode() for l in mine]
        assert got == ["%s line %d" % (name.replace("-", " "), k) for k in (1, 2, 3)], got
print("results.h5:", ", ".join(sys.argv[2:]))
PYEOF
}

run timeout 2 --timeout 0.000001
expect good-1:timeout:1 good-2:timeout:1 corrupt:error:0
"$PY" "$TOOLS/check_schema.py" "$out/results.h5"
n=$(shards)

run no-retry 1 --no-retry
grep -q "3 failed documents of the journal stay failed (--no-retry" "$w/no-retry.log" ||
  fail "--no-retry: no line saying the failed documents stay failed"
[ "$(shards)" = "$n" ] || fail "--no-retry redid documents"
expect good-1:timeout:1 good-2:timeout:1 corrupt:error:0

run rerun 2
grep -q "retrying 2 failed documents of the journal (2 retryable" "$w/rerun.log" ||
  fail "rerun: no line saying that the 2 timed-out documents are retried"
grep -q "1 failed documents of the journal stay failed (not retryable" "$w/rerun.log" ||
  fail "rerun: no line saying that the corrupt document stays failed"
expect good-1:ok:0 good-2:ok:0 corrupt:error:0
n=$(shards)

run retry-failed 1 --retry-failed
grep -q "retrying 1 failed documents of the journal (1 more: --retry-failed)" "$w/retry-failed.log" ||
  fail "--retry-failed: no line saying the corrupt document is retried"
[ "$(shards)" = $((n + 1)) ] || fail "--retry-failed did not redo the corrupt document"
expect good-1:ok:0 good-2:ok:0 corrupt:error:0
"$PY" "$TOOLS/check_schema.py" "$out/results.h5"
echo "retry: ok"

#!/usr/bin/env bash
# Named failures (issue 16): a mistyped path and corrupt files among good
# ones. Under mpirun -np 3 and as one process, rank 0 prints each failed
# document exactly once with its path and reason, and a summary whose counts,
# reasons and slowest documents match results.h5; --quiet prints the summary
# and not the per-document lines.
. "$(dirname "$0")/lib.sh"
src=$E2E_WORK/named-src
rm -rf "$src"
mkdir -p "$src"
c=$(corpus_dir)
# four good documents, two corrupt ones, and a path that does not exist
for f in $(cd "$c/docs" && ls | head -4); do cp "$c/docs/$f" "$src/"; done
cp "$c/bad/truncated.pdf" "$c/bad/garbage.pdf" "$src/"
: >"$src/zero.pdf"
missing=$src/no-such-scan.pdf
typo=$src/no-such-scan2.pdf # two alike: the top reason has count 2

check() { # check LOG OUT QUIET
  "$PY" - "$1" "$2/results.h5" "$3" <<'PYEOF'
import re, sys, h5py
log, h5, quiet = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3] == "1"
with h5py.File(h5, "r") as f:
    d = f["documents"][:]
    names = h5py.check_enum_dtype(f["documents"].dtype["status"])
names = {v: k for k, v in names.items()}
rows = [(r["path"].decode(), names[r["status"]], r["error"].decode(), float(r["seconds"])) for r in d]
failed = [r for r in rows if r[1] in ("error", "timeout")]
assert len(failed) >= 5, failed  # 2 missing, truncated, garbage, zero
lines = re.findall(r"^\[[ 0-9.]+ r0\] failed: (.*)$", log, re.M)
if quiet:
    assert not lines, lines
else:
    for p, s, e, _ in failed:
        want = "%s (%s: %s)" % (p, s, e)
        assert lines.count(want) == 1, (want, lines)
    assert len(lines) == len(failed), lines
    print("each failure named once:", *lines, sep="\n  ")
m = re.findall(r"summary: (\d+) ok, (\d+) error, (\d+) timeout, (\d+) skipped", log)
assert len(m) == 1, m
want = [sum(r[1] == s for r in rows) for s in ("ok", "error", "timeout", "skipped")]
assert [int(x) for x in m[0]] == want, (m, want)
reasons = re.findall(r"summary: reason: (\d+) x (.*)$", log, re.M)
count = {}
for r in failed:
    count[r[2]] = count.get(r[2], 0) + 1
top = sorted(count.values(), reverse=True)[:3]
assert [int(n) for n, _ in reasons] == top, (reasons, count)
for n, why in reasons:
    assert count[why] == int(n), (why, n, count)
slow = re.findall(r"summary: slowest: ([0-9.]+) s (.*)$", log, re.M)
secs = sorted((r[3] for r in rows), reverse=True)[:3]
assert len(slow) == len(secs), slow
by_path = {r[0]: r[3] for r in rows}
for (s, p), want in zip(slow, secs):
    assert abs(float(s) - want) < 0.006 and abs(by_path[p] - want) < 0.006, (slow, secs)
print("summary matches results.h5:", m[0], reasons, slow)
PYEOF
}

run_case() { # run_case NAME QUIET LAUNCH...
  local name=$1 quiet=$2 out=$E2E_WORK/out-named-$1 rc=0
  shift 2
  rm -rf "$out"
  local flag=()
  [ "$quiet" = 1 ] && flag=(--quiet)
  bounded 300 "$@" "$QUIRE_BIN" run "${flag[@]}" --out "$out" "$src" "$missing" "$typo" \
    >"$out.log" 2>&1 || rc=$?
  cat "$out.log"
  [ "$rc" = 0 ] || fail "$name: quire run exited $rc"
  check "$out.log" "$out" "$quiet" || fail "$name: named failures or summary wrong"
}

run_case np3 0 "$MPIEXEC" -np 3
run_case np1 0 env
run_case np3-quiet 1 "$MPIEXEC" -np 3
run_case np1-quiet 1 env

#!/usr/bin/env bash
# A long run stays flat. The same mix of documents (the corpus, good and bad,
# repeated in one manifest) runs twice through 2 ranks (rank 0 dispatches; its
# one worker sees every kind of document in both runs): 11 copies (~500
# documents), then 44 (~2,000). Each rank's resident memory is sampled during
# the work phase (until rank 0 reports 100 %; the consolidation that follows
# is not a leak). One-time costs (MuPDF's caches, the OCR engine loaded on the
# first scanned page, shard buffers) are the same in both runs, so the peak of
# the long run may exceed the short run's by at most SOAK_MAX_GROWTH_MB
# (default 16 MiB, i.e. about 10 KiB per extra document).
. "$(dirname "$0")/lib.sh"
base=$E2E_WORK/out-soak
rm -rf "$base"*
c=$(corpus_dir)

soak_run() { # soak_run COPIES: prints "rank peak_kib" lines
  local reps=$1 out=$base-$1 pid rc=0
  "$PY" - "$c" "$reps" >"$out.manifest" <<'PYEOF'
import json, os, sys
files = [os.path.join(sys.argv[1], d["file"])
         for d in json.load(open(os.path.join(sys.argv[1], "truth.json")))["documents"]]
files = [f for f in files if not os.path.isdir(f)]  # one document per line
for _ in range(int(sys.argv[2])):
    for f in files:
        print(f)
PYEOF
  "$MPIEXEC" -np 2 "$QUIRE_BIN" run --progress 1 --out "$out" --manifest "$out.manifest" >"$out.log" 2>&1 &
  pid=$!
  "$PY" - "$pid" "$out" "$out.log" >"$out.rss" <<'PYEOF'
import os, sys, time
job, tag, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = time.time()
def alive(p):
    try:
        os.kill(p, 0)
        return True
    except OSError:
        return False
def work_done():
    try:
        return b"(100.0%)" in open(log, "rb").read()
    except OSError:
        return False
while alive(job) and not work_done():
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")
            if not cmd or not cmd[0].endswith(b"quire") or tag.encode() not in cmd:
                continue
            rank = next(l.split(b"=", 1)[1] for l in open("/proc/%s/environ" % p, "rb").read().split(b"\0")
                        if l.startswith(b"OMPI_COMM_WORLD_RANK="))
            kb = next(int(l.split()[1]) for l in open("/proc/%s/status" % p) if l.startswith("VmRSS:"))
            print("%.2f %s %d" % (time.time() - t0, rank.decode(), kb), flush=True)
        except (OSError, StopIteration):
            pass
    time.sleep(0.1)
PYEOF
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || { cat "$out.log" >&2; fail "the soak run of $reps copies exited $rc"; }
  local n
  n=$(wc -l <"$out.manifest")
  grep -q "done: $n documents" "$out.log" || fail "not every one of the $n documents done"
  grep -E "done:" "$out.log" >&2
}

soak_run 11
soak_run 44
"$PY" - "$base-11.rss" "$base-44.rss" "${SOAK_MAX_GROWTH_MB:-16}" <<'PYEOF'
import collections, sys
def peaks(path):
    by = collections.defaultdict(list)
    for line in open(path):
        t, r, kb = line.split()
        by[int(r)].append(int(kb))
    assert sorted(by) == [0, 1], "%s: sampled ranks %s" % (path, sorted(by))
    for r, s in by.items():
        assert len(s) >= 10, "%s: rank %d has %d samples (too short to judge)" % (path, r, len(s))
    return {r: max(s) for r, s in by.items()}, {r: len(s) for r, s in by.items()}
short, ns = peaks(sys.argv[1])
long_, nl = peaks(sys.argv[2])
limit = float(sys.argv[3])
bad = []
for r in sorted(short):
    grow = (long_[r] - short[r]) / 1024
    print("rank %d: peak RSS %.1f MiB over ~500 documents (%d samples), %.1f MiB over ~2,000 (%d samples): %+.1f MiB"
          % (r, short[r] / 1024, ns[r], long_[r] / 1024, nl[r], grow))
    if grow > limit:
        bad.append(r)
sys.exit("RSS grew by more than %g MiB on rank(s) %s" % (limit, bad) if bad else 0)
PYEOF

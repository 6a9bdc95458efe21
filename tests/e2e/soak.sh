#!/usr/bin/env bash
# A long run stays flat. The same mix of documents (the corpus, good and bad,
# repeated in one manifest) runs twice through 2 ranks (rank 0 dispatches; its
# one worker sees every kind of document in both runs): 11 copies (~500
# documents), then 44 (~2,000). Each rank's peak resident memory over the
# whole run, consolidation included, is measured by GNU time. One-time costs
# (MuPDF's caches, the OCR engine loaded on the first scanned page, shard
# buffers) are the same in both runs, so the peak of the long run may exceed
# the short run's by at most SOAK_MAX_GROWTH_MB (default 16 MiB, i.e. about
# 10 KiB per extra document; rank 0's list of inputs alone grows by about 7).
. "$(dirname "$0")/lib.sh"
base=$E2E_WORK/out-soak
rm -rf "$base"*
c=$(corpus_dir)

soak_run() { # soak_run COPIES: writes OUT.rss, "rank peak_kib" lines
  local reps=$1 out=$base-$1 rc=0
  # copies under other names (hard links; a missing file stays a missing
  # name): a path listed twice is one document (issue 16), a copy is another
  "$PY" - "$c" "$reps" "$out.files" >"$out.manifest" <<'PYEOF'
import json, os, sys
src, reps, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
files = [os.path.join(src, d["file"])
         for d in json.load(open(os.path.join(src, "truth.json")))["documents"]]
files = [f for f in files if not os.path.isdir(f)]  # one document per line
for k in range(reps):
    os.makedirs(os.path.join(dst, str(k)), exist_ok=True)
    for i, f in enumerate(files):
        name = os.path.join(dst, str(k), "%03d_%s" % (i, os.path.basename(f)))
        if os.path.isfile(f) and not os.path.islink(f) and not os.path.exists(name):
            os.link(f, name)
        print(name)
PYEOF
  # each rank under GNU time: its exact peak (sampling missed short peaks, such
  # as the OCR engine loading for the tiny image document that comes last)
  "$MPIEXEC" -np 2 sh -c 'exec /usr/bin/time -f "$OMPI_COMM_WORLD_RANK %M" -a -o "$0.rss" "$@"' \
    "$out" "$QUIRE_BIN" run --progress 1 --out "$out" --manifest "$out.manifest" >"$out.log" 2>&1 || rc=$?
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
    by = {}
    for line in open(path):
        r, kb = line.split()
        by[int(r)] = int(kb)
    assert sorted(by) == [0, 1], "%s: ranks measured %s" % (path, sorted(by))
    return by
short = peaks(sys.argv[1])
long_ = peaks(sys.argv[2])
limit = float(sys.argv[3])
bad = []
for r in sorted(short):
    grow = (long_[r] - short[r]) / 1024
    print("rank %d: peak RSS %.1f MiB over ~500 documents, %.1f MiB over ~2,000: %+.1f MiB"
          % (r, short[r] / 1024, long_[r] / 1024, grow))
    if grow > limit:
        bad.append(r)
sys.exit("RSS grew by more than %g MiB on rank(s) %s" % (limit, bad) if bad else 0)
PYEOF

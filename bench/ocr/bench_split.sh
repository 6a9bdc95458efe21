#!/usr/bin/env bash
# The split pipeline's costs (issue 13, item 5): what a CPU rank spends per
# scanned page outside the networks, what the networks cost, and the bytes a
# page sends to and gets from its GPU rank; then the throughput model of
# bench/SCALING.md §5 filled with them. Pages: PAGES generated 300-dpi pages
# (tests/gen/gen_scans.py --bench, single- and two-column).
#
#   bench/ocr/bench_split.sh [BUILD_DIR] [PAGES]        (defaults: build, 6)
#
# 1. In-process, one thread: `quire text --threads 1` over the pages in one
#    PDF (the generator's pages.pdf: each page a 300-dpi scan), QUIRE_DECODE_STATS=1: each stage's time and its networks' (the
#    engine's stage stats), and the process's wall time.
# 2. Split: `mpirun -np 3 quire run --gpus 1` (one CPU rank, the GPU rank on
#    the CPU backend), QUIRE_DECODE_STATS=1: the CPU rank's bytes out and in
#    and its wait for replies, and the GPU rank's line (networks, other).
# The models' load (about 1 s) is in the first row, spread over the pages.
# Environment: BENCH_WORK=DIR (kept), QUIRE_MODELS.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
pages=${2:-6}
PY=/usr/bin/python3
quire=$build/quire
[ -x "$quire" ] || { echo "bench_split: no quire at $quire" >&2; exit 1; }
work=${BENCH_WORK:-$(mktemp -d /tmp/quire-bench-split.XXXXXX)}
mkdir -p "$work"
models=()
[ -z "${QUIRE_MODELS:-}" ] || models=(--models "$QUIRE_MODELS")
. "$root/scripts/mpi-env.sh"
[ -f "$work/scans/bench/manifest.txt" ] ||
  $PY "$root/tests/gen/gen_scans.py" "$work/scans" --seed 23 --no-test-sets --bench "$pages" >/dev/null
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# 1. in-process
t0=$(date +%s.%N)
QUIRE_DECODE_STATS=1 OMP_NUM_THREADS=1 "$quire" text "${models[@]}" --threads 1 \
  "$work/scans/bench/pages.pdf" \
  >"$work/text.txt" 2>"$work/inproc.err" || { cat "$work/inproc.err"; exit 1; }
t1=$(date +%s.%N)

# 2. split
rm -rf "$work/out"
QUIRE_DECODE_STATS=1 mpirun -np 3 "$quire" run "${models[@]}" --gpus 1 --out "$work/out" \
  --manifest "$work/scans/bench/manifest.txt" >"$work/split.log" 2>&1 ||
  { tail -20 "$work/split.log"; exit 1; }

$PY - "$work" "$pages" "$t0" "$t1" "$load0" <<'PYEOF'
import re, sys
work, pages = sys.argv[1], int(sys.argv[2])
wall = float(sys.argv[4]) - float(sys.argv[3])
err = open(work + "/inproc.err").read()
m = re.search(r"stage stats: (\d+) pages; det ([\d.]+) s \(networks ([\d.]+) s\), cls ([\d.]+) s "
              r"\(networks ([\d.]+) s\), rec ([\d.]+) s \(networks ([\d.]+) s, decoding ([\d.]+) s\)", err)
if not m:
    sys.exit("bench_split: no stage stats in the in-process run")
n, det, dnn, cls, cnn, rec, rnn, dec = (float(x) for x in m.groups())
log = open(work + "/split.log").read()
r = re.search(r"remote stats: (\d+) requests, ([\d.]+) bytes out, ([\d.]+) bytes in, ([\d.]+) s", log)
g = re.search(r"OCR rank: ran (\d+) network requests.*?in (\d+) batches.*?networks ([\d.]+) s, "
              r"other ([\d.]+) s", log)
if not r or not g:
    sys.exit("bench_split: no remote stats or no OCR rank line in the split run")
req, bout, bin_, waited = int(r.group(1)), float(r.group(2)), float(r.group(3)), float(r.group(4))
gnn, gother = float(g.group(3)), float(g.group(4))
per = lambda x: x / n
# decode/render, layout, the record; and the models' load (~1 s) spread over the pages
other_page = per(wall - det - cls - rec)
cpu_page = per(det - dnn) + per(cls - cnn) + per(rec - rnn) + other_page
nn_page = per(dnn + cnn + rnn)
print("| per scanned page (one core, %d pages; load before: %s) | seconds |" % (n, sys.argv[5]))
print("|---|---|")
for k, v in [("decoding/rendering the page, layout, the record", other_page),
             ("detection outside the network (scale, normalise, DB boxes)", per(det - dnn)),
             ("cutting the lines, orientation views, the way up (outside the network)", per(cls - cnn)),
             ("recognition outside the network (line tensors, CTC, fixes)", per(rec - rnn)),
             ("of which CTC decoding (beam)", per(dec)),
             ("**CPU rank's work per page, networks excepted**", cpu_page),
             ("networks on one CPU core (det %.2f, cls %.2f, rec %.2f)" % (per(dnn), per(cnn), per(rnn)), nn_page)]:
    print("| %s | %.3f |" % (k, v))
print()
print("| split run (np 3 --gpus 1, CPU backend) | value |")
print("|---|---|")
print("| requests per page | %.1f |" % (req / pages))
print("| MB sent to the GPU rank per page | %.2f |" % (bout / pages / 1e6))
print("| MB received from it per page | %.2f |" % (bin_ / pages / 1e6))
print("| GPU rank: other / networks | %.1f %% |" % (100 * gother / gnn if gnn else 0))
print("| GPU rank: other per page (messages, joining, top-k) | %.3f s |" % (gother / pages))
print()
print("Predicted pages/s of a node, 16 cores: one GPU rank, R CPU ranks (each a core: "
      "R / %.3f s), the GPU at G ms of network time per page, its rank's other time "
      "%.3f s per page on its core:" % (cpu_page, gother / pages))
print()
print("| R \\ G | " + " | ".join("%g ms" % x for x in (2, 5, 10, 20, 50)) + " |")
print("|---|" + "---|" * 5)
for R in (4, 8, 12, 14):
    row = []
    for G in (2, 5, 10, 20, 50):
        gpu = 1 / max(G / 1000.0, gother / pages)
        row.append("%.1f" % min(R / cpu_page, gpu))
    print("| %d | %s |" % (R, " | ".join(row)))
PYEOF

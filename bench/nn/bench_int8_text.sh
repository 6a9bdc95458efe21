#!/usr/bin/env bash
# int8 against fp32 on whole pages: `quire text --precision int8` and
# `--precision fp32` on the `degraded` and `clean300` sets of
# tests/gen/gen_scans.py (seeds 101..100+SEEDS, the pages bench/ocr uses; the
# int8 tables are calibrated on seeds 201.., so these pages are held out), one
# thread per process, as many processes as cores, default decoding (beam) and
# --decode greedy. Prints a Markdown table: CER and bag-of-words error against
# the truth per precision, the int8 - fp32 difference in points (the issue's
# target: within 0.1), and each run's wall time (int8 ÷ fp32).
#
#   bench/nn/bench_int8_text.sh [BUILD_DIR] [SEEDS]      (defaults: build, 3)
#
# Environment: BENCH_CPUS=0,1 (taskset), BENCH_WORK=DIR (kept; the corpus is
# reused), BENCH_REUSE=1 (keep a configuration's texts and time already in
# BENCH_WORK: e.g. fp32's, when only the int8 table changed), QUIRE_NO_AVX512=1
# (the AVX-VNNI or AVX2 int8 kernels), with QUIRE_NO_VNNI=1 (the AVX2 ones).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
seeds=${2:-3}
cpus=${BENCH_CPUS:-0,1}
ncpu=$(awk -F, '{print NF}' <<<"$cpus")
PY=/usr/bin/python3
quire=$build/quire
[ -x "$quire" ] || { echo "bench_int8_text: no quire at $quire" >&2; exit 1; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
work=${BENCH_WORK:-$(mktemp -d /tmp/quire-bench-int8.XXXXXX)}
mkdir -p "$work"

list=$work/inputs.tsv
: >"$list"
for s in $(seq 1 "$seeds"); do
  c=$work/corpus/seed$s
  [ -f "$c/truth.json" ] || $PY "$root/tests/gen/gen_scans.py" "$c" --seed $((100 + s)) >&2
  for set in degraded clean300; do
    for f in "$c/$set"/*; do printf '%s\t%s\t%s\n' "$set" "$f" "$c/truth.json" >>"$list"; done
  done
done

export Q_BIN=$quire OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# run NAME ARGS...: `quire text ARGS FILE` on every document into $work/NAME/<n>.txt
declare -A secs
run() {
  local name=$1; shift
  if [ -n "${BENCH_REUSE:-}" ] && [ -f "$work/$name.secs" ]; then
    secs[$name]=$(cat "$work/$name.secs")
    return 0
  fi
  rm -rf "${work:?}/$name"; mkdir -p "$work/$name"
  echo "bench_int8_text: $name ..." >&2
  export T_OUT=$work/$name T_ARGS="$*" T_LIST=$list
  local t0; t0=$(date +%s.%N)
  seq 1 "$(wc -l <"$list")" | taskset -c "$cpus" xargs -P "$ncpu" -I{} sh -c '
    f=$(sed -n "$1p" "$T_LIST" | cut -f2)
    "$Q_BIN" text --threads 1 $T_ARGS "$f" >"$T_OUT/$1.txt" 2>"$T_OUT/$1.err" || echo "exit $?" >>"$T_OUT/$1.err"' _ {}
  secs[$name]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "${secs[$name]}" >"$work/$name.secs"
}
run fp32 --precision fp32
run int8 --precision int8
run fp32_greedy --precision fp32 --decode greedy
run int8_greedy --precision int8 --decode greedy

$PY - "$work" "$list" "$root/tests/tools" "${secs[fp32]}" "${secs[int8]}" "${secs[fp32_greedy]}" "${secs[int8_greedy]}" <<'EOF'
import json, os, sys
work, listf, tools = sys.argv[1:4]
secs = dict(zip(["fp32", "int8", "fp32_greedy", "int8_greedy"], map(float, sys.argv[4:8])))
sys.path.insert(0, tools)
from textmetrics import cer_counts, bow_counts
rows = [l.rstrip("\n").split("\t") for l in open(listf, encoding="utf-8")]
truths = {}
def truth_of(path, t):
    if t not in truths:
        truths[t] = {d["file"]: d["text"] for d in json.load(open(t, encoding="utf-8"))["documents"]}
    return truths[t]["/".join(path.split("/")[-2:])]
groups = []
for g, _, _ in rows:
    if g not in groups: groups.append(g)
score = {}
for tool in secs:
    for i, (g, path, t) in enumerate(rows, 1):
        got = open(os.path.join(work, tool, "%d.txt" % i), encoding="utf-8", errors="replace").read()
        err = open(os.path.join(work, tool, "%d.err" % i), encoding="utf-8", errors="replace").read()
        if "exit " in err:
            print("bench_int8_text: %s failed on %s: %s" % (tool, path, err.strip().splitlines()[-1]), file=sys.stderr)
        ed, n = cer_counts(got, truth_of(path, t))
        mi, ex, nw = bow_counts(got, truth_of(path, t))
        s = score.setdefault((tool, g), [0, 0, 0, 0])
        s[0] += ed; s[1] += n; s[2] += mi + ex; s[3] += nw
cer = lambda t, g: 100 * score[t, g][0] / max(score[t, g][1], 1)
bow = lambda t, g: 100 * score[t, g][2] / max(score[t, g][3], 1)
print("| quire text | " + " | ".join("CER %s" % g for g in groups) + " | "
      + " | ".join("BoW %s" % g for g in groups) + " | wall s |")
print("|---|" + "---:|" * (2 * len(groups) + 1))
for tool in secs:
    print("| %s | %s | %s | %.1f |" % (tool.replace("_", ", "), " | ".join("%.2f %%" % cer(tool, g) for g in groups),
                                      " | ".join("%.2f %%" % bow(tool, g) for g in groups), secs[tool]))
print()
for dec in ("", "_greedy"):
    for g in groups:
        print("%s%s: int8 - fp32 CER %+.2f points, BoW %+.2f points"
              % (g, ", greedy" if dec else "", cer("int8" + dec, g) - cer("fp32" + dec, g),
                 bow("int8" + dec, g) - bow("fp32" + dec, g)))
    print("wall time int8 ÷ fp32%s: %.2f" % (" (greedy)" if dec else "", secs["int8" + dec] / secs["fp32" + dec]))
EOF
echo
echo "documents: $(cut -f1 "$list" | sort | uniq -c | tr '\n' ' '); int8 kernels: $(if [ -n "${QUIRE_NO_AVX512:-}" ] && [ -n "${QUIRE_NO_VNNI:-}" ]; then echo "QUIRE_NO_AVX512 and QUIRE_NO_VNNI set (AVX2)"; elif [ -n "${QUIRE_NO_AVX512:-}" ]; then echo "QUIRE_NO_AVX512 set (AVX-VNNI or AVX2)"; elif [ -n "${QUIRE_NO_VNNI:-}" ]; then echo "QUIRE_NO_VNNI set (AVX2)"; else echo "the CPU's best"; fi); cores $cpus of $(env -u OMP_NUM_THREADS nproc), $(date -u +%F); load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; work dir $work"

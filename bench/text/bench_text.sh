#!/usr/bin/env bash
# Text-PDF throughput: quire (one process, and all ranks under mpirun) beside
# `mutool draw -F txt` and `pdftotext` on the same PDFs in the same run.
# quire's time includes what the peers do not produce: boxes, blocks, the
# journal and results.h5. Prints a Markdown table with the ratios.
#
#   bench/text/bench_text.sh [BUILD_DIR] [PAGES]     (defaults: build, 3000)
#   BENCH_CORPUS=DIR [BENCH_REPEAT=N] bench/text/bench_text.sh
#       the PDFs of DIR instead of generated ones, each listed N times (default 1),
#       so that a few real files make a campaign long enough to measure
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
pages=${2:-3000}
quire=$build/quire
[ -x "$quire" ] || { echo "bench_text: no quire binary at $quire (build first)" >&2; exit 1; }
for t in mutool pdftotext; do
  command -v $t >/dev/null || { echo "bench_text: $t missing (scripts/install-deps.sh)" >&2; exit 1; }
done
. "$root/scripts/mpi-env.sh"
work=${BENCH_WORK:-$(mktemp -d /tmp/quire-bench-text.XXXXXX)}
corpus=${BENCH_CORPUS:-$work/corpus}
if [ -z "${BENCH_CORPUS:-}" ] && [ ! -f "$corpus/truth.json" ]; then
  /usr/bin/python3 "$root/tests/gen/gen_corpus.py" "$corpus" --seed 3 --scale-pages "$pages" >/dev/null
fi
mapfile -t once < <(find "$corpus" -name '*.pdf' | sort)
pdfs=()
for _ in $(seq "${BENCH_REPEAT:-1}"); do pdfs+=("${once[@]}"); done
printf '%s\n' "${pdfs[@]}" >"$work/manifest.txt"
total_pages=0
for f in "${pdfs[@]}"; do
  n=$(mutool info "$f" 2>/dev/null | sed -n 's/^Pages: //p')
  total_pages=$((total_pages + ${n:-0}))
done
now() { date +%s.%N; }
best() { # best CMD...: the fastest of 3 runs, in seconds
  local b="" t0 t1
  for _ in 1 2 3; do
    t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
    b=$(awk -v a="$t0" -v z="$t1" -v b="$b" 'BEGIN { d = z - a; if (b == "" || d < b) b = d; printf "%.3f", b }')
  done
  echo "$b"
}
run_mutool() { for f in "${pdfs[@]}"; do mutool draw -F txt -o /dev/null "$f"; done; }
run_pdftotext() { for f in "${pdfs[@]}"; do pdftotext "$f" /dev/null; done; }
run_quire1() { "$quire" run --force --quiet --out "$work/out1" --manifest "$work/manifest.txt"; }
np=$(( $(nproc) + 1 ))
run_quireN() { mpirun -np "$np" "$quire" run --force --quiet --out "$work/outN" --manifest "$work/manifest.txt"; }

t_mutool=$(best run_mutool)
t_pdftotext=$(best run_pdftotext)
t_q1=$(best run_quire1)
t_qn=$(best run_quireN)
rate() { awk -v p="$total_pages" -v t="$1" 'BEGIN { printf "%.1f", p / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }
echo "${#pdfs[@]} PDFs, $total_pages pages, $(nproc) cores, $(date -u +%F)"
echo
echo "| tool | seconds | pages/s | quire 1 rank ÷ tool |"
echo "|---|---|---|---|"
echo "| mutool draw -F txt | $t_mutool | $(rate "$t_mutool") | $(ratio "$t_q1" "$t_mutool")× |"
echo "| pdftotext | $t_pdftotext | $(rate "$t_pdftotext") | $(ratio "$t_q1" "$t_pdftotext")× |"
echo "| quire run, 1 process | $t_q1 | $(rate "$t_q1") | 1.00× |"
echo "| quire run, mpirun -np $np | $t_qn | $(rate "$t_qn") | $(ratio "$t_q1" "$t_qn")× |"

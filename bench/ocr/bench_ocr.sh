#!/usr/bin/env bash
# Scanned pages end to end: quire's CPU pipeline beside Tesseract 5 and OCRmyPDF
# on the same clean 300-dpi pages (half single-column, half two-column, from
# tests/gen/gen_scans.py --bench), every tool pinned to the same cores. Prints a
# Markdown table: pages/s, CER and bag-of-words error (tests/tools/check_ocr.py;
# per layout), peak RSS, and quire ÷ Tesseract.
#
#   bench/ocr/bench_ocr.sh [BUILD_DIR] [PAGES]          (defaults: build, 30)
#
# Environment:
#   BENCH_CPUS=0,1       the cores every tool gets (taskset -c)
#   BENCH_TOOLS="quire tesseract ocrmypdf"   which to run (quire: its defaults,
#                        int8 recognizer on CPUs with VNNI); quire-fp32 and
#                        quire-int8 add quire with --precision fp32 or int8
#   BENCH_CHRT=1         run every tool under `chrt -f 50` (real-time priority,
#                        needs root): on a machine shared with other work, the
#                        other processes then cannot take the tools' cores, and
#                        times repeat within a few % (without it, they can vary 3x)
#   QUIRE_MODE=run       run: one `quire run` process over the PNGs, text from
#                        results.h5; mpirun: `mpirun -np CORES+1 quire run
#                        --threads 1` (a rank per core reads pages, rank 0 hands
#                        them out: how a CPU node runs quire); text: `quire text PNG` per page; ocr:
#                        `quire ocr PNG` per page (lines in detection order, so
#                        two-column pages interleave: compare BoW, not CER)
#   QUIRE_PROCS=1        parallel processes for QUIRE_MODE=text|ocr
#   QUIRE_THREADS=2      OMP_NUM_THREADS / OPENBLAS_NUM_THREADS for quire
#   QUIRE_MODELS         where the models are (else quire's default)
#   BENCH_WORK=DIR       work folder (kept; the corpus is reused when it has PAGES pages)
#   BENCH_SEED=5         corpus seed
# Tesseract: `tesseract PNG OUT -l eng` (page segmentation mode 3, automatic),
# OMP_THREAD_LIMIT=1, one process per core (xargs -P = number of BENCH_CPUS).
# OCRmyPDF: `ocrmypdf -j N --output-type pdf --sidecar` on bench/pages.pdf (the
# same pixels as an image-only PDF), its default optimisation; text per page
# from the sidecar. Peak RSS: bench/ocr/peakrss.py (sum over the process tree,
# sampled, and the largest single process).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
pages=${2:-30}
cpus=${BENCH_CPUS:-0,1}
ncpu=$(awk -F, '{print NF}' <<<"$cpus")
tools=${BENCH_TOOLS:-quire tesseract ocrmypdf}
mode=${QUIRE_MODE:-run}
qprocs=${QUIRE_PROCS:-1}
qthreads=${QUIRE_THREADS:-2}
PY=/usr/bin/python3
here=$root/bench/ocr

bash "$root/scripts/install-deps.sh" "$root/bench/deps.txt" >&2
. "$root/scripts/mpi-env.sh"     # quire run is an MPI singleton (root, oversubscription)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
work=${BENCH_WORK:-$(mktemp -d /tmp/quire-bench-ocr.XXXXXX)}
mkdir -p "$work"
corpus=$work/corpus
if [ "$(ls "$corpus"/bench/*.png 2>/dev/null | wc -l)" != "$pages" ]; then
  $PY "$root/tests/gen/gen_scans.py" "$corpus" --bench "$pages" --no-test-sets --seed "${BENCH_SEED:-5}" >&2
fi
truth=$corpus/truth.json
mapfile -t pngs <"$corpus/bench/manifest.txt"
n_single=$(ls "$corpus"/bench/*_single.png | wc -l)
n_twocol=$(ls "$corpus"/bench/*_twocol.png | wc -l)

measure() { # measure NAME CMD...: pinned to $cpus, time + RSS into $work/NAME.rss.json
  local name=$1; shift
  echo "bench_ocr: $name ..." >&2
  local rt=()
  [ -z "${BENCH_CHRT:-}" ] || rt=(chrt -f 50)
  $PY "$here/peakrss.py" "$work/$name.rss.json" "${rt[@]}" taskset -c "$cpus" "$@"
}
score() { # score NAME TEXTDIR|H5: the metrics into $work/NAME.score.json
  $PY "$root/tests/tools/check_ocr.py" "$2" "$truth" --sets bench_single,bench_twocol \
    --json "$work/$1.score.json" >"$work/$1.score.txt" 2>&1 || true
}

ran=()
if [[ " $tools " == *" tesseract "* ]]; then
  tesseract --version 2>&1 | head -n 1 | grep -q "tesseract 5" || { echo "bench_ocr: tesseract 5 needed" >&2; exit 1; }
  rm -rf "$work/tesseract"; mkdir -p "$work/tesseract/bench"
  export TESS_OUT=$work/tesseract/bench
  printf '%s\n' "${pngs[@]}" | measure tesseract env OMP_THREAD_LIMIT=1 \
    xargs -d '\n' -P "$ncpu" -I{} sh -c 'tesseract "$1" "$TESS_OUT/$(basename "$1")" -l eng quiet' _ {}
  score tesseract "$work/tesseract"
  ran+=(tesseract)
fi

if [[ " $tools " == *" ocrmypdf "* ]]; then
  rm -rf "$work/ocrmypdf"; mkdir -p "$work/ocrmypdf"
  measure ocrmypdf ocrmypdf -q -j "$ncpu" -l eng --output-type pdf \
    --sidecar "$work/ocrmypdf/sidecar.txt" "$corpus/bench/pages.pdf" "$work/ocrmypdf/out.pdf"
  # the sidecar has one form-feed-separated chunk per page of pages.pdf
  $PY - "$truth" "$work/ocrmypdf/sidecar.txt" "$work/ocrmypdf" <<'EOF'
import json, os, sys
truth, side, out = sys.argv[1:]
order = json.load(open(truth, encoding="utf-8"))["bench_pdf"]["pages"]
chunks = open(side, encoding="utf-8", errors="replace").read().split("\f")
for i, f in enumerate(order):
    os.makedirs(os.path.dirname(os.path.join(out, f)), exist_ok=True)
    open(os.path.join(out, f + ".txt"), "w", encoding="utf-8").write(chunks[i] if i < len(chunks) else "")
EOF
  score ocrmypdf "$work/ocrmypdf"
  ran+=(ocrmypdf)
fi

quire_note=""
run_quire() { # run_quire NAME [QUIRE OPTIONS...]: quire over the pages as $mode says
  local name=$1; shift
  local quire=$build/quire models=()
  [ -z "${QUIRE_MODELS:-}" ] || models=(--models "$QUIRE_MODELS")
  export OMP_NUM_THREADS=$qthreads OPENBLAS_NUM_THREADS=$qthreads
  if [ ! -x "$quire" ]; then
    quire_note="quire: not available (no binary at $quire)"; return
  elif ! "$quire" ocr -q "${models[@]}" "$@" "${pngs[0]}" >"$work/$name-probe.txt" 2>"$work/$name-probe.err"; then
    quire_note="$name: not available ($(head -n 1 "$work/$name-probe.err"))"; return
  fi
  rm -rf "${work:?}/$name"; mkdir -p "$work/$name/bench"
  case $mode in
    run)
      # one process, no mpirun: every stage in-process
      measure "$name" "$quire" run --force --quiet "${models[@]}" "$@" --out "$work/$name/out" \
        --manifest "$corpus/bench/manifest.txt"
      score "$name" "$work/$name/out" ;;
    mpirun)
      measure "$name" mpirun -np $((ncpu + 1)) --oversubscribe "$quire" run --threads 1 --force --quiet \
        "${models[@]}" "$@" --out "$work/$name/out" --manifest "$corpus/bench/manifest.txt"
      score "$name" "$work/$name/out" ;;
    text|ocr)
      export Q_BIN=$quire Q_MODE=$mode Q_OUT=$work/$name/bench Q_MODELS=${QUIRE_MODELS:-} Q_ARGS="$*"
      printf '%s\n' "${pngs[@]}" | measure "$name" xargs -d '\n' -P "$qprocs" -I{} sh -c '
        m=""; [ -z "$Q_MODELS" ] || m="--models $Q_MODELS"
        if [ "$Q_MODE" = text ]; then "$Q_BIN" text $m $Q_ARGS "$1" >"$Q_OUT/$(basename "$1").txt"
        else "$Q_BIN" ocr -q $m $Q_ARGS "$1" | cut -f 4- >"$Q_OUT/$(basename "$1").txt"; fi' _ {}
      score "$name" "$work/$name" ;;
    *) echo "bench_ocr: QUIRE_MODE must be run, mpirun, text or ocr" >&2; exit 2 ;;
  esac
  ran=("$name" "${ran[@]}")
}
[[ " $tools " != *" quire-fp32 "* ]] || run_quire quire-fp32 --precision fp32
[[ " $tools " != *" quire-int8 "* ]] || run_quire quire-int8 --precision int8
[[ " $tools " != *" quire "* ]] || run_quire quire

# the table
$PY - "$work" "${#pngs[@]}" "$mode" "$ncpu" "${ran[@]}" <<'EOF'
import json, os, sys
work, n, mode, ncpu, tools = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
label = {"quire": "quire (%s)" % {"run": "quire run, 1 process", "mpirun": "mpirun -np %d quire run --threads 1"
                                  % (int(ncpu) + 1), "text": "quire text per page",
                                  "ocr": "quire ocr per page"}[mode],
         "tesseract": "Tesseract 5, %s processes" % ncpu, "ocrmypdf": "OCRmyPDF -j %s" % ncpu}
label["quire-int8"] = label["quire"] + ", --precision int8"
label["quire-fp32"] = label["quire"] + ", --precision fp32"
rows = {}
for t in tools:
    r = json.load(open(os.path.join(work, t + ".rss.json")))
    s = json.load(open(os.path.join(work, t + ".score.json")))["sets"]
    rows[t] = dict(r, pps=n / r["seconds"], cer1=s["bench_single"]["cer"], cer2=s["bench_twocol"]["cer"],
                   bow1=s["bench_single"]["bow"], bow2=s["bench_twocol"]["bow"], failed=r["rc"] != 0)
print("| tool | seconds | pages/s | CPU s/page | CER 1-col | CER 2-col | BoW 1-col | BoW 2-col | peak RSS MiB (tree) | largest process MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for t in tools:
    r = rows[t]
    print("| %s%s | %.1f | %.3f | %.2f | %.4f | %.4f | %.4f | %.4f | %.0f | %.0f |" % (
        label[t], " (exit %d)" % r["rc"] if r["failed"] else "", r["seconds"], r["pps"], r["cpu_seconds"] / n,
        r["cer1"], r["cer2"],
        r["bow1"], r["bow2"], r["peak_tree_mib"], r["max_proc_mib"]))
for name in ("quire", "quire-fp32", "quire-int8"):
    if name not in rows or "tesseract" not in rows:
        continue
    q, t = rows[name], rows["tesseract"]
    print()
    print("%s ÷ Tesseract: pages/s %.2f× (target ≥ 1×), CPU time per page %.2f×; BoW 2-col %.4f vs %.4f (%s); "
          "peak RSS %.2f×" % (name, q["pps"] / t["pps"], q["cpu_seconds"] / max(t["cpu_seconds"], 1e-9), q["bow2"],
                              t["bow2"], "no worse" if q["bow2"] <= t["bow2"] else "WORSE",
                              q["peak_tree_mib"] / max(t["peak_tree_mib"], 1e-9)))
EOF
echo
echo "${#pngs[@]} pages ($n_single single-column, $n_twocol two-column, 300 dpi gray PNG), cores $cpus of $(nproc), $(date -u +%F); load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; work dir $work"
[ -z "$quire_note" ] || echo "$quire_note"

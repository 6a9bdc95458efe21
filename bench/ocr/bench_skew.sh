#!/usr/bin/env bash
# Skewed scans: quire beside Tesseract 5 on the same generated pages, in the
# same run, every tool pinned to the same cores. Pages: gen_scans.py --skew
# (clean 300-dpi gray PNGs turned counter-clockwise by each skew,
# single- and two-column, PAGES per skew and layout). Prints a Markdown table
# per skew and layout: CER and bag-of-words error of each tool
# (tests/tools/check_ocr.py), quire ÷ Tesseract CER, and quire's recorded
# /pages skew_deg against the generated skew. Then, when the shared corpus is
# there, the real ../shared/corpus/scans/skew.pdf (linn.png at -2 degrees:
# quire's skew, and each tool's CER against gt/linn.ref-ocr.txt, an
# approximate reference made by OCR of the straight page).
#
#   bench/ocr/bench_skew.sh [BUILD_DIR] [PAGES]       (defaults: build, 1)
#
# Environment:
#   SKEWS=-3,-2,-1,-0.5,0,0.5,1,2,3   the skews, degrees counter-clockwise
#   BENCH_CPUS=0,1    the cores every tool gets (taskset -c)
#   QUIRE_THREADS=2   OMP_NUM_THREADS / OPENBLAS_NUM_THREADS for quire
#   QUIRE_MODELS      where the models are (else quire's default)
#   BENCH_WORK=DIR    work folder (kept)
#   BENCH_SEED=21     corpus seed
# quire: one `quire run` process over the PNGs, text from results.h5.
# Tesseract: `tesseract PNG OUT -l eng` (psm 3), OMP_THREAD_LIMIT=1, one
# process per core.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
per=${2:-1}
skews=${SKEWS:--3,-2,-1,-0.5,0,0.5,1,2,3}
cpus=${BENCH_CPUS:-0,1}
ncpu=$(awk -F, '{print NF}' <<<"$cpus")
qthreads=${QUIRE_THREADS:-2}
PY=/usr/bin/python3
here=$root/bench/ocr
. "$root/scripts/mpi-env.sh"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
work=${BENCH_WORK:-$(mktemp -d /tmp/quire-bench-skew.XXXXXX)}
mkdir -p "$work"
corpus=$work/corpus
$PY "$root/tests/gen/gen_scans.py" "$corpus" --no-test-sets --skew="$skews" --skew-pages "$per" \
  --seed "${BENCH_SEED:-21}" >&2
truth=$corpus/truth.json
mapfile -t pngs <"$corpus/skew/manifest.txt"
models=()
[ -z "${QUIRE_MODELS:-}" ] || models=(--models "$QUIRE_MODELS")

echo "bench_skew: tesseract on ${#pngs[@]} pages ..." >&2
rm -rf "$work/tesseract"; mkdir -p "$work/tesseract/skew"
export TESS_OUT=$work/tesseract/skew
printf '%s\n' "${pngs[@]}" | $PY "$here/peakrss.py" "$work/tesseract.rss.json" taskset -c "$cpus" \
  env OMP_THREAD_LIMIT=1 xargs -d '\n' -P "$ncpu" -I{} sh -c \
  'tesseract "$1" "$TESS_OUT/$(basename "$1")" -l eng quiet' _ {}

echo "bench_skew: quire on ${#pngs[@]} pages ..." >&2
rm -rf "$work/quire"
OMP_NUM_THREADS=$qthreads OPENBLAS_NUM_THREADS=$qthreads $PY "$here/peakrss.py" \
  "$work/quire.rss.json" taskset -c "$cpus" "$build/quire" run --force --quiet "${models[@]}" \
  --out "$work/quire" --manifest "$corpus/skew/manifest.txt"

for t in quire tesseract; do
  src=$work/$t; [ $t = quire ] && src=$work/quire/results.h5
  $PY "$root/tests/tools/check_ocr.py" "$src" "$truth" --json "$work/$t.score.json" \
    >"$work/$t.score.txt" 2>&1 || true
done

$PY - "$work" "$truth" <<'PYEOF'
import json, os, re, sys
import h5py
work, truth = sys.argv[1:]
docs = json.load(open(truth))["documents"]
q = json.load(open(os.path.join(work, "quire.score.json")))["sets"]
t = json.load(open(os.path.join(work, "tesseract.score.json")))["sets"]
with h5py.File(os.path.join(work, "quire", "results.h5"), "r") as f:
    D, P = f["documents"][()], f["pages"][()]
rec = {}
for p in P:
    path = bytes(D["path"][D["doc"] == p["doc"]][0]).rstrip(b"\0").decode()
    rec[path] = float(p["skew_deg"])
err = {}
for d in docs:
    got = [v for k, v in rec.items() if k.endswith(d["file"])]
    if got:
        err.setdefault(d["set"], []).append(abs(got[0] - d["page_data"][0]["skew"]))
def key(s):
    m = re.match(r"skew([-+0-9.]+)_(\w+)", s)
    return (m.group(2), float(m.group(1)))
print("| layout | skew ° | pages | quire CER | Tesseract CER | quire ÷ Tesseract | quire BoW | Tesseract BoW | skew_deg error ° (max) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
tot = {}
for s in sorted(q, key=key):
    lay, sk = key(s)
    a, b = q[s], t.get(s, {"cer": float("nan"), "bow": float("nan"), "edits": 0, "chars": 0})
    ratio = a["cer"] / b["cer"] if b["cer"] > 0 else float("inf") if a["cer"] > 0 else 1.0
    print("| %s | %+g | %d | %.4f | %.4f | %s | %.4f | %.4f | %.2f |" % (
        lay, sk, a["pages"], a["cer"], b["cer"], "%.2f" % ratio if ratio != float("inf") else "∞",
        a["bow"], b["bow"], max(err.get(s, [float("nan")]))))
    for tool, r in (("quire", a), ("tesseract", b)):
        z = tot.setdefault((lay, tool), [0, 0])
        z[0] += r["edits"]; z[1] += r["chars"]
print()
for lay in ("single", "twocol"):
    if (lay, "quire") in tot:
        qe, qn = tot[(lay, "quire")]; te, tn = tot[(lay, "tesseract")]
        print("all skews, %s: quire CER %.4f, Tesseract %.4f" % (lay, qe / max(qn, 1), te / max(tn, 1)))
PYEOF

real=$root/../shared/corpus/scans/skew.pdf
if [ -f "$real" ]; then
  mkdir -p "$work/real"
  OMP_NUM_THREADS=$qthreads OPENBLAS_NUM_THREADS=$qthreads taskset -c "$cpus" \
    "$build/quire" run --force --quiet "${models[@]}" --out "$work/real/quire" "$real" >&2
  mutool draw -q -r 300 -c gray -o "$work/real/page%d.png" "$real"
  for p in "$work/real"/page*.png; do OMP_THREAD_LIMIT=1 tesseract "$p" "${p%.png}" -l eng quiet; done
  $PY - "$work/real" "$root/tests/tools" "$root/../shared/corpus" <<'PYEOF'
import glob, os, sys
import h5py
sys.path.insert(0, sys.argv[2])
from check_results import doc_text
from textmetrics import cer
w = sys.argv[1]
with h5py.File(os.path.join(w, "quire", "results.h5"), "r") as f:
    P, L, T = f["pages"][()], f["lines"][()], f["text"][()]
qt = doc_text(L, T, 0, len(L))
tt = "\n".join(open(p, encoding="utf-8", errors="replace").read()
               for p in sorted(glob.glob(os.path.join(w, "page*.txt"))))
print("\nshared/corpus/scans/skew.pdf (%d page): quire skew_deg %s; CER between quire's "
      "and Tesseract's texts %.4f (%d and %d characters)" % (
          len(P), ", ".join("%+.2f" % v for v in P["skew_deg"]), cer(qt, tt), len(qt), len(tt)))
ref = os.path.join(sys.argv[3], "gt", "linn.ref-ocr.txt")
if os.path.isfile(ref):   # skew.pdf is linn.png skewed: an approximate reference of its text
    r = open(ref, encoding="utf-8").read()
    print("CER against gt/linn.ref-ocr.txt (approximate): quire %.4f, Tesseract %.4f" % (cer(qt, r), cer(tt, r)))
PYEOF
fi
echo
echo "${#pngs[@]} pages (skews $skews, $per per skew and layout, 300 dpi gray PNG), cores $cpus of $(nproc), $(date -u +%F); load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; work dir $work"

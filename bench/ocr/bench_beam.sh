#!/usr/bin/env bash
# CTC decoding on worn pages: quire's greedy decoding (PaddleOCR's) against
# its beam search with word lists (--decode beam), beside Tesseract 5, on the
# same pages in the same run. Pages: the `degraded` set of
# tests/gen/gen_scans.py (its hardest settings: 200 and 300 dpi, rotation,
# contrast loss, blur, noise, JPEG at quality 35-45, a bilevel G4 TIFF) for
# SEEDS seeds, and the real scans of ../shared/corpus that have a ground truth
# (phototest.tif, English; eurotext.tif, six languages). Prints a Markdown
# table: CER and bag-of-words error per tool and page set, the beam's share of
# recognition time (QUIRE_DECODE_STATS=1: time inside the decoder over time
# in recognition batches, network included), and beam ÷ greedy and quire ÷
# Tesseract on bag-of-words.
#
#   bench/ocr/bench_beam.sh [BUILD_DIR] [SEEDS]          (defaults: build, 3)
#
# Environment: BENCH_CPUS=0,1 (taskset), BENCH_WORK=DIR (kept; the corpus is
# reused), BENCH_REUSE=1 (keep a tool's texts already in BENCH_WORK), QUIRE_MODELS. Generated French and German pages
# (gen_scans.py --lang): bench/ocr/bench_lang.sh.
# quire: `quire text FILE` per document, one thread, as many processes as
# cores; beam rows with the default width (10) and --lang en, and on eurotext
# also --lang en,fr,de,es,it. Tesseract: `tesseract IMAGE - -l eng` per image
# (a PDF's page images taken out with pdfimages), OMP_THREAD_LIMIT=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
seeds=${2:-3}
cpus=${BENCH_CPUS:-0,1}
ncpu=$(awk -F, '{print NF}' <<<"$cpus")
PY=/usr/bin/python3
shared=$root/../shared/corpus

bash "$root/scripts/install-deps.sh" "$root/bench/deps.txt" >&2
load0=$(cut -d' ' -f1-3 /proc/loadavg)
work=${BENCH_WORK:-$(mktemp -d /tmp/quire-bench-beam.XXXXXX)}
mkdir -p "$work"
quire=$build/quire
[ -x "$quire" ] || { echo "bench_beam: no quire at $quire" >&2; exit 1; }
models=()
[ -z "${QUIRE_MODELS:-}" ] || models=(--models "$QUIRE_MODELS")

# the inputs: one line per document, "GROUP<TAB>PATH<TAB>TRUTH" (TRUTH: a
# truth.json whose document has PATH's last two components, or a text file)
list=$work/inputs.tsv
: >"$list"
for s in $(seq 1 "$seeds"); do
  c=$work/corpus/seed$s
  [ -f "$c/truth.json" ] || $PY "$root/tests/gen/gen_scans.py" "$c" --seed $((100 + s)) >&2
  for f in "$c"/degraded/*; do printf 'degraded\t%s\t%s\n' "$f" "$c/truth.json" >>"$list"; done
done
for p in phototest eurotext; do
  [ -f "$shared/scans/$p.tif" ] && printf '%s\t%s\t%s\n' "$p" "$shared/scans/$p.tif" "$shared/gt/$p.txt" >>"$list"
done

export Q_BIN=$quire Q_MODELS="${models[*]}" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# run_tool NAME CMD: CMD reads the document $1 and writes its text to stdout;
# texts into $work/NAME/<n>.txt, stderr into <n>.err
run_tool() {
  local name=$1; shift
  [ -z "${BENCH_REUSE:-}" ] || [ ! -d "$work/$name" ] || return 0
  rm -rf "${work:?}/$name"; mkdir -p "$work/$name"
  echo "bench_beam: $name ..." >&2
  export T_OUT=$work/$name T_CMD="$*" T_LIST=$list
  seq 1 "$(wc -l <"$list")" | taskset -c "$cpus" xargs -P "$ncpu" -I{} sh -c '
    f=$(sed -n "$1p" "$T_LIST" | cut -f2)
    eval "$T_CMD \"\$f\"" >"$T_OUT/$1.txt" 2>"$T_OUT/$1.err" || echo "exit $?" >>"$T_OUT/$1.err"' _ {}
}
QUIRE_DECODE_STATS=1 run_tool greedy '"$Q_BIN" text $Q_MODELS --threads 1 --decode greedy'
QUIRE_DECODE_STATS=1 run_tool beam '"$Q_BIN" text $Q_MODELS --threads 1 --decode beam --lang en'
QUIRE_DECODE_STATS=1 run_tool beam_eu '"$Q_BIN" text $Q_MODELS --threads 1 --decode beam --lang en,fr,de,es,it'
# Tesseract: every page image of a file, text to stdout
cat >"$work/tess.sh" <<'SH'
f=$1
case $f in
  *.pdf) d=$(mktemp -d); pdfimages -all "$f" "$d/p"; for i in "$d"/p-*; do tesseract "$i" - -l eng quiet; done; rm -rf "$d" ;;
  *) tesseract "$f" - -l eng quiet ;;
esac
SH
OMP_THREAD_LIMIT=1 run_tool tesseract "sh $work/tess.sh"

$PY - "$work" "$list" "$root/tests/tools" <<'EOF'
import json, os, re, sys
work, listf, tools = sys.argv[1:]
sys.path.insert(0, tools)
from textmetrics import cer_counts, bow_counts
rows = [l.rstrip("\n").split("\t") for l in open(listf, encoding="utf-8")]
truths = {}
def truth_of(path, t):
    if t.endswith(".json"):
        if t not in truths:
            truths[t] = {d["file"]: d["text"] for d in json.load(open(t, encoding="utf-8"))["documents"]}
        return truths[t]["/".join(path.split("/")[-2:])]
    return open(t, encoding="utf-8").read()
tools_ = ["greedy", "beam", "beam_eu", "tesseract"]
label = {"greedy": "quire, greedy", "beam": "quire, beam --lang en",
         "beam_eu": "quire, beam --lang en,fr,de,es,it", "tesseract": "Tesseract 5 -l eng"}
groups = []
for g, _, _ in rows:
    if g not in groups: groups.append(g)
score, stats = {}, {}
for tool in tools_:
    dec = rec = 0.0
    for i, (g, path, t) in enumerate(rows, 1):
        got = open(os.path.join(work, tool, "%d.txt" % i), encoding="utf-8", errors="replace").read()
        ed, n = cer_counts(got, truth_of(path, t))
        mi, ex, nw = bow_counts(got, truth_of(path, t))
        s = score.setdefault((tool, g), [0, 0, 0, 0])
        s[0] += ed; s[1] += n; s[2] += mi + ex; s[3] += nw
        err = open(os.path.join(work, tool, "%d.err" % i), encoding="utf-8", errors="replace").read()
        for m in re.finditer(r"decoding ([0-9.]+) s of ([0-9.]+) s recognition", err):
            dec += float(m.group(1)); rec += float(m.group(2))
        if "exit " in err:
            print("bench_beam: %s failed on %s: %s" % (tool, path, err.strip().splitlines()[-1]), file=sys.stderr)
    stats[tool] = (dec, rec)
ndocs = {g: sum(r[0] == g for r in rows) for g in groups}
print("| tool | " + " | ".join("CER %s" % g for g in groups) + " | " + " | ".join("BoW %s" % g for g in groups)
      + " | decoding ÷ recognition time |")
print("|---|" + "---:|" * (2 * len(groups) + 1))
for tool in tools_:
    c = ["%.2f %%" % (100 * score[tool, g][0] / max(score[tool, g][1], 1)) for g in groups]
    b = ["%.2f %%" % (100 * score[tool, g][2] / max(score[tool, g][3], 1)) for g in groups]
    dec, rec = stats[tool]
    share = "%.1f %% (%.1f of %.1f s)" % (100 * dec / rec, dec, rec) if rec else "-"
    print("| %s | %s | %s | %s |" % (label[tool], " | ".join(c), " | ".join(b), share))
print()
bow = lambda t, g: score[t, g][2] / max(score[t, g][3], 1)
cer = lambda t, g: score[t, g][0] / max(score[t, g][1], 1)
for g in groups:
    tb = bow("tesseract", g)
    print("%s (%d documents): beam - greedy CER %+.2f points, BoW %+.2f points; BoW beam ÷ Tesseract %s"
          % (g, ndocs[g], 100 * (cer("beam", g) - cer("greedy", g)), 100 * (bow("beam", g) - bow("greedy", g)),
             "%.2f×" % (bow("beam", g) / tb) if tb else "- (Tesseract 0)"))
EOF
echo
echo "documents: $(cut -f1 "$list" | sort | uniq -c | tr '\n' ' '); cores $cpus of $(nproc), $(date -u +%F); load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; work dir $work"

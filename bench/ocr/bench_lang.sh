#!/usr/bin/env bash
# CTC decoding on worn French and German pages: quire greedy, quire's beam
# with the language's word list and with en,fr,de, and Tesseract 5 with the
# language's model, on the same pages in the same run (the English rows and
# the real scans are bench/ocr/bench_beam.sh's). Pages: the `degraded` set of
# `tests/gen/gen_scans.py --lang french|german` (real sentences of Debian's
# French and German man pages, tests/gen/prose.py; the generator's hardest
# settings: 200 and 300 dpi, rotation, contrast loss, blur, noise, JPEG at
# quality 35-45, a bilevel G4 TIFF; 4 documents, 5 pages per seed) for SEEDS
# seeds. Prints a Markdown table: CER and bag-of-words error per tool and
# language, the beam's share of recognition time (QUIRE_DECODE_STATS=1).
#
#   bench/ocr/bench_lang.sh [BUILD_DIR] [SEEDS]          (defaults: build, 1)
#
# Environment: BENCH_CPUS=0,1 (taskset), BENCH_WORK=DIR (kept; pages and
# texts already there are reused, so a run with more seeds only reads the new
# pages), QUIRE_MODELS. Runs under `nice -n 5`.
# quire: `quire text FILE --threads 1` per document, as many processes as
# cores. Tesseract: `tesseract IMAGE - -l fra|deu` per page image (a PDF's
# page images taken out with pdfimages), OMP_THREAD_LIMIT=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
seeds=${2:-1}
cpus=${BENCH_CPUS:-0,1}
ncpu=$(awk -F, '{print NF}' <<<"$cpus")
PY=/usr/bin/python3

bash "$root/scripts/install-deps.sh" "$root/bench/deps.txt" >&2
load0=$(cut -d' ' -f1-3 /proc/loadavg)
ncores=$(nproc --all)
work=${BENCH_WORK:-$(mktemp -d /tmp/quire-bench-lang.XXXXXX)}
mkdir -p "$work"
quire=$build/quire
[ -x "$quire" ] || { echo "bench_lang: no quire at $quire" >&2; exit 1; }
models=()
[ -z "${QUIRE_MODELS:-}" ] || models=(--models "$QUIRE_MODELS")

# the inputs: "LANG<TAB>PATH<TAB>TRUTH<TAB>KEY" (LANG: fr or de; KEY names
# the texts of this document in every tool's folder)
list=$work/inputs.tsv
: >"$list"
for s in $(seq 1 "$seeds"); do
  for lang in french german; do
    code=fr; [ $lang = french ] || code=de
    c=$work/corpus/$lang$s
    [ -f "$c/truth.json" ] || nice -n 5 $PY "$root/tests/gen/gen_scans.py" "$c" --seed $((100 + s)) --lang $lang >&2
    for f in "$c"/degraded/*; do
      printf '%s\t%s\t%s\t%s\n' $code "$f" "$c/truth.json" "$lang${s}_$(basename "$f")" >>"$list"
    done
  done
done

export Q_BIN=$quire Q_MODELS="${models[*]}" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_THREAD_LIMIT=1
export QUIRE_DECODE_STATS=1
# run_tool NAME CMD: CMD reads the document "$f" in language $L (fr, de) and
# writes its text to stdout; texts into $work/NAME/KEY.txt, stderr into
# KEY.err; a document whose text is there already is not read again
run_tool() {
  local name=$1; shift
  mkdir -p "$work/$name"
  echo "bench_lang: $name ..." >&2
  export T_OUT=$work/$name T_CMD="$*"
  taskset -c "$cpus" nice -n 5 xargs -P "$ncpu" -d '\n' -n 1 sh -c '
    L=$(printf "%s" "$1" | cut -f1); f=$(printf "%s" "$1" | cut -f2); k=$(printf "%s" "$1" | cut -f4)
    [ -s "$T_OUT/$k.txt" ] && exit 0
    eval "$T_CMD" >"$T_OUT/$k.tmp" 2>"$T_OUT/$k.err" || echo "exit $?" >>"$T_OUT/$k.err"
    mv "$T_OUT/$k.tmp" "$T_OUT/$k.txt"' _ <"$list"
}
run_tool greedy '"$Q_BIN" text $Q_MODELS --threads 1 --decode greedy "$f"'
run_tool beam '"$Q_BIN" text $Q_MODELS --threads 1 --decode beam --lang $L "$f"'
run_tool beam_eu '"$Q_BIN" text $Q_MODELS --threads 1 --decode beam --lang en,fr,de "$f"'
cat >"$work/tess.sh" <<'SH'
f=$1; l=$2
case $f in
  *.pdf) d=$(mktemp -d); pdfimages -all "$f" "$d/p"; for i in "$d"/p-*; do tesseract "$i" - -l $l quiet; done; rm -rf "$d" ;;
  *) tesseract "$f" - -l $l quiet ;;
esac
SH
run_tool tesseract 'sh "'"$work"'/tess.sh" "$f" $([ $L = fr ] && echo fra || echo deu)'

$PY - "$work" "$list" "$root/tests/tools" <<'EOF'
import json, os, re, sys
work, listf, tools = sys.argv[1:]
sys.path.insert(0, tools)
from textmetrics import cer_counts, bow_counts
rows = [l.rstrip("\n").split("\t") for l in open(listf, encoding="utf-8")]
truths = {}
def truth_of(path, t):
    if t not in truths:
        truths[t] = {d["file"]: d["text"] for d in json.load(open(t, encoding="utf-8"))["documents"]}
    return truths[t]["/".join(path.split("/")[-2:])]
tools_ = ["greedy", "beam", "beam_eu", "tesseract"]
label = {"greedy": "quire, greedy", "beam": "quire, beam --lang fr / de",
         "beam_eu": "quire, beam --lang en,fr,de", "tesseract": "Tesseract 5 -l fra / deu"}
groups = [g for g in ("fr", "de") if any(r[0] == g for r in rows)]
score, stats = {}, {}
for tool in tools_:
    dec = rec = 0.0
    for g, path, t, key in rows:
        got = open(os.path.join(work, tool, key + ".txt"), encoding="utf-8", errors="replace").read()
        ed, n = cer_counts(got, truth_of(path, t))
        mi, ex, nw = bow_counts(got, truth_of(path, t))
        s = score.setdefault((tool, g), [0, 0, 0, 0])
        s[0] += ed; s[1] += n; s[2] += mi + ex; s[3] += nw
        err = open(os.path.join(work, tool, key + ".err"), encoding="utf-8", errors="replace").read()
        for m in re.finditer(r"decoding ([0-9.]+) s of ([0-9.]+) s recognition", err):
            dec += float(m.group(1)); rec += float(m.group(2))
        if "exit " in err:
            print("bench_lang: %s failed on %s: %s" % (tool, path, err.strip().splitlines()[-1]), file=sys.stderr)
    stats[tool] = (dec, rec)
name = {"fr": "French", "de": "German"}
print("| tool | " + " | ".join("CER %s" % name[g] for g in groups) + " | "
      + " | ".join("BoW %s" % name[g] for g in groups) + " | decoding ÷ recognition time |")
print("|---|" + "---:|" * (2 * len(groups) + 1))
cer = lambda t, g: score[t, g][0] / max(score[t, g][1], 1)
bow = lambda t, g: score[t, g][2] / max(score[t, g][3], 1)
for tool in tools_:
    dec, rec = stats[tool]
    share = "%.1f %% (%.1f of %.1f s)" % (100 * dec / rec, dec, rec) if rec else "-"
    print("| %s | %s | %s | %s |" % (label[tool], " | ".join("%.2f %%" % (100 * cer(tool, g)) for g in groups),
                                     " | ".join("%.2f %%" % (100 * bow(tool, g)) for g in groups), share))
print()
for g in groups:
    nd = sum(r[0] == g for r in rows)
    nw = score["greedy", g][3]
    for b in ("beam", "beam_eu"):
        print("%s (%d documents, %d words): %s - greedy CER %+.2f points; BoW %s - Tesseract %+.2f points"
              % (name[g], nd, nw, b, 100 * (cer(b, g) - cer("greedy", g)), b,
                 100 * (bow(b, g) - bow("tesseract", g))))
EOF
echo
echo "documents: $(cut -f1 "$list" | sort | uniq -c | tr '\n' ' '); cores $cpus of $ncores, $(date -u +%F); load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; work dir $work"

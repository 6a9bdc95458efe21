#!/usr/bin/env bash
# The GPU rank runs networks only (issue 13; on the CPU backend here): CPU
# ranks read their pages and send the GPU rank tensors.
#   clientsN  mpirun -np N+2 --gpus 1 over N+1 generated scanned pages: rank 1
#             serves N CPU ranks, runs every page's detection, and the text
#             meets the scans' CER limits (tests/tools/check_ocr.py).
#   timeout   --timeout 2 kills reader children while their requests are in the
#             GPU rank's queue: those documents are timeout records, the text
#             PDFs beside them are read, the job ends by itself, and a rerun
#             without --timeout reads the timed-out pages.
. "$(dirname "$0")/lib.sh"
mode=${1:?usage: split.sh clients1|clients3|clients7|timeout}
w=$E2E_WORK/split-$mode
rm -rf "$w"
mkdir -p "$w"
gpu_line() { grep -oE "r1\] OCR rank: ran [0-9]+ network requests for [0-9]+ ranks \(det [0-9]+" "$1"; }

case $mode in
clients*)
  n=${mode#clients}
  "$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$w/scans" --seed 13 --no-test-sets --bench $((n + 1)) \
    >/dev/null
  quire_np $((n + 2)) --gpus 1 --batch 1 --out "$w/out" --manifest "$w/scans/bench/manifest.txt" \
    >"$w/run.log" 2>&1 || { tail -20 "$w/run.log"; fail "quire run -np $((n + 2)) --gpus 1"; }
  line=$(gpu_line "$w/run.log") || { tail -5 "$w/run.log"; fail "no line of rank 1's networks"; }
  echo "$line"
  [[ $line == *" for $n ranks "* ]] || fail "rank 1 did not serve $n CPU ranks: $line"
  [ "${line##* }" -ge $((n + 1)) ] || fail "rank 1 did not run the detection of the $((n + 1)) pages"
  if grep -E "runs no networks|reading pages here" "$w/run.log"; then fail "a rank read pages itself"; fi
  "$PY" "$TOOLS/check_ocr.py" "$w/out" "$w/scans/truth.json" --max-cer bench_single=0.02 \
    --max-cer bench_twocol=0.03 || fail "the pages' text"
  ;;
timeout)
  "$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$w/scans" --seed 17 --no-test-sets --bench 4 >/dev/null
  mkdir -p "$w/in/bench" # check_ocr.py finds a page's truth by its last two path components
  cp "$w/scans/bench/"*.png "$w/in/bench/"
  cp "$w/scans/src/"*.pdf "$w/in/" # the pages' born-digital sources: text PDFs
  text=$(find "$w/in" -name '*.pdf' | wc -l)
  # 2 s: far less than a scanned page takes here, more than a text PDF does
  bounded 300 "$MPIEXEC" -np 4 "$QUIRE_BIN" run --gpus 1 --batch 1 --timeout 2 --out "$w/out" \
    "$w/in" >"$w/run1.log" 2>&1 || { tail -20 "$w/run1.log"; fail "the run with --timeout 2"; }
  "$PY" - "$w/out/results.h5" "$text" <<'PYEOF' || fail "the statuses after --timeout 2"
import sys, h5py
d = h5py.File(sys.argv[1], "r")["documents"][:]
st = {}
for r in d:
    p = r["path"].decode()
    st.setdefault("png" if p.endswith(".png") else "pdf", []).append(int(r["status"]))
print(st)
assert len(st["png"]) == 4 and len(st["pdf"]) == int(sys.argv[2]), st
assert all(s == 0 for s in st["pdf"]), "a text PDF beside the timed-out scans was not read"
assert any(s != 0 for s in st["png"]), "no scan timed out: the test shows nothing"
PYEOF
  bounded 600 "$MPIEXEC" -np 4 "$QUIRE_BIN" run --gpus 1 --batch 1 --out "$w/out" "$w/in" \
    >"$w/run2.log" 2>&1 || { tail -20 "$w/run2.log"; fail "the rerun"; }
  "$PY" "$TOOLS/check_ocr.py" "$w/out" "$w/scans/truth.json" --max-cer bench_single=0.02 \
    --max-cer bench_twocol=0.03 || fail "the timed-out pages read again"
  ;;
*) fail "unknown mode $mode" ;;
esac
echo "ok: split $mode"

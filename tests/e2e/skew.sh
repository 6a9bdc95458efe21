#!/usr/bin/env bash
# Skewed scans end to end (issue 14, item 1): `mpirun -np 3 quire run --gpus 0`
# over 8 clean 300-dpi pages that gen_scans.py turned by -3, -1, +0.7 and +2
# degrees, single- and two-column, then per page: CER (check_ocr.py, one set
# per skew and layout) <= 1 % single-column and <= 3 % two-column, and the
# recorded /pages skew_deg within 0.3 degrees of the generated skew. Lines of
# a skewed page read in the wrong order cost tens of percent of CER, so the
# limits test the order in the deskewed frame as much as the reading.
# Needs the models (QUIRE_MODELS or ~/.cache/quire/models; models/fetch.sh).
#
# Outside CTest:  QUIRE_BIN=build/quire QUIRE_SRC=$PWD E2E_WORK=/tmp/e2e-skew bash tests/e2e/skew.sh
. "$(dirname "$0")/lib.sh"
scans=$E2E_WORK/scans-skew
out=$E2E_WORK/out-skew
rm -rf "$out"
mkdir -p "$E2E_WORK"
skews=-3,-1,0.7,2
"$PY" "$QUIRE_SRC/tests/gen/gen_scans.py" "$scans" --seed 14 --no-test-sets --skew="$skews"
quire_np 3 --gpus 0 --out "$out" --manifest "$scans/skew/manifest.txt"
"$PY" "$TOOLS/check_schema.py" "$out/results.h5"
limits=()
for s in ${skews//,/ }; do
  set_name=skew$(printf '%+g' "$s")
  limits+=(--max-cer "${set_name}_single=0.01" --max-cer "${set_name}_twocol=0.03")
done
"$PY" "$TOOLS/check_ocr.py" "$out" "$scans/truth.json" -v "${limits[@]}" ||
  fail "CER above the limits on skewed pages"
"$PY" - "$out/results.h5" "$scans/truth.json" <<'PYEOF' || fail "skew_deg off"
import json, sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    docs, pages = f["documents"][()], f["pages"][()]
truth = {d["file"]: d["page_data"][0]["skew"] for d in json.load(open(sys.argv[2]))["documents"]}
bad = 0
for p in pages:
    path = bytes(docs["path"][docs["doc"] == p["doc"]][0]).rstrip(b"\0").decode()
    want = [v for k, v in truth.items() if path.endswith(k)][0]
    ok = abs(p["skew_deg"] - want) <= 0.3
    bad += not ok
    print("%-40s skew %+.2f recorded %+.3f %s" % (path[-40:], want, p["skew_deg"], "ok" if ok else "OFF"))
sys.exit(1 if bad or len(pages) != len(truth) else 0)
PYEOF
echo "skew: ok"

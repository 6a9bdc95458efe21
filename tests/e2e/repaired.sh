#!/usr/bin/env bash
# Repaired inputs are visible (issue 15, item 7): a PDF whose xref offsets are
# all wrong, which MuPDF repairs, is read (status ok, its lines extracted) and
# its /documents row says so: warnings > 0 and a warning "repaired: ...". A
# sound PDF beside it has no warning. Made by tests/gen/small_pdfs.py.
. "$(dirname "$0")/lib.sh"
w=$E2E_WORK/repaired
rm -rf "$w"
mkdir -p "$w"
"$PY" "$QUIRE_SRC/tests/gen/small_pdfs.py" "$w/in"
rc=0
quire_np 1 --out "$w/out" "$w/in/repaired.pdf" "$w/in/good-1.pdf" >"$w/log" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$w/log"; fail "exit $rc"; }
"$PY" "$TOOLS/check_schema.py" "$w/out/results.h5"
"$PY" - "$w/out/results.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["documents"][:]
    names = {v: k for k, v in h5py.check_enum_dtype(f["documents"].dtype["status"]).items()}
    lines, text = f["lines"][:], f["text"][:].tobytes()
rep, good = d[0], d[1]
assert rep["path"].decode().endswith("repaired.pdf"), rep["path"]
warning = rep["warning"].decode()
print("repaired.pdf: %s, %d warnings: %s" % (names[int(rep["status"])], rep["warnings"], warning))
assert names[int(rep["status"])] == "ok" and rep["error"] == b"", rep
assert rep["warnings"] > 0 and warning.startswith("repaired: "), warning
got = [text[l["text_start"]:l["text_start"] + l["text_len"]].decode()
       for l in lines[lines["doc"] == rep["doc"]]]
assert got == ["repaired line %d" % k for k in range(1, 6)], got
assert names[int(good["status"])] == "ok" and good["warnings"] == 0 and good["warning"] == b"", good
PYEOF
echo "repaired: ok"

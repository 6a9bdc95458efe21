#!/usr/bin/env bash
# The reader process's limits (issue 15, Deliver 1): a document whose reader
# hangs deaf to the deadline is killed by its parent within a second of
# --timeout (status timeout, every page accounted for), and a document that
# needs more memory than --max-memory fails with "out of memory", retryable;
# the other documents of the same runs are read as usual and the job exits 0.
. "$(dirname "$0")/lib.sh"
src=$E2E_WORK/bulk-reader
rm -rf "$src"
"$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" "$src" --seed 5 --docs 8 >/dev/null
victim=$(cd "$src/docs" && ls | sed -n 3p)

out=$E2E_WORK/out-reader-hang
rm -rf "$out"
t0=$(date +%s)
QUIRE_TEST_HANG_PATH=$victim bounded 120 "$MPIEXEC" -x QUIRE_TEST_HANG_PATH -np 2 "$QUIRE_BIN" \
  run --timeout 2 --out "$out" "$src/docs" >"$out.log" 2>&1 || { cat "$out.log"; fail "hang run: exit $?"; }
"$PY" - "$out/results.h5" "$victim" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["documents"][:]
    p = f["pages"][:]
    st = {v: k for k, v in h5py.check_enum_dtype(f["documents"].dtype.fields["status"][0]).items()}
assert len(d) == 8, len(d)
for r in d:
    name = r["path"].decode()
    if name.endswith(sys.argv[2]):
        err = r["error"].decode()
        assert st[int(r["status"])] == "timeout", (name, err)
        assert err.startswith("timeout after") and "reading stopped" in err, err
        # killed within a second of the limit (2 s), not whenever it returns
        assert 2.0 <= r["seconds"] <= 3.0, r["seconds"]
        rows = p[p["doc"] == r["doc"]]
        assert len(rows) == r["pages"], ("pages without rows", len(rows), r["pages"])
        if "retryable" in d.dtype.names:
            assert r["retryable"] == 1
        print("hung reader:", err, "%.2f s" % r["seconds"])
    else:
        assert st[int(r["status"])] != "timeout", (name, r["error"])
PYEOF

# 400 megapixels of white, a tiny G4 TIFF: decoding it takes 400 MB
big=$E2E_WORK/reader-big
rm -rf "$big" && mkdir -p "$big"
"$PY" - "$big/huge.tif" <<'PYEOF'
import sys
from PIL import Image
Image.new("1", (20000, 20000), 1).save(sys.argv[1], compression="group4", dpi=(300, 300))
PYEOF
cp "$src/docs/$(cd "$src/docs" && ls | grep pdf | head -1)" "$big/"
out=$E2E_WORK/out-reader-mem
rm -rf "$out"
bounded 120 "$MPIEXEC" -np 1 "$QUIRE_BIN" run --max-memory 200M --max-pixels 1e9 --out "$out" \
  "$big" >"$out.log" 2>&1 || { cat "$out.log"; fail "memory run: exit $?"; }
"$PY" - "$out/results.h5" <<'PYEOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["documents"][:]
    st = {v: k for k, v in h5py.check_enum_dtype(f["documents"].dtype.fields["status"][0]).items()}
assert len(d) == 2, len(d)
for r in d:
    name, err = r["path"].decode(), r["error"].decode()
    if name.endswith("huge.tif"):
        assert st[int(r["status"])] == "error" and "out of memory" in err, err
        assert "--max-memory" in err, err
        if "retryable" in d.dtype.names:
            assert r["retryable"] == 1
        print("over --max-memory:", err)
    else:
        assert st[int(r["status"])] == "ok", (name, err)
PYEOF

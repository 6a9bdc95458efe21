#!/usr/bin/env bash
# --timeout end to end: with a limit no document can meet, the documents that
# have pages to work on end as status=timeout with "timeout after ..." as the
# reason (MuPDF's cookie abort inside a page, the check between pages
# elsewhere); the job still exits 0 and every input has exactly one record.
. "$(dirname "$0")/lib.sh"
out=$E2E_WORK/out-timeout
rm -rf "$out"
quire_np 3 --timeout 0.000001 --out "$out" "$(corpus_dir)" >"$out.log" 2>&1 || { cat "$out.log"; fail "exit $?"; }
"$PY" - "$out/results.h5" "$(corpus_dir)/truth.json" <<'PYEOF'
import json, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["documents"][:]
    names = {v: k for k, v in h5py.check_enum_dtype(f["documents"].dtype.fields["status"][0]).items()}
status = [names[int(s)] for s in d["status"]]
docs = d["doc"].tolist()
assert len(docs) == len(set(docs)), "a document has two records"
ok_truth = sum(1 for t in json.load(open(sys.argv[2]))["documents"] if t["status"] == "ok")
n_to = status.count("timeout")
print("statuses:", {s: status.count(s) for s in set(status)})
assert n_to >= ok_truth // 2, "only %d of %d good documents timed out" % (n_to, ok_truth)
for row, s in zip(d, status):
    if s == "timeout":
        err = row["error"].decode()
        assert err.startswith("timeout after"), err
    assert s != "ok" or row["pages"] == 0, "%s finished within 1 us" % row["path"].decode()
PYEOF

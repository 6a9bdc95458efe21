#!/usr/bin/env bash
# Fixture: a generated corpus big enough to be stopped mid-run, and a manifest of it.
. "$(dirname "$0")/lib.sh"
c=$(slurm_corpus)
rm -rf "$c"
"$PY" "$QUIRE_SRC/tests/gen/gen_corpus.py" "$c" --seed 17 --docs 240 >/dev/null
"$PY" - "$c" >"$(slurm_manifest)" <<'PYEOF'
import json, os, sys
for d in json.load(open(os.path.join(sys.argv[1], "truth.json")))["documents"]:
    print(os.path.join(sys.argv[1], d["file"]))
PYEOF
wc -l "$(slurm_manifest)"

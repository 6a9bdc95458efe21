#!/usr/bin/env bash
# Documents by identity (issue 16, item 1): a rerun over inputs that gained a
# file reads only that one; a removed file leaves results.h5; a changed or
# touched file is read again; a file listed twice is read once; a journal
# from before the input table still resumes; --slice refuses to rewrite the
# journal; a rewrite killed at each of its steps is recovered by the rerun.
# ids in results.h5 are always 0..n-1 in input order, the text of every
# document is its own. Tiny generated PDFs: seconds, not minutes.
. "$(dirname "$0")/lib.sh"
w=$E2E_WORK/ident
out=$w/out
rm -rf "$w"
mkdir -p "$w/in"

mk() { # mk NAME [TAG]: in/NAME.pdf with lines "doc TAG line K" (TAG defaults to NAME)
  "$PY" - "$w/in/$1.pdf" "${2:-$1}" <<'PYEOF'
import sys
sys.path.insert(0, __import__("os").environ["QUIRE_SRC"] + "/tests/gen")
from small_pdfs import pdf
open(sys.argv[1], "wb").write(pdf(["doc %s line %d" % (sys.argv[2], k) for k in (1, 2, 3)]))
PYEOF
}
run() { # run NAME NP ARGS...: quire run into $out (log in $w/NAME.log), must exit 0
  local name=$1 np=$2 rc=0
  shift 2
  quire_np "$np" --out "$out" "$@" >"$w/$name.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$w/$name.log"; fail "$name: exit $rc"; }
  grep -v "progress:" "$w/$name.log"
}
read_this_run() { # read_this_run NAME N: the run read N documents
  grep -Eq "done: [0-9]+ documents in .*\($2 this run," "$w/$1.log" ||
    fail "$1: want $2 documents read in this run"
}
said() { # said NAME TEXT: the log of run NAME has TEXT
  grep -qF -- "$2" "$w/$1.log" || fail "$1: the log does not say '$2'"
}
# expect PREV|- NAME:TAG...: results.h5 holds these documents in this order,
# ids 0..n-1, each with its own text; with PREV (an earlier results.h5), a
# document that PREV has with the same path and text kept its seconds and rank
# (carried over, not read again) unless named in $REREAD
expect() {
  "$PY" - "$out/results.h5" "$@" <<'PYEOF'
import os, sys, h5py
def load(p):
    with h5py.File(p, "r") as f:
        d, l, t = f["documents"][:], f["lines"][:], f["text"][:].tobytes()
    docs = {}
    for r in d:
        mine = l[l["doc"] == r["doc"]]
        text = [t[x["text_start"]:x["text_start"] + x["text_len"]].decode() for x in mine]
        docs[int(r["doc"])] = (r["path"].decode(), text, float(r["seconds"]), int(r["rank"]))
    return d, docs
d, docs = load(sys.argv[1])
prev = None if sys.argv[2] == "-" else load(sys.argv[2])[1]
want = [a.split(":") for a in sys.argv[3:]]
reread = set(os.environ.get("REREAD", "").split())
assert d["doc"].tolist() == list(range(len(want))), ("ids", d["doc"].tolist())
for i, (name, tag) in enumerate(want):
    path, text, sec, rank = docs[i]
    assert path.endswith("/" + name + ".pdf"), (i, path, name)
    assert text == ["doc %s line %d" % (tag, k) for k in (1, 2, 3)], (i, text)
    if prev is not None and name not in reread:
        old = [v for v in prev.values() if v[0] == path and v[1] == text]
        assert not old or (old[0][2], old[0][3]) == (sec, rank), ("not carried over", name)
print("results.h5:", " ".join(sys.argv[3:]))
PYEOF
}
snap() { cp "$out/results.h5" "$w/$1.h5"; }

for n in b d f; do mk $n; done
run first 3 "$w/in"
expect - b:b d:d f:f
snap first

# grow: c sorts between b and d; only c is read
mk c
run grow 3 "$w/in"
said grow "inputs changed since the last run: 1 new, 0 removed (dropped from results.h5), 0 changed (read again); 3 unchanged kept"
read_this_run grow 1
expect "$w/first.h5" b:b c:c d:d f:f
snap grow

# the same inputs again: nothing read, nothing rewritten
shards=$(ls "$out/journal")
run same 1 "$w/in"
read_this_run same 0
[ "$(ls "$out/journal")" = "$shards" ] || fail "same: the journal was rewritten"
grep -q "inputs changed" "$w/same.log" && fail "same: says the inputs changed"

# shrink: d removed; nothing read, results.h5 without it, ids dense
rm "$w/in/d.pdf"
run shrink 3 "$w/in"
said shrink "0 new, 1 removed (dropped from results.h5), 0 changed (read again); 3 unchanged kept"
read_this_run shrink 0
expect "$w/grow.h5" b:b c:c f:f
snap shrink

# change: f rewritten (new size), c only touched (new time): both read again
mk f f2
touch -d "2001-01-01" "$w/in/c.pdf"
run change 3 "$w/in"
said change "0 new, 0 removed (dropped from results.h5), 2 changed (read again); 1 unchanged kept"
read_this_run change 2
REREAD="c f" expect "$w/shrink.h5" b:b c:c f:f2
snap change

# a file listed twice, once more through another path and once through a
# symbolic link in a walked folder: read once, kept at its first place
mkdir -p "$w/alias"
ln -s ../in/f.pdf "$w/alias/f-link.pdf"
run repeated 1 "$w/in" "$w/in/b.pdf" "$w/in/../in/c.pdf" "$w/alias"
said repeated "3 repeated inputs listed once"
read_this_run repeated 0
expect "$w/change.h5" b:b c:c f:f2

# a journal from before the input table: matched by path and size, resumed
rm "$out/journal/inputs.qit"
run old 3 "$w/in"
said old "predates its input table: 3 documents matched by path and size"
read_this_run old 0
expect "$w/change.h5" b:b c:c f:f2
# ... and one with a change: a is new and sorts first, every id moves
rm "$out/journal/inputs.qit"
mk a
run old-grow 1 "$w/in"
said old-grow "1 new, 0 removed (dropped from results.h5), 0 changed (read again); 3 unchanged kept"
read_this_run old-grow 1
expect "$w/change.h5" a:a b:b c:c f:f2
snap old-grow

# --slice with changed inputs: refused, the journal untouched
mk e
before=$(cd "$out/journal" && md5sum -- *)
set +e
quire_np 1 --out "$out" --slice 0/2 "$w/in" >"$w/slice.log" 2>&1
rc=$?
set -e
expect_fatal slice "$w/slice.log" "$rc" "run once without --slice"
[ "$(cd "$out/journal" && md5sum -- *)" = "$before" ] || fail "slice: the journal changed"
[ ! -e "$out/journal-remap" ] || fail "slice: a rewrite was started"
rm "$w/in/e.pdf"

# a rewrite killed at each step (rank 0 gets SIGKILL): the rerun finds a
# whole journal and reads only the file added (a1, a2, a3 sort before b, so
# each moves the ids of b, c, f: a rewrite). At "built" the old journal is
# still the live one and the rerun rewrites it again; at "moved" and
# "switched" the new journal is complete and becomes (stays) the live one.
k=1
for step in built moved switched; do
  mk "a$k"
  set +e
  QUIRE_TEST_REMAP_KILL=$step quire_np 1 --out "$out" "$w/in" >"$w/kill-$step.log" 2>&1
  rc=$?
  set -e
  [ "$rc" != 0 ] || fail "kill at $step: the hook did not fire"
  [ -d "$out/journal-remap" ] || fail "kill at $step: nothing left over to recover"
  run "after-$step" 3 "$w/in"
  said "after-$step" "a rewrite of $out/journal for changed inputs was interrupted"
  [ -d "$out/journal-remap" ] && fail "after $step: leftover still there"
  read_this_run "after-$step" 1
  k=$((k + 1))
done
expect "$w/old-grow.h5" a:a a1:a1 a2:a2 a3:a3 b:b c:c f:f2

# --force still starts over
run force 2 --force "$w/in"
read_this_run force 7
expect - a:a a1:a1 a2:a2 a3:a3 b:b c:c f:f2
"$PY" "$TOOLS/check_schema.py" "$out/results.h5"
echo "ident: ok"

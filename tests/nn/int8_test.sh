#!/bin/sh
# quire nn --precision int8: bad options and tables are clear errors, and on
# real inputs -- the lines quire itself cuts from a generated page and feeds
# the recognizer -- the int8 recognizer picks the fp32 one's class at nearly
# every time step (bounds: 98 % of the steps and of the non-blank ones;
# measured on seed 301 with every 1x1 conv in int8: 98.9 % and 99.1 %; the
# table was calibrated on other pages, see models/int8/*.txt; its text against
# the truth of whole pages is in bench/RESULTS.md). QUIRE_BIN and PYTHON are
# set by tests/CMakeLists.txt; MODELS is models/cache. Exits 77 (skipped) without the models.
set -u
Q=${QUIRE_BIN:?}
PY=${PYTHON:-/usr/bin/python3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
check() { # expected-status description grep-pattern command...
    want=$1; what=$2; pat=$3; shift 3
    "$@" >/dev/null 2>int8_err.txt; got=$?
    if [ "$got" != "$want" ]; then echo "FAIL $what: exit $got, want $want"; cat int8_err.txt; fail=1; fi
    if [ -n "$pat" ] && ! grep -q "$pat" int8_err.txt; then echo "FAIL $what: no '$pat' in:"; cat int8_err.txt; fail=1; fi
}
check 2 "unknown precision" "fp32 or int8" "$Q" nn m.onnx --input x.npy --output y.npy --precision int4
REC=${MODELS:-}/ch_PP-OCRv4_rec_infer.onnx
CLS=${MODELS:-}/ch_ppocr_mobile_v2.0_cls_infer.onnx
[ -f "$REC" ] && [ -f "$CLS" ] || { echo "no models in '${MODELS:-}': skipped"; exit 77; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# a cls-sized input; the classifier has no built-in table
"$PY" -c "import numpy as n; n.save('$W/cls.npy', n.random.rand(1,3,48,192).astype(n.float32))"
check 1 "no table for the model" "no int8 scales for this model" \
    "$Q" nn "$CLS" --input "$W/cls.npy" --output "$W/y.npy" --precision int8
# the recognizer's built-in table given for the classifier: another model's hash
TABLE=$ROOT/models/int8/ch_PP-OCRv4_rec_infer.txt
check 1 "another model's table" "not this one" \
    "$Q" nn "$CLS" --input "$W/cls.npy" --output "$W/y.npy" --precision int8 --int8-table "$TABLE"
check 1 "missing table" "cannot open int8 table" \
    "$Q" nn "$REC" --input "$W/cls.npy" --output "$W/y.npy" --precision int8 --int8-table "$W/none"
sed 's/ int8/ int9/' "$TABLE" >"$W/bad.txt"
check 1 "bad precision in the table" "expected 'OUTPUT LO HI int8|int8x2|fp32'" \
    "$Q" nn "$REC" --input "$W/cls.npy" --output "$W/y.npy" --precision int8 --int8-table "$W/bad.txt"
grep '^sha256' "$TABLE" >"$W/x.txt"; echo "x 0 1 int8" >>"$W/x.txt"
check 1 "a name that is no 1x1 conv" "is not a 1x1 conv" \
    "$Q" nn "$REC" --input "$W/cls.npy" --output "$W/y.npy" --precision int8 --int8-table "$W/x.txt"

# real inputs: a generated degraded page (seed 301: not a calibration page)
"$PY" "$ROOT/tests/gen/gen_scans.py" "$W/c" --seed 301 >/dev/null 2>&1 ||
    { echo "FAIL gen_scans.py"; exit 1; }
PAGE=$W/c/degraded/page_200.png
mkdir "$W/in"
QUIRE_NN_SAVE_INPUTS=$W/in "$Q" text "$PAGE" --threads 1 >/dev/null 2>"$W/text.err" ||
    { echo "FAIL quire text"; cat "$W/text.err"; exit 1; }
# QUIRE_NN_CALIBRATE writes a table naming the model's hash
X=$(ls "$W"/in/ch_PP-OCRv4_rec_infer-*.npy | head -1)
QUIRE_NN_CALIBRATE=$W/cal.txt "$Q" nn "$REC" --input "$X" --output "$W/y.npy" ||
    { echo "FAIL calibration run"; fail=1; }
grep -q "^sha256 $(sha256sum "$REC" | cut -d' ' -f1)\$" "$W/cal.txt" ||
    { echo "FAIL the calibration table does not name the model's sha256"; fail=1; }
n=0
for X in "$W"/in/ch_PP-OCRv4_rec_infer-*.npy; do
    n=$((n + 1))
    "$Q" nn "$REC" --input "$X" --output "$W/f$n.npy" 2>>"$W/nn.err" &&
        "$Q" nn "$REC" --input "$X" --output "$W/q$n.npy" --precision int8 2>>"$W/nn.err" ||
        { echo "FAIL quire nn on $X"; cat "$W/nn.err"; exit 1; }
done
"$PY" - "$W" "$n" <<'PYEOF' || fail=1
import sys
import numpy as np
w, n = sys.argv[1], int(sys.argv[2])
same = steps = ink_same = ink = 0
for i in range(1, n + 1):
    f, q = np.load("%s/f%d.npy" % (w, i)), np.load("%s/q%d.npy" % (w, i))
    fa, qa = f.argmax(-1), q.argmax(-1)
    same += int((fa == qa).sum()); steps += fa.size
    ink_same += int(((fa == qa) & (fa != 0)).sum()); ink += int((fa != 0).sum())
print("int8 vs fp32 on %d recognizer inputs: argmax agrees on %.4f of %d steps, %.4f of %d non-blank"
      % (n, same / steps, steps, ink_same / max(ink, 1), ink))
if steps == 0 or same / steps < 0.98 or ink_same / max(ink, 1) < 0.98:
    print("FAIL int8 recognizer disagrees with fp32 too often (bounds: 0.98 of all steps and non-blank)")
    sys.exit(1)
PYEOF

# In int8 a crop's output does not depend on the batch it comes in (each
# layer quantizes per pixel or per row): a crop alone and the same crop first
# in a batch of two give the same probabilities. A batch of one once ran its
# classifier in fp32 (its A had stride 0), 0.03 apart.
X=$(ls "$W"/in/ch_PP-OCRv4_rec_infer-*.npy | head -1)
"$PY" -c "import numpy as n; x = n.load('$X')[:1]; n.save('$W/b1.npy', x); n.save('$W/b2.npy', n.concatenate([x, x[:, :, ::-1]]))"
for b in 1 2; do
    "$Q" nn "$REC" --input "$W/b$b.npy" --output "$W/yb$b.npy" --precision int8 2>>"$W/nn.err" ||
        { echo "FAIL quire nn on a batch of $b"; cat "$W/nn.err"; exit 1; }
done
"$PY" - "$W" <<'PYEOF' || fail=1
import sys
import numpy as np
w = sys.argv[1]
d = float(np.abs(np.load(w + "/yb1.npy")[0] - np.load(w + "/yb2.npy")[0]).max())
print("int8: a crop alone vs first in a batch of two: max difference %.3g" % d)
if d > 1e-6:
    print("FAIL the int8 recognizer's output depends on the batch")
    sys.exit(1)
PYEOF
exit $fail

#!/usr/bin/python3
"""Compare a model output of quire against ONNX Runtime's.

Usage: /usr/bin/python3 tests/parity/compare.py KIND REF.npy TEST.npy [--tol T] [--name NAME]
                                                  [--exact EXACT.npy [--exact-tol E]]

KIND is det, rec or cls:
  det  probability map [N,1,H,W]: max |test - ref| <= T.
  rec  softmax [N,T,6625], cls softmax [N,2]: max |test - ref| <= T, and the argmax
       over the last axis (per time step for rec) identical everywhere, because
       CTC decoding and the 180-degree decision use exactly that.
T defaults to 1e-4. With --exact, EXACT.npy is the float64 evaluation of the model
(onnx_ref.py): TEST must also be within E (default 1e-4) of it, and the distance of
both TEST and REF from it is printed, which tells which engine a difference comes
from. Prints one line with the measured differences; exit status 0 when
all checks pass, 1 when one fails (the reasons follow on stderr), 2 on bad usage or
unreadable files.

Needs /usr/bin/python3 with numpy (Debian python3-numpy).
"""
import argparse
import sys

import numpy as np


def load(path):
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy raises several kinds for bad files
        sys.stderr.write(f"compare.py: error: cannot read {path}: {e}\n")
        sys.exit(2)
    return a


def main():
    ap = argparse.ArgumentParser(description="compare a model output against ONNX Runtime's")
    ap.add_argument("kind", choices=["det", "rec", "cls"])
    ap.add_argument("ref")
    ap.add_argument("test")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--name", default=None)
    ap.add_argument("--exact", default=None, help="float64 reference output (onnx_ref.py)")
    ap.add_argument("--exact-tol", type=float, default=1e-4)
    args = ap.parse_args()
    name = args.name or args.test
    ref, test = load(args.ref), load(args.test)

    fails = []
    if ref.shape != test.shape:
        print(f"{name}: FAIL shape {test.shape}, ONNX Runtime gives {ref.shape}")
        return 1
    if test.dtype != np.float32:
        fails.append(f"dtype {test.dtype}, expected float32")
    ref = ref.astype(np.float64)
    test = test.astype(np.float64)
    if not np.all(np.isfinite(test)):
        fails.append(f"{int(np.sum(~np.isfinite(test)))} non-finite values")
        test = np.nan_to_num(test, nan=np.inf)

    diff = np.abs(test - ref)
    maxdiff = float(diff.max()) if diff.size else 0.0
    where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    msg = f"{name}: {args.kind} shape {list(ref.shape)} max_abs_diff={maxdiff:.3g} at {list(map(int, where))}"
    if not maxdiff <= args.tol:
        fails.append(f"max abs diff {maxdiff:.3g} > tolerance {args.tol:g}")

    if args.exact:
        exact = load(args.exact).astype(np.float64)
        if exact.shape != ref.shape:
            print(f"{name}: FAIL float64 reference shape {list(exact.shape)}, expected {list(ref.shape)}")
            return 1
        ex_test = float(np.abs(test - exact).max()) if exact.size else 0.0
        ex_ref = float(np.abs(ref - exact).max()) if exact.size else 0.0
        msg += f" vs_float64: test={ex_test:.3g} ref={ex_ref:.3g}"
        if not ex_test <= args.exact_tol:
            fails.append(f"max abs diff {ex_test:.3g} from the float64 evaluation > {args.exact_tol:g}")

    if args.kind == "det":
        # Informational: pixels on different sides of the 0.3 binarization threshold
        # PaddleOCR applies (what a small difference can actually change downstream).
        msg += f" binary_map_mismatch={int(np.sum((ref > 0.3) != (test > 0.3)))}"

    if args.kind in ("rec", "cls"):
        am_ref = ref.argmax(axis=-1)
        am_test = test.argmax(axis=-1)
        bad = np.argwhere(am_ref != am_test)
        msg += f" argmax_mismatch={len(bad)}/{am_ref.size}"
        if len(bad):
            # Show a few, with ONNX Runtime's margin between the two classes: a tiny
            # margin means a near tie, a large one a real error.
            ex = []
            for idx in bad[:5]:
                t = tuple(idx)
                r, q = int(am_ref[t]), int(am_test[t])
                ex.append(f"{list(map(int, idx))}: ort {r} ({ref[t + (r,)]:.6f}) vs {q} ({ref[t + (q,)]:.6f})")
            fails.append(f"argmax differs at {len(bad)} of {am_ref.size} positions: " + "; ".join(ex))

    print(msg + (" FAIL" if fails else " ok"))
    for f in fails:
        sys.stderr.write(f"  {name}: {f}\n")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Calibrates a model's int8 scales table (models/int8/) on pages the project generates.

    scripts/int8_calibrate.py [--quire build/quire] [--model PATH] [--out TABLE]
                              [--work DIR] [--seeds N] [--max-inputs N] [--tol X]

1. Pages: tests/gen/gen_scans.py, seeds 201.. (the benchmarks use 101..: the
   calibration pages are not the pages the accuracy is measured on), its clean300
   and degraded sets.
2. Inputs: `quire text` on every page with QUIRE_NN_SAVE_INPUTS, which saves each
   tensor a model runs on; the ones of --model (by file stem) are the lines quire
   itself cut and fed it. Half calibrate, half (every other one) evaluate.
3. Ranges: `quire nn --precision fp32` on the calibration inputs with
   QUIRE_NN_CALIBRATE records the input range of every 1x1 conv.
4. Per layer: each conv alone in int8 (a one-layer table), run on the evaluation
   inputs; its error is the output's normalised squared error against fp32 and the
   share of time steps whose arg-max class changed. A layer whose nmse is above
   --tol stays fp32.
5. The table: every conv with its range, int8 or fp32, and its measured error; the
   whole table's error on the evaluation inputs goes into the header.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env=None, quiet=True):
    e = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    r = subprocess.run(cmd, env=e, stdout=subprocess.PIPE if quiet else None,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode:
        sys.exit("int8_calibrate: %s failed: %s" % (" ".join(cmd[:3]), r.stderr.strip()[-500:]))
    return r


def read_table(path):
    """(sha256 line, [(name, lo, hi, prec)])"""
    sha, rows = None, []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("sha256 "):
            sha = line
            continue
        f = line.split()
        rows.append((f[0], float(f[1]), float(f[2]), f[3]))
    return sha, rows


def write_table(path, sha, rows, header, errs=None):
    with open(path, "w") as f:
        for h in header:
            f.write("# %s\n" % h)
        f.write("%s\n" % sha)
        f.write("# conv-output  input-min  input-max  precision  [layer alone: nmse, argmax changed]\n")
        for name, lo, hi, prec in rows:
            extra = "  %.3g %.4f" % errs[name] if errs and name in errs else ""
            f.write("%s %.9g %.9g %s%s\n" % (name, lo, hi, prec, extra))


def outputs(quire, model, inputs, outdir, table=None):
    os.makedirs(outdir, exist_ok=True)
    res = []
    for i, x in enumerate(inputs):
        y = os.path.join(outdir, "%d.npy" % i)
        cmd = [quire, "nn", model, "--input", x, "--output", y]
        if table:
            cmd += ["--precision", "int8", "--int8-table", table]
        run(cmd)
        res.append(np.load(y))
    return res


def compare(got, want):
    """(nmse, share of time steps whose arg-max changed, same over non-blank steps)"""
    num = den = 0.0
    changed = steps = changed_ink = ink = 0
    for g, w in zip(got, want):
        num += float(((g - w) ** 2).sum())
        den += float((w ** 2).sum())
        ga, wa = g.argmax(-1), w.argmax(-1)
        changed += int((ga != wa).sum())
        steps += wa.size
        ink += int((wa != 0).sum())
        changed_ink += int(((ga != wa) & (wa != 0)).sum())
    return num / den, changed / steps, changed_ink / max(ink, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quire", default=os.path.join(ROOT, "build", "quire"))
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/quire/models/ch_PP-OCRv4_rec_infer.onnx"))
    ap.add_argument("--out", default=None, help="table path (default models/int8/STEM.txt)")
    ap.add_argument("--work", default="/tmp/quire-int8-calib")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--max-inputs", type=int, default=60)
    ap.add_argument("--tol", type=float, default=1e-3, help="largest nmse of a layer in int8")
    a = ap.parse_args()
    stem = os.path.basename(a.model).rsplit(".onnx", 1)[0]
    out = a.out or os.path.join(ROOT, "models", "int8", stem + ".txt")
    w = a.work
    os.makedirs(w, exist_ok=True)

    pages = []
    for s in range(1, a.seeds + 1):
        c = os.path.join(w, "corpus", "seed%d" % s)
        if not os.path.exists(os.path.join(c, "truth.json")):
            run([sys.executable, os.path.join(ROOT, "tests", "gen", "gen_scans.py"), c, "--seed", str(200 + s)])
        pages += sorted(glob.glob(os.path.join(c, "clean300", "*")) + glob.glob(os.path.join(c, "degraded", "*")))
    saved = os.path.join(w, "inputs")
    if not glob.glob(os.path.join(saved, stem + "-*.npy")):
        os.makedirs(saved, exist_ok=True)
        for p in pages:
            run([a.quire, "text", p, "--threads", "1"], env={"QUIRE_NN_SAVE_INPUTS": saved})
    inputs = sorted(glob.glob(os.path.join(saved, stem + "-*.npy")),
                    key=lambda f: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", f)])
    inputs = inputs[: 2 * a.max_inputs]
    calib, evals = inputs[0::2], inputs[1::2]
    print("int8_calibrate: %d pages, %d inputs of %s: %d calibrate, %d evaluate"
          % (len(pages), len(inputs), stem, len(calib), len(evals)), file=sys.stderr)

    # ranges over the calibration inputs
    lo, hi, sha = {}, {}, None
    rdir = os.path.join(w, "ranges")
    shutil.rmtree(rdir, ignore_errors=True)
    os.makedirs(rdir)
    for i, x in enumerate(calib):
        t = os.path.join(rdir, "%d.txt" % i)
        run([a.quire, "nn", a.model, "--input", x, "--output", os.path.join(rdir, "y.npy")],
            env={"QUIRE_NN_CALIBRATE": t})
        sha, rows = read_table(t)
        for name, l, h, _ in rows:
            lo[name] = min(lo.get(name, l), l)
            hi[name] = max(hi.get(name, h), h)
    names = list(lo)
    print("int8_calibrate: %d 1x1 convs" % len(names), file=sys.stderr)

    ref = outputs(a.quire, a.model, evals, os.path.join(w, "fp32"))
    errs = {}
    one = os.path.join(w, "one.txt")
    for n in names:
        write_table(one, sha, [(n, lo[n], hi[n], "int8")], [])
        e = compare(outputs(a.quire, a.model, evals, os.path.join(w, "one"), one), ref)
        errs[n] = (e[0], e[1])
        print("  %-24s nmse %.3g, argmax changed %.4f (non-blank %.4f)" % (n, *e), file=sys.stderr)
    rows = [(n, lo[n], hi[n], "int8" if errs[n][0] <= a.tol else "fp32") for n in names]
    allt = os.path.join(w, "all.txt")
    write_table(allt, sha, rows, [])
    e = compare(outputs(a.quire, a.model, evals, os.path.join(w, "all"), allt), ref)
    nint8 = sum(r[3] == "int8" for r in rows)
    header = [
        "quire int8 scales for %s (scripts/int8_calibrate.py; do not edit by hand)" % os.path.basename(a.model),
        "calibration: %d inputs the recognizer got from `quire text` on %d pages of"
        % (len(calib), len(pages)),
        "tests/gen/gen_scans.py (seeds 201-%d, clean300 and degraded); input ranges are min/max" % (200 + a.seeds),
        "%d of %d 1x1 convs int8 (a layer stays fp32 when, alone in int8, its output nmse > %g)"
        % (nint8, len(rows), a.tol),
        "this table on %d held-out inputs: output nmse %.3g, argmax changed on %.4f of the time"
        % (len(evals), e[0], e[1]),
        "steps (%.4f of the non-blank ones)" % e[2],
    ]
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_table(out, sha, rows, header, errs)
    print("int8_calibrate: wrote %s\n  %s" % (out, "\n  ".join(header[3:])), file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Calibrates a model's int8 scales table (models/int8/) on pages the project generates.

    scripts/int8_calibrate.py [--quire build/quire] [--model PATH] [--out TABLE]
                              [--work DIR] [--seeds N] [--max-inputs N] [--budget X]
                              [--all int8|int8x2] [--smooth] [--jobs N]

1. Pages: tests/gen/gen_scans.py, seeds 201.. (the benchmarks use 101..: the
   calibration pages are not the pages the accuracy is measured on), its clean300
   and degraded sets.
2. Inputs: `quire text` on every page with QUIRE_NN_SAVE_INPUTS, which saves each
   tensor a model runs on; the ones of --model (by file stem) are the lines quire
   itself cut and fed it. Half calibrate, half (every other one) evaluate.
3. Ranges: `quire nn --precision fp32` on the calibration inputs with
   QUIRE_NN_CALIBRATE records the input range of every layer the int8 kernels take
   (1x1 convs and MatMuls with a constant B: linear layers).
4. Per layer: each conv alone in int8 (a one-layer table), run on the evaluation
   inputs; its error is the character edits between the greedy-decoded lines of
   int8 and fp32 (and the output's normalised squared error).
5. Greedy: the least harmful layers first, each kept in int8 while all kept ones
   together change at most --budget of the characters, else in int8x2 (two weight
   planes, about 15-bit weights for twice the int8 work) on the same condition;
   the rest stay fp32. With --all int8|int8x2, steps 4-5 are skipped and every conv
   gets that precision: text edits against fp32 overstate the harm (int8 noise
   flips the recognizer's near-ties both ways), so such a table is judged on whole
   pages against their truth (bench/nn/bench_int8_text.sh).
6. The table: every conv with its range, int8, int8x2 or fp32, and its measured
   error; the whole table's error on the evaluation inputs goes into the header.
"""
import argparse
import concurrent.futures
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
    """(sha256 line, [(name, lo, hi, prec, channel ranges [(lo, hi)] or None)])"""
    sha, rows = None, []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("sha256 "):
            sha = line
            continue
        f = line.split()
        ch = None
        if len(f) > 4:
            n = int(f[4])
            ch = [(float(f[5 + 2 * c]), float(f[6 + 2 * c])) for c in range(n)]
        rows.append((f[0], float(f[1]), float(f[2]), f[3], ch))
    return sha, rows


def write_table(path, sha, rows, header, errs=None):
    with open(path, "w") as f:
        for h in header:
            f.write("# %s\n" % h)
        f.write("%s\n" % sha)
        f.write("# layer-output input-min input-max int8|int8x2|fp32 channels min0 max0 min1 max1 ...\n")
        for name, lo, hi, prec, ch in rows:
            if errs and name in errs:
                f.write("# %s alone in int8: output nmse %.3g, text edits %d of %d characters\n"
                        % ((name,) + errs[name]))
            chs = " %d %s" % (len(ch), " ".join("%.6g %.6g" % c for c in ch)) if ch else ""
            f.write("%s %.9g %.9g %s%s\n" % (name, lo, hi, prec, chs))


JOBS = os.cpu_count() or 1


def outputs(quire, model, inputs, outdir, table=None):
    """The model's output on each input (JOBS runs of `quire nn` at a time)."""
    os.makedirs(outdir, exist_ok=True)

    def one(i):
        y = os.path.join(outdir, "%d.npy" % i)
        cmd = [quire, "nn", model, "--input", inputs[i], "--output", y]
        if table:
            cmd += ["--precision", "int8", "--int8-table", table]
        run(cmd)
        return np.load(y)

    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        return list(pool.map(one, range(len(inputs))))


def ctc_greedy(steps):
    """The recognizer's classes per time step -> the decoded class sequence."""
    out, prev = [], -1
    for c in steps:
        if c != prev and c != 0:
            out.append(int(c))
        prev = c
    return out


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        p, d[0] = d[:], i
        for j in range(1, len(b) + 1):
            d[j] = min(p[j] + 1, d[j - 1] + 1, p[j - 1] + (a[i - 1] != b[j - 1]))
    return d[-1]


def text_edits(got, want):
    """(character edits between the greedy-decoded texts, characters of want's)"""
    e = n = 0
    for g, w in zip(got, want):
        for i in range(w.shape[0]):
            a, b = ctc_greedy(w[i].argmax(-1)), ctc_greedy(g[i].argmax(-1))
            e += edit_distance(a, b)
            n += len(a)
    return e, n


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
    ap.add_argument("--budget", type=float, default=0.0005,
                    help="largest share of characters the int8 layers may change (default 0.0005)")
    ap.add_argument("--smooth", action="store_true", help="smooth the input channels (SmoothQuant)")
    ap.add_argument("--max-eval", type=int, default=20)
    ap.add_argument("--all", choices=("int8", "int8x2"),
                    help="every layer in this precision, no per-layer choice (the table then only"
                         " reports its error against fp32; judge it on pages against the truth:"
                         " bench/nn/bench_int8_text.sh)")
    ap.add_argument("--jobs", type=int, default=JOBS, help="runs of quire at a time (default: cores)")
    a = ap.parse_args()
    globals()["JOBS"] = max(1, a.jobs)
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
    calib, evals = inputs[0::2], inputs[1::2][: a.max_eval]
    print("int8_calibrate: %d pages, %d inputs of %s: %d calibrate, %d evaluate"
          % (len(pages), len(inputs), stem, len(calib), len(evals)), file=sys.stderr)

    # ranges over the calibration inputs
    lo, hi, ch, sha = {}, {}, {}, None
    rdir = os.path.join(w, "ranges")
    shutil.rmtree(rdir, ignore_errors=True)
    os.makedirs(rdir)
    for i, x in enumerate(calib):
        t = os.path.join(rdir, "%d.txt" % i)
        run([a.quire, "nn", a.model, "--input", x, "--output", os.path.join(rdir, "y.npy")],
            env={"QUIRE_NN_CALIBRATE": t})
        sha, rows = read_table(t)
        for name, l, h, _, c in rows:
            lo[name] = min(lo.get(name, l), l)
            hi[name] = max(hi.get(name, h), h)
            ch[name] = [(min(x[0], y[0]), max(x[1], y[1])) for x, y in zip(ch.get(name, c), c)]
    names = list(lo)
    print("int8_calibrate: %d layers (1x1 convs, linear MatMuls)" % len(names), file=sys.stderr)

    ref = outputs(a.quire, a.model, evals, os.path.join(w, "fp32"))
    # the text metric is the recognizer's (N x T x classes); other models
    # (the detector's probability map) are judged on whole pages
    is_rec = ref[0].ndim == 3
    if not is_rec and not a.all:
        sys.exit("int8_calibrate: %s is not a recognizer: the per-layer choice needs its text; "
                 "give --all int8|int8x2 and judge the table on pages (bench/nn/bench_int8_text.sh)"
                 % stem)
    chars = text_edits(ref, ref)[1] if is_rec else 0
    budget = int(a.budget * chars)

    def row(n, prec):
        return (n, lo[n], hi[n], prec, ch[n] if a.smooth else None)

    def trial(precs):
        """precs: {conv: int8 | int8x2}; the others fp32"""
        t = os.path.join(w, "trial.txt")
        write_table(t, sha, [row(n, precs.get(n, "fp32")) for n in names], [])
        got = outputs(a.quire, a.model, evals, os.path.join(w, "trial"), t)
        return compare(got, ref), text_edits(got, ref)[0] if is_rec else 0

    errs = {}
    for n in names if not a.all else []:
        e, te = trial({n: "int8"})
        errs[n] = (e[0], te, chars)
        print("  %-24s alone: nmse %.3g, text edits %d of %d" % (n, e[0], te, chars), file=sys.stderr)
    # greedy: the least harmful layers first, each in int8 if all the kept ones
    # together stay within the budget of text edits, else with two weight
    # planes (int8x2: the error measured to come from 8-bit weights), else fp32
    chosen = {n: a.all for n in names} if a.all else {}
    for n in sorted(names, key=lambda n: (errs[n][1], errs[n][0])) if not a.all else []:
        for prec in ("int8", "int8x2"):
            e, te = trial(dict(chosen, **{n: prec}))
            if te <= budget:
                chosen[n] = prec
                break
        print("  + %-22s %s: together nmse %.3g, text edits %d (budget %d)"
              % (n, chosen.get(n, "stays fp32"), e[0], te, budget), file=sys.stderr)
    rows = [row(n, chosen.get(n, "fp32")) for n in names]
    e, te = trial(chosen)
    how = ([
        "every one of the %d layers (1x1 convs, linear MatMuls) %s (--all): no per-layer choice;"
        " its error against fp32's"
        % (len(rows), a.all),
        "text is below, its CER and bag-of-words against the truth in bench/RESULTS.md",
        "(bench/nn/bench_int8_text.sh)",
    ] if a.all and is_rec else [
        "every one of the %d layers (1x1 convs, linear MatMuls) %s (--all), for"
        " `quire nn --precision int8`: OCR gives int8"
        % (len(rows), a.all),
        "to the recognizer only, so this table's effect on pages is not measured",
    ] if a.all else [
        "%d of %d layers (1x1 convs, linear MatMuls) int8, %d of them with two weight planes"
        " (int8x2): the least harmful first"
        % (len(chosen), len(rows), sum(p == "int8x2" for p in chosen.values())),
        "(each alone in int8, by text edits of the greedy-decoded lines against fp32's), each in int8"
        " or else int8x2",
        "while all kept ones together change at most %g %% of the characters" % (100 * a.budget),
    ])
    header = [
        "quire int8 scales for %s (scripts/int8_calibrate.py; do not edit by hand)" % os.path.basename(a.model),
        "calibration: %d inputs the model got from `quire text` on %d pages of"
        % (len(calib), len(pages)),
        "tests/gen/gen_scans.py (seeds 201-%d, clean300 and degraded); input ranges are min/max%s"
        % (200 + a.seeds, ", channels smoothed" if a.smooth else ""),
    ] + how + ([
        "on %d held-out inputs: output nmse %.3g, argmax changed on %.4f of the time steps,"
        % (len(evals), e[0], e[1]),
        "%d text edits in %d characters of the greedy-decoded lines against fp32's" % (te, chars),
    ] if is_rec else ["on %d held-out inputs: output nmse %.3g" % (len(evals), e[0])])
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_table(out, sha, rows, header, errs)
    print("int8_calibrate: wrote %s\n  %s" % (out, "\n  ".join(header[3:])), file=sys.stderr)


if __name__ == "__main__":
    main()

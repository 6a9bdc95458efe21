#!/usr/bin/env python3
"""quire's CUDA backend beside ONNX Runtime's CUDA execution provider: det, rec
and cls at batch 1, 8 and 32, in the same run on the same GPU and the same
input bytes. Prints a Markdown table (images/s, ratio, max abs difference of
the outputs) for bench/RESULTS.md. Not a test.

Usage: bench.py --models DIR --nn-bench PATH/nn_bench [--batches 1 8 32] [--out FILE]

Time per measurement: the median of REPEAT whole runs (input upload, the
network, output download) after one warm-up run, for both programs. ONNX
Runtime runs with all graph optimizations, cuDNN's exhaustive algorithm search
(its default) and TF32 off (use_tf32=0, where the provider has the option), the
same numerics as quire's default; `--tf32` turns it on for both.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

MODELS = [  # key, file, C, H, W, repeat
    ("det", "ch_PP-OCRv4_det_infer.onnx", 3, 960, 736, 10),
    ("rec", "ch_PP-OCRv4_rec_infer.onnx", 3, 48, 320, 30),
    ("cls", "ch_ppocr_mobile_v2.0_cls_infer.onnx", 3, 48, 192, 50),
]


def ort_session(path, tf32):
    import onnxruntime as ort
    provs = ort.get_available_providers()
    if "CUDAExecutionProvider" not in provs:
        return None, "onnxruntime %s has no CUDAExecutionProvider (providers: %s)" % (
            ort.__version__, ", ".join(provs))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts = {"device_id": 0, "use_tf32": 1 if tf32 else 0}
    try:
        s = ort.InferenceSession(path, so, providers=[("CUDAExecutionProvider", opts)])
    except Exception:  # older providers without use_tf32
        opts.pop("use_tf32")
        s = ort.InferenceSession(path, so, providers=[("CUDAExecutionProvider", opts)])
    if "CUDAExecutionProvider" not in s.get_providers():
        return None, "ONNX Runtime fell back to %s" % s.get_providers()
    return s, "onnxruntime %s CUDAExecutionProvider %s" % (ort.__version__, opts)


def ort_time(s, x, repeat):
    name = s.get_inputs()[0].name
    y = s.run(None, {name: x})[0]
    s.run(None, {name: x})
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        s.run(None, {name: x})
        t.append(time.perf_counter() - t0)
    return float(np.median(t)), y


def quire_time(nn_bench, path, x, repeat, tmp, tf32):
    xin, yout = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
    np.save(xin, x)
    env = dict(os.environ, QUIRE_CUDA_TF32="1" if tf32 else "0")
    r = subprocess.run([nn_bench, path, xin, yout, "cuda", str(repeat)], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, None, (r.stderr or r.stdout).strip()
    kv = dict(f.split("=", 1) for f in r.stdout.split())
    return float(kv["median_ms"]) / 1e3, np.load(yout), ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    ap.add_argument("--nn-bench", required=True)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--only", nargs="+", default=None, help="det rec cls")
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    gpu = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip() or "unknown GPU"
    lines = ["GPU: %s; TF32 %s for both" % (gpu, "on" if a.tf32 else "off"), ""]
    notes = []
    lines.append("| model | batch | input | quire CUDA img/s | ORT CUDA img/s | quire / ORT | max abs diff |")
    lines.append("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for key, f, c, h, w, rep in MODELS:
            if a.only and key not in a.only:
                continue
            path = os.path.join(a.models, f)
            sess, what = ort_session(path, a.tf32)
            if what not in notes:
                notes.append(what)
            for b in a.batches:
                x = rng.random((b, c, h, w), dtype=np.float32)
                r = max(3, rep // max(1, b // 4))
                tq, yq, err = quire_time(a.nn_bench, path, x, r, tmp, a.tf32)
                if err:
                    notes.append("quire %s batch %d: %s" % (key, b, err))
                to, yo = ort_time(sess, x, r) if sess else (None, None)
                iq = "%.1f" % (b / tq) if tq else "n/a"
                io = "%.1f" % (b / to) if to else "n/a"
                ratio = "%.2f" % (to / tq) if tq and to else "n/a"
                diff = "%.2g" % float(np.max(np.abs(yq - yo))) if yq is not None and yo is not None else "n/a"
                lines.append("| %s | %d | %dx%dx%d | %s | %s | %s | %s |" % (key, b, c, h, w, iq, io, ratio, diff))
                print(lines[-1], flush=True)
    lines.append("")
    lines += ["- " + n for n in notes]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

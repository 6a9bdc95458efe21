#!/usr/bin/env python3
"""quire's inference engine beside the PyTorch reference (torch_ref.py, cuDNN
on a GPU) and ONNX Runtime on the CPU: det, rec and cls at several batch sizes,
all three on the same input bytes in the same run. Prints a Markdown table
(quire's time and images/s, the reference's images/s, their ratio, ONNX
Runtime's images/s as the floor a GPU should clear, and how far quire's
outputs are from the reference's). Not a test: on a GPU machine it judges
quire's CUDA backend; `--backend cpu --device cpu --repeat-scale 0.1` is a
quick rehearsal on any machine.

Usage: bench.py --models DIR --nn-bench PATH [--backend cuda|cpu] [--device cuda|cpu]
                [--batches 1 8 32] [--det-batches ..] [--rec-batches ..] [--cls-batches ..]
                [--shape det=3x960x736 ..] [--only det rec cls] [--tf32]
                [--repeat-scale F] [--threads N] [--out FILE.md]

Each measurement is the median of REPEAT whole runs (input upload, the
network, output download) after one warm-up run. REPEAT falls with the batch
size (a fixed amount of work per row) and --repeat-scale multiplies it. The
inputs are uniform in [-1, 1) from np.random.default_rng(0), fresh for every
row, so a row's input does not depend on which other rows run.
Exit status: 0 when every quire and reference run succeeded, 1 otherwise (the
table is printed either way), 2 on bad usage.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# key, file, default input shape (C, H, W), base repeat count at batch <= 4
MODELS = [
    ("det", "ch_PP-OCRv4_det_infer.onnx", (3, 960, 736), 10),
    ("rec", "ch_PP-OCRv4_rec_infer.onnx", (3, 48, 320), 30),
    ("cls", "ch_ppocr_mobile_v2.0_cls_infer.onnx", (3, 48, 192), 50),
]
# ONNX Runtime on the CPU is the floor, not the competitor: a few runs suffice,
# and det at batch 32 takes seconds per run there.
ORT_MAX_REPEAT = 5


def repeat_for(base, batch, scale):
    """Runs to time: about base*4 images per row, at least 3 (1 in a rehearsal
    with scale < 1)."""
    r = int(round(base * scale * min(1.0, 4.0 / batch)))
    return max(3 if scale >= 1 else 1, r)


def parse_shape(text):
    key, _, dims = text.partition("=")
    try:
        c, h, w = (int(v) for v in dims.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shape wants KEY=CxHxW, got {text!r}") from None
    if key not in ("det", "rec", "cls") or min(c, h, w) < 1:
        raise argparse.ArgumentTypeError(f"--shape wants det|rec|cls=CxHxW, got {text!r}")
    return key, (c, h, w)


def gpu_line():
    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version",
                            "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
        name = r.stdout.strip().splitlines()[0] if r.returncode == 0 and r.stdout.strip() else ""
    except (OSError, subprocess.TimeoutExpired):
        name = ""
    return "GPU: " + name.replace(", ", ", driver ") if name else "no GPU (cpu)"


def quire_run(nn_bench, path, xin, yout, backend, repeat, threads, tf32):
    """nn_bench's numbers as a dict and its output, or (None, None, error)."""
    env = dict(os.environ, QUIRE_CUDA_TF32="1" if tf32 else "0")
    if os.path.exists(yout):
        os.unlink(yout)  # never read the previous row's output
    try:
        r = subprocess.run([nn_bench, path, xin, yout, backend, str(repeat), str(threads)],
                           env=env, capture_output=True, text=True)
    except OSError as e:
        return None, None, f"cannot run {nn_bench}: {e}"
    if r.returncode != 0:
        return None, None, (r.stderr or r.stdout).strip().replace("\n", " ")[:300]
    try:
        kv = dict(f.split("=", 1) for f in r.stdout.split())
        kv["median_ms"] = float(kv["median_ms"])
        return kv, np.load(yout), ""
    except (KeyError, ValueError, OSError) as e:
        return None, None, f"unexpected nn_bench output {r.stdout.strip()!r}: {e}"


class TorchRef:
    """torch_ref.py in this process: one graph per model, kept across batches
    (weights go to the device once, cuDNN's algorithm choice is cached)."""

    def __init__(self, device, tf32, threads):
        import torch
        import torch_ref
        self.torch, self.mod, self.device = torch, torch_ref, device
        if device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"torch {torch.__version__} sees no usable GPU")
        if device == "cpu":
            torch.set_num_threads(threads)
        torch_ref.set_precision(tf32)
        self.graphs = {}

    def versions(self):
        cudnn = self.torch.backends.cudnn.version() if self.device == "cuda" else None
        return "torch %s, cuDNN %s" % (self.torch.__version__, cudnn or "n/a")

    def run(self, path, x, repeat):
        """(median_ms, output) or (None, error text)."""
        try:
            if path not in self.graphs:
                self.graphs[path] = self.mod.TorchGraph(path, self.device)
            g = self.graphs[path]
            y = self.mod.run_once(g, x, self.device)
            med, _ = self.mod.time_runs(g, x, self.device, repeat)
            return med, y
        except Exception as e:  # out of memory, unsupported op: the row says why
            return None, str(e).strip().splitlines()[0][:300]
        finally:
            if self.device == "cuda":
                self.torch.cuda.empty_cache()  # leave the GPU's memory to quire's next run


def ort_session(path, threads):
    """(session, note) or (None, why not)."""
    try:
        import onnxruntime as ort
    except ImportError as e:
        return None, f"ONNX Runtime CPU n/a: onnxruntime is not importable ({e})"
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    try:
        s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        return None, f"ONNX Runtime CPU n/a: cannot load {os.path.basename(path)}: {e}"
    return s, f"ONNX Runtime {ort.__version__} CPUExecutionProvider, {threads} threads, ORT_ENABLE_ALL"


def ort_time(s, x, repeat):
    name = s.get_inputs()[0].name
    s.run(None, {name: x})  # warm-up
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        s.run(None, {name: x})
        t.append(time.perf_counter() - t0)
    return float(np.median(t)) * 1e3


def main():
    ap = argparse.ArgumentParser(description="quire beside the PyTorch reference and ONNX Runtime CPU")
    ap.add_argument("--models", default=os.path.expanduser("~/.cache/quire/models"))
    ap.add_argument("--nn-bench", required=True, help="quire's nn_bench program")
    ap.add_argument("--backend", choices=["cuda", "cpu"], default="cuda", help="quire's backend")
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda", help="the reference's")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    for key, *_ in MODELS:
        ap.add_argument(f"--{key}-batches", type=int, nargs="+", default=None,
                        help=f"batches for {key} (default: --batches)")
    ap.add_argument("--shape", type=parse_shape, action="append", default=[],
                    help="KEY=CxHxW input shape of one model (repeatable)")
    ap.add_argument("--only", nargs="+", choices=["det", "rec", "cls"], default=None)
    ap.add_argument("--tf32", action="store_true", help="allow TF32 in quire and the reference")
    ap.add_argument("--repeat-scale", type=float, default=1.0, help="multiplies every repeat count")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="CPU threads of quire's cpu backend and the reference on cpu")
    ap.add_argument("--out", default=None, help="also write the table here")
    a = ap.parse_args()
    if a.repeat_scale <= 0 or a.threads < 1 or min(a.batches) < 1:
        ap.error("--repeat-scale, --threads and batches must be positive")
    shapes = dict(a.shape)

    notes, failed = [], False
    try:
        ref = TorchRef(a.device, a.tf32, a.threads)
        versions = ref.versions()
    except Exception as e:  # ImportError without torch, RuntimeError without a GPU
        ref, versions = None, "torch n/a"
        if not isinstance(e, ImportError):
            import torch
            versions = f"torch {torch.__version__}, cuDNN n/a"
        notes.append(f"reference n/a: {e}")
        failed = True
    head = ["%s; TF32 %s; %s; quire backend %s, reference on %s" % (
        gpu_line(), "on" if a.tf32 else "off", versions, a.backend, a.device), ""]
    cols = ["model", "batch", "input", "quire ms", "quire img/s", "torch img/s",
            "quire/torch", "ORT CPU img/s", "max abs quire-torch", "argmax agree"]
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    print("\n".join(head + rows), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        xin, yout = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        for key, fname, shape, base in MODELS:
            if a.only and key not in a.only:
                continue
            path = os.path.join(a.models, fname)
            c, h, w = shapes.get(key, shape)
            sess, what = ort_session(path, os.cpu_count() or 1)
            if what not in notes:
                notes.append(what)
            for b in getattr(a, f"{key}_batches") or a.batches:
                x = (np.random.default_rng(0).random((b, c, h, w), dtype=np.float32) * 2 - 1)
                np.save(xin, x)
                r = repeat_for(base, b, a.repeat_scale)
                kv, yq, err = quire_run(a.nn_bench, path, xin, yout, a.backend, r, a.threads, a.tf32)
                if err:
                    notes.append(f"quire {key} batch {b}: {err}")
                    failed = True
                elif kv.get("backend") != a.backend:
                    notes.append(f"quire {key} batch {b} ran on backend {kv.get('backend')}")
                tt, yt = (None, None)
                if ref:
                    tt, yt = ref.run(path, x, r)
                    if tt is None:
                        notes.append(f"reference {key} batch {b}: {yt}")
                        failed, yt = True, None
                to = ort_time(sess, x, min(r, ORT_MAX_REPEAT)) if sess else None
                tq = kv["median_ms"] if kv else None
                diff = agree = "n/a"
                if yq is not None and yt is not None:
                    if yq.shape != yt.shape:
                        diff = f"shapes {yq.shape} vs {yt.shape}"
                        failed = True
                    else:
                        diff = "%.2g" % float(np.max(np.abs(yq.astype(np.float64) - yt)))
                        if key != "det":  # per time step (rec) or per image (cls)
                            am = yq.argmax(axis=-1) == yt.argmax(axis=-1)
                            agree = f"{int(am.sum())}/{am.size}"
                cells = [key, str(b), f"{c}x{h}x{w}",
                         "%.2f" % tq if tq else "n/a",
                         "%.1f" % (b * 1e3 / tq) if tq else "n/a",
                         "%.1f" % (b * 1e3 / tt) if tt else "n/a",
                         "%.2f" % (tt / tq) if tq and tt else "n/a",
                         "%.1f" % (b * 1e3 / to) if to else "n/a",
                         diff, agree if key != "det" else "-"]
                rows.append("| " + " | ".join(cells) + " |")
                print(rows[-1], flush=True)

    notes.insert(0, "quire/torch: quire's images/s over the reference's (above 1: quire faster); "
                    f"repeat scale {a.repeat_scale:g}; CPU threads (a CPU backend) {a.threads}")
    notes = ["- " + n for n in notes]
    print("\n" + "\n".join(notes))  # the table went out row by row above
    text = "\n".join(head + rows + [""] + notes) + "\n"
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""PyTorch reference for quire's inference engine: runs an ONNX graph node by
node with torch / torch.nn.functional (cuDNN and cuBLAS underneath on a GPU),
so quire's CUDA backend can be judged against an independent engine on the
same GPU, for both its numbers and its speed. Covers every op of the three
PP-OCRv4 models (detection, recognition, orientation classifier).

Usage: torch_ref.py MODEL.onnx IN.npy OUT.npy [--device cpu|cuda] [--tf32]
                    [--repeat N] [--threads N]

Writes the model's first output as float32 .npy. With --repeat N > 0 it also
times N whole runs (input upload, the graph, output download) after one
warm-up run and prints one line:
    median_ms=.. best_ms=.. images_per_s=.. device=..
TF32 is off unless --tf32 (quire's CUDA backend has it off by default too).
Works on torch 1.13 to 2.x and numpy 1.24 to 2.x. The ONNX file is read by
tests/parity/onnx_ref.py's protobuf reader, so the onnx package is not needed.

Exit status: 0 done; 1 the run failed (out of memory, for instance); 2 bad
usage, an unreadable model or input, or an op (or op variant) not covered.
"""
import argparse
import operator
import os
import statistics
import sys
import time

import numpy as np

# The ONNX reader lives in tests/parity; this file is bench/gpu/torch_ref.py.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "..", "tests", "parity"))
sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
from onnx_ref import RefError, _fields, _nearest_index, load_model  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class Unsupported(Exception):
    """An op, or a variant of one (attribute value), this reference lacks."""


# The elementwise ops that mean the same on tensors and host arrays (Div does
# not: integer division truncates).
_ARITH = {"Add": operator.add, "Sub": operator.sub, "Mul": operator.mul, "Div": operator.truediv}

# ONNX TensorProto data types of Cast's `to`.
_TORCH_TYPES = {1: torch.float32, 6: torch.int32, 7: torch.int64, 11: torch.float64}
_NP_TYPES = {1: np.float32, 6: np.int32, 7: np.int64, 11: np.float64}

# Every op this file implements; checked for the whole graph before running.
SUPPORTED = {
    "Constant", "Conv", "ConvTranspose", "BatchNormalization", "Relu", "Clip",
    "HardSigmoid", "HardSwish", "Sigmoid", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt",
    "MatMul", "Softmax", "ReduceMean", "GlobalAveragePool", "AveragePool", "MaxPool",
    "Resize", "Concat", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Slice",
    "Shape", "Cast", "Identity",
}


def opset_version(path):
    """The default-domain opset of an ONNX file (ModelProto.opset_import), which
    decides the form of Clip, Slice, Squeeze, ReduceMean and Softmax."""
    with open(path, "rb") as fh:
        data = fh.read()
    version = None
    for f, _, v in _fields(data):
        if f == 8:  # OperatorSetIdProto: 1 domain, 2 version
            domain, ver = "", None
            for g, _, w in _fields(v):
                if g == 1:
                    domain = bytes(w).decode()
                elif g == 2:
                    ver = w
            if domain in ("", "ai.onnx") and ver is not None:
                version = ver
    if version is None:
        raise RefError(f"{path}: no opset_import for the default domain")
    return version


def _scalar(v):
    """A one-element array as a Python float (numpy 2 refuses float() of 1-D)."""
    return float(np.asarray(v).reshape(-1)[0])


def _pads2(a, op):
    """Symmetric 2-D padding (top, left) from ONNX pads; asymmetric pads would
    need an explicit F.pad and no model here has them."""
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise Unsupported(f"{op} auto_pad={a['auto_pad']}")
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    if (pt, pl) != (pb, pr):
        raise Unsupported(f"{op} with asymmetric pads {a['pads']}")
    return pt, pl


class TorchGraph:
    """An ONNX graph ready to run on one torch device. Constants (the PP-OCRv4
    weights are Constant nodes) and every node computable from constants alone
    are evaluated once here and kept on the device; run() executes the rest.
    Integer tensors (shape arithmetic) stay on the host as numpy arrays so that
    Shape -> Slice -> Concat -> Reshape chains never wait for the GPU."""

    def __init__(self, path, device):
        self.device = torch.device(device)
        self.opset = opset_version(path)
        m = load_model(path)
        self.input, self.output = m["input"], m["output"]
        for i, n in enumerate(m["nodes"]):
            if n["op"] not in SUPPORTED:
                raise Unsupported(f"op {n['op']} (node {i}, output {n['out'][0]!r}) "
                                  "is not supported by torch_ref.py")
        self.host = {}   # name -> numpy value of each constant (for attributes)
        self.const = {}  # name -> value as the ops take it (device tensor or numpy)
        for k, v in m["inits"].items():
            self._set_const(k, v)
        self._resize_idx = {}
        self.nodes = []
        with torch.no_grad():
            for n in m["nodes"]:
                ins = [v for v in n["in"] if v]
                if n["op"] == "Constant":
                    self._set_const(n["out"][0], n["attrs"]["value"])
                elif all(v in self.const for v in ins):
                    r = self._exec(n, [self.const[v] if v else None for v in n["in"]])
                    self._set_const(n["out"][0], r)
                else:
                    self.nodes.append(n)
        # Free every value after its last reader: batch 32 of the detection
        # model would otherwise keep gigabytes of activations alive.
        last = {}
        for i, n in enumerate(self.nodes):
            for v in n["in"]:
                last[v] = i
        self.frees = [[v for v in n["in"] if v and last.get(v) == i and v not in self.const
                       and v != self.output] for i, n in enumerate(self.nodes)]

    def _set_const(self, name, v):
        if isinstance(v, torch.Tensor):
            self.const[name], self.host[name] = v, v.cpu().numpy()
        elif np.asarray(v).dtype.kind == "f":
            a = np.asarray(v, dtype=np.float32)
            self.host[name] = a
            self.const[name] = torch.from_numpy(np.ascontiguousarray(a)).to(self.device)
        else:
            self.const[name] = self.host[name] = np.asarray(v)

    def run(self, x):
        """The first output for input x (a tensor on this graph's device)."""
        env = dict(self.const)
        env[self.input] = x
        with torch.no_grad():
            for n, frees in zip(self.nodes, self.frees):
                try:
                    ins = [env[v] if v else None for v in n["in"]]
                except KeyError as e:
                    raise RefError(f"{n['op']} node reads undefined value {e}") from None
                env[n["out"][0]] = self._exec(n, ins)
                for v in frees:
                    del env[v]
        return env[self.output]

    # ---- values -----------------------------------------------------------
    def _t(self, v):
        """A float op's operand as a device tensor."""
        if isinstance(v, torch.Tensor):
            return v
        return torch.from_numpy(np.ascontiguousarray(v)).to(self.device)

    def _np(self, n, i, v):
        """An input read as a host value (shapes, axes, scales, clip bounds):
        constants come from the host copy, anything else is fetched."""
        name = n["in"][i]
        if name in self.host:
            return self.host[name]
        return v.cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)

    # ---- ops --------------------------------------------------------------
    def _exec(self, n, ins):
        op, a = n["op"], n["attrs"]
        x = ins[0] if ins else None
        if op in ("Add", "Sub", "Mul", "Div", "Pow"):
            p, q = ins
            if not isinstance(p, torch.Tensor) and not isinstance(q, torch.Tensor):
                return self._np_binary(op, np.asarray(p), np.asarray(q))
            p, q = self._t(p), self._t(q)
            return torch.pow(p, q) if op == "Pow" else _ARITH[op](p, q)
        if op == "Relu":
            return F.relu(x)
        if op == "Sigmoid":
            return torch.sigmoid(x)
        if op == "Sqrt":
            return torch.sqrt(x)
        if op == "HardSigmoid":
            # alpha is 1/6 or 0.2, not always torch's 1/6: written out.
            alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
            return torch.clamp(x * alpha + beta, 0.0, 1.0)
        if op == "HardSwish":
            return F.hardswish(x)
        if op == "Clip":
            if self.opset < 11:
                lo, hi = a.get("min"), a.get("max")
            else:
                lo = _scalar(self._np(n, 1, ins[1])) if len(ins) > 1 and ins[1] is not None else None
                hi = _scalar(self._np(n, 2, ins[2])) if len(ins) > 2 and ins[2] is not None else None
            return torch.clamp(x, min=lo, max=hi)
        if op == "Conv":
            return self._conv(x, ins[1], ins[2] if len(ins) > 2 else None, a)
        if op == "ConvTranspose":
            return self._conv_transpose(x, ins[1], ins[2] if len(ins) > 2 else None, a)
        if op == "BatchNormalization":
            if len(n["out"]) > 1 and any(n["out"][1:]):
                raise Unsupported("BatchNormalization in training mode (extra outputs)")
            return F.batch_norm(x, self._t(ins[3]), self._t(ins[4]), self._t(ins[1]),
                                self._t(ins[2]), False, 0.0, float(a.get("epsilon", 1e-5)))
        if op == "GlobalAveragePool":
            return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)
        if op in ("AveragePool", "MaxPool"):
            return self._pool(op, x, a)
        if op == "MatMul":
            return torch.matmul(self._t(x), self._t(ins[1]))
        if op == "Softmax":
            return self._softmax(x, a)
        if op == "ReduceMean":
            if self.opset >= 18 and len(ins) > 1 and ins[1] is not None:
                axes = [int(v) for v in self._np(n, 1, ins[1])]
            else:
                axes = a.get("axes")
            keep = bool(a.get("keepdims", 1))
            if not axes:
                return x.mean(dim=tuple(range(x.dim())), keepdim=keep)
            return x.mean(dim=tuple(int(v) for v in axes), keepdim=keep)
        if op == "Resize":
            return self._resize(n, ins, a)
        if op == "Concat":
            axis = int(a["axis"])
            if all(not isinstance(v, torch.Tensor) for v in ins):
                return np.concatenate([np.asarray(v) for v in ins], axis=axis)
            return torch.cat([self._t(v) for v in ins], dim=axis)
        if op == "Reshape":
            shape = [int(v) for v in self._np(n, 1, ins[1])]
            if a.get("allowzero", 0):
                raise Unsupported("Reshape allowzero=1")
            # ONNX: 0 copies the input's dimension at that position.
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
            return x.reshape(shape)
        if op == "Transpose":
            perm = a.get("perm") or list(range(len(x.shape)))[::-1]
            if isinstance(x, torch.Tensor):
                return x.permute(*perm)
            return np.transpose(x, perm)
        if op in ("Squeeze", "Unsqueeze"):
            if self.opset >= 13 and len(ins) > 1 and ins[1] is not None:
                axes = [int(v) for v in self._np(n, 1, ins[1])]
            else:
                axes = a.get("axes")
            return self._squeeze(op, x, axes)
        if op == "Slice":
            return self._slice(n, ins, a)
        if op == "Shape":
            return np.array(x.shape, dtype=np.int64)
        if op == "Cast":
            to = int(a["to"])
            if to not in _TORCH_TYPES:
                raise Unsupported(f"Cast to ONNX data type {to}")
            if isinstance(x, torch.Tensor):
                return x.to(_TORCH_TYPES[to])
            return np.asarray(x).astype(_NP_TYPES[to])
        if op == "Identity":
            return x
        raise Unsupported(f"op {op}")

    @staticmethod
    def _np_binary(op, p, q):
        """Shape arithmetic on host integers (or folded float constants)."""
        if op in ("Add", "Sub", "Mul"):
            return _ARITH[op](p, q)
        if op == "Pow":
            return np.power(p, q).astype(np.result_type(p, q))
        if p.dtype.kind in "iu" and q.dtype.kind in "iu":
            return np.trunc(p / q).astype(np.result_type(p, q))  # C's truncation
        return p / q

    def _conv(self, x, w, b, a):
        if len(w.shape) != 4:
            raise Unsupported(f"Conv with a {len(w.shape)}-D kernel (only 2-D)")
        pad = _pads2(a, "Conv")
        return F.conv2d(x, self._t(w), None if b is None else self._t(b),
                        stride=tuple(a.get("strides", [1, 1])), padding=pad,
                        dilation=tuple(a.get("dilations", [1, 1])), groups=int(a.get("group", 1)))

    def _conv_transpose(self, x, w, b, a):
        if len(w.shape) != 4:
            raise Unsupported(f"ConvTranspose with a {len(w.shape)}-D kernel (only 2-D)")
        if "output_shape" in a:
            raise Unsupported("ConvTranspose output_shape")
        pad = _pads2(a, "ConvTranspose")
        return F.conv_transpose2d(x, self._t(w), None if b is None else self._t(b),
                                  stride=tuple(a.get("strides", [1, 1])), padding=pad,
                                  output_padding=tuple(a.get("output_padding", [0, 0])),
                                  groups=int(a.get("group", 1)),
                                  dilation=tuple(a.get("dilations", [1, 1])))

    @staticmethod
    def _pool(op, x, a):
        k = tuple(a["kernel_shape"])
        if len(k) != 2:
            raise Unsupported(f"{op} with a {len(k)}-D window (only 2-D)")
        pad = _pads2(a, op)
        stride = tuple(a.get("strides", [1, 1]))
        ceil = bool(a.get("ceil_mode", 0))
        if op == "MaxPool":
            if len(a.get("dilations", [1, 1])) != 2 or a.get("storage_order", 0):
                raise Unsupported("MaxPool dilations/storage_order")
            return F.max_pool2d(x, k, stride, pad, tuple(a.get("dilations", [1, 1])), ceil)
        return F.avg_pool2d(x, k, stride, pad, ceil, bool(a.get("count_include_pad", 0)))

    def _softmax(self, x, a):
        if self.opset >= 13:
            return torch.softmax(x, dim=int(a.get("axis", -1)))
        # Before opset 13 Softmax normalizes over all axes from `axis` on (the
        # input seen as a 2-D matrix); the same as one axis when it is the last.
        axis = int(a.get("axis", 1)) % x.dim()
        if axis == x.dim() - 1:
            return torch.softmax(x, dim=axis)
        return torch.softmax(x.reshape(int(np.prod(x.shape[:axis])), -1), dim=1).reshape(x.shape)

    @staticmethod
    def _squeeze(op, x, axes):
        shape = list(x.shape)
        if op == "Squeeze":
            drop = {int(v) % len(shape) for v in axes} if axes else \
                {i for i, s in enumerate(shape) if s == 1}
            shape = [s for i, s in enumerate(shape) if i not in drop]
        else:
            out = len(shape) + len(axes)
            for v in sorted(int(v) % out for v in axes):
                shape.insert(v, 1)
        return x.reshape(shape)

    def _slice(self, n, ins, a):
        x = ins[0]
        if self.opset < 10:
            starts, ends = a["starts"], a["ends"]
            axes, steps = a.get("axes"), None
        else:
            get = [self._np(n, i, ins[i]) if len(ins) > i and ins[i] is not None else None
                   for i in range(5)]
            starts, ends, axes, steps = get[1], get[2], get[3], get[4]
        nd = len(x.shape)
        axes = list(range(len(starts))) if axes is None else [int(v) % nd for v in axes]
        idx = [slice(None)] * nd
        for i, ax in enumerate(axes):
            step = 1 if steps is None else int(steps[i])
            if step < 1:
                raise Unsupported("Slice with a negative step")
            # Python's slice clamps out-of-range starts and ends as ONNX does
            # (INT64_MAX as "to the end" included).
            idx[ax] = slice(int(starts[i]), int(ends[i]), step)
        return x[tuple(idx)]

    def _resize(self, n, ins, a):
        if a.get("mode", "nearest") != "nearest":
            raise Unsupported(f"Resize mode={a['mode']}")
        x = ins[0]
        if self.opset < 11:
            raise Unsupported(f"Resize at opset {self.opset}")
        scales = self._np(n, 2, ins[2]) if len(ins) > 2 and ins[2] is not None else None
        sizes = self._np(n, 3, ins[3]) if len(ins) > 3 and ins[3] is not None else None
        scales = scales if scales is not None and scales.size else None
        sizes = sizes if sizes is not None and sizes.size else None
        if x.dim() != 4 or (scales is None and sizes is None):
            raise Unsupported("Resize without a 4-D input and scales or sizes")
        h, w = x.shape[2], x.shape[3]
        if sizes is not None:
            if int(sizes[0]) != x.shape[0] or int(sizes[1]) != x.shape[1]:
                raise Unsupported("Resize of the batch or channel axis")
            ho, wo = int(sizes[2]), int(sizes[3])
            sh, sw = ho / h, wo / w
        else:
            if float(scales[0]) != 1.0 or float(scales[1]) != 1.0:
                raise Unsupported("Resize of the batch or channel axis")
            sh, sw = float(np.float32(scales[2])), float(np.float32(scales[3]))
            ho, wo = int(np.floor(h * sh)), int(np.floor(w * sw))
        # A gather with indices from the spec's formula: exact for any scale,
        # where F.interpolate's float arithmetic can land one pixel off.
        key = (n["out"][0], h, w)
        if key not in self._resize_idx:
            iy = torch.from_numpy(_nearest_index(ho, h, sh, a)).to(self.device)
            ix = torch.from_numpy(_nearest_index(wo, w, sw, a)).to(self.device)
            self._resize_idx[key] = (iy, ix)
        iy, ix = self._resize_idx[key]
        return x.index_select(2, iy).index_select(3, ix)


def set_precision(tf32):
    """TF32 on or off for both cuBLAS (matmul) and cuDNN (convolution)."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    new_api = hasattr(conv, "fp32_precision")
    if new_api:
        # torch >= 2.9: the per-backend settings; the old flags below are
        # deprecated there and torch refuses to read a mix of old and new.
        # Never run on a GPU yet: should torch refuse these, the old flags
        # still say the same thing.
        mode = "tf32" if tf32 else "ieee"
        try:
            torch.backends.cuda.matmul.fp32_precision = mode
            conv.fp32_precision = mode
        except (AttributeError, RuntimeError, TypeError, ValueError) as e:
            sys.stderr.write(f"torch_ref.py: fp32_precision refused ({e}); using allow_tf32\n")
            new_api = False
    if not new_api:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32  # True by default in torch: set it
        if hasattr(torch, "set_float32_matmul_precision"):
            torch.set_float32_matmul_precision("high" if tf32 else "highest")
    # Algorithm search once per shape; numerics stay within fp32 (TF32 is off).
    torch.backends.cudnn.benchmark = True


def device_label(device):
    if device == "cuda":
        return "cuda:" + torch.cuda.get_device_name(0).replace(" ", "_")
    return "cpu"


def run_once(g, x_host, device):
    """One whole run: upload, graph, download (synchronous)."""
    x = torch.from_numpy(x_host).to(device)
    y = g.run(x).float().cpu().numpy()
    if device == "cuda":
        torch.cuda.synchronize()
    return y


def time_runs(g, x_host, device, repeat):
    """(median_ms, best_ms) of `repeat` whole runs after one warm-up run."""
    run_once(g, x_host, device)
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run_once(g, x_host, device)
        t.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(t), min(t)


def main(argv=None):
    ap = argparse.ArgumentParser(description="run an ONNX model with PyTorch, node by node")
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 (off by default)")
    ap.add_argument("--repeat", type=int, default=0, help="time N runs after a warm-up")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's)")
    a = ap.parse_args(argv)

    def fail(msg, code):
        sys.stderr.write(f"torch_ref.py: error: {msg}\n")
        return code

    if a.device == "cuda" and not torch.cuda.is_available():
        return fail(f"--device cuda but torch {torch.__version__} sees no usable GPU", 2)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    set_precision(a.tf32)
    try:
        x = np.load(a.input, allow_pickle=False)
        if x.dtype != np.float32:
            return fail(f"{a.input}: dtype {x.dtype}, float32 expected", 2)
        x = np.ascontiguousarray(x)
        g = TorchGraph(a.model, a.device)
    except Unsupported as e:
        return fail(f"{a.model}: {e}", 2)
    except (OSError, ValueError, KeyError, RefError) as e:
        return fail(f"cannot load: {e}", 2)
    try:
        y = run_once(g, x, a.device)
        np.save(a.output, np.ascontiguousarray(y, dtype=np.float32))
        if a.repeat > 0:
            med, best = time_runs(g, x, a.device, a.repeat)
            print("median_ms=%.3f best_ms=%.3f images_per_s=%.1f device=%s"
                  % (med, best, x.shape[0] / (med / 1e3), device_label(a.device)))
    except (Unsupported, RefError) as e:
        return fail(f"{a.model}: {e}", 2)
    except (RuntimeError, OSError) as e:  # CUDA out of memory and the like
        return fail(str(e).strip().splitlines()[0], 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

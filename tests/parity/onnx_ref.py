#!/usr/bin/python3
"""Float64 reference: evaluates an ONNX model in NumPy double precision.

Usage: /usr/bin/python3 tests/parity/onnx_ref.py MODEL.onnx IN.npy OUT.npy

Writes the model's first output, computed in float64 from the float32 weights and
input, as a float64 .npy file. It is the yardstick when quire and ONNX Runtime
disagree: both compute in float32, and only a higher-precision evaluation tells
which of them is off and by how much. It covers the ops of the PP-OCRv4 detection
model (Conv, ConvTranspose, BatchNormalization, GlobalAveragePool, Resize nearest,
elementwise ops and activations); any other op is an error.

Exit status 0 on success, 2 on an unreadable model or input or an unsupported op.
Needs /usr/bin/python3 with numpy (Debian python3-numpy); reads the protobuf wire
format itself, so the onnx package is not needed.
"""
import struct
import sys

import numpy as np


class RefError(Exception):
    pass


# ---- protobuf wire format ---------------------------------------------------
def _varint(b, p):
    r = s = 0
    while True:
        if p >= len(b):
            raise RefError("truncated varint")
        c = b[p]
        p += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, p


def _fields(b):
    """(field number, wire type, value) of each field of a message."""
    p = 0
    while p < len(b):
        key, p = _varint(b, p)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, p = _varint(b, p)
        elif wt == 1:
            v, p = b[p:p + 8], p + 8
        elif wt == 2:
            n, p = _varint(b, p)
            v, p = b[p:p + n], p + n
        elif wt == 5:
            v, p = b[p:p + 4], p + 4
        else:
            raise RefError(f"unsupported wire type {wt}")
        if p > len(b):
            raise RefError("truncated field")
        yield f, wt, v


def _s64(x):
    return x - (1 << 64) if x >= 1 << 63 else x


def _ints(wt, v):
    if wt == 0:
        return [_s64(v)]
    out, p = [], 0
    while p < len(v):
        x, p = _varint(v, p)
        out.append(_s64(x))
    return out


def _floats(wt, v):
    return list(np.frombuffer(bytes(v), "<f4")) if wt == 2 else [struct.unpack("<f", v)[0]]


_DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 11: np.float64}


def _tensor(b):
    """TensorProto -> (name, array)."""
    dims, dt, raw, fl, i64, name = [], 1, None, [], [], ""
    for f, wt, v in _fields(b):
        if f == 1:
            dims += _ints(wt, v)
        elif f == 2:
            dt = v
        elif f == 4:
            fl += _floats(wt, v)
        elif f == 7:
            i64 += _ints(wt, v)
        elif f == 8:
            name = bytes(v).decode()
        elif f == 9:
            raw = bytes(v)
    if dt not in _DTYPES:
        raise RefError(f"tensor {name!r}: unsupported data type {dt}")
    if raw is not None:
        a = np.frombuffer(raw, np.dtype(_DTYPES[dt]).newbyteorder("<")).copy()
    else:
        a = np.array(fl if dt == 1 else i64, _DTYPES[dt])
    return name, a.reshape(dims)


def _attr(b):
    name, val, ints, floats = "", None, None, None
    for f, wt, v in _fields(b):
        if f == 1:
            name = bytes(v).decode()
        elif f == 2:
            val = struct.unpack("<f", v)[0]
        elif f == 3:
            val = _s64(v)
        elif f == 4:
            val = bytes(v).decode()
        elif f == 5:
            val = _tensor(v)[1]
        elif f == 7:
            floats = (floats or []) + _floats(wt, v)
        elif f == 8:
            ints = (ints or []) + _ints(wt, v)
    if ints is not None:
        val = ints
    elif floats is not None:
        val = floats
    return name, val


def load_model(path):
    """The graph of an ONNX file: nodes (op, inputs, outputs, attributes),
    initializers, first input and first output names."""
    with open(path, "rb") as fh:
        data = fh.read()
    graph = None
    for f, _, v in _fields(data):
        if f == 7:
            graph = v
    if graph is None:
        raise RefError(f"{path}: no graph")
    nodes, inits, inputs, outputs = [], {}, [], []
    for f, _, v in _fields(graph):
        if f == 1:
            n = {"op": "", "in": [], "out": [], "attrs": {}}
            for g, _, w in _fields(v):
                if g == 1:
                    n["in"].append(bytes(w).decode())
                elif g == 2:
                    n["out"].append(bytes(w).decode())
                elif g == 4:
                    n["op"] = bytes(w).decode()
                elif g == 5:
                    k, a = _attr(w)
                    n["attrs"][k] = a
            nodes.append(n)
        elif f == 5:
            k, a = _tensor(v)
            inits[k] = a
        elif f in (11, 12):
            name = next((bytes(w).decode() for g, _, w in _fields(v) if g == 1), "")
            (inputs if f == 11 else outputs).append(name)
    inputs = [i for i in inputs if i not in inits]
    if not inputs or not outputs:
        raise RefError(f"{path}: graph without input or output")
    return {"nodes": nodes, "inits": inits, "input": inputs[0], "output": outputs[0]}


# ---- ops in float64 -----------------------------------------------------------
def _conv(x, w, b, a):
    if a.get("auto_pad", "NOTSET") != "NOTSET":
        raise RefError("Conv auto_pad is not supported")
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    g = a.get("group", 1)
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    co = w.shape[0]
    cig, cog = c // g, co // g
    y = np.zeros((n, co, ho, wo))
    for ky in range(kh):
        for kx in range(kw):
            xs = xp[:, :, ky * dh:ky * dh + sh * (ho - 1) + 1:sh, kx * dw:kx * dw + sw * (wo - 1) + 1:sw]
            if cig == 1 and cog == 1:  # depthwise
                y += w[None, :, 0, ky, kx, None, None] * xs
            else:
                for gi in range(g):
                    y[:, gi * cog:(gi + 1) * cog] += np.einsum(
                        "oc,nchw->nohw", w[gi * cog:(gi + 1) * cog, :, ky, kx],
                        xs[:, gi * cig:(gi + 1) * cig], optimize=True)
    if b is not None:
        y += b[None, :, None, None]
    return y


def _conv_transpose(x, w, b, a):
    if a.get("group", 1) != 1 or a.get("auto_pad", "NOTSET") != "NOTSET" or "output_shape" in a:
        raise RefError("ConvTranspose with groups, auto_pad or output_shape is not supported")
    kh, kw = w.shape[2:]
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    oph, opw = a.get("output_padding", [0, 0])
    n, _, h, wd = x.shape
    fh, fw = (h - 1) * sh + (kh - 1) * dh + 1 + oph, (wd - 1) * sw + (kw - 1) * dw + 1 + opw
    full = np.zeros((n, w.shape[1], fh, fw))
    for ky in range(kh):
        for kx in range(kw):
            full[:, :, ky * dh:ky * dh + sh * (h - 1) + 1:sh, kx * dw:kx * dw + sw * (wd - 1) + 1:sw] += \
                np.einsum("co,nchw->nohw", w[:, :, ky, kx], x, optimize=True)
    y = full[:, :, pt:fh - pb, pl:fw - pr]
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def _nearest_index(out_len, in_len, scale, a):
    o = np.arange(out_len, dtype=np.float64)
    mode = a.get("coordinate_transformation_mode", "half_pixel")
    if mode == "asymmetric":
        s = o / scale
    elif mode == "align_corners":
        s = o * (in_len - 1) / (out_len - 1) if out_len > 1 else o * 0
    elif mode == "pytorch_half_pixel":
        s = (o + 0.5) / scale - 0.5 if out_len > 1 else o * 0
    elif mode == "half_pixel":
        s = (o + 0.5) / scale - 0.5
    else:
        raise RefError(f"Resize coordinate_transformation_mode {mode} is not supported")
    rnd = a.get("nearest_mode", "round_prefer_floor")
    if rnd == "floor":
        i = np.floor(s)
    elif rnd == "ceil":
        i = np.ceil(s)
    elif rnd == "round_prefer_ceil":
        i = np.floor(s + 0.5)
    elif rnd == "round_prefer_floor":
        i = np.ceil(s - 0.5)
    else:
        raise RefError(f"Resize nearest_mode {rnd} is not supported")
    return np.clip(i.astype(np.int64), 0, in_len - 1)


def _resize(ins, a):
    if a.get("mode", "nearest") != "nearest":
        raise RefError("Resize: only mode nearest is supported")
    x = ins[0]
    scales = ins[2] if len(ins) > 2 and ins[2] is not None and ins[2].size else None
    sizes = ins[3] if len(ins) > 3 and ins[3] is not None and ins[3].size else None
    if x.ndim != 4 or (scales is None and sizes is None):
        raise RefError("Resize: needs a 4-D input and scales or sizes")
    h, w = x.shape[2:]
    if sizes is not None:
        ho, wo = int(sizes[2]), int(sizes[3])
        sc_h, sc_w = ho / h, wo / w
    else:
        sc_h, sc_w = float(np.float32(scales[2])), float(np.float32(scales[3]))
        ho, wo = int(np.floor(h * sc_h)), int(np.floor(w * sc_w))
    iy, ix = _nearest_index(ho, h, sc_h, a), _nearest_index(wo, w, sc_w, a)
    return x[:, :, iy][:, :, :, ix]


def _float(v):
    return v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype == np.float32 else v


def evaluate(model, x):
    """The model's first output for input x, every float computed in float64."""
    env = {k: _float(v) for k, v in model["inits"].items()}
    env[model["input"]] = x.astype(np.float64)
    # Free each value after its last use: the detection model at 960x736 would
    # otherwise hold gigabytes of float64 activations.
    last = {}
    for i, n in enumerate(model["nodes"]):
        for v in n["in"]:
            last[v] = i
    for i, n in enumerate(model["nodes"]):
        op, a = n["op"], n["attrs"]
        try:
            ins = [env[v] if v else None for v in n["in"]]
        except KeyError as e:
            raise RefError(f"{op} node reads undefined value {e}") from None
        if op == "Constant":
            r = _float(a["value"])
        elif op in ("Add", "Sub", "Mul", "Div"):
            p, q = ins
            r = p + q if op == "Add" else p - q if op == "Sub" else p * q if op == "Mul" else p / q
        elif op == "Relu":
            r = np.maximum(ins[0], 0.0)
        elif op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else a.get("min", -np.inf)
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else a.get("max", np.inf)
            r = np.minimum(np.maximum(ins[0], lo), hi)
        elif op == "HardSigmoid":
            r = np.clip(a.get("alpha", 0.2) * ins[0] + a.get("beta", 0.5), 0.0, 1.0)
        elif op == "HardSwish":
            r = ins[0] * np.clip(ins[0] / 6.0 + 0.5, 0.0, 1.0)
        elif op == "Sigmoid":
            r = 1.0 / (1.0 + np.exp(-ins[0]))
        elif op == "GlobalAveragePool":
            r = ins[0].mean(axis=tuple(range(2, ins[0].ndim)), keepdims=True)
        elif op == "Conv":
            r = _conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "ConvTranspose":
            r = _conv_transpose(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "BatchNormalization":
            x0, gam, bet, mean, var = ins[:5]
            s = (1, -1) + (1,) * (x0.ndim - 2)
            r = (x0 - mean.reshape(s)) / np.sqrt(var.reshape(s) + a.get("epsilon", 1e-5)) \
                * gam.reshape(s) + bet.reshape(s)
        elif op == "Resize":
            r = _resize(ins, a)
        elif op == "Concat":
            r = np.concatenate(ins, axis=a["axis"])
        else:
            raise RefError(f"op {op} is not supported by the float64 reference")
        env[n["out"][0]] = r
        for v in n["in"]:
            if last.get(v) == i and v != model["output"]:
                env.pop(v, None)
    return env[model["output"]]


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: onnx_ref.py MODEL.onnx IN.npy OUT.npy\n")
        return 2
    try:
        model = load_model(sys.argv[1])
        x = np.load(sys.argv[2], allow_pickle=False)
        y = evaluate(model, x)
    except (OSError, ValueError, RefError) as e:
        sys.stderr.write(f"onnx_ref.py: error: {e}\n")
        return 2
    np.save(sys.argv[3], np.ascontiguousarray(y, dtype=np.float64))
    return 0


if __name__ == "__main__":
    sys.exit(main())

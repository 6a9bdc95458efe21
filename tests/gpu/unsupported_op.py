#!/usr/bin/python3
"""torch_ref.py on a model with an op it does not cover must stop with exit
status 2 and an error naming the op, not crash or run half a graph.

Usage: /usr/bin/python3 tests/gpu/unsupported_op.py
Writes a one-node ONNX file (op "NoSuchOp", opset 11) by hand in protobuf wire
format, runs torch_ref.py on it and checks the exit status and the message.
Exit status 0 pass, 1 fail, 77 (skip) when torch is not installed.
"""
import importlib.util
import os
import subprocess
import sys
import tempfile

import numpy as np

TORCH_REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                         "bench", "gpu", "torch_ref.py")


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, payload):
    """A length-delimited field (wire type 2); an int payload is a varint field."""
    if isinstance(payload, int):
        return varint(num << 3) + varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def model_bytes(op):
    node = field(1, "x") + field(2, "y") + field(4, op)
    graph = field(1, node) + field(2, "g") + field(11, field(1, "x")) + field(12, field(1, "y"))
    return field(1, 7) + field(8, field(2, 11)) + field(7, graph)


def main():
    if importlib.util.find_spec("torch") is None:
        print("SKIP: /usr/bin/python3 cannot import torch", file=sys.stderr)
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        model, x, y = (os.path.join(tmp, f) for f in ("m.onnx", "x.npy", "y.npy"))
        with open(model, "wb") as fh:
            fh.write(model_bytes("NoSuchOp"))
        np.save(x, np.zeros((1, 3, 4, 4), np.float32))
        r = subprocess.run([sys.executable, TORCH_REF, model, x, y], capture_output=True, text=True)
    print(r.stderr.strip())
    if r.returncode != 2 or "NoSuchOp" not in r.stderr:
        print(f"FAIL: exit status {r.returncode} (want 2), the message must name NoSuchOp")
        return 1
    print("ok: unsupported op rejected with exit status 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())

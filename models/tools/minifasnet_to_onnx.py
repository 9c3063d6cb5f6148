#!/usr/bin/env python3
"""MiniFASNet (Silent-Face-Anti-Spoofing) .pth -> ONNX, and a NumPy reference forward pass.

No PyTorch: the .pth files are PyTorch's *legacy* serialisation (not a zip; protocol 1001):
three small pickles (magic number, protocol version, system info), the state dict pickled with
persistent ids naming storages, a pickled list of storage keys, then for each key an int64
element count and the raw little-endian storage. `load_state_dict` reads that with a restricted
unpickler (it resolves only OrderedDict, _rebuild_tensor_v2 and the storage types; anything else
is refused) and numpy.

Architecture (the authors' src/model_lib/MiniFASNet.py, checked against every key and shape of
both state dicts; `derive` raises if a shape does not fit):
  conv1      Conv_block 3x3/2 pad 1 (conv no bias, BN, PReLU)            80 -> 40
  conv2_dw   Conv_block 3x3/1 pad 1, depthwise
  conv_23    Depth_Wise: 1x1 Conv_block, 3x3/2 depthwise Conv_block, 1x1 Linear_block  -> 20
  conv_3     Residual: 4 x Depth_Wise (stride 1, x + f(x))
  conv_34    Depth_Wise stride 2                                          -> 10
  conv_4     Residual: 6 blocks
  conv_45    Depth_Wise stride 2                                          -> 5
  conv_5     Residual: 2 blocks
  conv_6_sep Conv_block 1x1 -> 512;  conv_6_dw Linear_block 5x5 depthwise, pad 0 -> 1x1
  flatten, linear 512->128 (no bias), BatchNorm1d, (dropout: identity), prob 128->3 (no bias)
  V1SE: the LAST block of each Residual stage is Depth_Wise_SE: x + SE(f(x)), where
  SE(y) = y * sigmoid(BN(fc2(relu(BN(fc1(avgpool(y)))))))  (fc1/fc2: 1x1 convs, no bias).
Strides and paddings are not in the weights; they are the authors' (3x3 convs pad 1, the first
conv and the three transitions stride 2, conv_6_dw pad 0 with kernel ((80+15)//16)^2 = 5x5), and
the 80 -> 5x5x512 -> 512 flow is checked against the shapes of conv_6_dw and linear.
BatchNorm eps = 1e-5 (PyTorch default), inference mode (running statistics).

ONNX: input `input` float32 NCHW 1x3x80x80, **BGR 0..255, not normalised**; output `logits`
1x3 (class 0 and 2: spoof kinds, class 1: live; the authors apply softmax). BN is folded into
the preceding conv / linear; opset 13. The conversion is deterministic.

Usage:
  minifasnet_to_onnx.py convert PTH OUT.onnx           # write the ONNX, print a summary
  minifasnet_to_onnx.py reference PTH --synthetic N    # NumPy logits on N synthetic inputs
  minifasnet_to_onnx.py check PTH ONNX                 # NumPy vs onnxruntime on synthetic inputs
  minifasnet_to_onnx.py crops PTH DIR                  # NumPy logits on DIR/*.crop (raw u8 BGR
                                                       #  HWC 80x80, as the Rust example dumps),
                                                       #  compared with DIR/*.logits if present
"""

import argparse
import collections
import glob
import json
import os
import pickle
import re
import struct
import sys

import numpy as np

EPS = 1e-5
SIDE = 80

# ---------------------------------------------------------------- reading the .pth ----------

_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2",
           "LongStorage": "<i8", "IntStorage": "<i4", "ByteStorage": "u1"}


class _StorageType:
    def __init__(self, name):
        self.name = name


class _Storage:
    def __init__(self, dtype, size):
        self.dtype, self.size, self.data = np.dtype(dtype), size, None


def _rebuild_tensor_v2(storage, offset, size, stride, *_rest):
    return ("tensor", storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    def persistent_load(self, pid):
        kind, stype, key, _location, size = pid[:5]
        if kind != "storage" or not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(_DTYPES[stype.name], size)
        return self.storages[key]


def load_state_dict(path):
    """The state dict of a legacy-format .pth as {key without 'module.': float64/int ndarray}."""
    with open(path, "rb") as f:
        magic = pickle.load(f)
        if magic != 0x1950A86A20F9469CFC6C:
            raise SystemExit(f"{path}: not a legacy PyTorch file (magic {magic!r})")
        if pickle.load(f) != 1001:
            raise SystemExit(f"{path}: unknown protocol version")
        info = pickle.load(f)
        if not info.get("little_endian", False):
            raise SystemExit(f"{path}: big-endian storages are not supported")
        storages = {}
        obj = _Unpickler(f, storages).load()
        for key in pickle.load(f):
            s = storages[key]
            (n,) = struct.unpack("<q", f.read(8))
            if n != s.size:
                raise SystemExit(f"{path}: storage {key} has {n} elements, pickle says {s.size}")
            raw = f.read(n * s.dtype.itemsize)
            if len(raw) != n * s.dtype.itemsize:
                raise SystemExit(f"{path}: truncated storage {key}")
            s.data = np.frombuffer(raw, dtype=s.dtype)
        if f.read():
            raise SystemExit(f"{path}: trailing bytes after the storages")
    sd = {}
    for k, (_, s, off, size, stride) in obj.items():
        a = np.lib.stride_tricks.as_strided(
            s.data[off:], shape=size, strides=[x * s.dtype.itemsize for x in stride]).copy()
        sd[k.removeprefix("module.")] = a
    return sd


# ---------------------------------------------------------------- architecture -------------

def derive(sd):
    """The layer list: ('block', prefix, stride, pad, prelu) convs; ('dw', prefix, stride, residual, se).
    Checks that every non-bookkeeping tensor is used exactly once."""
    used = set()

    def take(k):
        if k not in sd:
            raise SystemExit(f"missing tensor {k}")
        used.add(k)
        return sd[k]

    def bn(p):
        g, b = take(p + ".weight"), take(p + ".bias")
        m, v = take(p + ".running_mean"), take(p + ".running_var")
        used.add(p + ".num_batches_tracked")
        return g.astype(np.float64), b.astype(np.float64), m.astype(np.float64), v.astype(np.float64)

    def conv_block(p, stride, pad, prelu=True):
        w = take(p + ".conv.weight").astype(np.float64)
        cout, cin_g, kh, kw = w.shape
        return dict(kind="conv", w=w, stride=stride, pad=pad, bn=bn(p + ".bn"),
                    prelu=take(p + ".prelu.weight").astype(np.float64) if prelu else None)

    def depth_wise(p, stride, residual, se):
        c = conv_block(p + ".conv", 1, 0)
        d = conv_block(p + ".conv_dw", stride, 1)
        j = conv_block(p + ".project", 1, 0, prelu=False)
        if d["w"].shape[1] != 1 or d["w"].shape[0] != c["w"].shape[0]:
            raise SystemExit(f"{p}.conv_dw is not depthwise over {p}.conv's output")
        s = None
        if se:
            s = dict(fc1=take(p + ".se_module.fc1.weight").astype(np.float64), bn1=bn(p + ".se_module.bn1"),
                     fc2=take(p + ".se_module.fc2.weight").astype(np.float64), bn2=bn(p + ".se_module.bn2"))
        return dict(kind="dw", parts=[c, d, j], residual=residual, se=s)

    def stage(p):
        n = 0
        while f"{p}.model.{n}.conv.conv.weight" in sd:
            n += 1
        if n == 0:
            raise SystemExit(f"stage {p} has no blocks")
        return [depth_wise(f"{p}.model.{i}", 1, True, f"{p}.model.{i}.se_module.fc1.weight" in sd)
                for i in range(n)]

    layers = [conv_block("conv1", 2, 1), conv_block("conv2_dw", 1, 1),
              depth_wise("conv_23", 2, False, False), *stage("conv_3"),
              depth_wise("conv_34", 2, False, False), *stage("conv_4"),
              depth_wise("conv_45", 2, False, False), *stage("conv_5"),
              conv_block("conv_6_sep", 1, 0)]
    k6 = (SIDE + 15) // 16
    c6 = take("conv_6_dw.conv.weight").astype(np.float64)
    if c6.shape[2:] != (k6, k6) or c6.shape[1] != 1:
        raise SystemExit(f"conv_6_dw shape {c6.shape}, expected depthwise {k6}x{k6}")
    layers.append(dict(kind="conv", w=c6, stride=1, pad=0, bn=bn("conv_6_dw.bn"), prelu=None))
    lin = take("linear.weight").astype(np.float64)
    if lin.shape[1] != c6.shape[0]:  # 5x5 -> 1x1 after the 5x5 kernel: flatten = channels
        raise SystemExit(f"linear takes {lin.shape[1]}, flatten gives {c6.shape[0]}")
    head = dict(linear=lin, bn=bn("bn"), prob=take("prob.weight").astype(np.float64))
    se_blocks = [i for i, l in enumerate(layers) if l["kind"] == "dw" and l["se"] is not None]
    left = sorted(k for k in sd if k not in used)
    if left:
        raise SystemExit(f"unused tensors: {left}")
    return layers, head, len(se_blocks)


# ---------------------------------------------------------------- NumPy reference ----------

def np_conv(x, w, stride, pad):
    """x: (C, H, W) float64; w: (O, C/g, k, k); groups inferred."""
    c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    g = c // cg
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    xg = xp.reshape(g, cg, xp.shape[1], xp.shape[2])
    wg = w.reshape(g, o // g, cg, kh, kw)
    out = np.zeros((g, o // g, oh, ow))
    for ky in range(kh):
        for kx in range(kw):
            patch = xg[:, :, ky:ky + stride * (oh - 1) + 1:stride, kx:kx + stride * (ow - 1) + 1:stride]
            out += np.einsum("goc,gchw->gohw", wg[:, :, :, ky, kx], patch)
    return out.reshape(o, oh, ow)


def np_bn(x, p):
    g, b, m, v = p
    shape = (-1,) + (1,) * (x.ndim - 1)
    return (x - m.reshape(shape)) / np.sqrt(v.reshape(shape) + EPS) * g.reshape(shape) + b.reshape(shape)


def np_conv_block(x, l):
    y = np_bn(np_conv(x, l["w"], l["stride"], l["pad"]), l["bn"])
    if l["prelu"] is not None:
        a = l["prelu"].reshape(-1, 1, 1)
        y = np.where(y >= 0, y, a * y)
    return y


def forward(layers, head, x):
    """x: (3, 80, 80) BGR 0..255 -> logits (3,), float64 throughout."""
    y = np.asarray(x, np.float64)
    for l in layers:
        if l["kind"] == "conv":
            y = np_conv_block(y, l)
            continue
        z = y
        for part in l["parts"]:
            z = np_conv_block(z, part)
        if l["se"] is not None:
            s = l["se"]
            t = z.mean(axis=(1, 2), keepdims=True)
            t = np.maximum(np_bn(np_conv(t, s["fc1"], 1, 0), s["bn1"]), 0)
            t = np_bn(np_conv(t, s["fc2"], 1, 0), s["bn2"])
            z = z * (1 / (1 + np.exp(-t)))
        y = y + z if l["residual"] else z
    f = y.reshape(-1)
    e = np_bn(head["linear"] @ f, head["bn"])
    return head["prob"] @ e


# ---------------------------------------------------------------- ONNX -----------------------

def fold(w, bnp):
    g, b, m, v = bnp
    s = g / np.sqrt(v + EPS)
    return (w * s.reshape(-1, *(1,) * (w.ndim - 1))).astype(np.float32), (b - m * s).astype(np.float32)


def to_onnx(layers, head, name):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    counter = [0]

    def nm(base):
        counter[0] += 1
        return f"{base}_{counter[0]}"

    def const(base, a):
        n = nm(base)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(a), n))
        return n

    def node(op, inputs, base, **attrs):
        out = nm(base)
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(x, w, bnp, stride, pad):
        wf, bf = fold(w, bnp)
        groups = x[1] // w.shape[1]
        return node("Conv", [x[0], const("w", wf), const("b", bf)], "conv",
                    kernel_shape=list(w.shape[2:]), strides=[stride, stride],
                    pads=[pad] * 4, group=groups), w.shape[0]

    def block(x, l):
        y, c = conv(x, l["w"], l["bn"], l["stride"], l["pad"])
        if l["prelu"] is not None:
            y = node("PRelu", [y, const("slope", l["prelu"].astype(np.float32).reshape(-1, 1, 1))], "prelu")
        return (y, c)

    x = ("input", 3)
    for l in layers:
        if l["kind"] == "conv":
            x = block(x, l)
            continue
        z = x
        for part in l["parts"]:
            z = block(z, part)
        if l["se"] is not None:
            s = l["se"]
            t = (node("GlobalAveragePool", [z[0]], "se_pool"), z[1])
            t, c1 = conv(t, s["fc1"], s["bn1"], 1, 0)
            t = node("Relu", [t], "se_relu")
            t, _ = conv((t, c1), s["fc2"], s["bn2"], 1, 0)
            t = node("Sigmoid", [t], "se_sigmoid")
            z = (node("Mul", [z[0], t], "se_scale"), z[1])
        x = (node("Add", [x[0], z[0]], "residual"), z[1]) if l["residual"] else z
    f = node("Flatten", [x[0]], "flatten", axis=1)
    wl, bl = fold(head["linear"], head["bn"])
    e = node("Gemm", [f, const("linear_w", wl), const("linear_b", bl)], "embedding", transB=1)
    nodes.append(helper.make_node("MatMul", [e, const("prob_w", head["prob"].T.astype(np.float32))],
                                  ["logits"], name="prob"))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3])], inits)
    model = helper.make_model(graph, producer_name="facegate minifasnet_to_onnx.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


# ---------------------------------------------------------------- inputs --------------------

def synthetic(i):
    """Deterministic BGR 0..255 input number i, (3, 80, 80) — the Rust parity test builds the same."""
    c = np.arange(3).reshape(3, 1, 1)
    y = np.arange(SIDE).reshape(1, SIDE, 1)
    x = np.arange(SIDE).reshape(1, 1, SIDE)
    return ((x * (7 + i) + y * (13 + 2 * i) + c * 29 * (i + 1) + x * y * i) % 256).astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert"); c.add_argument("pth"); c.add_argument("out")
    r = sub.add_parser("reference"); r.add_argument("pth"); r.add_argument("--synthetic", type=int, default=3)
    k = sub.add_parser("check"); k.add_argument("pth"); k.add_argument("onnx")
    d = sub.add_parser("crops"); d.add_argument("pth"); d.add_argument("dir")
    a = ap.parse_args()

    sd = load_state_dict(a.pth)
    layers, head, n_se = derive(sd)
    nparams = sum(v.size for k, v in sd.items() if not k.endswith("num_batches_tracked"))
    if a.cmd == "convert":
        import onnx
        name = os.path.basename(a.pth).removesuffix(".pth")
        model = to_onnx(layers, head, name)
        onnx.save(model, a.out)
        print(f"{a.out}: {len(layers)} layers, {n_se} SE blocks, {nparams} parameters in the .pth, "
              f"{os.path.getsize(a.out)} bytes", file=sys.stderr)
    elif a.cmd == "reference":
        out = [forward(layers, head, synthetic(i)).tolist() for i in range(a.synthetic)]
        print(json.dumps(out))
    elif a.cmd == "check":
        import onnxruntime as ort
        sess = ort.InferenceSession(a.onnx, providers=["CPUExecutionProvider"])
        worst = 0.0
        for i in range(4):
            x = synthetic(i)
            ref = forward(layers, head, x)
            got = sess.run(None, {"input": x[None].astype(np.float32)})[0][0]
            worst = max(worst, float(np.abs(ref - got).max()))
        print(f"{a.onnx}: onnxruntime vs NumPy reference, 4 synthetic inputs: max |diff| {worst:.3g}")
        if worst > 1e-3:
            raise SystemExit("parity failed")
    else:
        worst, n = 0.0, 0
        for path in sorted(glob.glob(os.path.join(a.dir, "*.crop"))):
            raw = np.fromfile(path, np.uint8)
            if raw.size != SIDE * SIDE * 3:
                raise SystemExit(f"{path}: {raw.size} bytes")
            x = raw.reshape(SIDE, SIDE, 3).transpose(2, 0, 1).astype(np.float64)
            ref = forward(layers, head, x)
            lg = path[:-5] + ".logits"
            if os.path.exists(lg):
                got = np.array(open(lg).read().split(), np.float64)
                worst = max(worst, float(np.abs(ref - got).max()))
                n += 1
            print(os.path.basename(path), " ".join(f"{v:.6f}" for v in ref))
        print(f"{n} crops compared with tract: max |diff| {worst:.3g}", file=sys.stderr)


if __name__ == "__main__":
    main()

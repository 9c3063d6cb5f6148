#!/usr/bin/env python3
"""Convert dlib's net_to_xml dump of dlib_face_recognition_resnet_model_v1 to ONNX.

Why a hand-written converter: there is no maintained dlib->ONNX exporter, and the
network is small and fixed (29 conv layers, ResNet-34-like with 1/2 the filters).
We rebuild it op by op from the XML so every semantic choice is explicit and
checked against dlib itself (see check_parity.py).

dlib semantics reproduced here (all verified against dlib's own output):
  * The XML lists layers from the OUTPUT back to the INPUT; tags/skip/add_prev refer
    to the most recent tagN in input->output order.
  * input_rgb_image_sized: x = (rgb - [122.782, 117.001, 104.298]) / 256.  We bake
    this into the graph, so the ONNX input is float RGB 0..255, NCHW 1x3x150x150.
  * con: weights (num_filters, k, nr, nc) followed by num_filters biases. Padding as
    listed in the XML (k/2 at stride 1, 0 at stride 2).
  * affine_con (inference-mode batch norm): gamma[k] then beta[k]; y = gamma*x + beta.
    With --fold (default) it is folded into the preceding conv's weights/bias.
  * max_pool / avg_pool: no padding at stride 2, floor output size. avg_pool with
    nr=nc=0 is avg_pool_everything -> GlobalAveragePool.
  * add_prev: if shapes differ, the smaller tensor is zero-padded AT THE END of each
    dimension (channels, rows, cols) to the larger shape -> Pad ops.
  * fc_no_bias: params are (num_inputs, num_outputs); y = x . W  -> MatMul.
  * loss_metric: identity at inference. The 128-d output is NOT L2-normalised.
"""

import argparse
import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def parse_layers(path):
    tree = ET.parse(path)
    root = tree.getroot()
    layers = []
    for layer in root.findall("layer"):
        idx = int(layer.get("idx"))
        ltype = layer.get("type")
        if ltype in ("tag", "skip"):
            layers.append((idx, ltype, {"id": int(layer.get("id"))}, None))
            continue
        child = list(layer)
        if len(child) != 1:
            raise SystemExit(f"layer {idx}: expected one child, got {len(child)}")
        el = child[0]
        text = (el.text or "").strip()
        params = np.array(text.split(), dtype=np.float64).astype(np.float32) if text else None
        # fc writes a stray '>' line in some dlib versions; tolerate nothing else.
        layers.append((idx, el.tag, dict(el.attrib), params))
    layers.sort(key=lambda t: -t[0])  # input first
    return layers


class Builder:
    def __init__(self):
        self.nodes = []
        self.inits = []
        self.n = 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base, arr):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(self, op, inputs, base, **attrs):
        out = self.name(base)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def build(layers, fold=True):
    b = Builder()
    # value name -> shape (C, H, W)
    tags = {}
    cur = None
    shape = None
    pending_conv = None  # (weights, bias, attrs, input_name) awaiting a possible affine fold

    def flush_conv():
        nonlocal cur, shape, pending_conv
        if pending_conv is None:
            return
        w, bias, attrs, inp = pending_conv
        wn = b.const("conv_w", w)
        bn = b.const("conv_b", bias)
        cur = b.node("Conv", [inp, wn, bn], "conv", **attrs)
        pending_conv = None

    i = 0
    while i < len(layers):
        idx, kind, attrs, params = layers[i]
        if kind == "input_rgb_image_sized":
            nr, nc = int(attrs["nr"]), int(attrs["nc"])
            mean = np.array([float(attrs["r"]), float(attrs["g"]), float(attrs["b"])], np.float32)
            # XML prints means with 9 digits; dlib's are exactly these float32 values.
            mean_n = b.const("mean", mean.reshape(1, 3, 1, 1))
            scale_n = b.const("scale", np.array(1.0 / 256.0, np.float32).reshape(1, 1, 1, 1))
            x = b.node("Sub", ["image", mean_n], "sub_mean")
            cur = b.node("Mul", [x, scale_n], "scale")
            shape = (3, nr, nc)
            input_hw = (nr, nc)
            means = mean
        elif kind == "con":
            flush_conv()
            nf, kh, kw = int(attrs["num_filters"]), int(attrs["nr"]), int(attrs["nc"])
            sy, sx = int(attrs["stride_y"]), int(attrs["stride_x"])
            py, px = int(attrs["padding_y"]), int(attrs["padding_x"])
            cin = shape[0]
            nw = nf * cin * kh * kw
            has_bias = attrs.get("use_bias", "true") == "true"
            expect = nw + (nf if has_bias else 0)
            if params is None or params.size != expect:
                raise SystemExit(f"con layer {idx}: {None if params is None else params.size} params, want {expect}")
            w = params[:nw].reshape(nf, cin, kh, kw)
            bias = params[nw:] if has_bias else np.zeros(nf, np.float32)
            conv_attrs = dict(kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
            pending_conv = (w, bias, conv_attrs, cur)
            oh = (shape[1] + 2 * py - kh) // sy + 1
            ow = (shape[2] + 2 * px - kw) // sx + 1
            shape = (nf, oh, ow)
            if not fold:
                flush_conv()
        elif kind == "affine_con":
            k = shape[0]
            if params is None or params.size != 2 * k:
                raise SystemExit(f"affine layer {idx}: bad param count")
            gamma, beta = params[:k], params[k:]
            if attrs.get("disabled") == "true":
                raise SystemExit(f"affine layer {idx} disabled: unsupported")
            if fold and pending_conv is not None:
                w, bias, conv_attrs, inp = pending_conv
                w = (w * gamma.reshape(-1, 1, 1, 1)).astype(np.float32)
                bias = (bias * gamma + beta).astype(np.float32)
                pending_conv = (w, bias, conv_attrs, inp)
            else:
                flush_conv()
                g = b.const("gamma", gamma.reshape(1, k, 1, 1))
                be = b.const("beta", beta.reshape(1, k, 1, 1))
                cur = b.node("Add", [b.node("Mul", [cur, g], "affine_mul"), be], "affine_add")
        elif kind == "relu":
            flush_conv()
            cur = b.node("Relu", [cur], "relu")
        elif kind in ("max_pool", "avg_pool"):
            flush_conv()
            kh, kw = int(attrs["nr"]), int(attrs["nc"])
            sy, sx = int(attrs["stride_y"]), int(attrs["stride_x"])
            py, px = int(attrs["padding_y"]), int(attrs["padding_x"])
            if kh == 0 and kw == 0:
                if kind != "avg_pool":
                    raise SystemExit("global max pool unsupported")
                cur = b.node("GlobalAveragePool", [cur], "gap")
                shape = (shape[0], 1, 1)
            else:
                if py or px:
                    raise SystemExit(f"pool layer {idx} has padding {py},{px}: not handled")
                op = "MaxPool" if kind == "max_pool" else "AveragePool"
                cur = b.node(op, [cur], kind, kernel_shape=[kh, kw], strides=[sy, sx])
                shape = (shape[0], (shape[1] - kh) // sy + 1, (shape[2] - kw) // sx + 1)
        elif kind == "tag":
            flush_conv()
            tags[attrs["id"]] = (cur, shape)
        elif kind == "skip":
            flush_conv()
            cur, shape = tags[attrs["id"]]
        elif kind == "add_prev":
            flush_conv()
            other, oshape = tags[int(attrs["tag"])]
            target = tuple(max(a, c) for a, c in zip(shape, oshape))

            def pad_to(name, s):
                if s == target:
                    return name
                ends = [0, target[0] - s[0], target[1] - s[1], target[2] - s[2]]
                pads = b.const("pads", np.array([0, 0, 0, 0] + ends, np.int64))
                return b.node("Pad", [name, pads], "pad")

            cur = b.node("Add", [pad_to(cur, shape), pad_to(other, oshape)], "add_prev")
            shape = target
        elif kind == "fc_no_bias":
            flush_conv()
            no = int(attrs["num_outputs"])
            ni = shape[0] * shape[1] * shape[2]
            if params is None or params.size != ni * no:
                raise SystemExit(f"fc layer {idx}: bad param count")
            w = params.reshape(ni, no)
            flat = b.node("Flatten", [cur], "flatten", axis=1)
            cur = b.node("MatMul", [flat, b.const("fc_w", w)], "fc")
            shape = (no,)
        elif kind == "loss_metric":
            flush_conv()
        else:
            raise SystemExit(f"layer {idx}: unsupported kind {kind}")
        i += 1
    flush_conv()
    emb = helper.make_node("Identity", [cur], ["embedding"], name="embedding")
    b.nodes.append(emb)
    graph = helper.make_graph(
        b.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, input_hw[0], input_hw[1]])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, shape[0]])],
        b.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="facegate models/tools/xml_to_onnx.py",
        doc_string=(
            "dlib_face_recognition_resnet_model_v1 (Davis E. King, CC0) converted from dlib XML. "
            "Input 'image': float32 RGB in 0..255, NCHW 1x3x150x150, a dlib 5-point aligned chip "
            "(get_face_chip_details(shape,150,0.25)); mean subtraction "
            f"{means.tolist()} and /256 are inside the graph. Output 'embedding': 1x128, "
            "not normalised; same person if euclidean distance < 0.6."
        ),
    )
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("xml")
    ap.add_argument("out")
    ap.add_argument("--no-fold", action="store_true", help="keep affine layers as Mul/Add")
    a = ap.parse_args()
    layers = parse_layers(a.xml)
    model = build(layers, fold=not a.no_fold)
    onnx.save(model, a.out)
    ops = {}
    for n in model.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print(f"wrote {a.out}: {len(model.graph.node)} nodes, ops {ops}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""facegate vs onnxruntime on the same ONNX files, the same frame, in the same run.

What it does (single thread on both sides):
1. Runs `facegate bench --json --threads 1 --dump-inputs DIR` on the bundled 640x480 frame.
   facegate writes every network input it made for that frame (P-Net per pyramid level,
   R-Net and O-Net per candidate box, the 150x150 chip, the two MiniFASNet crops) and its
   own outputs, and reports its per-network times (network run only) and its per-frame
   `capture` time (detect -> quality gate -> align -> embed with the mirror average).
2. Loads the very same files from models/ in onnxruntime (intra_op_num_threads=1), runs
   each network on those inputs and checks the outputs agree with facegate's.
3. Times onnxruntime on the same inputs (session.run only, inputs prepared beforehand),
   and a numpy/Pillow + onnxruntime version of the whole per-frame pipeline on the same
   models (MTCNN glue as in models/README.md, batch 1 per box as facegate runs it; Pillow
   BOX resampling for the area resizes; similarity alignment + bilinear chip; ResNet on
   the chip and its mirror).
4. Repeats 1 and 3 alternately for --rounds rounds, and prints per network and for the
   pipeline the ratio facegate / onnxruntime (median over rounds of the per-round ratio of
   medians). Ratio > 1: facegate is slower.

usage: python3 benches/peers/onnxruntime_peer.py [--facegate target/release/facegate]
           [--rounds 3] [--iterations 15]
needs: pip install -r benches/peers/requirements.txt
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODELS = os.path.join(ROOT, "models")
NETS = {
    "pnet": "mtcnn/pnet.onnx",
    "rnet": "mtcnn/rnet.onnx",
    "onet": "mtcnn/onet.onnx",
    "resnet": "dlib/dlib_face_recognition_resnet_model_v1.onnx",
    "minifasnet_v2": "minifasnet/2.7_80x80_MiniFASNetV2.onnx",
    "minifasnet_v1se": "minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx",
}
# facegate's MTCNN landmark template in dlib's chip (src/align.rs MTCNN_TEMPLATE), padding 0.25.
MTCNN_TEMPLATE = np.array(
    [[0.2277, 0.2093], [0.7704, 0.2096], [0.4962, 0.5356], [0.2616, 0.8121], [0.7335, 0.8137]],
    dtype=np.float64,
)
CHIP, PADDING = 150, 0.25
THRESHOLDS = (0.6, 0.7, 0.7)


def session(rel):
    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(os.path.join(MODELS, rel), sess_options=o, providers=["CPUExecutionProvider"])
    return s, s.get_inputs()[0].name


def run_facegate(exe, iterations, dump):
    cmd = [exe, "bench", "--json", "--threads", "1", "--iterations", str(iterations),
           "--session-frames", "1", "--session-runs", "1", "--dump-inputs", dump]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


# ---------------------------------------------------------------- per-network inputs

def load_inputs(dump):
    man = json.load(open(os.path.join(dump, "manifest.json")))
    per_net = {"pnet": [], "rnet": [], "onet": []}
    for r in man["runs"]:
        x = np.load(os.path.join(dump, r["name"] + "_in.npy"))
        # facegate feeds [1,3,W,H]; the ONNX file declares [1,W,H,3].
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        outs = []
        j = 0
        while os.path.exists(os.path.join(dump, f"{r['name']}_out{j}.npy")):
            outs.append(np.load(os.path.join(dump, f"{r['name']}_out{j}.npy")))
            j += 1
        per_net[r["net"]].append((x, outs))
    chip = np.load(os.path.join(dump, "resnet_chip.npy"))
    resnet_in = np.ascontiguousarray(chip.transpose(2, 0, 1)[None].astype(np.float32))
    per_net["resnet"] = [(resnet_in, [np.load(os.path.join(dump, "resnet_out.npy"))])]
    for name in ("minifasnet_v2", "minifasnet_v1se"):
        crop = np.load(os.path.join(dump, name + "_crop.npy"))
        x = np.ascontiguousarray(crop.transpose(2, 0, 1)[None].astype(np.float32))
        per_net[name] = [(x, [np.load(os.path.join(dump, name + "_out.npy"))])]
    frame = np.load(os.path.join(dump, "frame.npy"))
    return man, per_net, frame


def softmax_last(logits):
    """facegate's MTCNN plans end before the class softmax (they return the two logits and
    compute the probability only where it is needed): the softmax the ONNX file ends in."""
    z = logits.astype(np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def check_outputs(sessions, per_net):
    """Max |onnxruntime - facegate| per network over every dumped run."""
    diffs = {}
    for net, runs in per_net.items():
        s, name = sessions[net]
        worst = 0.0
        for x, fg_outs in runs:
            ort_outs = s.run(None, {name: x})
            if net == "pnet" and len(fg_outs) == 1 and fg_outs[0].shape[-1] == 6:
                # facegate stacks P-Net's two heads: the four box offsets, then the logits.
                fg_outs = [fg_outs[0][..., :4], fg_outs[0][..., 4:]]
            if net in ("pnet", "rnet", "onet"):
                # Paired by width (the heads' order may differ between the two).
                by_width = {b.shape[-1]: b for b in fg_outs}
                fg_outs = [by_width.get(a.shape[-1]) for a in ort_outs]
            for a, b in zip(ort_outs, fg_outs):
                if b is None:
                    raise SystemExit(f"{net}: no facegate output {a.shape[-1]} wide")
                if net in ("pnet", "rnet", "onet") and b.shape[-1] == 2:
                    b = softmax_last(b)
                worst = max(worst, float(np.max(np.abs(a.reshape(-1) - b.reshape(-1)))))
        diffs[net] = worst
    return diffs


def time_networks(sessions, per_net, iterations):
    """Per frame: the summed session.run time of each network's runs, median over iterations."""
    med = {}
    for net, runs in per_net.items():
        s, name = sessions[net]
        feeds = [{name: x} for x, _ in runs]
        s.run(None, feeds[0])  # warm-up
        samples = []
        for _ in range(iterations):
            t = time.perf_counter()
            for f in feeds:
                s.run(None, f)
            samples.append((time.perf_counter() - t) * 1e3)
        med[net] = statistics.median(samples)
    med["minifasnet"] = med.pop("minifasnet_v2") + med.pop("minifasnet_v1se")
    return med


# ---------------------------------------------------------------- the pipeline in numpy

def norm_t(img_u8):
    """HWC uint8 RGB -> [1, W, H, 3] float32, (x - 127.5) / 128, transposed."""
    x = (img_u8.astype(np.float32) - 127.5) * 0.0078125
    return np.ascontiguousarray(x.transpose(1, 0, 2)[None])


def nms(boxes, thr, mode):
    if len(boxes) == 0:
        return np.zeros(0, dtype=int)
    x1, y1, x2, y2, s = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-s, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        ih = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = iw * ih
        if mode == "min":
            o = inter / np.minimum(area[i], area[rest])
        else:
            o = inter / (area[i] + area[rest] - inter)
        order = rest[o <= thr]
    return np.array(keep, dtype=int)


def rerec(b):
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    l = np.maximum(w, h)
    b[:, 0] += w / 2 - l / 2
    b[:, 1] += h / 2 - l / 2
    b[:, 2] = b[:, 0] + l
    b[:, 3] = b[:, 1] + l
    return b


def crop_resized(img, b, side):
    """MTCNN crop (1-based inclusive box, black outside), area-resized to side x side."""
    H, W, _ = img.shape
    x1, y1, x2, y2 = (int(v) for v in b[:4])
    tw, th = x2 - x1 + 1, y2 - y1 + 1
    patch = np.zeros((th, tw, 3), dtype=np.uint8)
    sx0, sy0 = max(x1 - 1, 0), max(y1 - 1, 0)
    sx1, sy1 = min(x2, W), min(y2, H)
    if sx1 > sx0 and sy1 > sy0:
        patch[sy0 - (y1 - 1):sy1 - (y1 - 1), sx0 - (x1 - 1):sx1 - (x1 - 1)] = img[sy0:sy1, sx0:sx1]
    return np.asarray(Image.fromarray(patch).resize((side, side), Image.BOX))


COUNTS = {}


def mtcnn(sess, img, pyramid):
    """The MTCNN cascade (models/README.md) on the pyramid sizes facegate uses; the best face."""
    H, W, _ = img.shape
    COUNTS.update(pnet=len(pyramid), rnet=0, onet=0)
    pil = Image.fromarray(img)
    (pn, pin), (rn, rin), (on, oin) = sess["pnet"], sess["rnet"], sess["onet"]
    allb = []
    for sw, sh in pyramid:
        scale = sw / W
        level = np.asarray(pil.resize((sw, sh), Image.BOX))
        reg, prob = pn.run(None, {pin: norm_t(level)})
        p = prob[0, :, :, 1]  # [column, row]
        ii, jj = np.nonzero(p >= THRESHOLDS[0])
        if ii.size == 0:
            continue
        r = reg[0, ii, jj, :]
        b = np.stack([np.fix((2 * ii + 1) / scale), np.fix((2 * jj + 1) / scale),
                      np.fix((2 * ii + 12) / scale), np.fix((2 * jj + 12) / scale), p[ii, jj]], axis=1)
        b = np.concatenate([b, r], axis=1)
        allb.append(b[nms(b, 0.5, "union")])
    if not allb:
        return None
    b = np.concatenate(allb)
    b = b[nms(b, 0.7, "union")]
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    boxes = np.stack([b[:, 0] + b[:, 5] * w, b[:, 1] + b[:, 6] * h,
                      b[:, 2] + b[:, 7] * w, b[:, 3] + b[:, 8] * h, b[:, 4]], axis=1)
    boxes = np.fix(rerec(boxes))
    kept = []
    COUNTS["rnet"] = len(boxes)
    for bx in boxes:
        reg, prob = rn.run(None, {rin: norm_t(crop_resized(img, bx, 24))})
        if prob[0, 1] > THRESHOLDS[1]:
            kept.append(np.concatenate([bx[:4], [prob[0, 1]], reg[0]]))
    if not kept:
        return None
    k = np.array(kept)
    k = k[nms(k, 0.7, "union")]
    w, h = k[:, 2] - k[:, 0] + 1, k[:, 3] - k[:, 1] + 1
    k[:, 0] += k[:, 5] * w
    k[:, 1] += k[:, 6] * h
    k[:, 2] += k[:, 7] * w
    k[:, 3] += k[:, 8] * h
    boxes = np.fix(rerec(k[:, :5]))
    faces = []
    COUNTS["onet"] = len(boxes)
    for bx in boxes:
        reg, marks, prob = on.run(None, {oin: norm_t(crop_resized(img, bx, 48))})
        if prob[0, 1] <= THRESHOLDS[2]:
            continue
        w, h = bx[2] - bx[0] + 1, bx[3] - bx[1] + 1
        pts = np.stack([w * marks[0, :5] + bx[0] - 1, h * marks[0, 5:] + bx[1] - 1], axis=1)
        out = np.array([bx[0] + reg[0, 0] * w, bx[1] + reg[0, 1] * h,
                        bx[2] + reg[0, 2] * w, bx[3] + reg[0, 3] * h, prob[0, 1]])
        faces.append((out, pts))
    if not faces:
        return None
    arr = np.array([f[0] for f in faces])
    keep = nms(arr, 0.7, "min")
    best = max(keep, key=lambda i: arr[i, 4])
    return faces[best]


def similarity(src, dst):
    """Least-squares similarity mapping src points onto dst (Umeyama), as a 2x3 matrix."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1
    rot = u @ e @ vt
    scale = np.trace(np.diag(sig) @ e) / s.var(0).sum()
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = md - scale * rot @ ms
    return m


def align(img, pts):
    chip_pts = (PADDING + MTCNN_TEMPLATE) / (2 * PADDING + 1) * CHIP
    m = similarity(chip_pts, pts)  # chip -> image: what Image.transform wants
    im = Image.fromarray(img)
    chip = im.transform((CHIP, CHIP), Image.AFFINE, data=tuple(m.reshape(-1)), resample=Image.BILINEAR)
    return np.asarray(chip)


def pipeline(sess, img, pyramid):
    face = mtcnn(sess, img, pyramid)
    if face is None:
        return None
    box, pts = face
    chip = align(img, pts)
    rn, rin = sess["resnet"]
    x = chip.transpose(2, 0, 1)[None].astype(np.float32)
    e1 = rn.run(None, {rin: np.ascontiguousarray(x)})[0]
    e2 = rn.run(None, {rin: np.ascontiguousarray(x[:, :, :, ::-1])})[0]
    return box, pts, (e1 + e2) / 2, e1


def time_pipeline(sess, img, pyramid, iterations):
    pipeline(sess, img, pyramid)  # warm-up
    samples = []
    for _ in range(iterations):
        t = time.perf_counter()
        pipeline(sess, img, pyramid)
        samples.append((time.perf_counter() - t) * 1e3)
    return statistics.median(samples)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--facegate", default=os.path.join(ROOT, "target", "release", "facegate"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=15)
    a = ap.parse_args()

    sessions = {k: session(v) for k, v in NETS.items()}
    rows = {}
    fg_json = None
    with tempfile.TemporaryDirectory(prefix="facegate-peer-") as dump:
        for rnd in range(a.rounds):
            fg = run_facegate(a.facegate, a.iterations, dump)
            fg_json = fg
            man, per_net, frame = load_inputs(dump)
            if rnd == 0:
                fg_emb = per_net["resnet"][0][1][0]
                diffs = check_outputs(sessions, per_net)
                result = pipeline(sessions, frame, [tuple(p) for p in man["pyramid"]])
            ort_ms = time_networks(sessions, per_net, a.iterations)
            ort_ms["pipeline"] = time_pipeline(sessions, frame, [tuple(p) for p in man["pyramid"]], a.iterations)
            fg_ms = {k: fg["networks"][k]["median_ms"] for k in ("pnet", "rnet", "onet", "resnet", "minifasnet")}
            fg_ms["pipeline"] = fg["stages"]["capture"]["median_ms"]
            for k in fg_ms:
                rows.setdefault(k, []).append((fg_ms[k], ort_ms[k]))

    runs = {k: fg_json["networks"][k]["runs_per_frame"] for k in ("pnet", "rnet", "onet", "resnet", "minifasnet")}
    print(f"facegate vs onnxruntime {ort.__version__}, same ONNX files (models/), same 640x480 frame, one run")
    print(f"machine: {platform.machine()}, {os.cpu_count()} logical CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} (times are from a loaded machine if that is high)")
    print(f"single thread on both sides; {a.rounds} alternating rounds x {a.iterations} iterations")
    print()
    print("output agreement on facegate's own inputs (max |onnxruntime - facegate|):")
    for k, d in diffs.items():
        print(f"  {k:<16} {d:.2e}")
    box, pts, emb, e1 = result
    det = man["detection"]
    fg_box = np.array([det["x"], det["y"], det["x"] + det["width"], det["y"] + det["height"]])
    print("pipeline cross-check (numpy/Pillow glue vs facegate on the same frame):")
    print(f"  face box corners differ by at most {np.max(np.abs(box[:4] - fg_box)):.1f} px; "
          f"landmarks by at most {np.max(np.abs(pts - np.array(det['landmarks']))):.1f} px; "
          f"network runs P/R/O {COUNTS['pnet']}/{COUNTS['rnet']}/{COUNTS['onet']} "
          f"(facegate {runs['pnet']}/{runs['rnet']}/{runs['onet']})")
    print(f"  embedding distance (chip without mirror) to facegate's: {np.linalg.norm(e1 - fg_emb):.3f} "
          f"(facegate's same-person threshold 0.35)")
    print()
    print(f"{'':<14} {'runs/frame':>10} {'ratio facegate/ort':>19}   per-round ratios (median ms facegate / ort, loaded machine)")
    labels = {"pnet": "P-Net", "rnet": "R-Net", "onet": "O-Net", "resnet": "ResNet",
              "minifasnet": "MiniFASNet x2", "pipeline": "pipeline"}
    summary = {}
    for k in ("pnet", "rnet", "onet", "resnet", "minifasnet", "pipeline"):
        ratios = [f / o for f, o in rows[k]]
        summary[k] = statistics.median(ratios)
        detail = ", ".join(f"{f:.1f}/{o:.1f}" for f, o in rows[k])
        n = runs.get(k, "")
        print(f"{labels[k]:<14} {str(n):>10} {summary[k]:>19.2f}   {detail}")
    print()
    print("pipeline = per frame, detect (MTCNN) -> align -> embed (chip + mirror); facegate's is its")
    print("`capture` stage (also runs the quality gate); onnxruntime's is numpy/Pillow glue, batch 1")
    print("per box as facegate. Networks: session.run / network run only, inputs made beforehand.")
    print(json.dumps({"ratio_facegate_over_onnxruntime": summary, "max_abs_diff": diffs}))


if __name__ == "__main__":
    sys.exit(main())

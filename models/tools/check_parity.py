#!/usr/bin/env python3
"""Check the converted face-embedding ONNX against dlib's own descriptors.

Why: the ONNX is a hand conversion of a dlib network; the only acceptable proof that
it is the same model is that, on the very chips dlib aligned, it reproduces dlib's
128-d descriptors. Inputs are the committed fixtures (tests/fixtures/parity): lossless
150x150 chips and dlib's descriptors at full float precision.

Exit status 0 only if every descriptor matches within --tol (max abs difference) and the
embedded same/different-person sanity checks hold. onnxruntime is a build-time check
tool only; the shipped library runs the model with tract.

usage: check_parity.py [--model models/dlib/dlib_face_recognition_resnet_model_v1.onnx]
                       [--fixtures tests/fixtures/parity] [--tol 1e-5]
"""

import argparse
import itertools
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def load_chip(path):
    im = Image.open(path)
    if im.mode != "RGB" or im.size != (150, 150):
        raise SystemExit(f"{path}: expected 150x150 RGB, got {im.size} {im.mode}")
    a = np.asarray(im, dtype=np.float32)  # H, W, 3 in 0..255
    return a.transpose(2, 0, 1)[None].copy()  # 1, 3, H, W


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models/dlib/dlib_face_recognition_resnet_model_v1.onnx"))
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "tests/fixtures/parity"))
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()

    ref = json.load(open(os.path.join(a.fixtures, "descriptors.json")))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    if inp.name != "image" or list(inp.shape) != [1, 3, 150, 150]:
        raise SystemExit(f"unexpected model input {inp.name} {inp.shape}")

    worst = 0.0
    embs = {}
    n = 0
    for im in ref["images"]:
        for face in im["faces"]:
            chip = load_chip(os.path.join(a.fixtures, face["chip"]))
            got = sess.run(["embedding"], {"image": chip})[0][0]
            want = np.array(face["descriptor"], dtype=np.float32)
            diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
            rel = float(np.linalg.norm(got - want) / np.linalg.norm(want))
            worst = max(worst, diff)
            n += 1
            print(f"{face['chip']:32s} max|onnx-dlib| = {diff:.3e}  rel L2 = {rel:.3e}  |d| = {np.linalg.norm(want):.4f}")
            embs[im["image"]] = want
    if n == 0:
        raise SystemExit("no faces in fixtures")
    print(f"faces: {n}, worst max abs difference: {worst:.3e} (tolerance {a.tol:g})")

    # dlib's own decision rule on its own descriptors, as a sanity check of the fixtures.
    ok = worst <= a.tol
    for x, y in itertools.combinations(sorted(embs), 2):
        d = float(np.linalg.norm(embs[x] - embs[y]))
        same = x.startswith("obama") == y.startswith("obama")
        verdict = "same" if d < 0.6 else "different"
        print(f"  dist({x}, {y}) = {d:.4f} -> {verdict}")
        if same != (d < 0.6):
            print("  ^ unexpected verdict for this pair")
            ok = False
    if not ok:
        print("PARITY CHECK FAILED", file=sys.stderr)
        return 1
    print("parity OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

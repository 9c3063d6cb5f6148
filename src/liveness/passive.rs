//! Passive layer: a single-frame presentation-attack classifier (ONNX).
//!
//! Why: the challenge, parallax and surface layers see motion and 3-D shape; a screen
//! replaying a real head turn in the asked order has both. What is left on an RGB-only
//! kiosk is the look of the screen itself (moiré, pixel grid, reflections, gamut, bezel),
//! which single-frame PAD networks learn.
//!
//! facegate ships one: [`MiniFasNet`], the two MiniFASNet models (V2 on the face box ×2.7,
//! V1SE on ×4.0) of minivision-ai's Silent-Face-Anti-Spoofing (Apache-2.0), converted to
//! ONNX by `models/tools/minifasnet_to_onnx.py`, embedded and checked by SHA-256 like the
//! other models. It reproduces the authors' crops and decision (see
//! [`MiniFasNet::crops`], [`MiniFasNetScore`]); docs/LIVENESS.md has its parity, its
//! scores on real recordings and what it cannot see.
//!
//! An integrator with another model declares how it expects its input ([`PassiveSpec`]:
//! input size, crop scale around the face box, normalisation, channel order, layout, which
//! output is "live") and loads it as a [`PassiveModel`]. Models are loaded and planned once
//! (tract: plan at load), then run per frame.

use std::path::Path;
use std::sync::Arc;

use image::RgbImage;
use serde::Serialize;
use thiserror::Error;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::optim::Optimizer;
use zeroize::{Zeroize, Zeroizing};

use super::linalg::Box2;
use crate::geometry::Rect;
use crate::model::OnnxModel;

/// Memory layout of the input tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Layout {
    /// `[1, 3, H, W]`.
    Nchw,
    /// `[1, H, W, 3]`.
    Nhwc,
}

/// How the model expects its input and reports its output.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PassiveSpec {
    /// Input width, pixels.
    pub width: u32,
    /// Input height, pixels.
    pub height: u32,
    /// The square crop's side is `crop_scale × max(box width, box height)`, centred on the
    /// face box (many PAD models want context around the face).
    pub crop_scale: f32,
    /// Pixel values are first multiplied by `scale` (e.g. 1/255) …
    pub scale: f32,
    /// … then `(v − mean[c]) / std[c]` per channel (in model channel order).
    pub mean: [f32; 3],
    /// Per-channel standard deviation.
    pub std: [f32; 3],
    /// Feed BGR instead of RGB.
    pub bgr: bool,
    /// Tensor layout.
    pub layout: Layout,
    /// Index of the "live" class in the output vector.
    pub live_class: usize,
    /// Apply a softmax to the output (the model emits logits).
    pub softmax: bool,
}

/// Errors of the passive layer.
#[derive(Debug, Error)]
pub enum PassiveError {
    /// The spec is unusable (zero size, non-positive std, …).
    #[error("invalid passive model spec: {0}")]
    Spec(&'static str),
    /// The model could not be read, parsed or planned.
    #[error("cannot load the passive model: {0}")]
    Load(String),
    /// Running the model failed.
    #[error("the passive model failed to run: {0}")]
    Run(String),
    /// The output does not contain the declared live class.
    #[error("model output has {len} values, live class index is {live_class}")]
    Output {
        /// Output length.
        len: usize,
        /// Declared live class.
        live_class: usize,
    },
    /// The face box is invalid.
    #[error("face box is invalid")]
    Box,
    /// The frame is empty, or its pixel buffer does not match its size.
    #[error("frame is empty")]
    Frame,
    /// The model produced a non-finite value (NaN or infinity).
    #[error("the passive model produced a non-finite output")]
    NotFinite,
}

/// A loaded and planned PAD classifier.
pub struct PassiveModel {
    spec: PassiveSpec,
    plan: Arc<TypedRunnableModel>,
}

impl std::fmt::Debug for PassiveModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassiveModel")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl PassiveModel {
    /// Loads an ONNX file.
    pub fn from_path(path: impl AsRef<Path>, spec: PassiveSpec) -> Result<Self, PassiveError> {
        let bytes = std::fs::read(path.as_ref()).map_err(|e| PassiveError::Load(e.to_string()))?;
        PassiveModel::from_bytes(&bytes, spec)
    }

    /// Loads an ONNX model from memory.
    pub fn from_bytes(bytes: &[u8], spec: PassiveSpec) -> Result<Self, PassiveError> {
        validate(&spec)?;
        let shape: [usize; 4] = match spec.layout {
            Layout::Nchw => [1, 3, spec.height as usize, spec.width as usize],
            Layout::Nhwc => [1, spec.height as usize, spec.width as usize, 3],
        };
        let plan = crate::model::parse_onnx(bytes)
            .and_then(|m| plan_onnx(m, shape))
            .map_err(|e| PassiveError::Load(format!("{e:#}")))?;
        Ok(PassiveModel { spec, plan })
    }

    /// The declared spec.
    pub fn spec(&self) -> &PassiveSpec {
        &self.spec
    }

    /// Probability-like live score of the face in `frame` (higher = more live).
    pub fn score(&self, frame: &RgbImage, face: &Rect) -> Result<f32, PassiveError> {
        let input = self.input(frame, &Box2::from(face))?;
        let out = self
            .plan
            .run(tvec!(input.into()))
            .map_err(|e| PassiveError::Run(format!("{e:#}")))?;
        let first = out.first().ok_or(PassiveError::Output {
            len: 0,
            live_class: self.spec.live_class,
        })?;
        let view = first
            .to_plain_array_view::<f32>()
            .map_err(|e| PassiveError::Run(format!("{e:#}")))?;
        let v: Vec<f32> = view.iter().copied().collect();
        let live = *v.get(self.spec.live_class).ok_or(PassiveError::Output {
            len: v.len(),
            live_class: self.spec.live_class,
        })?;
        if !self.spec.softmax {
            return Ok(live);
        }
        let m = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let z: f32 = v.iter().map(|x| (x - m).exp()).sum();
        Ok((live - m).exp() / z)
    }

    /// The normalised input tensor for a face (bilinear resampling of the square crop,
    /// edge pixels replicated outside the frame).
    fn input(&self, frame: &RgbImage, face: &Box2) -> Result<Tensor, PassiveError> {
        if !face.is_valid() {
            return Err(PassiveError::Box);
        }
        let (fw, fh) = frame.dimensions();
        if fw == 0 || fh == 0 {
            return Err(PassiveError::Frame);
        }
        let s = &self.spec;
        let side = face.w.max(face.h) * f64::from(s.crop_scale);
        let c = face.centre();
        let (x0, y0) = (c.x - side / 2.0, c.y - side / 2.0);
        let (w, h) = (s.width as usize, s.height as usize);
        let mut data = vec![0f32; w * h * 3];
        for oy in 0..h {
            for ox in 0..w {
                let sx = x0 + (ox as f64 + 0.5) * side / w as f64 - 0.5;
                let sy = y0 + (oy as f64 + 0.5) * side / h as f64 - 0.5;
                let rgb = bilinear(frame, sx, sy);
                for (ci, mc) in [0usize, 1, 2].into_iter().enumerate() {
                    let src = if s.bgr { 2 - mc } else { mc };
                    let v = (rgb[src] * s.scale - s.mean[ci]) / s.std[ci];
                    let idx = match s.layout {
                        Layout::Nchw => ci * w * h + oy * w + ox,
                        Layout::Nhwc => (oy * w + ox) * 3 + ci,
                    };
                    if let Some(slot) = data.get_mut(idx) {
                        *slot = v;
                    }
                }
            }
        }
        let shape: Vec<usize> = match s.layout {
            Layout::Nchw => vec![1, 3, h, w],
            Layout::Nhwc => vec![1, h, w, 3],
        };
        Tensor::from_shape(&shape, &data).map_err(|e| PassiveError::Run(format!("{e:#}")))
    }
}

fn validate(s: &PassiveSpec) -> Result<(), PassiveError> {
    if s.width == 0 || s.height == 0 || s.width > 2048 || s.height > 2048 {
        return Err(PassiveError::Spec("input size must be in 1..=2048"));
    }
    if !(s.crop_scale.is_finite() && s.crop_scale > 0.0 && s.scale.is_finite()) {
        return Err(PassiveError::Spec(
            "crop_scale must be positive, scale finite",
        ));
    }
    if s.mean.iter().any(|m| !m.is_finite()) || s.std.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Err(PassiveError::Spec("mean must be finite and std positive"));
    }
    Ok(())
}

fn bilinear(img: &RgbImage, x: f64, y: f64) -> [f32; 3] {
    let (w, h) = img.dimensions();
    crate::sample::clamped(w as usize, h as usize, x, y, |x, y| {
        img.get_pixel(x as u32, y as u32).0.map(f32::from)
    })
}

/// Side of MiniFASNet's square input, pixels.
pub const MINIFASNET_SIDE: usize = 80;

/// The shipped MiniFASNet models (paths relative to `models/`) and the scale of the face
/// box each one sees, as the authors pair them (the scale is in the file name).
pub const MINIFASNET_MODELS: [(&str, f64); 2] = [
    ("minifasnet/2.7_80x80_MiniFASNetV2.onnx", 2.7),
    ("minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx", 4.0),
];

/// The smallest crop region (pixels a side) that is scored; smaller faces are refused
/// with [`PassiveError::Box`].
pub const MIN_CROP: usize = 8;

/// MiniFASNet's class that means "real face" (0 and 2 are two kinds of spoof).
pub const MINIFASNET_LIVE_CLASS: usize = 1;

/// One face judged by both MiniFASNet models.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MiniFasNetScore {
    /// The live score in 0..=1: class 1 of the summed softmax of both models, halved
    /// (the authors halve the sum the same way to report a confidence).
    pub live: f32,
    /// The authors' decision: class 1 is the arg-max of the summed softmax.
    pub authors_live: bool,
    /// Raw logits per model, in [`MINIFASNET_MODELS`] order (for parity checks).
    pub logits: [[f32; 3]; 2],
}

/// The two MiniFASNet models, planned once.
pub struct MiniFasNet {
    plans: [Arc<TypedRunnableModel>; 2],
}

impl std::fmt::Debug for MiniFasNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MiniFasNet")
    }
}

impl MiniFasNet {
    /// The embedded models (feature `embedded-models`), checked against `models/SHA256SUMS`.
    pub fn with_default_models() -> Result<Self, PassiveError> {
        let load = |p: &str| OnnxModel::embedded(p).map_err(|e| PassiveError::Load(e.to_string()));
        MiniFasNet::from_models(
            &load(MINIFASNET_MODELS[0].0)?,
            &load(MINIFASNET_MODELS[1].0)?,
        )
    }

    /// Checked model files: `v2` sees the ×2.7 crop, `v1se` the ×4.0 crop. Each must take a
    /// 1×3×80×80 input and give 3 values.
    pub fn from_models(v2: &OnnxModel, v1se: &OnnxModel) -> Result<Self, PassiveError> {
        let plan = |m: &OnnxModel| -> Result<Arc<TypedRunnableModel>, PassiveError> {
            let s = MINIFASNET_SIDE;
            let plan = m
                .parse_graph()
                .and_then(|g| plan_with(g, [1, 3, s, s], &minifasnet_declutter()))
                .map_err(|e| PassiveError::Load(format!("{}: {e:#}", m.name())))?;
            let out = plan
                .model()
                .output_fact(0)
                .map_err(|e| PassiveError::Load(format!("{e:#}")))?;
            match out.shape.as_concrete() {
                Some(d) if d.iter().product::<usize>() == 3 => Ok(plan),
                _ => Err(PassiveError::Load(format!(
                    "{}: output {:?} is not 3 class scores",
                    m.name(),
                    out.shape
                ))),
            }
        };
        Ok(MiniFasNet {
            plans: [plan(v2)?, plan(v1se)?],
        })
    }

    /// The authors' crops of one face: for each model, the face box scaled about its
    /// centre (×2.7, ×4.0; the scale is lowered until the box fits the frame), shifted
    /// inside the frame, resized bilinearly (OpenCV `INTER_LINEAR`: pixel centres, no
    /// anti-aliasing) to 80×80, rounded to bytes, **BGR**, row-major `[y][x][c]`.
    /// `rgb` is the frame, 3 bytes per pixel. The crops are wiped when dropped.
    pub fn crops(
        rgb: &[u8],
        width: u32,
        height: u32,
        face: &Rect,
    ) -> Result<[Zeroizing<Vec<u8>>; 2], PassiveError> {
        let face = &Box2::from(face);
        if width == 0 || height == 0 || rgb.len() != width as usize * height as usize * 3 {
            return Err(PassiveError::Frame);
        }
        if !face.is_valid() {
            return Err(PassiveError::Box);
        }
        let one = |scale: f64| -> Result<Zeroizing<Vec<u8>>, PassiveError> {
            let (l, t, r, b) = authors_box(width, height, face, scale)?;
            Ok(resize_bgr(rgb, width as usize, (l, t, r, b)))
        };
        Ok([one(MINIFASNET_MODELS[0].1)?, one(MINIFASNET_MODELS[1].1)?])
    }

    /// Runs both models on crops made by [`MiniFasNet::crops`].
    pub fn score_crops(
        &self,
        crops: &[Zeroizing<Vec<u8>>; 2],
    ) -> Result<MiniFasNetScore, PassiveError> {
        let mut logits = [[0f32; 3]; 2];
        for ((plan, crop), out) in self.plans.iter().zip(crops).zip(logits.iter_mut()) {
            *out = run_one(plan, crop)?;
        }
        let mut sum = [0f32; 3];
        for l in &logits {
            let m = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let z: f32 = l.iter().map(|x| (x - m).exp()).sum();
            for (s, x) in sum.iter_mut().zip(l) {
                *s += (x - m).exp() / z;
            }
        }
        let live = sum[MINIFASNET_LIVE_CLASS] / 2.0;
        if !live.is_finite() {
            return Err(PassiveError::NotFinite);
        }
        let authors_live = sum
            .iter()
            .enumerate()
            .all(|(k, &v)| k == MINIFASNET_LIVE_CLASS || v < sum[MINIFASNET_LIVE_CLASS]);
        Ok(MiniFasNetScore {
            live,
            authors_live,
            logits,
        })
    }

    /// Scores the face `face` in an RGB frame (3 bytes per pixel, row-major).
    pub fn score(
        &self,
        rgb: &[u8],
        width: u32,
        height: u32,
        face: &Rect,
    ) -> Result<MiniFasNetScore, PassiveError> {
        let crops = MiniFasNet::crops(rgb, width, height, face)?;
        self.score_crops(&crops)
    }

    /// Scores the face `face` in `frame`.
    pub fn score_frame(
        &self,
        frame: &crate::frame::Frame,
        face: &Rect,
    ) -> Result<MiniFasNetScore, PassiveError> {
        self.score(frame.rgb(), frame.width(), frame.height(), face)
    }
}

/// Plans an ONNX model for one input of `shape`, with its PReLUs in one pass each
/// (`crate::prelu`).
fn plan_onnx(model: InferenceModel, shape: [usize; 4]) -> TractResult<Arc<TypedRunnableModel>> {
    plan_with(model, shape, &Optimizer::declutter())
}

/// [`plan_onnx`] decluttered by `declutter`.
fn plan_with(
    model: InferenceModel,
    shape: [usize; 4],
    declutter: &Optimizer,
) -> TractResult<Arc<TypedRunnableModel>> {
    let mut typed = model
        .with_input_fact(0, f32::fact(shape).into())?
        .into_typed()?;
    declutter.optimize(&mut typed)?;
    crate::prelu::fuse(&mut typed)?;
    crate::model::optimized(typed)?.into_runnable()
}

/// tract's declutter passes without ChangeAxes, for MiniFASNet.
///
/// Why: MiniFASNet takes its input channels first and keeps them there, so the pass that
/// moves axes finds nothing to move, yet it took a quarter of the two models' planning
/// (about 20 ms of a 90 ms load, part of every `liveness check`). The plan computes the
/// same bits either way (a test compares them). The pass is known by its `Debug` name; were
/// tract to rename it, it would simply stay.
fn minifasnet_declutter() -> Optimizer {
    let mut declutter = Optimizer::declutter();
    declutter
        .passes
        .retain(|pass| format!("{pass:?}") != "ChangeAxes");
    declutter
}

/// The authors' `CropImage._get_new_box`: inclusive integer corners (left, top, right,
/// bottom) of the face box scaled by `scale` (lowered so the box fits), moved inside.
fn authors_box(
    width: u32,
    height: u32,
    face: &Box2,
    scale: f64,
) -> Result<(usize, usize, usize, usize), PassiveError> {
    let (sw, sh) = (f64::from(width), f64::from(height));
    // A face box that does not meet the frame is not a face of this frame.
    if face.x >= sw || face.y >= sh || face.x + face.w <= 0.0 || face.y + face.h <= 0.0 {
        return Err(PassiveError::Box);
    }
    let scale = scale.min((sh - 1.0) / face.h).min((sw - 1.0) / face.w);
    let (nw, nh) = (face.w * scale, face.h * scale);
    let c = face.centre();
    let (mut l, mut t) = (c.x - nw / 2.0, c.y - nh / 2.0);
    let (mut r, mut b) = (c.x + nw / 2.0, c.y + nh / 2.0);
    if l < 0.0 {
        r -= l;
        l = 0.0;
    }
    if t < 0.0 {
        b -= t;
        t = 0.0;
    }
    if r > sw - 1.0 {
        l -= r - sw + 1.0;
        r = sw - 1.0;
    }
    if b > sh - 1.0 {
        t -= b - sh + 1.0;
        b = sh - 1.0;
    }
    // Python's int(): truncation toward zero; the region is rows t..=b, columns l..=r.
    let (l, t, r, b) = (l.trunc(), t.trunc(), r.trunc(), b.trunc());
    // At least MIN_CROP pixels a side: a smaller region says nothing about texture.
    let min = MIN_CROP as f64 - 1.0;
    if !(l >= 0.0 && t >= 0.0 && r - l >= min && b - t >= min && r < sw && b < sh) {
        return Err(PassiveError::Box);
    }
    Ok((l as usize, t as usize, r as usize, b as usize))
}

/// OpenCV-style bilinear resize of the inclusive region to 80×80, RGB → BGR bytes.
fn resize_bgr(
    rgb: &[u8],
    stride_px: usize,
    (l, t, r, b): (usize, usize, usize, usize),
) -> Zeroizing<Vec<u8>> {
    let s = MINIFASNET_SIDE;
    let (w, h) = (r - l + 1, b - t + 1);
    let axis = |n: usize, o: usize| -> (usize, usize, f32) {
        let src = ((o as f64 + 0.5) * n as f64 / s as f64 - 0.5).clamp(0.0, (n - 1) as f64);
        let i0 = src.floor() as usize;
        (i0, (i0 + 1).min(n - 1), (src - i0 as f64) as f32)
    };
    let mut out = Zeroizing::new(vec![0u8; s * s * 3]);
    let px = |x: usize, y: usize, c: usize| -> f32 {
        f32::from(
            rgb.get(((t + y) * stride_px + l + x) * 3 + c)
                .copied()
                .unwrap_or(0),
        )
    };
    for oy in 0..s {
        let (y0, y1, fy) = axis(h, oy);
        for ox in 0..s {
            let (x0, x1, fx) = axis(w, ox);
            for c in 0..3 {
                let top = px(x0, y0, c) * (1.0 - fx) + px(x1, y0, c) * fx;
                let bot = px(x0, y1, c) * (1.0 - fx) + px(x1, y1, c) * fx;
                let v = (top * (1.0 - fy) + bot * fy).round().clamp(0.0, 255.0) as u8;
                if let Some(slot) = out.get_mut((oy * s + ox) * 3 + (2 - c)) {
                    *slot = v;
                }
            }
        }
    }
    out
}

/// One model on one BGR crop: NCHW float 0..255; the input tensor is wiped after the run.
fn run_one(plan: &Arc<TypedRunnableModel>, crop: &[u8]) -> Result<[f32; 3], PassiveError> {
    let s = MINIFASNET_SIDE;
    if crop.len() != s * s * 3 {
        return Err(PassiveError::Frame);
    }
    let mut data = Zeroizing::new(vec![0f32; s * s * 3]);
    for (i, p) in crop.chunks_exact(3).enumerate() {
        for (c, &v) in p.iter().enumerate() {
            if let Some(slot) = data.get_mut(c * s * s + i) {
                *slot = f32::from(v);
            }
        }
    }
    let input = Tensor::from_shape(&[1, 3, s, s], &data)
        .map_err(|e| PassiveError::Run(format!("{e:#}")))?;
    data.zeroize();
    let input = Arc::new(input);
    let result = plan.run(tvec!(TValue::from_const(input.clone())));
    if let Ok(mut t) = Arc::try_unwrap(input) {
        if let Ok(mut v) = t.to_plain_array_view_mut::<f32>() {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }
    let out = result.map_err(|e| PassiveError::Run(format!("{e:#}")))?;
    let first = out.first().ok_or(PassiveError::Output {
        len: 0,
        live_class: MINIFASNET_LIVE_CLASS,
    })?;
    let view = first
        .to_plain_array_view::<f32>()
        .map_err(|e| PassiveError::Run(format!("{e:#}")))?;
    let v: Vec<f32> = view.iter().copied().collect();
    match v.as_slice() {
        [a, b, c] if v.iter().all(|x| x.is_finite()) => Ok([*a, *b, *c]),
        [_, _, _] => Err(PassiveError::NotFinite),
        _ => Err(PassiveError::Output {
            len: v.len(),
            live_class: MINIFASNET_LIVE_CLASS,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authors_box_scales_fits_and_shifts() {
        // 100×100 box centred in a 640×480 frame, ×2.7 → 270×270 about (320, 240).
        let f = Box2 {
            x: 270.0,
            y: 190.0,
            w: 100.0,
            h: 100.0,
        };
        assert_eq!(
            authors_box(640, 480, &f, 2.7).unwrap(),
            (185, 105, 455, 375)
        );
        // ×4.0: 400×400 about (320, 240) fits (the scale is lowered only above 4.79).
        assert_eq!(authors_box(640, 480, &f, 4.0).unwrap(), (120, 40, 520, 440));
        // A box at the corner is moved inside, never clipped smaller.
        let c = Box2 {
            x: -20.0,
            y: -20.0,
            w: 100.0,
            h: 100.0,
        };
        let (l, t, r, b) = authors_box(640, 480, &c, 2.7).unwrap();
        assert_eq!((l, t), (0, 0));
        assert_eq!((r, b), (270, 270));
        // A box larger than the frame: the scale drops so it fits.
        let big = Box2 {
            x: 0.0,
            y: 0.0,
            w: 600.0,
            h: 470.0,
        };
        let (l, t, r, b) = authors_box(640, 480, &big, 4.0).unwrap();
        assert!(r < 640 && b < 480 && r > l && b > t, "{l} {t} {r} {b}");
    }

    /// The lighter declutter gives MiniFASNet the same plan as tract's full one: the same
    /// bits on every output for a crop with structure in every channel.
    #[cfg(feature = "embedded-models")]
    #[test]
    fn minifasnet_plans_the_same_without_the_axis_pass() {
        let s = MINIFASNET_SIDE;
        let crop: Zeroizing<Vec<u8>> = Zeroizing::new(
            (0..s * s * 3)
                .map(|i| ((i * 7 + (i / (s * 3)) * 13) % 251) as u8)
                .collect(),
        );
        for (path, _) in MINIFASNET_MODELS {
            let model = OnnxModel::embedded(path).unwrap();
            let shape = [1, 3, s, s];
            let light = plan_with(model.parse_graph().unwrap(), shape, &minifasnet_declutter());
            let full = model
                .parse_graph()
                .unwrap()
                .with_input_fact(0, f32::fact(shape).into())
                .and_then(|m| m.into_typed()?.into_decluttered())
                .and_then(|mut m| crate::prelu::fuse(&mut m).map(|_| m))
                .and_then(|m| m.into_optimized()?.into_runnable())
                .unwrap();
            let (a, b) = (
                run_one(&light.unwrap(), &crop).unwrap(),
                run_one(&full, &crop).unwrap(),
            );
            assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits), "{path}");
        }
    }

    #[test]
    fn crops_are_bgr_and_refuse_bad_input() {
        // A uniform frame (R=10, G=20, B=30): every crop pixel is (30, 20, 10) in BGR.
        let (w, h) = (64u32, 48u32);
        let rgb: Vec<u8> = (0..w * h).flat_map(|_| [10u8, 20, 30]).collect();
        let face = Rect {
            x: 20.0,
            y: 10.0,
            width: 20.0,
            height: 24.0,
        };
        let crops = MiniFasNet::crops(&rgb, w, h, &face).unwrap();
        for c in &crops {
            assert_eq!(c.len(), 80 * 80 * 3);
            assert!(c.chunks_exact(3).all(|p| p == [30, 20, 10]));
        }
        let nan = Rect {
            x: f32::NAN,
            ..face
        };
        assert!(matches!(
            MiniFasNet::crops(&rgb, w, h, &nan),
            Err(PassiveError::Box)
        ));
        assert!(matches!(
            MiniFasNet::crops(&rgb[1..], w, h, &face),
            Err(PassiveError::Frame)
        ));
        assert!(matches!(
            MiniFasNet::crops(&[], 0, 0, &face),
            Err(PassiveError::Frame)
        ));
        // Outside the frame, or a frame too small for a crop.
        let away = Rect { x: 100.0, ..face };
        assert!(matches!(
            MiniFasNet::crops(&rgb, w, h, &away),
            Err(PassiveError::Box)
        ));
        let tiny = [1u8, 2, 3];
        let dot = Rect {
            x: 0.0,
            y: 0.0,
            width: 1.0,
            height: 1.0,
        };
        assert!(matches!(
            MiniFasNet::crops(&tiny, 1, 1, &dot),
            Err(PassiveError::Box)
        ));
    }
}

//! Passive layer: an integrator-supplied presentation-attack classifier (ONNX).
//!
//! Why pluggable: single-frame PAD networks help against high-quality replays, but no
//! licence-clean weights exist, so facegate ships none. An integrator who has a model
//! declares how it expects its input ([`PassiveSpec`]: input size, crop scale around the
//! face box, normalisation, channel order, layout, which output is "live"), and its score
//! joins the fusion. The model is loaded and planned once (tract: plan at load), then run
//! per frame.

use std::path::Path;
use std::sync::Arc;

use image::RgbImage;
use serde::Serialize;
use thiserror::Error;
use tract_onnx::prelude::*;

use super::BBox;

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
    /// The frame is empty.
    #[error("frame is empty")]
    Frame,
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
        let load = || -> TractResult<Arc<TypedRunnableModel>> {
            tract_onnx::onnx()
                .model_for_read(&mut std::io::Cursor::new(bytes))?
                .with_input_fact(0, f32::fact(shape).into())?
                .into_optimized()?
                .into_runnable()
        };
        let plan = load().map_err(|e| PassiveError::Load(format!("{e:#}")))?;
        Ok(PassiveModel { spec, plan })
    }

    /// The declared spec.
    pub fn spec(&self) -> &PassiveSpec {
        &self.spec
    }

    /// Probability-like live score of the face in `frame` (higher = more live).
    pub fn score(&self, frame: &RgbImage, face: &BBox) -> Result<f32, PassiveError> {
        let input = self.input(frame, face)?;
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
    fn input(&self, frame: &RgbImage, face: &BBox) -> Result<Tensor, PassiveError> {
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
    let cx = x.clamp(0.0, f64::from(w - 1));
    let cy = y.clamp(0.0, f64::from(h - 1));
    let (x0, y0) = (cx.floor() as u32, cy.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = ((cx - f64::from(x0)) as f32, (cy - f64::from(y0)) as f32);
    let p = |x: u32, y: u32| img.get_pixel(x, y).0;
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    std::array::from_fn(|k| {
        let top = f32::from(a[k]) * (1.0 - fx) + f32::from(b[k]) * fx;
        let bot = f32::from(c[k]) * (1.0 - fx) + f32::from(d[k]) * fx;
        top * (1.0 - fy) + bot * fy
    })
}

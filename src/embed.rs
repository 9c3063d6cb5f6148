//! Embed: turn an aligned chip into a [`Template`].
//!
//! The default network is dlib's face-recognition ResNet (He et al. 2016 architecture,
//! 29 conv layers, trained by Davis King on ~3 M faces; CC0), converted to ONNX by
//! `models/rebuild.sh` and checked against dlib's own output. It maps a 150×150 chip to
//! 128 numbers; two chips of the same person lie within euclidean distance 0.6 (dlib's
//! threshold, 99.38 % on LFW as published).
//!
//! The network is planned once at load for its fixed input shape (tract: model →
//! optimized → runnable) — the hot path only fills a tensor and runs the plan. The input
//! tensor, which holds the face's pixels, and the output vector are wiped after each run.
//! (Intermediate activations are tract's own buffers and are freed, not wiped.)

use std::sync::Arc;

use tract_onnx::prelude::*;
use zeroize::Zeroize;

use crate::align::{self, Chip};
use crate::geometry::Point;
use crate::model::{ModelError, OnnxModel};
use crate::template::{EmbeddingKind, Metric, Template, TemplateError, Threshold, MAX_DIMENSIONS};

/// Default threshold of the shipped dlib ResNet (euclidean distance between templates of
/// the chip and its mirror image averaged, [`crate::face::FaceConfig::mirror_average`]).
///
/// Chosen on the worst population measured, not on the average: at a locker a false match
/// hands a stranger somebody else's parcel, while a false non-match sends the person to the
/// code or ID-card path that is always offered. Every pair of LFW-dev (7,311 images, 26.5 M
/// impostor pairs; `facegate eval gallery` with `--subset eastasian.txt`) was scored. The
/// East Asian subset (56 identities, 14,827 impostor pairs) is the worst population by far:
/// at the former default 0.55, 24 % of its impostor pairs match (3,574). 0.35 is the largest
/// threshold, at 0.01 steps, with FMR ≤ 1e-4 there: 1 false match of 14,827 (6.7e-5). The
/// price is the model's: FNMR 40.6 % on that subset and 82 % over all LFW-dev genuine pairs
/// (dominated by photos of one person taken years apart). A better-separating model, not a
/// looser threshold, is the fix; vendors recalibrate on their own people with
/// `facegate eval gallery`.
pub const DLIB_THRESHOLD: f32 = 0.35;

/// Errors embedding a chip.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model could not be loaded or planned.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The chip is not the size the model takes.
    #[error("chip is {actual}×{actual}, the embedder takes {expected}×{expected}")]
    ChipSize {
        /// Expected side.
        expected: u32,
        /// Given side.
        actual: u32,
    },
    /// The network failed at run time.
    #[error("embedding network failed: {0}")]
    Inference(String),
    /// The network's output is not a usable template.
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// Order of the colour channels a network takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelOrder {
    /// Red, green, blue (dlib).
    Rgb,
    /// Blue, green, red (networks trained with OpenCV's loaders).
    Bgr,
}

/// Where the five landmarks (image-left eye centre, image-right eye centre, nose tip,
/// image-left and image-right mouth corner) go in the model's chip.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChipGeometry {
    /// Chip side in pixels (square chips).
    pub size: u32,
    /// The five points in unpadded unit coordinates (see [`align::align_to_template`]).
    ///
    /// [`align::align_to_template`]: crate::align::align_to_template
    pub points: [Point; 5],
    /// Padding around the unit square, as a fraction of it (dlib's chips: 0.25).
    pub padding: f32,
}

impl ChipGeometry {
    /// dlib's 150×150 chip with padding 0.25, for MTCNN's five points (measured; see
    /// [`align::MTCNN_TEMPLATE`]).
    pub const DLIB_150: ChipGeometry = ChipGeometry {
        size: align::CHIP_SIZE,
        points: align::MTCNN_TEMPLATE,
        padding: align::CHIP_PADDING,
    };

    /// The 112×112 five-point template of ArcFace-style models (InsightFace's
    /// `arcface_dst`), without padding.
    pub const ARCFACE_112: ChipGeometry = ChipGeometry {
        size: 112,
        points: [
            Point::new(38.2946 / 112.0, 51.6963 / 112.0),
            Point::new(73.5318 / 112.0, 51.5014 / 112.0),
            Point::new(56.0252 / 112.0, 71.7366 / 112.0),
            Point::new(41.5493 / 112.0, 92.3655 / 112.0),
            Point::new(70.7299 / 112.0, 92.2041 / 112.0),
        ],
        padding: 0.0,
    };
}

/// What an embedding model declares about itself: how its chip is cut, how its input is
/// laid out and scaled, what it outputs, how two outputs are compared, and the threshold
/// it was calibrated at. The threshold belongs to the model: another network's distances
/// mean something else.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmbedderSpec {
    /// The chip the network takes.
    pub chip: ChipGeometry,
    /// Per-channel value subtracted from 0..255 (in the network's channel order) before
    /// dividing.
    pub mean: [f32; 3],
    /// Divisor applied after subtracting the mean.
    pub divisor: f32,
    /// Channel order of the input.
    pub channel_order: ChannelOrder,
    /// `true` for NCHW input (`1×3×S×S`), `false` for NHWC (`1×S×S×3`).
    pub channels_first: bool,
    /// Length of the output vector.
    pub dimensions: usize,
    /// How two outputs are compared.
    pub metric: Metric,
    /// Default decision threshold on [`Self::metric`]'s distance.
    pub threshold: f32,
}

impl EmbedderSpec {
    /// The shipped dlib ResNet ONNX: NCHW RGB 0..255 (the graph itself subtracts dlib's
    /// means and divides by 256, exactly as `input_rgb_image_sized<150>` does), 128-d,
    /// euclidean, at [`DLIB_THRESHOLD`].
    pub const DLIB_RESNET: EmbedderSpec = EmbedderSpec {
        chip: ChipGeometry::DLIB_150,
        mean: [0.0; 3],
        divisor: 1.0,
        channel_order: ChannelOrder::Rgb,
        channels_first: true,
        dimensions: crate::template::DIMENSIONS,
        metric: Metric::Euclidean,
        threshold: DLIB_THRESHOLD,
    };

    /// Refuses a spec no model can honour.
    fn validate(&self) -> Result<(), String> {
        let s = self.chip.size;
        if s == 0 || s > 1024 {
            return Err(format!("chip size {s} is not 1..=1024"));
        }
        if !(self.divisor.is_finite() && self.divisor != 0.0)
            || self.mean.iter().any(|m| !m.is_finite())
        {
            return Err("the mean must be finite and the divisor finite and non-zero".into());
        }
        if self.dimensions == 0 || self.dimensions > MAX_DIMENSIONS {
            return Err(format!(
                "{} dimensions is not 1..={MAX_DIMENSIONS}",
                self.dimensions
            ));
        }
        if Threshold::new(self.threshold).is_none() {
            return Err("the threshold must be finite and positive".into());
        }
        if !(0.0..=2.0).contains(&self.chip.padding)
            || self
                .chip
                .points
                .iter()
                .any(|p| !(p.x.is_finite() && p.y.is_finite()))
        {
            return Err("the chip padding must be 0..=2 and its points finite".into());
        }
        Ok(())
    }
}

/// A planned embedding network.
pub struct Embedder {
    plan: Arc<TypedRunnableModel>,
    spec: EmbedderSpec,
    kind: EmbeddingKind,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads and plans an embedding model.
    pub fn new(model: &OnnxModel, spec: EmbedderSpec) -> Result<Embedder, EmbedError> {
        spec.validate().map_err(|e| model.invalid(e))?;
        let s = spec.chip.size as usize;
        let shape = if spec.channels_first {
            [1, 3, s, s]
        } else {
            [1, s, s, 3]
        };
        let plan = model
            .parse()?
            .with_input_fact(0, f32::fact(shape).into())
            .and_then(|m| m.into_typed()?.into_decluttered())
            .and_then(|mut m| crate::pool::swap(&mut m).map(|_| m))
            .and_then(crate::model::optimized)
            .and_then(|m| m.into_runnable())
            .map_err(|e| model.invalid(format!("cannot plan for input {shape:?}: {e}")))?;
        let kind = EmbeddingKind {
            dimensions: spec.dimensions,
            metric: spec.metric,
            model: model.id(),
        };
        let embedder = Embedder { plan, spec, kind };
        // Refuse a model that does not produce a template of the declared kind, at load
        // rather than at use.
        let probe = Chip::from_rgb(spec.chip.size, vec![128; s * s * 3])
            .map_err(|e| model.invalid(e.to_string()))?;
        embedder
            .embed(&probe)
            .map_err(|e| model.invalid(format!("does not produce a face template: {e}")))?;
        Ok(embedder)
    }

    /// The default dlib ResNet embedded in the crate.
    pub fn with_default_model() -> Result<Embedder, EmbedError> {
        Embedder::new(
            &OnnxModel::embedded("dlib/dlib_face_recognition_resnet_model_v1.onnx")?,
            EmbedderSpec::DLIB_RESNET,
        )
    }

    /// The input specification.
    pub fn spec(&self) -> &EmbedderSpec {
        &self.spec
    }

    /// The kind of template it makes.
    pub fn kind(&self) -> EmbeddingKind {
        self.kind
    }

    /// The model's default decision threshold.
    pub fn threshold(&self) -> Threshold {
        // Validated at load.
        Threshold::new(self.spec.threshold).unwrap_or_else(|| unreachable!())
    }

    /// Embeds one chip.
    pub fn embed(&self, chip: &Chip) -> Result<Template, EmbedError> {
        let mut tensor = self.run(chip)?;
        let mut view = tensor
            .to_plain_array_view_mut::<f32>()
            .map_err(|e| EmbedError::Inference(e.to_string()))?;
        let values = view
            .as_slice_mut()
            .ok_or_else(|| EmbedError::Inference("output is not contiguous".into()))?;
        // Template::new wipes the output buffer whatever it decides.
        Ok(Template::new(values, self.kind)?)
    }

    /// The network's raw output for one chip, not made into a template; see
    /// [`crate::eval::raw_embedding`], the only caller.
    pub(crate) fn embed_raw(
        &self,
        chip: &Chip,
    ) -> Result<zeroize::Zeroizing<Vec<f32>>, EmbedError> {
        let tensor = self.run(chip)?;
        let view = tensor
            .to_plain_array_view::<f32>()
            .map_err(|e| EmbedError::Inference(e.to_string()))?;
        let values = zeroize::Zeroizing::new(view.iter().copied().collect::<Vec<f32>>());
        drop(view);
        let mut tensor = tensor;
        if let Ok(mut v) = tensor.to_plain_array_view_mut::<f32>() {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
        Ok(values)
    }

    /// The network run on one chip: its first output (the input is wiped).
    fn run(&self, chip: &Chip) -> Result<Tensor, EmbedError> {
        let input = Arc::new(self.input(chip)?);
        let result = self.plan.run(tvec!(TValue::from_const(input.clone())));
        // Once the plan has let go of the input, wipe the face pixels it held.
        if let Ok(mut t) = Arc::try_unwrap(input) {
            if let Ok(mut v) = t.to_plain_array_view_mut::<f32>() {
                v.iter_mut().for_each(|x| *x = 0.0);
            }
        }
        let outputs = result.map_err(|e| EmbedError::Inference(e.to_string()))?;
        let first = outputs
            .into_iter()
            .next()
            .ok_or_else(|| EmbedError::Inference("no output".into()))?;
        Ok(first.into_tensor())
    }

    /// The network's input for one chip, as the spec lays it out and normalises it; the
    /// caller wipes it after the run.
    fn input(&self, chip: &Chip) -> Result<Tensor, EmbedError> {
        let s = self.spec.chip.size as usize;
        if chip.size() != self.spec.chip.size {
            return Err(EmbedError::ChipSize {
                expected: self.spec.chip.size,
                actual: chip.size(),
            });
        }
        let px = chip.rgb();
        let mut data = vec![0.0f32; 3 * s * s];
        let (mean, div) = (self.spec.mean, self.spec.divisor);
        let order = match self.spec.channel_order {
            ChannelOrder::Rgb => [0, 1, 2],
            ChannelOrder::Bgr => [2, 1, 0],
        };
        for (i, p) in px.chunks_exact(3).enumerate() {
            for (c, &from) in order.iter().enumerate() {
                let v = (f32::from(p[from]) - mean[c]) / div;
                let idx = if self.spec.channels_first {
                    c * s * s + i
                } else {
                    i * 3 + c
                };
                data[idx] = v;
            }
        }
        let shape: [usize; 4] = if self.spec.channels_first {
            [1, 3, s, s]
        } else {
            [1, s, s, 3]
        };
        let input = Tensor::from_shape(&shape, &data);
        data.zeroize();
        input.map_err(|e| EmbedError::Inference(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planned_resnet_gives_the_bits_of_tracts_own_plan() {
        // The embedder plans the ResNet with its max pooling swapped for the crate's
        // (`crate::pool`); tract's plan of the same file must give the same output bit for bit.
        let model =
            OnnxModel::embedded("dlib/dlib_face_recognition_resnet_model_v1.onnx").expect("model");
        let embedder = Embedder::with_default_model().expect("embedder");
        let s = embedder.spec.chip.size as usize;
        assert!(embedder
            .plan
            .model()
            .nodes()
            .iter()
            .any(|n| n.op().name() == "facegate.PlanePool"));
        let reference = model
            .parse()
            .expect("parse")
            .with_input_fact(0, f32::fact([1, 3, s, s]).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .expect("tract's plan");
        let rgb: Vec<u8> = (0..s * s * 3).map(|i| ((i * 7919) % 251) as u8).collect();
        let chip = Chip::from_rgb(embedder.spec.chip.size, rgb).expect("chip");
        let ours = embedder.run(&chip).expect("run");
        let input = embedder.input(&chip).expect("input");
        let theirs = reference.run(tvec!(input.into_tvalue())).expect("run");
        assert_eq!(crate::f32_bits(&ours), crate::f32_bits(&theirs[0]));
    }
}

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

use crate::align::Chip;
use crate::model::{ModelError, OnnxModel};
use crate::template::{Template, TemplateError};

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

/// How an embedding model wants its input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EmbedderSpec {
    /// Chip side in pixels (square chips).
    pub input_size: u32,
    /// Per-channel value subtracted from 0..255 RGB before dividing.
    pub mean: [f32; 3],
    /// Divisor applied after subtracting the mean.
    pub divisor: f32,
    /// `true` for NCHW input (`1×3×S×S`), `false` for NHWC (`1×S×S×3`).
    pub channels_first: bool,
}

impl EmbedderSpec {
    /// The shipped dlib ResNet ONNX: NCHW RGB 0..255; the graph itself subtracts dlib's
    /// means and divides by 256, exactly as `input_rgb_image_sized<150>` does.
    pub const DLIB_RESNET: EmbedderSpec = EmbedderSpec {
        input_size: 150,
        mean: [0.0; 3],
        divisor: 1.0,
        channels_first: true,
    };
}

/// A planned embedding network.
pub struct Embedder {
    plan: Arc<TypedRunnableModel>,
    spec: EmbedderSpec,
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
        let s = spec.input_size as usize;
        if s == 0 || s > 1024 || !(spec.divisor.is_finite() && spec.divisor != 0.0) {
            return Err(model
                .invalid("input size must be 1..=1024 and the divisor finite and non-zero")
                .into());
        }
        let shape = if spec.channels_first {
            [1, 3, s, s]
        } else {
            [1, s, s, 3]
        };
        let plan = model
            .parse()?
            .with_input_fact(0, f32::fact(shape).into())
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| model.invalid(format!("cannot plan for input {shape:?}: {e}")))?;
        let embedder = Embedder { plan, spec };
        // Refuse a model that does not produce a template, at load rather than at use.
        let probe = Chip::from_rgb(spec.input_size, vec![128; s * s * 3])
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

    /// Embeds one chip.
    pub fn embed(&self, chip: &Chip) -> Result<Template, EmbedError> {
        let s = self.spec.input_size as usize;
        if chip.size() != self.spec.input_size {
            return Err(EmbedError::ChipSize {
                expected: self.spec.input_size,
                actual: chip.size(),
            });
        }
        let px = chip.rgb();
        let mut data = vec![0.0f32; 3 * s * s];
        let (mean, div) = (self.spec.mean, self.spec.divisor);
        for (i, p) in px.chunks_exact(3).enumerate() {
            for c in 0..3 {
                let v = (f32::from(p[c]) - mean[c]) / div;
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
        let input = Arc::new(input.map_err(|e| EmbedError::Inference(e.to_string()))?);
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
        let mut tensor = first.into_tensor();
        let mut view = tensor
            .to_plain_array_view_mut::<f32>()
            .map_err(|e| EmbedError::Inference(e.to_string()))?;
        let values = view
            .as_slice_mut()
            .ok_or_else(|| EmbedError::Inference("output is not contiguous".into()))?;
        // from_embedding wipes the output buffer whatever it decides.
        Ok(Template::from_embedding(values)?)
    }
}

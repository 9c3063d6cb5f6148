//! Capture and compare faces *without* consent or liveness: for measuring a matcher only.
//!
//! Why a separate door: at a kiosk a face may be processed only with the person's separate
//! consent, and compared only after liveness ([`crate::face::FaceVerifier`] enforces both).
//! Measuring accuracy and speed — LFW, a vendor's own calibration gallery, benchmarks —
//! processes photos collected for that purpose, without a kiosk session. This type is that
//! door and nothing else: kiosk code never needs it, and a reviewer who greps for
//! `eval::Matcher` finds every place faces are compared without a consent value.

use crate::align::Chip;
use crate::detect::Detection;
use crate::embed::{EmbedError, Embedder};
use crate::face::{Capture, CaptureError, FaceError, FacePipeline};
use crate::frame::Frame;
use crate::template::{Comparison, Template};

/// A planned [`FacePipeline`] opened for evaluation: capture and compare without consent.
///
/// ```no_run
/// use facegate::eval::Matcher;
/// use facegate::face::{FaceConfig, FacePipeline};
/// use facegate::frame::{DecodeLimits, Frame};
/// let pipeline = FacePipeline::with_default_models(FaceConfig::default())?;
/// let m = Matcher::new(&pipeline);
/// let a = m.capture(&Frame::open("a.jpg", &DecodeLimits::default())?)?;
/// let b = m.capture(&Frame::open("b.jpg", &DecodeLimits::default())?)?;
/// println!("distance {}", m.compare(&a.template, &b.template).distance());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Matcher<'p> {
    pipeline: &'p FacePipeline,
}

impl<'p> Matcher<'p> {
    /// Opens `pipeline` for evaluation.
    pub fn new(pipeline: &'p FacePipeline) -> Self {
        Matcher { pipeline }
    }

    /// detect → quality gate → align → embed for one frame.
    pub fn capture(&self, frame: &Frame) -> Result<Capture, CaptureError> {
        self.pipeline.capture(frame)
    }

    /// quality gate → align → embed for a face already detected in `frame`.
    pub fn capture_face(
        &self,
        frame: &Frame,
        face: Detection,
        detect_ms: f64,
    ) -> Result<Capture, CaptureError> {
        self.pipeline.capture_face(frame, face, detect_ms)
    }

    /// Embeds an aligned chip (with the mirror average when configured).
    pub fn embed_chip(&self, chip: &Chip) -> Result<Template, FaceError> {
        self.pipeline.embed_chip(chip)
    }

    /// Compares two templates at the pipeline's threshold.
    pub fn compare(&self, a: &Template, b: &Template) -> Comparison {
        self.pipeline.compare(a, b)
    }
}

/// The embedding network's raw output for one chip, not made into a template: for checking
/// the network against another runtime on the very same chip (`facegate bench
/// --dump-inputs`, `benches/peers/onnxruntime_peer.py`). Biometric data outside a
/// [`Template`], which is why it lives here, in the evaluation door; the buffer is wiped
/// when dropped.
pub fn raw_embedding(
    embedder: &Embedder,
    chip: &Chip,
) -> Result<zeroize::Zeroizing<Vec<f32>>, EmbedError> {
    embedder.embed_raw(chip)
}

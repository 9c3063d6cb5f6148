//! The face pipeline: detect → quality gate → align → embed → compare, in one place.
//!
//! [`FacePipeline`] owns the planned networks (load once, use for every person) and turns a
//! frame into a [`Template`] or a quality [`Reason`]. It never keeps a frame, a chip or a
//! template: each is dropped, and so wiped, as soon as the step that needed it is done.

use std::time::Instant;

use crate::align::{self, AlignError, Chip};
use crate::detect::{DetectError, Detection, Detector, DetectorConfig};
use crate::embed::{EmbedError, Embedder};
use crate::frame::Frame;
use crate::quality::{self, ChipQuality, QualityConfig};
use crate::template::{Comparison, Template, Threshold};
use crate::verifier::Reason;

/// Default decision threshold on the euclidean distance between dlib ResNet templates.
///
/// Chosen for a false-match rate of about 1 in 1,000, not for best accuracy: at a locker a
/// false match hands somebody else's parcel to a stranger, while a false non-match only
/// sends the person to the code or ID-card path that is always offered. Calibrated on
/// `../shared/data/lfw-dev` (6,000 pairs) with `facegate eval lfw --scores`: at 0.55,
/// FMR 0.07 % (2 of 3,000 impostor pairs) and FNMR 7.3 %; dlib's own 0.6 gives FMR
/// 0.50 % and FNMR 2.1 %. With `mirror_average` distances shrink; 0.535 gives the same FMR.
/// Vendors should recalibrate on their own cameras with `facegate eval`.
pub const DEFAULT_THRESHOLD: f32 = 0.55;

/// Errors of the face pipeline (faults of the integration, not of the person).
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// Detection failed to run.
    #[error(transparent)]
    Detect(#[from] DetectError),
    /// Alignment failed.
    #[error(transparent)]
    Align(#[from] AlignError),
    /// Embedding failed to run.
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// Why a frame yielded no template.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The capture is not good enough to judge (no face, too small, blurred…).
    #[error("capture refused: {0}")]
    Quality(Reason),
    /// The pipeline failed.
    #[error(transparent)]
    Fault(#[from] FaceError),
}

/// Settings of the whole pipeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceConfig {
    /// Detector settings (face-size range).
    pub detector: DetectorConfig,
    /// Quality gate.
    pub quality: QualityConfig,
    /// Decision threshold.
    pub threshold: Threshold,
    /// Average the templates of the chip and its mirror image: a little more accurate,
    /// twice the embedding cost.
    pub mirror_average: bool,
}

impl Default for FaceConfig {
    fn default() -> Self {
        FaceConfig {
            detector: DetectorConfig::default(),
            quality: QualityConfig::default(),
            threshold: Threshold::new(DEFAULT_THRESHOLD).unwrap_or_else(|| unreachable!()),
            mirror_average: false,
        }
    }
}

/// Milliseconds spent in each stage for one frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct StageTimes {
    /// Decoding is the caller's; detection (all three networks).
    pub detect_ms: f64,
    /// Alignment (transform + chip sampling) and the chip quality measure.
    pub align_ms: f64,
    /// Embedding (one or two network runs).
    pub embed_ms: f64,
}

/// A frame's face, embedded.
#[derive(Debug)]
pub struct Capture {
    /// The template.
    pub template: Template,
    /// The face it came from.
    pub detection: Detection,
    /// Sharpness and exposure of the aligned chip.
    pub chip_quality: ChipQuality,
    /// Time per stage.
    pub times: StageTimes,
}

/// The planned face pipeline.
#[derive(Debug)]
pub struct FacePipeline {
    detector: Detector,
    embedder: Embedder,
    config: FaceConfig,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

impl FacePipeline {
    /// A pipeline from planned parts.
    pub fn new(detector: Detector, embedder: Embedder, config: FaceConfig) -> FacePipeline {
        FacePipeline {
            detector,
            embedder,
            config,
        }
    }

    /// The default embedded models with `config`.
    pub fn with_default_models(config: FaceConfig) -> Result<FacePipeline, FaceError> {
        Ok(FacePipeline {
            detector: Detector::with_default_models(config.detector)?,
            embedder: Embedder::with_default_model()?,
            config,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &FaceConfig {
        &self.config
    }

    /// Detects faces.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Detection>, FaceError> {
        Ok(self.detector.detect(frame)?)
    }

    /// Embeds an aligned chip (with the mirror average when configured).
    pub fn embed_chip(&self, chip: &Chip) -> Result<Template, FaceError> {
        let t = self.embedder.embed(chip)?;
        if self.config.mirror_average {
            let m = self.embedder.embed(&chip.mirrored())?;
            return Ok(Template::mean(t, m));
        }
        Ok(t)
    }

    /// detect → quality gate → align → embed for one frame.
    pub fn capture(&self, frame: &Frame) -> Result<Capture, CaptureError> {
        let t0 = Instant::now();
        let detections = self.detect(frame)?;
        let detect_ms = ms(t0);
        let face = *quality::select(
            &detections,
            (frame.width(), frame.height()),
            &self.config.quality,
        )
        .map_err(CaptureError::Quality)?;
        self.capture_face(frame, face, detect_ms)
    }

    /// quality gate → align → embed for a face already detected in `frame` (e.g. the
    /// frontal frame a liveness check selected).
    pub fn capture_face(
        &self,
        frame: &Frame,
        face: Detection,
        detect_ms: f64,
    ) -> Result<Capture, CaptureError> {
        let t1 = Instant::now();
        let chip = align::align(frame, &face.landmarks).map_err(FaceError::from)?;
        let chip_quality =
            quality::check_chip(&chip, &self.config.quality).map_err(CaptureError::Quality)?;
        let align_ms = ms(t1);
        let t2 = Instant::now();
        let template = self.embed_chip(&chip)?;
        let embed_ms = ms(t2);
        Ok(Capture {
            template,
            detection: face,
            chip_quality,
            times: StageTimes {
                detect_ms,
                align_ms,
                embed_ms,
            },
        })
    }

    /// Compares two templates at the configured threshold.
    pub fn compare(&self, a: &Template, b: &Template) -> Comparison {
        a.compare(b, self.config.threshold)
    }
}

//! The planned face pipeline: detect → quality gate → align → embed → compare.
//!
//! Planning (loading and optimising the networks) is done once, at construction; a
//! pipeline is then shared by every person and thread. It never keeps a frame, a chip or a
//! template: each is dropped, and so wiped, as soon as the step that needed it is done.

use std::time::Instant;

use super::{CaptureError, FaceError};
use crate::align::{self, AlignError, Chip};
use crate::detect::yunet::{YuNet, YuNetConfig};
use crate::detect::{DetectError, Detection, Detector, DetectorConfig, Landmarks};
use crate::embed::Embedder;
use crate::frame::Frame;
use crate::geometry::Point;
use crate::liveness::passive::MiniFasNet;
use crate::quality::{self, ChipQuality, QualityConfig, SeveralFaces};
use crate::template::{Comparison, Template, Threshold};

/// Settings of the whole pipeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaceConfig {
    /// Detector settings (face-size range).
    pub detector: DetectorConfig,
    /// Quality gate.
    pub quality: QualityConfig,
    /// Decision threshold; `None` takes the embedding model's own
    /// ([`crate::embed::EmbedderSpec::threshold`]).
    pub threshold: Option<Threshold>,
    /// Average the templates of the chip and its mirror image (on by default): at the
    /// worst population's operating point it cuts false non-matches by a fifth (East Asian
    /// LFW-dev at FMR ≤ 1e-4: FNMR 37 % against 48 %), for twice the embedding cost.
    pub mirror_average: bool,
}

impl Default for FaceConfig {
    fn default() -> Self {
        FaceConfig {
            detector: DetectorConfig::default(),
            quality: QualityConfig::default(),
            threshold: None,
            mirror_average: true,
        }
    }
}

/// The smallest face, in pixels, the detector looked for when the liveness thresholds
/// were calibrated on the real recordings and the matcher's figures were measured
/// (docs/LIVENESS.md, docs/MATCHER.md).
pub const CALIBRATED_MIN_FACE: f32 = 20.0;

impl FaceConfig {
    /// The pipeline a kiosk runs its liveness session with: the default, with the detector
    /// looking for faces down to [`CALIBRATED_MIN_FACE`].
    ///
    /// Why not the default (min face 40, cheaper for photo-to-photo checks): the liveness
    /// layers read landmarks, and the landmarks of the cascade move a little with its
    /// pyramid. With min face 40 one of the eight real recordings (selfie_g) is refused by
    /// the surface layer with the shipped thresholds, and the held-out calibration refuses
    /// 2 of 8 instead of 0 (docs/DETECTOR.md, session 10).
    pub fn kiosk() -> FaceConfig {
        FaceConfig {
            detector: DetectorConfig {
                min_face: CALIBRATED_MIN_FACE,
                ..DetectorConfig::default()
            },
            ..FaceConfig::default()
        }
    }

    /// The pipeline a labelled-folder evaluation runs (`facegate eval gallery`, the matcher
    /// examples): faces down to `min_face`, and of several faces the most central, with no
    /// other quality demand. Data sets hold what they hold; a failure to enrol is counted,
    /// not hidden by the gate.
    pub fn gallery(min_face: f32) -> FaceConfig {
        FaceConfig {
            detector: DetectorConfig {
                min_face,
                ..DetectorConfig::default()
            },
            quality: QualityConfig::permissive(SeveralFaces::Central),
            ..FaceConfig::default()
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

/// The face detector a pipeline runs; each brings the alignment template measured for
/// its landmarks (`docs/DETECTOR.md` compares them).
#[derive(Debug)]
#[non_exhaustive]
pub enum FaceDetector {
    /// MTCNN, aligned with [`align::MTCNN_TEMPLATE`]. Uses [`FaceConfig::detector`].
    Mtcnn(Detector),
    /// YuNet, aligned with [`align::YUNET_TEMPLATE`]; has its own [`YuNetConfig`]. The
    /// liveness thresholds were calibrated on MTCNN's landmarks, not on YuNet's.
    YuNet(YuNet),
}

impl FaceDetector {
    /// Finds faces, best score first.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Detection>, DetectError> {
        match self {
            FaceDetector::Mtcnn(d) => d.detect(frame),
            FaceDetector::YuNet(d) => d.detect(frame),
        }
    }

    /// Where this detector's five landmarks fall in `chip` (unpadded unit coordinates): the
    /// template alignment maps them onto.
    ///
    /// A chip declares where MTCNN's points go. YuNet's points sit a measured offset from
    /// MTCNN's ([`align::YUNET_TEMPLATE`], measured in dlib's chip against
    /// [`align::MTCNN_TEMPLATE`]); for another chip that offset is carried over by the
    /// similarity that maps MTCNN's template onto the chip's points.
    pub fn chip_points(&self, chip: &crate::embed::ChipGeometry) -> [Point; 5] {
        match self {
            FaceDetector::Mtcnn(_) => chip.points,
            FaceDetector::YuNet(_) if chip.points == align::MTCNN_TEMPLATE => align::YUNET_TEMPLATE,
            FaceDetector::YuNet(_) => {
                match align::Similarity::fit(&align::MTCNN_TEMPLATE, &chip.points) {
                    Ok(t) => align::YUNET_TEMPLATE.map(|p| t.apply(p)),
                    // A degenerate chip template cannot be carried over; align on it as is.
                    Err(_) => chip.points,
                }
            }
        }
    }
}

/// The planned face pipeline.
///
/// Plan it once at start-up and share it: planning loads and optimises the networks.
///
/// ```
/// use facegate::face::{FaceConfig, FacePipeline};
/// use facegate::frame::{DecodeLimits, Frame};
///
/// let faces = FacePipeline::with_default_models(FaceConfig::default())?;
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/images/obama.jpg");
/// let portrait = Frame::open(path, &DecodeLimits::default())?;
/// let found = faces.detect(&portrait)?;
/// assert_eq!(found.len(), 1, "one portrait, one face");
/// // The chip the embedding model takes, cut at the detector's five landmarks.
/// let chip = faces.align(&portrait, &found[0].landmarks)?;
/// assert_eq!(chip.size(), facegate::align::CHIP_SIZE);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FacePipeline {
    detector: FaceDetector,
    embedder: Embedder,
    config: FaceConfig,
    /// The passive anti-spoofing model the face verifier's liveness fusion runs (the
    /// shipped MiniFASNet with the default models).
    passive: Option<MiniFasNet>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

impl FacePipeline {
    /// A pipeline from planned parts.
    pub fn new(detector: Detector, embedder: Embedder, config: FaceConfig) -> FacePipeline {
        FacePipeline::with_detector(FaceDetector::Mtcnn(detector), embedder, config)
    }

    /// A pipeline from planned parts with either detector ([`FaceConfig::detector`] only
    /// applies to MTCNN).
    pub fn with_detector(
        detector: FaceDetector,
        embedder: Embedder,
        config: FaceConfig,
    ) -> FacePipeline {
        FacePipeline {
            detector,
            embedder,
            config,
            passive: None,
        }
    }

    /// The same pipeline with `passive` as its passive anti-spoofing model (None: no
    /// passive layer; the policy must then not require it).
    pub fn with_passive(mut self, passive: Option<MiniFasNet>) -> FacePipeline {
        self.passive = passive;
        self
    }

    /// The passive anti-spoofing model, if any.
    pub fn passive(&self) -> Option<&MiniFasNet> {
        self.passive.as_ref()
    }

    /// The default embedded models with YuNet as the detector (configured by `yunet`;
    /// `config.detector` is not used) and YuNet's alignment template; the shipped passive
    /// model (MiniFASNet) is loaded.
    pub fn with_yunet(config: FaceConfig, yunet: YuNetConfig) -> Result<FacePipeline, FaceError> {
        Ok(FacePipeline::with_detector(
            FaceDetector::YuNet(YuNet::with_default_model(yunet)?),
            Embedder::with_default_model()?,
            config,
        )
        .with_passive(Some(MiniFasNet::with_default_models()?)))
    }

    /// The detector in use.
    pub fn detector(&self) -> &FaceDetector {
        &self.detector
    }

    /// The default embedded models with `config`, the shipped passive model (MiniFASNet)
    /// included.
    pub fn with_default_models(config: FaceConfig) -> Result<FacePipeline, FaceError> {
        // The embedder first: its load has the largest passing allocations, and the smaller
        // models' lasting ones then fill the space it frees rather than sit above it.
        let embedder = Embedder::with_default_model()?;
        Ok(FacePipeline {
            detector: FaceDetector::Mtcnn(Detector::with_default_models(config.detector)?),
            embedder,
            config,
            passive: Some(MiniFasNet::with_default_models()?),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &FaceConfig {
        &self.config
    }

    /// The decision threshold in use: the configured one, else the model's.
    pub fn threshold(&self) -> Threshold {
        self.config
            .threshold
            .unwrap_or_else(|| self.embedder.threshold())
    }

    /// Cuts the chip the embedding model takes from `frame` at `landmarks` (found by this
    /// pipeline's detector, whose landmark template is used).
    pub fn align(&self, frame: &Frame, landmarks: &Landmarks) -> Result<Chip, AlignError> {
        let chip = &self.embedder.spec().chip;
        align::align_to_template(
            frame,
            &landmarks.to_array(),
            &self.detector.chip_points(chip),
            chip.size,
            chip.padding,
        )
    }

    /// Detects faces.
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Detection>, FaceError> {
        Ok(self.detector.detect(frame)?)
    }

    /// Embeds an aligned chip (with the mirror average when configured).
    pub(crate) fn embed_chip(&self, chip: &Chip) -> Result<Template, FaceError> {
        let t = self.embedder.embed(chip)?;
        if self.config.mirror_average {
            let m = self.embedder.embed(&chip.mirrored())?;
            // Both come from the same embedder: always the same kind.
            return Template::mean(t, m).map_err(|e| FaceError::Embed(e.into()));
        }
        Ok(t)
    }

    /// detect → quality gate → align → embed for one frame.
    pub(crate) fn capture(&self, frame: &Frame) -> Result<Capture, CaptureError> {
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
    pub(crate) fn capture_face(
        &self,
        frame: &Frame,
        face: Detection,
        detect_ms: f64,
    ) -> Result<Capture, CaptureError> {
        self.capture_aligned(frame, face, detect_ms, None)
    }

    /// As [`Self::capture_face`], with the template already made from this face (by
    /// [`FrameIdentity`]): the chip is still aligned and quality-checked, not embedded again.
    pub(super) fn capture_aligned(
        &self,
        frame: &Frame,
        face: Detection,
        detect_ms: f64,
        made: Option<Template>,
    ) -> Result<Capture, CaptureError> {
        let t1 = Instant::now();
        let chip = self
            .align(frame, &face.landmarks)
            .map_err(FaceError::from)?;
        let chip_quality =
            quality::check_chip(&chip, &self.config.quality).map_err(CaptureError::Quality)?;
        let align_ms = ms(t1);
        let t2 = Instant::now();
        let template = match made {
            Some(t) => t,
            None => self.embed_chip(&chip)?,
        };
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
    pub(crate) fn compare(&self, a: &Template, b: &Template) -> Comparison {
        a.compare(b, self.threshold())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::face::test_fixture as fixture;

    /// A YuNet pipeline aligns with YuNet's own template and still tells Obama from Biden.
    #[test]
    fn yunet_pipeline_matches_and_separates() {
        let p = FacePipeline::with_yunet(FaceConfig::default(), YuNetConfig::default()).unwrap();
        assert!(matches!(p.detector(), FaceDetector::YuNet(_)));
        let dlib = crate::embed::ChipGeometry::DLIB_150;
        assert_eq!(p.detector().chip_points(&dlib), align::YUNET_TEMPLATE);
        // Carried into another chip, YuNet's offset from MTCNN's points is kept.
        let arc = crate::embed::ChipGeometry::ARCFACE_112;
        let carried = p.detector().chip_points(&arc);
        assert!(carried != arc.points);
        // Each point's offset from MTCNN's is scaled (and turned) by the same similarity.
        let fwd = align::Similarity::fit(&align::MTCNN_TEMPLATE, &arc.points).unwrap();
        let len = |a: Point, b: Point| f64::from((a.x - b.x).hypot(a.y - b.y));
        let points = align::MTCNN_TEMPLATE.iter().zip(&align::YUNET_TEMPLATE);
        for (i, (c, (&m, &y))) in carried.iter().zip(points).enumerate() {
            let carried_offset = len(*c, fwd.apply(m));
            assert!(
                (carried_offset - fwd.scale() * len(y, m)).abs() < 1e-5,
                "point {i}: {carried_offset}"
            );
        }
        let t = |name: &str| p.capture(&fixture(name)).unwrap().template;
        let (obama, obama2, biden) = (t("obama"), t("obama2"), t("biden"));
        // dlib's own threshold: this is about alignment, not the operating point.
        let threshold = 0.6;
        assert!(obama.distance(&obama2) < threshold, "Obama vs Obama");
        assert!(obama.distance(&biden) > threshold, "Obama vs Biden");
    }
}

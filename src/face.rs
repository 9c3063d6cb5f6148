//! The face pipeline: detect → quality gate → align → embed → compare, in one place.
//!
//! At a kiosk a face is processed only through [`FaceVerifier`], whose evidence cannot be
//! built without a consent value and which compares only the frame that passed liveness.
//! Capturing and comparing faces outside that flow — measuring accuracy and speed — goes
//! through [`crate::eval::Matcher`], a door named for what it is for.
//!
//! [`FacePipeline`] owns the planned networks (load once, use for every person) and turns a
//! frame into a [`Template`] or a quality [`Reason`]. It never keeps a frame, a chip or a
//! template: each is dropped, and so wiped, as soon as the step that needed it is done.

use std::borrow::Borrow;
use std::time::Instant;

use crate::align::{self, AlignError, Chip};
use crate::detect::yunet::{YuNet, YuNetConfig};
use crate::detect::{DetectError, Detection, Detector, DetectorConfig, Landmarks};
use crate::embed::{EmbedError, Embedder};
use crate::frame::Frame;
use crate::geometry::Point;
use crate::liveness::fusion::IdentityCheck;
use crate::liveness::passive::MiniFasNet;
use crate::liveness::Observation;
use crate::quality::{self, ChipQuality, QualityConfig};
use crate::template::{Comparison, Template, Threshold};
use crate::verifier::Reason;

/// Default decision threshold of the shipped model (dlib's ResNet, euclidean distance);
/// see [`crate::embed::DLIB_THRESHOLD`] for how it was chosen. Another embedder brings its
/// own threshold ([`crate::embed::EmbedderSpec::threshold`]).
pub const DEFAULT_THRESHOLD: f32 = crate::embed::DLIB_THRESHOLD;

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
    /// The passive anti-spoofing model failed to load or run.
    #[error(transparent)]
    Passive(#[from] crate::liveness::passive::PassiveError),
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
        Ok(FacePipeline {
            detector: FaceDetector::Mtcnn(Detector::with_default_models(config.detector)?),
            embedder: Embedder::with_default_model()?,
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
    fn capture_aligned(
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

/// Reason codes of the face verifier.
pub mod reasons {
    use crate::verifier::{Reason, ReasonKind};
    /// The live face is not the reference's person.
    pub const MISMATCH: Reason = Reason::new("face.mismatch", ReasonKind::Mismatch);
    /// The reference photo (e.g. an ID document's chip photo) holds no usable face.
    pub const REFERENCE_UNUSABLE: Reason =
        Reason::new("face.reference_unusable", ReasonKind::Unavailable);
}

/// What the live face is compared with.
pub enum Reference<'e> {
    /// A template already made (e.g. enrolled earlier in this session).
    Template(&'e Template),
    /// A photo to take the reference from — typically the portrait read from an identity
    /// document's chip. It is processed only after the consent check.
    Photo(&'e Frame),
}

/// The frames of one liveness challenge, as the kiosk captured them.
pub struct LiveCapture<'e> {
    /// Colour frames in capture order.
    pub frames: &'e [Frame],
    /// Capture time of each frame, seconds, strictly increasing.
    pub times: &'e [f64],
    /// The challenge the person was asked to perform (draw it with
    /// [`crate::liveness::challenge::Challenge::random`]).
    pub challenge: &'e crate::liveness::challenge::Challenge,
    /// `Interactive` at a kiosk (prompt timing enforced); `Fixed` for recorded sequences.
    pub mode: crate::liveness::challenge::Mode,
}

/// Evidence for one face attempt. It cannot be built without a [`FaceConsent`]: no consent
/// value, no call.
///
/// [`FaceConsent`]: crate::consent::FaceConsent
pub struct FaceEvidence<'e> {
    /// The person's (and, under 14, the guardian's) separate consent.
    pub consent: &'e crate::consent::FaceConsent<'e>,
    /// Birth date from the person's identity document, when one was read.
    pub birth_date: Option<crate::date::Date>,
    /// Today's date (for the age rule).
    pub today: crate::date::Date,
    /// What to compare the live face with.
    pub reference: Reference<'e>,
    /// The live capture.
    pub live: LiveCapture<'e>,
}

/// Integration faults of the face verifier.
#[derive(Debug, thiserror::Error)]
pub enum FaceVerifyError {
    /// The face pipeline failed.
    #[error(transparent)]
    Face(#[from] FaceError),
    /// The evidence is malformed (frame and time counts differ, no frames).
    #[error("invalid live capture: {0}")]
    Capture(&'static str),
    /// The challenge could not be run (bad timestamps, bad configuration).
    #[error(transparent)]
    Challenge(#[from] crate::liveness::challenge::ChallengeError),
    /// A liveness layer could not run.
    #[error(transparent)]
    Liveness(#[from] crate::liveness::fusion::FusionError),
}

/// Face with liveness, as a [`crate::Verifier`]: consent → liveness over the whole
/// capture → the frontal frame that passed liveness is embedded (so a face cannot be
/// swapped after liveness) → compared with the reference.
pub struct FaceVerifier<'p> {
    pipeline: &'p FacePipeline,
    liveness: crate::liveness::fusion::Policy,
}

impl<'p> FaceVerifier<'p> {
    /// A verifier over a planned pipeline with a liveness policy.
    pub fn new(pipeline: &'p FacePipeline, liveness: crate::liveness::fusion::Policy) -> Self {
        FaceVerifier { pipeline, liveness }
    }

    fn reference_template<'r>(
        &self,
        reference: Reference<'r>,
    ) -> Result<Result<RefTemplate<'r>, Reason>, FaceError> {
        match reference {
            Reference::Template(t) => Ok(Ok(RefTemplate::Borrowed(t))),
            Reference::Photo(frame) => {
                // Document portraits are small and posed: only require one usable face.
                let detections = self.pipeline.detect(frame)?;
                let permissive = QualityConfig::permissive(quality::SeveralFaces::Largest);
                let Ok(face) =
                    quality::select(&detections, (frame.width(), frame.height()), &permissive)
                else {
                    return Ok(Err(reasons::REFERENCE_UNUSABLE));
                };
                let chip = self.pipeline.align(frame, &face.landmarks)?;
                Ok(Ok(RefTemplate::Owned(Box::new(
                    self.pipeline.embed_chip(&chip)?,
                ))))
            }
        }
    }
}

/// A reference template either borrowed from the caller or made here (and wiped on drop).
enum RefTemplate<'r> {
    Borrowed(&'r Template),
    Owned(Box<Template>),
}

impl RefTemplate<'_> {
    fn get(&self) -> &Template {
        match self {
            RefTemplate::Borrowed(t) => t,
            RefTemplate::Owned(t) => t,
        }
    }
}

/// Identity constancy for the liveness fusion ([`IdentityCheck`]): aligns and embeds the
/// face of two frames with the pipeline and gives the distance of the two templates.
///
/// Why: a photo or mask swapped in between the challenge's first and last frontal frames
/// would pass the movement checks; the same person must be in front of the camera
/// throughout. The faces are those liveness judged (the single face of each frame's
/// [`Observation`]), never a fresh detection that might pick somebody else.
///
/// The colour frames come from a source, `frames(index) -> Result<F, E>` where `F` is a
/// [`Frame`] or a `&Frame`, called only for the two frames compared. A kiosk that keeps its
/// capture in memory passes `|i| frames.get(i).ok_or(..)`; a tool replaying a recording
/// decodes the file on demand, so it never holds more than two colour frames (the liveness
/// layers only need the observations).
pub struct FrameIdentity<'a, S> {
    pipeline: &'a FacePipeline,
    observations: &'a [Observation],
    frames: S,
    /// The templates made so far (at most [`KEPT_TEMPLATES`], wiped on drop): the
    /// verifier takes the frontal frame's as its probe instead of embedding it again.
    kept: Vec<(usize, Template)>,
}

/// The identity check compares two frames; keeping more would only hold biometrics longer.
const KEPT_TEMPLATES: usize = 2;

impl<S> std::fmt::Debug for FrameIdentity<'_, S> {
    /// Frame count and which frames have a kept template; never the templates.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept: Vec<usize> = self.kept.iter().map(|(i, _)| *i).collect();
        f.debug_struct("FrameIdentity")
            .field("frames", &self.observations.len())
            .field("kept_templates_of", &kept)
            .finish_non_exhaustive()
    }
}

/// Why [`FrameIdentity`] could not compare two frames, or [`FramePassive`] score one (a
/// fault of the integration: the fusion only asks for frames whose single face it has seen).
#[derive(Debug, thiserror::Error)]
pub enum FrameIdentityError<E> {
    /// The observations hold no single face for this frame.
    #[error("frame {0}: no single face in the observations")]
    NoFace(usize),
    /// The frame source failed (e.g. the frame file could not be decoded).
    #[error("frame {index}: {source}")]
    Frame {
        /// Frame index.
        index: usize,
        /// The source's error.
        #[source]
        source: E,
    },
    /// Alignment, embedding or the passive model failed.
    #[error("frame {index}: {source}")]
    Face {
        /// Frame index.
        index: usize,
        /// The pipeline's error.
        #[source]
        source: FaceError,
    },
}

impl<'a, S, F, E> FrameIdentity<'a, S>
where
    S: FnMut(usize) -> Result<F, E>,
    F: Borrow<Frame>,
{
    /// An identity check over `observations` (one per frame, as given to the fusion), with
    /// the colour frames taken from `frames` when needed.
    pub fn new(pipeline: &'a FacePipeline, observations: &'a [Observation], frames: S) -> Self {
        FrameIdentity {
            pipeline,
            observations,
            frames,
            kept: Vec::with_capacity(KEPT_TEMPLATES),
        }
    }

    /// Makes the template of frame `index`'s face unless it is kept already; may drop a
    /// kept template, never that of frame `keep`.
    fn make(&mut self, index: usize, keep: usize) -> Result<(), FrameIdentityError<E>> {
        if self.kept.iter().any(|(i, _)| *i == index) {
            return Ok(());
        }
        let face = self
            .observations
            .get(index)
            .and_then(Observation::single_face)
            .ok_or(FrameIdentityError::NoFace(index))?;
        let landmarks = Landmarks::from_array(face.landmarks.map(|p| Point {
            // Observations hold the detector's f32 landmarks widened to f64: narrowing
            // gives them back exactly.
            x: p.x as f32,
            y: p.y as f32,
        }));
        let face_err = |source: FaceError| FrameIdentityError::Face { index, source };
        let chip = {
            let frame = (self.frames)(index)
                .map_err(|source| FrameIdentityError::Frame { index, source })?;
            self.pipeline
                .align(frame.borrow(), &landmarks)
                .map_err(|e| face_err(e.into()))?
        };
        let template = self.pipeline.embed_chip(&chip).map_err(face_err)?;
        if self.kept.len() >= KEPT_TEMPLATES {
            if let Some(pos) = self.kept.iter().position(|(i, _)| *i != keep) {
                self.kept.remove(pos);
            }
        }
        self.kept.push((index, template));
        Ok(())
    }

    fn kept(&self, index: usize) -> Option<&Template> {
        self.kept.iter().find(|(i, _)| *i == index).map(|(_, t)| t)
    }
}

impl<S> FrameIdentity<'_, S> {
    /// Moves out the template the check made for frame `index`, if it made one (the
    /// verifier's probe; private so the biometric never leaves the face module this way).
    fn take_template(&mut self, index: usize) -> Option<Template> {
        let pos = self.kept.iter().position(|(i, _)| *i == index)?;
        Some(self.kept.swap_remove(pos).1)
    }
}

impl<S, F, E> IdentityCheck for FrameIdentity<'_, S>
where
    S: FnMut(usize) -> Result<F, E>,
    F: Borrow<Frame>,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = FrameIdentityError<E>;
    fn distance(&mut self, a: usize, b: usize) -> Result<f32, Self::Error> {
        self.make(a, b)?;
        self.make(b, a)?;
        match (self.kept(a), self.kept(b)) {
            (Some(ta), Some(tb)) => Ok(ta.distance(tb)),
            // Both were just made and neither was dropped.
            _ => Err(FrameIdentityError::NoFace(a)),
        }
    }
}

/// The passive layer over a capture, the counterpart of [`FrameIdentity`]: the face of
/// frame `index`'s observation, scored in its colour frame by a passive model. The colour
/// frames come from `frames(index) -> Result<F, E>` (a [`Frame`] or a `&Frame`), called only
/// for the frames the fusion scores (the challenge's first and last frontal frames).
pub struct FramePassive<'a, S> {
    model: &'a MiniFasNet,
    observations: &'a [Observation],
    frames: S,
}

impl<S> std::fmt::Debug for FramePassive<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FramePassive")
            .field("frames", &self.observations.len())
            .finish_non_exhaustive()
    }
}

impl<'a, S> FramePassive<'a, S> {
    /// A passive check with `model` over `observations` (one per frame, as given to the
    /// fusion), the colour frames taken from `frames` when needed.
    pub fn new(model: &'a MiniFasNet, observations: &'a [Observation], frames: S) -> Self {
        FramePassive {
            model,
            observations,
            frames,
        }
    }
}

impl<S, F, E> crate::liveness::fusion::PassiveCheck for FramePassive<'_, S>
where
    S: FnMut(usize) -> Result<F, E>,
    F: Borrow<Frame>,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = FrameIdentityError<E>;
    fn live_score(&mut self, index: usize) -> Result<f32, FrameIdentityError<E>> {
        let face = self
            .observations
            .get(index)
            .and_then(Observation::single_face)
            .ok_or(FrameIdentityError::NoFace(index))?;
        let frame =
            (self.frames)(index).map_err(|source| FrameIdentityError::Frame { index, source })?;
        let s = self
            .model
            .score_frame(frame.borrow(), &face.bbox)
            .map_err(|source| FrameIdentityError::Face {
                index,
                source: FaceError::Passive(source),
            })?;
        Ok(s.live)
    }
}

/// A frame index outside the capture (cannot happen once the counts are checked, but a
/// lookup must not panic).
#[derive(Debug, thiserror::Error)]
#[error("frame outside the capture")]
struct NoSuchFrame;

impl crate::verifier::Verifier for FaceVerifier<'_> {
    type Evidence<'e> = FaceEvidence<'e>;
    type Error = FaceVerifyError;

    fn family(&self) -> crate::verifier::Family {
        crate::verifier::Family::Face
    }

    /// The batch form of [`FaceVerifier::start`]: the capture's frames pushed through one
    /// session, every frame fully detected.
    fn verify(
        &mut self,
        ev: FaceEvidence<'_>,
    ) -> Result<crate::verifier::Outcome, FaceVerifyError> {
        let live = &ev.live;
        let start = SessionStart {
            consent: ev.consent,
            birth_date: ev.birth_date,
            today: ev.today,
            reference: ev.reference,
            mirrored: live.challenge.mirrored(),
            track: 1,
        };
        // The kiosk prompted this challenge itself (it is a batch of frames already taken).
        let mut session = match self.start_with(start, live.challenge.clone(), live.mode)? {
            Started::Session(s) => s,
            Started::Decided(outcome) => return Ok(outcome),
        };
        if live.frames.is_empty() {
            return Err(FaceVerifyError::Capture("no frames"));
        }
        if live.frames.len() != live.times.len() {
            return Err(FaceVerifyError::Capture(
                "frame and timestamp counts differ",
            ));
        }
        for (frame, &t) in live.frames.iter().zip(live.times) {
            if let Progress::Done(outcome) = session.push(frame, t)? {
                return Ok(outcome);
            }
        }
        session.finish()
    }
}

/// What a streaming face session needs to start.
pub struct SessionStart<'s> {
    /// The person's (and, under 14, the guardian's) separate consent.
    pub consent: &'s crate::consent::FaceConsent<'s>,
    /// Birth date from the person's identity document, when one was read.
    pub birth_date: Option<crate::date::Date>,
    /// Today's date (for the age rule).
    pub today: crate::date::Date,
    /// What to compare the live face with.
    pub reference: Reference<'s>,
    /// The camera delivers mirrored frames (the person's left is on the image's left).
    pub mirrored: bool,
    /// Run the full detector every `track` frames and follow the faces in between
    /// ([`crate::detect::Tracker`], MTCNN only); 1 = the full detector on every frame.
    pub track: u32,
}

/// A session that started, or an outcome decided before any frame (consent refused, a
/// reference photo without a usable face).
pub enum Started<'s> {
    /// Push frames to it.
    Session(FaceSession<'s>),
    /// Decided already.
    Decided(crate::verifier::Outcome),
}

/// What the kiosk does after a frame.
#[derive(Debug, PartialEq)]
pub enum Progress {
    /// Keep sending frames.
    Continue,
    /// Show this prompt now ([`crate::liveness::challenge::Step::prompt`] is its sentence).
    Prompt {
        /// Index of the step in the challenge.
        index: usize,
        /// The step.
        step: crate::liveness::challenge::Step,
    },
    /// Decided. A refusal's reason has a code and a sentence for the person
    /// ([`crate::liveness::fusion::prompt_for`] for liveness reasons).
    Done(crate::verifier::Outcome),
}

/// Most frames one session accepts: a challenge ends by its own windows within ≈ 35 s
/// (two steps), 525 frames at 15 fps; this bounds the luma held for the surface layer (0.3
/// MB a 640×480 frame) whatever rate the caller pushes at.
pub const MAX_SESSION_FRAMES: usize = 1024;

/// A face verification run frame by frame as the camera delivers them: consent (checked
/// at the start) → the interactive challenge, prompting as it goes → liveness fusion →
/// the frontal frame that passed, embedded and compared with the reference.
///
/// Why a session: a kiosk must prompt *while* the person moves, and must not hold a video.
/// It keeps the observations (boxes, landmarks and, for the surface layer, the luma) and
/// exactly two colour frames — the frontal frame that formed the baseline and the current
/// one, the two the identity check and the matcher embed — and wipes them when it decides.
pub struct FaceSession<'s> {
    pipeline: &'s FacePipeline,
    policy: crate::liveness::fusion::Policy,
    reference: RefTemplate<'s>,
    challenge: crate::liveness::challenge::Session,
    tracker: Option<crate::detect::Tracker>,
    observations: Vec<Observation>,
    /// The colour frame at the baseline (the challenge's first frontal frame) and its index.
    first: Option<(usize, Frame)>,
    last_t: Option<f64>,
    /// Width and height of the first frame: every frame must have them.
    size: Option<(u32, u32)>,
    decided: bool,
}

impl std::fmt::Debug for FaceSession<'_> {
    /// Progress only: never frames, landmarks or templates.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceSession")
            .field("frames", &self.observations.len())
            .field("decided", &self.decided)
            .finish_non_exhaustive()
    }
}

impl<'p> FaceVerifier<'p> {
    /// Starts a streaming session at a kiosk. The session draws its own challenge
    /// ([`crate::liveness::challenge::Challenge::random`], the policy's length), used once,
    /// and runs it interactively: prompt timing and direction are enforced. The policy is
    /// checked (an integration fault is an error), then consent (without it not a single
    /// frame is processed), then the reference (a photo without a usable face ends the
    /// attempt before the person moves).
    pub fn start<'s>(&self, s: SessionStart<'s>) -> Result<Started<'s>, FaceVerifyError>
    where
        'p: 's,
    {
        let challenge = crate::liveness::challenge::Challenge::random(
            self.liveness.challenge.length,
            s.mirrored,
        )?;
        self.start_with(s, challenge, crate::liveness::challenge::Mode::Interactive)
    }

    /// A session over a known challenge — for recorded sequences and evaluation only, never
    /// at a kiosk: a known order is what a replay needs. The name says so, so that a
    /// reviewer finds every use; a kiosk calls [`FaceVerifier::start`].
    pub fn start_for_evaluation<'s>(
        &self,
        s: SessionStart<'s>,
        challenge: crate::liveness::challenge::Challenge,
        mode: crate::liveness::challenge::Mode,
    ) -> Result<Started<'s>, FaceVerifyError>
    where
        'p: 's,
    {
        self.start_with(s, challenge, mode)
    }

    fn start_with<'s>(
        &self,
        s: SessionStart<'s>,
        challenge: crate::liveness::challenge::Challenge,
        mode: crate::liveness::challenge::Mode,
    ) -> Result<Started<'s>, FaceVerifyError>
    where
        'p: 's,
    {
        use crate::liveness::fusion::Requirement;
        use crate::verifier::Outcome;
        // A policy below the minimums is an integration fault, whatever the person does;
        // the verifier always has a reference, so the identity layer is always required.
        self.liveness.validate()?;
        if self.liveness.identity != Requirement::Required {
            return Err(crate::liveness::fusion::FusionError::Policy(
                "the face verifier requires the identity layer",
            )
            .into());
        }
        let tracker = match (s.track, self.pipeline.detector()) {
            (1, _) => None,
            (n, FaceDetector::Mtcnn(_)) => {
                Some(crate::detect::Tracker::new(n).map_err(FaceError::from)?)
            }
            _ => {
                return Err(FaceVerifyError::Capture(
                    "tracking needs the MTCNN detector",
                ))
            }
        };
        if challenge.mirrored() != s.mirrored {
            return Err(FaceVerifyError::Capture(
                "the challenge and the session disagree on mirroring",
            ));
        }
        let challenge =
            crate::liveness::challenge::Session::new(challenge, mode, self.liveness.challenge)?;
        if let Err(r) = s.consent.check(s.birth_date, s.today) {
            return Ok(Started::Decided(Outcome::Rejected(r)));
        }
        let reference = match self.reference_template(s.reference)? {
            Ok(t) => t,
            Err(r) => return Ok(Started::Decided(Outcome::Rejected(r))),
        };
        Ok(Started::Session(FaceSession {
            pipeline: self.pipeline,
            policy: self.liveness,
            reference,
            challenge,
            tracker,
            observations: Vec::new(),
            first: None,
            last_t: None,
            size: None,
            decided: false,
        }))
    }
}

impl FaceSession<'_> {
    /// Takes the next camera frame, captured at `t` seconds (strictly increasing). A frame
    /// that cannot be taken (a bad timestamp, too many frames, a pipeline fault) is an
    /// error and leaves the session as it was.
    pub fn push(&mut self, frame: &Frame, t: f64) -> Result<Progress, FaceVerifyError> {
        use crate::liveness::challenge::Event;
        use crate::liveness::{FaceBox, GrayFrame};
        if self.decided {
            return Err(FaceVerifyError::Capture("the session has already decided"));
        }
        if self.observations.len() >= MAX_SESSION_FRAMES {
            return Err(FaceVerifyError::Capture("too many frames for one session"));
        }
        // Checked before detection, so a refused frame does not move the tracker either.
        if !t.is_finite() || self.last_t.is_some_and(|last| t <= last) {
            return Err(
                crate::liveness::challenge::ChallengeError::Time(self.observations.len()).into(),
            );
        }
        // One camera, one geometry: a frame of another size is another source.
        let size = (frame.width(), frame.height());
        if self.size.is_some_and(|first| first != size) {
            return Err(FaceVerifyError::Capture(
                "the frame size changed mid-session",
            ));
        }
        let faces = match (&mut self.tracker, self.pipeline.detector()) {
            (Some(tracker), FaceDetector::Mtcnn(mtcnn)) => {
                tracker.detect(mtcnn, frame).map_err(FaceError::from)?
            }
            _ => self.pipeline.detect(frame)?,
        };
        let mut o = Observation::new(t, faces.iter().map(FaceBox::from).collect());
        // Only the surface layer reads pixels; without it no copy of the face is kept.
        if self.policy.surface != crate::liveness::fusion::Requirement::Off {
            // The surface layer tracks the face's texture; the luma is wiped with `o`.
            o.luma = Some(
                GrayFrame::new(frame.width(), frame.height(), frame.luma().to_vec())
                    .map_err(|_| FaceVerifyError::Capture("frame without pixels"))?,
            );
        }
        let event = self.challenge.push(&o)?;
        self.last_t = Some(t);
        self.size = Some(size);
        let index = self.observations.len();
        self.observations.push(o);
        match event {
            Event::Continue => Ok(Progress::Continue),
            Event::Prompt {
                index: step_index,
                step,
            } => {
                if step_index == 0 {
                    // This frame is the baseline: the identity check embeds it at the end.
                    let copy = Frame::from_rgb(frame.width(), frame.height(), frame.rgb().to_vec())
                        .map_err(|_| FaceVerifyError::Capture("frame without pixels"))?;
                    self.first = Some((index, copy));
                }
                Ok(Progress::Prompt {
                    index: step_index,
                    step,
                })
            }
            Event::Done(outcome) => self
                .conclude(&outcome, Some((index, frame)))
                .map(Progress::Done),
        }
    }

    /// Ends the input (the camera stopped, the kiosk gave up): an undecided session fails
    /// as its challenge does.
    pub fn finish(&mut self) -> Result<crate::verifier::Outcome, FaceVerifyError> {
        if self.decided {
            return Err(FaceVerifyError::Capture("the session has already decided"));
        }
        let outcome = self.challenge.finish();
        self.conclude(&outcome, None)
    }

    /// Fusion, then the frontal frame embedded and compared; the session's frames and
    /// observations are wiped whatever the result.
    fn conclude(
        &mut self,
        outcome: &crate::liveness::challenge::ChallengeOutcome,
        current: Option<(usize, &Frame)>,
    ) -> Result<crate::verifier::Outcome, FaceVerifyError> {
        self.decided = true;
        let first = self.first.take();
        let observations = std::mem::take(&mut self.observations);
        let result = conclude(
            self.pipeline,
            &self.policy,
            self.reference.get(),
            outcome,
            &observations,
            first.as_ref().map(|(i, f)| (*i, f)),
            current,
        );
        drop(observations);
        result
    }
}

fn conclude(
    pipeline: &FacePipeline,
    policy: &crate::liveness::fusion::Policy,
    reference: &Template,
    outcome: &crate::liveness::challenge::ChallengeOutcome,
    observations: &[Observation],
    first: Option<(usize, &Frame)>,
    current: Option<(usize, &Frame)>,
) -> Result<crate::verifier::Outcome, FaceVerifyError> {
    use crate::verifier::Outcome;
    // The session keeps two colour frames: the first frontal one and the current one.
    let lookup = |i: usize| {
        [first, current]
            .into_iter()
            .flatten()
            .find(|(k, _)| *k == i)
            .map(|(_, f)| f)
            .ok_or(NoSuchFrame)
    };
    let mut identity = FrameIdentity::new(pipeline, observations, lookup);
    let mut passive = pipeline
        .passive
        .as_ref()
        .map(|model| FramePassive::new(model, observations, lookup));
    let decision = policy.decide(outcome, observations, Some(&mut identity), passive.as_mut())?;
    let frontal = match (decision.live, decision.frontal_frame) {
        (true, Some(i)) => i,
        _ => return Ok(decision.outcome()),
    };
    // The identity check embedded the frontal frame already (it is the last frontal frame
    // it compared): reuse that template rather than embed the frame twice.
    let made = identity.take_template(frontal);
    drop(identity);

    // The frame that passed liveness, and no other, is compared.
    let (frame, face) = match (
        current.filter(|(i, _)| *i == frontal).map(|(_, f)| f),
        observations.get(frontal).and_then(Observation::single_face),
    ) {
        (Some(frame), Some(face)) => (frame, detection_of(face)),
        _ => {
            return Err(FaceVerifyError::Capture(
                "liveness named a frame without a face",
            ))
        }
    };
    let probe = match pipeline.capture_aligned(frame, face, 0.0, made) {
        Ok(c) => c.template,
        Err(CaptureError::Quality(r)) => return Ok(Outcome::Retry(r)),
        Err(CaptureError::Fault(e)) => return Err(e.into()),
    };
    Ok(if pipeline.compare(reference, &probe).same_person() {
        Outcome::Accepted
    } else {
        Outcome::Rejected(reasons::MISMATCH)
    })
}

/// The detector's face back from the liveness layers' terms (their f64 fields hold the
/// detector's f32 values exactly, so narrowing gives them back).
fn detection_of(face: &crate::liveness::FaceBox) -> Detection {
    let p = face.landmarks.map(|p| Point {
        x: p.x as f32,
        y: p.y as f32,
    });
    Detection {
        bbox: crate::geometry::Rect {
            x: face.bbox.x as f32,
            y: face.bbox.y as f32,
            width: face.bbox.w as f32,
            height: face.bbox.h as f32,
        },
        score: face.score,
        landmarks: Landmarks::from_array(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::DecodeLimits;
    use crate::liveness::FaceBox;
    use std::cell::RefCell;

    fn fixture(name: &str) -> Frame {
        let p = format!(
            "{}/tests/fixtures/images/{name}.jpg",
            env!("CARGO_MANIFEST_DIR")
        );
        Frame::open(p, &DecodeLimits::default()).unwrap()
    }

    /// The identity check decodes only the frames it compares, once each, and keeps for
    /// the verifier exactly the template of the frame asked for — the same template a
    /// fresh capture of that frame gives, not a neighbour's.
    #[test]
    fn frame_identity_is_lazy_and_keeps_each_frames_own_template() {
        let p = FacePipeline::with_default_models(FaceConfig::default()).unwrap();
        let frames = [fixture("obama"), fixture("biden"), fixture("obama2")];
        let faces: Vec<Detection> = frames
            .iter()
            .map(|f| {
                let d = p.detect(f).unwrap();
                assert_eq!(d.len(), 1);
                d[0]
            })
            .collect();
        let obs: Vec<Observation> = faces
            .iter()
            .enumerate()
            .map(|(i, d)| Observation::new(i as f64, vec![FaceBox::from(d)]))
            .collect();
        let decoded = RefCell::new(Vec::new());
        let mut id = FrameIdentity::new(&p, &obs, |i| {
            decoded.borrow_mut().push(i);
            frames.get(i).ok_or(NoSuchFrame)
        });
        let threshold = p.threshold().distance();
        assert!(id.distance(0, 1).unwrap() > threshold, "Obama vs Biden");
        assert!(id.distance(0, 2).unwrap() < threshold, "Obama vs Obama");
        assert!(matches!(
            id.distance(0, 7),
            Err(FrameIdentityError::NoFace(7))
        ));
        // Frame 1 was dropped to keep frame 0 (still compared) and frame 2.
        assert!(id.take_template(1).is_none());
        let kept = id.take_template(2).unwrap();
        assert!(id.take_template(2).is_none(), "moved out, not copied");
        drop(id);
        assert_eq!(*decoded.borrow(), [0, 1, 2]);

        let fresh = |i: usize| p.capture_face(&frames[i], faces[i], 0.0).unwrap().template;
        assert!(kept.distance(&fresh(2)) < 1e-5);
        assert!(kept.distance(&fresh(0)) > 0.05);
    }

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
        for i in 0..5 {
            let (m, y) = (align::MTCNN_TEMPLATE[i], align::YUNET_TEMPLATE[i]);
            let carried_offset = len(carried[i], fwd.apply(m));
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

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

//! Four modules, one concept each:
//! - [`pipeline`]: the planned networks, frame → template ([`FacePipeline`]);
//! - [`verifier`]: consent → liveness → match over a whole capture ([`FaceVerifier`]);
//! - [`session`]: the same verification frame by frame at a kiosk ([`FaceSession`]);
//! - [`identity`]: what the liveness fusion asks of faces in two frames (the identity and
//!   passive layers over a capture).

pub mod identity;
pub mod pipeline;
pub mod session;
pub mod verifier;

pub use identity::{decide_liveness, FrameIdentity, FrameIdentityError, FramePassive};
pub use pipeline::{
    Capture, FaceConfig, FaceDetector, FacePipeline, StageTimes, CALIBRATED_MIN_FACE,
};
pub use session::{FaceSession, Progress, SessionStart, Started, MAX_SESSION_FRAMES};
pub use verifier::{FaceEvidence, FaceVerifier, LiveCapture};

use crate::align::AlignError;
use crate::detect::DetectError;
use crate::embed::EmbedError;
use crate::frame::Frame;
use crate::template::Template;
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

/// Integration faults of the face verifier and its session.
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

/// A licensed fixture photo (`tests/fixtures/images/NAME.jpg`), for the face modules' tests.
#[cfg(test)]
fn test_fixture(name: &str) -> Frame {
    let p = format!(
        "{}/tests/fixtures/images/{name}.jpg",
        env!("CARGO_MANIFEST_DIR")
    );
    Frame::open(p, &crate::frame::DecodeLimits::default()).unwrap()
}

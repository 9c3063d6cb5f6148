//! Face with liveness as a [`crate::Verifier`] over a whole capture.
//!
//! Why one door: the evidence cannot be built without a consent value, and only the frame
//! that passed liveness is compared, so a face cannot be swapped in after the checks. The
//! batch verifier runs through the same [`super::FaceSession`] a kiosk streams into, so
//! both decide alike by construction.

use super::pipeline::FacePipeline;
use super::session::{Progress, SessionStart, Started};
use super::{reasons, FaceError};
use crate::frame::Frame;
use crate::quality::{self, QualityConfig};
use crate::template::Template;
use crate::verifier::Reason;

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
    pub(super) pipeline: &'p FacePipeline,
    pub(super) liveness: crate::liveness::fusion::Policy,
}

impl<'p> FaceVerifier<'p> {
    /// A verifier over a planned pipeline with a liveness policy.
    pub fn new(pipeline: &'p FacePipeline, liveness: crate::liveness::fusion::Policy) -> Self {
        FaceVerifier { pipeline, liveness }
    }

    pub(super) fn reference_template<'r>(
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
pub(super) enum RefTemplate<'r> {
    Borrowed(&'r Template),
    Owned(Box<Template>),
}

impl RefTemplate<'_> {
    pub(super) fn get(&self) -> &Template {
        match self {
            RefTemplate::Borrowed(t) => t,
            RefTemplate::Owned(t) => t,
        }
    }
}

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

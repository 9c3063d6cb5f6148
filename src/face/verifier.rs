//! Face with liveness: [`FaceVerifier`] starts streaming sessions at a kiosk and, as a
//! [`crate::Verifier`], decides a whole capture at once.
//!
//! Why one door: the evidence cannot be built without a consent value, and only the frame
//! that passed liveness is compared, so a face cannot be swapped in after the checks. The
//! batch verifier runs through the same [`super::FaceSession`] a kiosk streams into, so
//! both decide alike by construction.

use std::sync::Arc;

use super::pipeline::FacePipeline;
use super::session::{FaceSession, Progress, SessionStart, Started};
use super::{FaceVerifyError, Reference};
use crate::frame::Frame;

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

/// Face with liveness, as a [`crate::Verifier`]: consent → liveness over the whole
/// capture → the frontal frame that passed liveness is embedded (so a face cannot be
/// swapped after liveness) → compared with the reference.
///
/// A photo held up to the camera is refused even when it is of the right person: the
/// same frame over and over never performs the challenge's turns.
///
/// ```
/// use facegate::consent::{BiometricConsent, FaceConsent};
/// use facegate::date::Date;
/// use facegate::face::{FaceConfig, FaceEvidence, FacePipeline, FaceVerifier, LiveCapture, Reference};
/// use facegate::frame::{DecodeLimits, Frame};
/// use facegate::liveness::challenge::{Challenge, Mode};
/// use facegate::{ReasonKind, Verifier};
///
/// let faces = FacePipeline::with_default_models(FaceConfig::default())?;
/// let mut verifier = FaceVerifier::new(&faces, Default::default());
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/images/obama.jpg");
/// let id_photo = Frame::open(path, &DecodeLimits::default())?;
/// let still: Vec<Frame> = (0..15)
///     .map(|_| Frame::open(path, &DecodeLimits::default()))
///     .collect::<Result<_, _>>()?;
/// let times: Vec<f64> = (0..still.len()).map(|i| i as f64 / 7.5).collect();
/// let challenge = Challenge::parse_for_evaluation("left,right", false)?;
/// let person = BiometricConsent::given_by_person();
/// let outcome = verifier.verify(FaceEvidence {
///     consent: &FaceConsent::adult(&person),
///     birth_date: None,
///     today: Date::new(2026, 11, 30).unwrap(),
///     reference: Reference::Photo(&id_photo),
///     live: LiveCapture { frames: &still, times: &times, challenge: &challenge, mode: Mode::Fixed },
/// })?;
/// assert!(!outcome.is_accepted());
/// assert_eq!(outcome.reason().map(|r| r.kind()), Some(ReasonKind::Liveness));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FaceVerifier<'p> {
    pub(super) pipeline: &'p FacePipeline,
    pub(super) liveness: crate::liveness::fusion::LivenessPolicy,
}

impl<'p> FaceVerifier<'p> {
    /// A verifier over a planned pipeline with a liveness policy.
    pub fn new(
        pipeline: &'p FacePipeline,
        liveness: crate::liveness::fusion::LivenessPolicy,
    ) -> Self {
        FaceVerifier { pipeline, liveness }
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
        FaceSession::open(
            self.pipeline,
            self.liveness,
            s,
            challenge,
            crate::liveness::challenge::Mode::Interactive,
        )
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
        FaceSession::open(self.pipeline, self.liveness, s, challenge, mode)
    }
}

impl FaceVerifier<'_> {
    /// As [`FaceVerifier::start`], for a session that borrows nothing: it holds a share of
    /// `pipeline` and owns the reference template it makes from the photo. For handles
    /// whose lifetime the compiler cannot see, such as the C interface's; a Rust caller
    /// uses [`FaceVerifier::start`]. The reference must be a photo: a borrowed template
    /// would tie the session to its owner (and a template is never copied).
    pub fn start_shared(
        pipeline: &Arc<FacePipeline>,
        liveness: crate::liveness::fusion::LivenessPolicy,
        s: SessionStart<'_>,
    ) -> Result<Started<'static>, FaceVerifyError> {
        let challenge =
            crate::liveness::challenge::Challenge::random(liveness.challenge.length, s.mirrored)?;
        FaceSession::open_shared(
            pipeline,
            liveness,
            s,
            challenge,
            crate::liveness::challenge::Mode::Interactive,
        )
    }

    /// [`FaceVerifier::start_shared`] over a known challenge: for recorded sequences and
    /// evaluation only, like [`FaceVerifier::start_for_evaluation`].
    pub fn start_shared_for_evaluation(
        pipeline: &Arc<FacePipeline>,
        liveness: crate::liveness::fusion::LivenessPolicy,
        s: SessionStart<'_>,
        challenge: crate::liveness::challenge::Challenge,
        mode: crate::liveness::challenge::Mode,
    ) -> Result<Started<'static>, FaceVerifyError> {
        FaceSession::open_shared(pipeline, liveness, s, challenge, mode)
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
        let mut session = match FaceSession::open(
            self.pipeline,
            self.liveness,
            start,
            live.challenge.clone(),
            live.mode,
        )? {
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

//! The streaming face session: the face verifier run frame by frame as a kiosk's camera
//! delivers them, prompting as it goes.

use std::sync::Arc;

use super::identity::NoSuchFrame;
use super::pipeline::{FaceDetector, FacePipeline};
use super::{reasons, CaptureError, FaceError, FaceVerifyError, Reference};

use crate::frame::Frame;
use crate::liveness::Observation;
use crate::quality::{self, QualityConfig};
use crate::template::Template;
use crate::verifier::Reason;

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
    /// ([`crate::detect::Tracker`], MTCNN only); 1 = the full detector on every frame. At
    /// 15 fps, 7 keeps a second face's detection within 0.4 s and the landmark noise below
    /// full detection's (measured on the real recordings, docs/DETECTOR.md).
    pub track: u32,
}

/// A session that started, or an outcome decided before any frame (consent refused, a
/// reference photo without a usable face).
// The session is moved out once per person; boxing it would add an allocation and change
// the public type for no measured gain.
#[allow(clippy::large_enum_variant)]
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
    /// Show this prompt now ([`crate::liveness::challenge::Turn::prompt`] is its sentence).
    Prompt {
        /// Index of the turn in the challenge.
        index: usize,
        /// The turn.
        turn: crate::liveness::challenge::Turn,
    },
    /// Decided. A refusal's reason has a code and a sentence for the person
    /// ([`crate::liveness::fusion::prompt_for`] for liveness reasons).
    Done(crate::verifier::Outcome),
}

/// Most frames one session accepts: a challenge ends by its own windows within ≈ 35 s
/// (two steps), 525 frames at 15 fps; this bounds the observations (boxes and landmarks)
/// whatever rate the caller pushes at. Pixels are held only around each turn.
pub const MAX_SESSION_FRAMES: usize = 1024;

/// A face verification run frame by frame as the camera delivers them: consent (checked
/// at the start) → the interactive challenge, prompting as it goes → liveness fusion →
/// the frontal frame that passed, embedded and compared with the reference.
///
/// Why a session: a kiosk must prompt *while* the person moves, and must not hold a video.
/// It keeps the observations (boxes and landmarks; the luma only of the frames the surface
/// layer may still read, wiped as soon as no step can: [`FaceSession::frames_held`]) and
/// exactly two colour frames — the frontal frame that formed the baseline and the current
/// one, the two the identity check and the matcher embed — and wipes them when it decides.
pub struct FaceSession<'s> {
    pipeline: PipelineRef<'s>,
    policy: crate::liveness::fusion::LivenessPolicy,
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

/// The pipeline a session runs on: borrowed for the caller's scope, or a share of it for a
/// session that must borrow nothing ([`FaceVerifier::start_shared`]).
enum PipelineRef<'s> {
    Borrowed(&'s FacePipeline),
    Shared(Arc<FacePipeline>),
}

impl std::ops::Deref for PipelineRef<'_> {
    type Target = FacePipeline;
    fn deref(&self) -> &FacePipeline {
        match self {
            PipelineRef::Borrowed(p) => p,
            PipelineRef::Shared(p) => p,
        }
    }
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

impl<'s> FaceSession<'s> {
    /// Checks the policy (an integration fault is an error), then consent (without it not a
    /// single frame is processed), then the reference (a photo without a usable face ends
    /// the attempt before the person moves), and opens a session over `challenge`.
    pub(super) fn open(
        pipeline: &'s FacePipeline,
        policy: crate::liveness::fusion::LivenessPolicy,
        s: SessionStart<'s>,
        challenge: crate::liveness::challenge::Challenge,
        mode: crate::liveness::challenge::Mode,
    ) -> Result<Started<'s>, FaceVerifyError> {
        Self::open_on(PipelineRef::Borrowed(pipeline), policy, s, challenge, mode)
    }

    fn open_on(
        pipeline: PipelineRef<'s>,
        policy: crate::liveness::fusion::LivenessPolicy,
        s: SessionStart<'s>,
        challenge: crate::liveness::challenge::Challenge,
        mode: crate::liveness::challenge::Mode,
    ) -> Result<Started<'s>, FaceVerifyError> {
        use crate::liveness::fusion::Requirement;
        use crate::verifier::Outcome;
        // A policy below the minimums is an integration fault, whatever the person does;
        // the verifier always has a reference, so the identity layer is always required.
        policy.validate()?;
        if policy.identity != Requirement::Required {
            return Err(crate::liveness::fusion::FusionError::Policy(
                "the face verifier requires the identity layer",
            )
            .into());
        }
        let tracker = match (s.track, pipeline.detector()) {
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
            crate::liveness::challenge::Session::new(challenge, mode, policy.challenge)?;
        if let Err(r) = s.consent.check(s.birth_date, s.today) {
            return Ok(Started::Decided(Outcome::Rejected(r)));
        }
        let reference = match reference_template(&pipeline, s.reference)? {
            Ok(t) => t,
            Err(r) => return Ok(Started::Decided(Outcome::Rejected(r))),
        };
        Ok(Started::Session(FaceSession {
            pipeline,
            policy,
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

impl FaceSession<'static> {
    /// [`FaceSession::open`] for a session that borrows nothing: it holds a share of
    /// `pipeline` and owns the template it makes from the reference photo.
    pub(super) fn open_shared(
        pipeline: &Arc<FacePipeline>,
        policy: crate::liveness::fusion::LivenessPolicy,
        s: SessionStart<'_>,
        challenge: crate::liveness::challenge::Challenge,
        mode: crate::liveness::challenge::Mode,
    ) -> Result<Started<'static>, FaceVerifyError> {
        if matches!(s.reference, Reference::Template(_)) {
            return Err(FaceVerifyError::Capture(
                "a shared session takes its reference from a photo",
            ));
        }
        Ok(
            match FaceSession::open(pipeline, policy, s, challenge, mode)? {
                Started::Decided(outcome) => Started::Decided(outcome),
                Started::Session(session) => {
                    Started::Session(session.into_shared(Arc::clone(pipeline))?)
                }
            },
        )
    }
}

impl FaceSession<'_> {
    /// The same session holding `pipeline` (the one it borrowed) and its own reference.
    fn into_shared(
        self,
        pipeline: Arc<FacePipeline>,
    ) -> Result<FaceSession<'static>, FaceVerifyError> {
        debug_assert!(std::ptr::eq(&*self.pipeline, &*pipeline));
        let reference = match self.reference {
            RefTemplate::Owned(t) => RefTemplate::Owned(t),
            RefTemplate::Borrowed(_) => {
                return Err(FaceVerifyError::Capture(
                    "a shared session takes its reference from a photo",
                ))
            }
        };
        Ok(FaceSession {
            pipeline: PipelineRef::Shared(pipeline),
            policy: self.policy,
            reference,
            challenge: self.challenge,
            tracker: self.tracker,
            observations: self.observations,
            first: self.first,
            last_t: self.last_t,
            size: self.size,
            decided: self.decided,
        })
    }

    /// Whether the session has decided (a push returned [`Progress::Done`], or
    /// [`FaceSession::finish`] was called): it takes no more frames.
    pub fn decided(&self) -> bool {
        self.decided
    }

    /// Takes the next camera frame, captured at `t` seconds (strictly increasing). A frame
    /// that cannot be taken (a bad timestamp, too many frames, a pipeline fault) is an
    /// error and leaves the session as it was.
    pub fn push(&mut self, frame: &Frame, t: f64) -> Result<Progress, FaceVerifyError> {
        use crate::liveness::challenge::Event;
        use crate::liveness::GrayFrame;
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
        let mut o = Observation::new(t, faces);
        // Only the surface layer reads pixels; without it no copy of the face is kept.
        if self.policy.surface != crate::liveness::fusion::Requirement::Off {
            // The surface layer tracks the face's texture; the luma is wiped with `o`. Moved
            // out of its wrapper, not copied: one buffer of face pixels, not two.
            o.luma = Some(
                GrayFrame::new(
                    frame.width(),
                    frame.height(),
                    std::mem::take(&mut *frame.luma()),
                )
                .map_err(|_| FaceVerifyError::Capture("frame without pixels"))?,
            );
        }
        let event = self.challenge.push(&o)?;
        self.last_t = Some(t);
        self.size = Some(size);
        let index = self.observations.len();
        self.observations.push(o);
        self.forget_unreadable();
        match event {
            Event::Continue => Ok(Progress::Continue),
            Event::Prompt {
                index: turn_index,
                turn,
            } => {
                if turn_index == 0 {
                    // This frame is the baseline: the identity check embeds it at the end.
                    let copy = Frame::from_rgb(frame.width(), frame.height(), frame.rgb().to_vec())
                        .map_err(|_| FaceVerifyError::Capture("frame without pixels"))?;
                    self.first = Some((index, copy));
                }
                Ok(Progress::Prompt {
                    index: turn_index,
                    turn,
                })
            }
            Event::Done(outcome) => self
                .conclude(&outcome, Some((index, frame)))
                .map(Progress::Done),
        }
    }

    /// How many frames' pixels the session holds now: the luma of the frames the surface
    /// test may still read, and the colour frame that formed the baseline. A count, never
    /// the pixels; for an integrator checking what a kiosk keeps in memory.
    pub fn frames_held(&self) -> usize {
        self.observations
            .iter()
            .filter(|o| o.luma.is_some())
            .count()
            + usize::from(self.first.is_some())
    }

    /// Wipes the luma of every frame the surface test can no longer read: before the
    /// baseline, and outside each step's span around its turn (`surface::readable`).
    fn forget_unreadable(&mut self) {
        let Some(timeline) = self.challenge.timeline() else {
            return;
        };
        let spans =
            crate::liveness::surface::readable(&timeline, self.policy.surface_config.max_hops);
        for (i, o) in self.observations.iter_mut().enumerate() {
            if o.luma.is_some() && !spans.iter().any(|s| s.contains(&i)) {
                // `GrayFrame` wipes its pixels when dropped.
                o.luma = None;
            }
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
            &self.pipeline,
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
    policy: &crate::liveness::fusion::LivenessPolicy,
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
    let (decision, mut identity) =
        super::identity::decide_liveness(pipeline, policy, outcome, observations, lookup)?;
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
        (Some(frame), Some(face)) => (frame, *face),
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

/// The reference as a template: the caller's, or one made from the photo (the document
/// portrait), `Err(reason)` when the photo holds no usable face.
fn reference_template<'r>(
    pipeline: &FacePipeline,
    reference: Reference<'r>,
) -> Result<Result<RefTemplate<'r>, Reason>, FaceError> {
    match reference {
        Reference::Template(t) => Ok(Ok(RefTemplate::Borrowed(t))),
        Reference::Photo(frame) => {
            // Document portraits are small and posed: only require one usable face.
            let detections = pipeline.detect(frame)?;
            let permissive = QualityConfig::permissive(quality::SeveralFaces::Largest);
            let Ok(face) =
                quality::select(&detections, (frame.width(), frame.height()), &permissive)
            else {
                return Ok(Err(reasons::REFERENCE_UNUSABLE));
            };
            let chip = pipeline.align(frame, &face.landmarks)?;
            Ok(Ok(RefTemplate::Owned(Box::new(
                pipeline.embed_chip(&chip)?,
            ))))
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

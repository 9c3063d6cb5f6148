//! Fusion and policy: which layers must agree, their thresholds, and the reason the
//! kiosk gives the person.
//!
//! Why a policy object: the kiosk's hardware decides which layers can run (a depth or NIR
//! camera, an integrator's passive model), but a rejection must always name a stable
//! [`Reason`] with a sentence the kiosk can say, and a pass must name the frontal frame
//! that passed ([`Decision::frontal_frame`]): the face verifier embeds exactly that frame,
//! so nothing can be swapped in after liveness. The challenge is always required — it
//! anchors the frames every other layer looks at.
//!
//! Order of judgement: challenge (including track continuity) → identity constancy →
//! parallax → surface → depth → NIR → passive. The first failing required layer gives the reason.

use serde::Serialize;
use thiserror::Error;

use super::challenge::{
    ChallengeConfig, ChallengeFailure, ChallengeOutcome, ChallengePass, Failure,
};
use super::depth::{self, DepthConfig, DepthReport, DepthVerdict};
use super::nir::{self, NirConfig, NirReport, NirVerdict};
use super::parallax::{self, ParallaxConfig, ParallaxReport};
use super::surface::{self, SurfaceConfig, SurfaceInsufficient, SurfaceReport};
use super::Observation;
use crate::verifier::{Outcome, Reason, ReasonKind};

/// No face was found.
pub const NO_FACE: Reason = Reason::new("liveness.no_face", ReasonKind::Quality);
/// The face was not held steady and frontal at the start.
pub const NOT_FRONTAL: Reason = Reason::new("liveness.not_frontal", ReasonKind::Quality);
/// A second face was in view.
pub const SECOND_FACE: Reason = Reason::new("liveness.second_face", ReasonKind::Quality);
/// The face left the view during the challenge.
pub const FACE_LOST: Reason = Reason::new("liveness.face_lost", ReasonKind::Quality);
/// The face track jumped (a cut or a swap in front of the camera).
pub const TRACK_JUMP: Reason = Reason::new("liveness.track_jump", ReasonKind::Liveness);
/// A step was not performed in time.
pub const CHALLENGE_TIMEOUT: Reason =
    Reason::new("liveness.challenge_timeout", ReasonKind::Liveness);
/// A turn in another direction than prompted.
pub const WRONG_DIRECTION: Reason = Reason::new("liveness.wrong_direction", ReasonKind::Liveness);
/// Movement began before the prompt.
pub const ANTICIPATED: Reason = Reason::new("liveness.anticipated", ReasonKind::Liveness);
/// The face did not return to frontal.
pub const NO_RETURN: Reason = Reason::new("liveness.no_return", ReasonKind::Liveness);
/// The first and last frontal faces are different people.
pub const IDENTITY_CHANGED: Reason = Reason::new("liveness.identity_changed", ReasonKind::Liveness);
/// The landmarks moved like a plane (photo or screen).
pub const PLANAR_MOTION: Reason = Reason::new("liveness.planar_motion", ReasonKind::Liveness);
/// Too few usable frames to judge parallax.
pub const TOO_FEW_FRAMES: Reason = Reason::new("liveness.too_few_frames", ReasonKind::Quality);
/// The face's texture moved like one or two planes (a flat or folded print, a screen).
pub const FLAT_SURFACE: Reason = Reason::new("liveness.flat_surface", ReasonKind::Liveness);
/// Too little trackable texture on the face (too dark, too small, too blurred).
pub const LOW_TEXTURE: Reason = Reason::new("liveness.low_texture", ReasonKind::Quality);
/// The face region is flat in depth.
pub const DEPTH_FLAT: Reason = Reason::new("liveness.depth_flat", ReasonKind::Liveness);
/// The face is too near or too far.
pub const DEPTH_DISTANCE: Reason = Reason::new("liveness.depth_distance", ReasonKind::Quality);
/// No usable depth on the face.
pub const DEPTH_MISSING: Reason = Reason::new("liveness.depth_missing", ReasonKind::Quality);
/// The face is dark in near-infrared (a screen).
pub const NIR_DARK: Reason = Reason::new("liveness.nir_dark", ReasonKind::Liveness);
/// No face structure in near-infrared (a print or a uniform surface).
pub const NIR_ABSENT: Reason = Reason::new("liveness.nir_absent", ReasonKind::Liveness);
/// The passive classifier judged an attack.
pub const PASSIVE_ATTACK: Reason = Reason::new("liveness.passive_attack", ReasonKind::Liveness);

/// Every reason this module produces.
pub const REASONS: [Reason; 20] = [
    NO_FACE,
    NOT_FRONTAL,
    SECOND_FACE,
    FACE_LOST,
    TRACK_JUMP,
    CHALLENGE_TIMEOUT,
    WRONG_DIRECTION,
    ANTICIPATED,
    NO_RETURN,
    IDENTITY_CHANGED,
    PLANAR_MOTION,
    TOO_FEW_FRAMES,
    FLAT_SURFACE,
    LOW_TEXTURE,
    DEPTH_FLAT,
    DEPTH_DISTANCE,
    DEPTH_MISSING,
    NIR_DARK,
    NIR_ABSENT,
    PASSIVE_ATTACK,
];

/// What the kiosk tells the person for a reason (None for codes of other modules).
pub fn prompt_for(reason: Reason) -> Option<&'static str> {
    const ATTACK: &str = "We could not confirm that a live person is in front of the camera. Please remove any photo, screen or mask and try again, or choose another way to verify.";
    Some(match reason.code() {
        "liveness.no_face" => "Please look straight into the camera.",
        "liveness.not_frontal" => "Please hold still and look straight into the camera.",
        "liveness.second_face" => {
            "Only one person should be in front of the camera. Please ask others to step aside."
        }
        "liveness.face_lost" => "Please keep your face in view of the camera the whole time.",
        "liveness.track_jump" => "Please stay in front of the camera and move only your head.",
        "liveness.challenge_timeout" => {
            "Please follow the instruction on the screen when it appears."
        }
        "liveness.wrong_direction" => "Please turn in the direction shown on the screen.",
        "liveness.anticipated" => "Please wait for each instruction before you move.",
        "liveness.no_return" => "After each movement, please look straight into the camera again.",
        "liveness.identity_changed" => {
            "The same person must stay in front of the camera from start to end."
        }
        "liveness.too_few_frames" => {
            "Please move your head a little more slowly and keep your face in view."
        }
        "liveness.low_texture" => "Please face the light and come a little closer to the camera.",
        "liveness.depth_distance" => "Please stand about an arm's length from the camera.",
        "liveness.depth_missing" => {
            "Please step in front of the camera so your face is fully visible."
        }
        "liveness.planar_motion"
        | "liveness.flat_surface"
        | "liveness.depth_flat"
        | "liveness.nir_dark"
        | "liveness.nir_absent"
        | "liveness.passive_attack" => ATTACK,
        _ => return None,
    })
}

/// The reason for a failed challenge.
pub fn challenge_reason(f: &ChallengeFailure) -> Reason {
    match f.failure {
        Failure::NoFace => NO_FACE,
        Failure::NotFrontal => NOT_FRONTAL,
        Failure::SecondFace => SECOND_FACE,
        Failure::FaceLost => FACE_LOST,
        Failure::Jump => TRACK_JUMP,
        Failure::Timeout => CHALLENGE_TIMEOUT,
        Failure::WrongDirection => WRONG_DIRECTION,
        Failure::Anticipated => ANTICIPATED,
        Failure::NoReturn => NO_RETURN,
    }
}

/// Compares the faces of two frames of the sequence (the face pipeline implements it with
/// embeddings; the distance is in the embedding space, e.g. euclidean on dlib 128-d).
pub trait IdentityCheck {
    /// Integration fault.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Distance between the faces in frames `a` and `b`.
    fn distance(&mut self, a: usize, b: usize) -> Result<f32, Self::Error>;
}

/// Scores one frame with a passive classifier (see [`super::passive`]).
pub trait PassiveCheck {
    /// Integration fault.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Live score of the face in frame `frame`, higher = more live.
    fn live_score(&mut self, frame: usize) -> Result<f32, Self::Error>;
}

/// Placeholder type for "no passive model" (`None::<&mut NoPassive>`).
#[derive(Debug)]
pub enum NoPassive {}

impl PassiveCheck for NoPassive {
    type Error = std::convert::Infallible;
    fn live_score(&mut self, _frame: usize) -> Result<f32, Self::Error> {
        match *self {}
    }
}

impl IdentityCheck for NoPassive {
    type Error = std::convert::Infallible;
    fn distance(&mut self, _a: usize, _b: usize) -> Result<f32, Self::Error> {
        match *self {}
    }
}

/// Whether a layer must run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Not run.
    Off,
    /// Run when its input is present (depth/NIR frames, a passive model).
    IfAvailable,
    /// Must run; missing input is an integration error.
    Required,
}

/// The liveness policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LivenessPolicy {
    /// Challenge thresholds (the challenge is always required).
    pub challenge: ChallengeConfig,
    /// Identity constancy between the first and last frontal frames.
    pub identity: Requirement,
    /// Largest accepted identity distance.
    pub identity_threshold: f32,
    /// Parallax layer.
    pub parallax: Requirement,
    /// Parallax thresholds.
    pub parallax_config: ParallaxConfig,
    /// Dense-point surface layer (needs [`Observation::luma`]).
    pub surface: Requirement,
    /// Surface thresholds.
    pub surface_config: SurfaceConfig,
    /// Depth layer.
    pub depth: Requirement,
    /// Depth thresholds.
    pub depth_config: DepthConfig,
    /// NIR layer.
    pub nir: Requirement,
    /// NIR thresholds.
    pub nir_config: NirConfig,
    /// Passive layer.
    pub passive: Requirement,
    /// Smallest accepted passive live score.
    pub passive_threshold: f32,
}

impl Default for LivenessPolicy {
    fn default() -> Self {
        LivenessPolicy {
            challenge: ChallengeConfig::default(),
            identity: Requirement::Required,
            // The ceiling of `facegate liveness calibrate` binds: the dlib distance at FMR
            // 1e-3 among East Asian people (eval::liveness::IDENTITY_CEILING); the real
            // recordings need at most 0.37 between their first and last frontal frames.
            identity_threshold: 0.40,
            parallax: Requirement::Required,
            parallax_config: ParallaxConfig::default(),
            surface: Requirement::Required,
            surface_config: SurfaceConfig::default(),
            depth: Requirement::IfAvailable,
            depth_config: DepthConfig::default(),
            nir: Requirement::IfAvailable,
            nir_config: NirConfig::default(),
            passive: Requirement::IfAvailable,
            passive_threshold: 0.5,
        }
    }
}

/// Integration faults during fusion.
#[derive(Debug, Error)]
pub enum FusionError {
    /// A required layer has no input (no identity check, no depth frames, …).
    #[error("required liveness layer {0} has no input")]
    MissingLayer(&'static str),
    /// The challenge names frames that are not in the sequence.
    #[error("challenge frame {0} is outside the sequence")]
    Frame(usize),
    /// The identity check failed to run.
    #[error("identity check failed: {0}")]
    Identity(Box<dyn std::error::Error + Send + Sync>),
    /// The passive classifier failed to run.
    #[error("passive check failed: {0}")]
    Passive(Box<dyn std::error::Error + Send + Sync>),
    /// A layer rejected its configuration or input.
    #[error("{0}")]
    Layer(String),
    /// The policy is below the documented minimums ([`LivenessPolicy::validate`]).
    #[error("liveness policy below the minimum: {0}")]
    Policy(&'static str),
}

/// The largest identity-constancy distance a policy may accept. The check compares two
/// frames of one person seconds apart (dlib ResNet: same person well within 0.6); a larger
/// value would let a swapped face through.
pub const MAX_IDENTITY_THRESHOLD: f32 = 1.0;

/// The fused decision.
///
/// Sealed: only [`LivenessPolicy::decide`] makes one, so `live: true` cannot be written by hand;
/// read it through the getters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// Whether liveness is established.
    pub(crate) live: bool,
    /// Why not (None when live).
    pub(crate) reason: Option<Reason>,
    /// The frontal frame that passed: the face verifier must embed this frame.
    pub(crate) frontal_frame: Option<usize>,
    /// Challenge pass, if it passed.
    pub(crate) challenge: Option<ChallengePass>,
    /// Challenge failure, if it failed.
    pub(crate) challenge_failure: Option<ChallengeFailure>,
    /// Identity distance between first and last frontal frames.
    pub(crate) identity_distance: Option<f32>,
    /// Parallax measurement.
    pub(crate) parallax: Option<ParallaxReport>,
    /// Dense-point surface measurement.
    pub(crate) surface: Option<SurfaceReport>,
    /// Depth measurement on the frontal frame.
    pub(crate) depth: Option<DepthReport>,
    /// NIR measurement on the frontal frame.
    pub(crate) nir: Option<NirReport>,
    /// Passive live score: the mean over the challenge's first and last frontal frames.
    pub(crate) passive_score: Option<f32>,
}

impl Decision {
    fn new() -> Self {
        Decision {
            live: false,
            reason: None,
            frontal_frame: None,
            challenge: None,
            challenge_failure: None,
            identity_distance: None,
            parallax: None,
            surface: None,
            depth: None,
            nir: None,
            passive_score: None,
        }
    }

    fn reject(mut self, r: Reason) -> Self {
        self.live = false;
        self.reason = Some(r);
        self.frontal_frame = None;
        self
    }

    /// Whether liveness is established.
    pub fn live(&self) -> bool {
        self.live
    }

    /// Why not (None when live).
    pub fn reason(&self) -> Option<Reason> {
        self.reason
    }

    /// The frontal frame that passed: the face verifier must embed this frame.
    pub fn frontal_frame(&self) -> Option<usize> {
        self.frontal_frame
    }

    /// The challenge pass, if it passed.
    pub fn challenge(&self) -> Option<&ChallengePass> {
        self.challenge.as_ref()
    }

    /// The challenge failure, if it failed.
    pub fn challenge_failure(&self) -> Option<ChallengeFailure> {
        self.challenge_failure
    }

    /// Identity distance between the first and last frontal frames.
    pub fn identity_distance(&self) -> Option<f32> {
        self.identity_distance
    }

    /// The parallax measurement.
    pub fn parallax(&self) -> Option<&ParallaxReport> {
        self.parallax.as_ref()
    }

    /// The dense-point surface measurement.
    pub fn surface(&self) -> Option<&SurfaceReport> {
        self.surface.as_ref()
    }

    /// The depth measurement on the frontal frame.
    pub fn depth(&self) -> Option<&DepthReport> {
        self.depth.as_ref()
    }

    /// The NIR measurement on the frontal frame.
    pub fn nir(&self) -> Option<&NirReport> {
        self.nir.as_ref()
    }

    /// The passive live score: the mean over the challenge's first and last frontal frames.
    pub fn passive_score(&self) -> Option<f32> {
        self.passive_score
    }

    /// As a verifier outcome: quality problems are `Retry`, the rest `Rejected`.
    pub fn outcome(&self) -> Outcome {
        match self.reason {
            None if self.live => Outcome::Accepted,
            None => Outcome::Rejected(CHALLENGE_TIMEOUT),
            Some(r) if r.kind() == ReasonKind::Quality => Outcome::Retry(r),
            Some(r) => Outcome::Rejected(r),
        }
    }

    /// What the kiosk should say.
    pub fn prompt(&self) -> Option<&'static str> {
        self.reason.and_then(prompt_for)
    }
}

impl LivenessPolicy {
    /// Checks the policy against the documented minimums, so that liveness cannot be
    /// configured away: at least one layer that sees 3-D shape (parallax, surface, depth or
    /// NIR) is required; the identity threshold is finite, positive and at most
    /// [`MAX_IDENTITY_THRESHOLD`]; the passive threshold lies in 0..=1. [`LivenessPolicy::decide`]
    /// refuses a policy that fails this, and the face verifier also requires the identity
    /// layer.
    pub fn validate(&self) -> Result<(), FusionError> {
        let shape = [self.parallax, self.surface, self.depth, self.nir];
        if !shape.contains(&Requirement::Required) {
            return Err(FusionError::Policy(
                "one of the parallax, surface, depth or NIR layers must be required",
            ));
        }
        if !(self.identity_threshold > 0.0 && self.identity_threshold <= MAX_IDENTITY_THRESHOLD) {
            return Err(FusionError::Policy(
                "the identity threshold must be positive and at most MAX_IDENTITY_THRESHOLD",
            ));
        }
        if !(0.0..=1.0).contains(&self.passive_threshold) {
            return Err(FusionError::Policy(
                "the passive threshold must lie in 0..=1",
            ));
        }
        Ok(())
    }

    /// Fuses the layers over a finished challenge. `frames` are the observations in the
    /// order they were pushed to the challenge session.
    pub fn decide<I: IdentityCheck, P: PassiveCheck>(
        &self,
        outcome: &ChallengeOutcome,
        frames: &[Observation],
        identity: Option<&mut I>,
        passive: Option<&mut P>,
    ) -> Result<Decision, FusionError> {
        self.validate()?;
        let mut d = Decision::new();
        let pass = match outcome {
            Ok(p) => p.clone(),
            Err(f) => {
                d.challenge_failure = Some(*f);
                return Ok(d.reject(challenge_reason(f)));
            }
        };
        let (first, last) = (pass.first_frontal, pass.last_frontal);
        let frontal = frames
            .get(last)
            .and_then(Observation::single_face)
            .copied()
            .ok_or(FusionError::Frame(last))?;
        if frames
            .get(first)
            .and_then(Observation::single_face)
            .is_none()
            || first > last
        {
            return Err(FusionError::Frame(first));
        }
        d.challenge = Some(pass.clone());

        match (self.identity, identity) {
            (Requirement::Off, _) | (Requirement::IfAvailable, None) => {}
            (Requirement::Required, None) => return Err(FusionError::MissingLayer("identity")),
            (_, Some(id)) => {
                let dist = id
                    .distance(first, last)
                    .map_err(|e| FusionError::Identity(Box::new(e)))?;
                d.identity_distance = Some(dist);
                if !(dist.is_finite() && dist <= self.identity_threshold) {
                    return Ok(d.reject(IDENTITY_CHANGED));
                }
            }
        }

        if self.parallax != Requirement::Off {
            // The steady frames that formed the challenge's frontal baseline.
            let from = (first + 1).saturating_sub(self.challenge.baseline_frames);
            let reference: Vec<usize> = (from..=first)
                .filter(|&i| frames.get(i).and_then(Observation::single_face).is_some())
                .collect();
            match parallax::analyze(frames, first..=last, &reference, &self.parallax_config)
                .map_err(|e| FusionError::Layer(e.to_string()))?
            {
                Err(_) => return Ok(d.reject(TOO_FEW_FRAMES)),
                Ok(r) => {
                    d.parallax = Some(r);
                    if r.planar {
                        return Ok(d.reject(PLANAR_MOTION));
                    }
                }
            }
        }

        if self.surface != Requirement::Off {
            // Only the frames the test can read need pixels: a streaming session wipes
            // the others as it goes.
            let have_luma = frames.get(first..=last).is_some()
                && surface::readable(&(&pass).into(), self.surface_config.max_hops)
                    .into_iter()
                    .flatten()
                    .all(|i| frames.get(i).is_some_and(|o| o.luma.is_some()));
            match (self.surface, have_luma) {
                (Requirement::Required, false) => return Err(FusionError::MissingLayer("surface")),
                (_, false) => {}
                (_, true) => {
                    match surface::analyze(frames, &pass, &self.surface_config)
                        .map_err(|e| FusionError::Layer(e.to_string()))?
                    {
                        Err(SurfaceInsufficient::NoImage(i)) => return Err(FusionError::Frame(i)),
                        Err(SurfaceInsufficient::TooFewPoints(_)) => {
                            return Ok(d.reject(LOW_TEXTURE))
                        }
                        Ok(r) => {
                            let planar = r.planar;
                            d.surface = Some(r);
                            if planar {
                                return Ok(d.reject(FLAT_SURFACE));
                            }
                        }
                    }
                }
            }
        }

        if self.depth != Requirement::Off {
            match frames.get(last).and_then(|o| o.depth.as_ref()) {
                None if self.depth == Requirement::Required => {
                    return Err(FusionError::MissingLayer("depth"))
                }
                None => {}
                Some(map) => {
                    let r = depth::check(map, &frontal.bbox, &self.depth_config)
                        .map_err(|e| FusionError::Layer(e.to_string()))?;
                    d.depth = Some(r);
                    match r.verdict {
                        DepthVerdict::Relief => {}
                        DepthVerdict::Flat => return Ok(d.reject(DEPTH_FLAT)),
                        DepthVerdict::ImplausibleDistance => return Ok(d.reject(DEPTH_DISTANCE)),
                        DepthVerdict::Missing => return Ok(d.reject(DEPTH_MISSING)),
                    }
                }
            }
        }

        if self.nir != Requirement::Off {
            match frames.get(last).and_then(|o| o.nir.as_ref()) {
                None if self.nir == Requirement::Required => {
                    return Err(FusionError::MissingLayer("nir"))
                }
                None => {}
                Some(frame) => {
                    let r = nir::check(frame, &frontal.bbox, &self.nir_config)
                        .map_err(|e| FusionError::Layer(e.to_string()))?;
                    d.nir = Some(r);
                    match r.verdict {
                        NirVerdict::Skin => {}
                        NirVerdict::Dark => return Ok(d.reject(NIR_DARK)),
                        NirVerdict::Absent => return Ok(d.reject(NIR_ABSENT)),
                    }
                }
            }
        }

        match (self.passive, passive) {
            (Requirement::Off, _) | (Requirement::IfAvailable, None) => {}
            (Requirement::Required, None) => return Err(FusionError::MissingLayer("passive")),
            (_, Some(p)) => {
                // The two frames the challenge names (its first and last frontal frames, the
                // ones a face session keeps): the mean of their live scores.
                let mut score = |i: usize| {
                    p.live_score(i)
                        .map_err(|e| FusionError::Passive(Box::new(e)))
                };
                let s = if first == last {
                    score(last)?
                } else {
                    (score(first)? + score(last)?) / 2.0
                };
                d.passive_score = Some(s);
                if !(s.is_finite() && s >= self.passive_threshold) {
                    return Ok(d.reject(PASSIVE_ATTACK));
                }
            }
        }

        d.live = true;
        d.frontal_frame = Some(last);
        Ok(d)
    }
}

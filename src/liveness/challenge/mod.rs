//! Random head-pose challenge–response over timestamped frames.
//!
//! Why: a pre-recorded video cannot follow a random order *in time*. A session draws its
//! turns with `ring`'s secure RNG ([`Challenge::random`]); each turn must be reached within
//! a window after its prompt, the face must come back to frontal, and the track must be
//! continuous — one face, no jumps, no gaps — so a video spliced or swapped in front of the
//! camera breaks it. The pass names the frontal frames (first and last) for the identity
//! check and for the face verifier, so the frame that is matched is a frame that passed,
//! and where each turn was reached and returned from, so a layer that judges a turn's
//! movement ([`super::surface`]) looks at that turn only.
//!
//! Two modes share one state machine ([`Session`]):
//! - [`Mode::Interactive`] — the kiosk shows each prompt when the session asks for it
//!   ([`Event::Prompt`]). Prompt timing is enforced: a pose reached sooner than a human
//!   reaction after its prompt (the video was already turning) or a turn in another
//!   direction fails the turn.
//! - [`Mode::Fixed`] — evaluation of a recorded sequence against a known order: the turns
//!   must appear in that order; other movement in between is tolerated.
//!
//! Angles are measured relative to the person's own frontal baseline (the median pose of
//! the first steady frames), which absorbs a camera above or below eye level and the
//! per-person bias of the landmark pose estimate ([`super::pose`]).

use serde::Serialize;
use thiserror::Error;

use super::pose::HeadPose;
use super::Observation;

mod config;
mod session;

pub use config::ChallengeConfig;
pub use session::{Event, Session};

/// Longest challenge accepted (a longer one only tires the person).
pub const MAX_TURNS: usize = 8;

/// One head-pose turn, in the person's own directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Turn {
    /// Turn to your own left.
    Left,
    /// Turn to your own right.
    Right,
    /// Look up.
    Up,
    /// Look down.
    Down,
}

impl Turn {
    /// All turns, in draw order.
    pub const ALL: [Turn; 4] = [Turn::Left, Turn::Right, Turn::Up, Turn::Down];

    /// Stable name as used on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Turn::Left => "left",
            Turn::Right => "right",
            Turn::Up => "up",
            Turn::Down => "down",
        }
    }

    /// What the kiosk tells the person.
    pub const fn prompt(self) -> &'static str {
        match self {
            Turn::Left => "Slowly turn your head to your left, then look back at the camera.",
            Turn::Right => "Slowly turn your head to your right, then look back at the camera.",
            Turn::Up => "Slowly look up, then look back at the camera.",
            Turn::Down => "Slowly look down, then look back at the camera.",
        }
    }

    /// The image-based head pose (see [`super::pose`]) of this turn at `angle` degrees.
    /// A person's own left is nose towards image right unless the frame is mirrored.
    pub fn target_pose(self, angle: f64, mirrored: bool) -> HeadPose {
        let own = if mirrored { -1.0 } else { 1.0 };
        match self {
            Turn::Left => HeadPose::new(own * angle, 0.0, 0.0),
            Turn::Right => HeadPose::new(-own * angle, 0.0, 0.0),
            Turn::Up => HeadPose::new(0.0, angle, 0.0),
            Turn::Down => HeadPose::new(0.0, -angle, 0.0),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::str::FromStr for Turn {
    type Err = ChallengeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Turn::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim())
            .ok_or_else(|| ChallengeError::UnknownTurn(s.trim().chars().take(16).collect()))
    }
}

/// The ordered turns of one challenge and whether frames are mirrored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    turns: Vec<Turn>,
    mirrored: bool,
}

impl Challenge {
    /// Draws `len` turns uniformly and independently with the system's secure RNG.
    /// The library default length is [`ChallengeConfig::default`]'s `length` (2).
    pub fn random(len: usize, mirrored: bool) -> Result<Self, ChallengeError> {
        check_len(len)?;
        let rng = ring::rand::SystemRandom::new();
        let mut bytes = [0u8; MAX_TURNS];
        ring::rand::SecureRandom::fill(&rng, &mut bytes).map_err(|_| ChallengeError::Rng)?;
        // 256 is a multiple of 4: `b % 4` is unbiased.
        let turns = bytes
            .iter()
            .take(len)
            .map(|b| Turn::ALL[usize::from(b % 4)])
            .collect();
        Ok(Challenge { turns, mirrored })
    }

    /// A challenge with given turns — for evaluating recorded sequences, never for a live
    /// session: a known order is what a replay needs. The name says so, so that a reviewer
    /// finds every use; a kiosk draws its challenge with [`Challenge::random`].
    pub fn fixed_for_evaluation(turns: Vec<Turn>, mirrored: bool) -> Result<Self, ChallengeError> {
        check_len(turns.len())?;
        Ok(Challenge { turns, mirrored })
    }

    /// Parses a comma list such as `left,right,up` into a known challenge — for evaluating
    /// recordings only, as [`Challenge::fixed_for_evaluation`].
    pub fn parse_for_evaluation(list: &str, mirrored: bool) -> Result<Self, ChallengeError> {
        let turns = list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Challenge::fixed_for_evaluation(turns, mirrored)
    }

    /// The turns in order.
    pub fn turns(&self) -> &[Turn] {
        &self.turns
    }

    /// Whether the camera delivers mirrored frames.
    pub fn mirrored(&self) -> bool {
        self.mirrored
    }
}

fn check_len(len: usize) -> Result<(), ChallengeError> {
    if len == 0 || len > MAX_TURNS {
        return Err(ChallengeError::Length(len));
    }
    Ok(())
}

/// Faults of the caller, not of the person.
#[derive(Debug, Error, PartialEq, Eq, Clone)]
pub enum ChallengeError {
    /// Challenge length outside `1..=MAX_TURNS`.
    #[error("challenge length {0} is outside 1..={MAX_TURNS}")]
    Length(usize),
    /// A turn name other than left, right, up, down.
    #[error("unknown challenge step {0:?} (expected left, right, up or down)")]
    UnknownTurn(String),
    /// The secure RNG failed.
    #[error("the system random number generator failed")]
    Rng,
    /// A timestamp is not finite or does not increase.
    #[error("frame {0} has a timestamp that is not finite or not after the previous frame")]
    Time(usize),
    /// A frame was pushed after the session had decided.
    #[error("the session has already decided")]
    Finished,
    /// A configuration value is out of range.
    #[error("invalid challenge configuration: {0}")]
    Config(&'static str),
}

/// How frames are judged against the turns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Live session with prompts; prompt timing and direction enforced.
    Interactive,
    /// Recorded sequence: turns in order, other movement in between tolerated.
    Fixed,
}

/// Why a challenge failed (the person's failure, not a fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// No face was seen in time.
    NoFace,
    /// A face was seen but never steady and frontal.
    NotFrontal,
    /// More than one face in a frame.
    SecondFace,
    /// The face disappeared for longer than the allowed gap.
    FaceLost,
    /// The face box jumped between consecutive frames.
    Jump,
    /// A turn was not reached in its window.
    Timeout,
    /// A turn in another direction than prompted (interactive).
    WrongDirection,
    /// The pose was reached too soon after the prompt (interactive).
    Anticipated,
    /// The face did not come back to frontal after a turn.
    NoReturn,
}

/// A failed challenge: what, at which turn (if in one) and at which frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ChallengeFailure {
    /// What went wrong.
    pub failure: Failure,
    /// Index of the turn being performed, if any.
    #[serde(rename = "step")] // the key JSON readers of this report already use
    pub turn: Option<usize>,
    /// Index of the frame that decided.
    pub frame: usize,
}

/// A passed challenge and the frames that matter downstream.
///
/// Sealed: only the challenge evaluator makes one ([`evaluate`], or a live session), so a
/// pass cannot be written by hand and handed to the fusion ([`ChallengePass::for_evaluation`]
/// exists for judging recordings whose timeline is known, and says so).
///
/// ```compile_fail
/// use facegate::liveness::challenge::ChallengePass;
/// use facegate::liveness::pose::HeadPose;
/// let forged = ChallengePass {
///     first_frontal: 0,
///     last_frontal: 9,
///     reached: vec![5],
///     returned: vec![9],
///     baseline: HeadPose::default(),
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChallengePass {
    /// Frontal frame that formed the baseline (identity is compared against it).
    pub(crate) first_frontal: usize,
    /// Frontal frame after the last turn: the frame the face verifier embeds.
    pub(crate) last_frontal: usize,
    /// Frame at which each turn was reached.
    pub(crate) reached: Vec<usize>,
    /// Frame at which the face was back at frontal after each turn (the first of the held
    /// frontal frames; the last turn's is at or before `last_frontal`): a turn's movement
    /// lies between `reached` and `returned`.
    pub(crate) returned: Vec<usize>,
    /// The person's frontal baseline pose.
    pub(crate) baseline: HeadPose,
}

/// How far a challenge has got, in frame indices: what a later layer needs to tell which
/// frames it may still read. Built from a running [`Session`] or a finished pass.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeline<'a> {
    /// The baseline frame; `None` until a frontal face has been acquired.
    pub(crate) first_frontal: Option<usize>,
    /// Frame at which each turn so far was reached.
    pub(crate) reached: &'a [usize],
    /// Frame at which the face was back at frontal after each turn so far.
    pub(crate) returned: &'a [usize],
    /// The latest frame.
    pub(crate) last: usize,
}

impl<'a> From<&'a ChallengePass> for Timeline<'a> {
    fn from(p: &'a ChallengePass) -> Self {
        Timeline {
            first_frontal: Some(p.first_frontal),
            reached: &p.reached,
            returned: &p.returned,
            last: p.last_frontal,
        }
    }
}

impl ChallengePass {
    /// A pass with a known timeline, for judging recorded or simulated sequences with the
    /// later layers alone (e.g. the surface layer on a synthetic turn). A kiosk never
    /// builds one: its session's challenge produces the pass. The fusion checks every
    /// index against the frames it is given.
    pub fn for_evaluation(
        first_frontal: usize,
        last_frontal: usize,
        reached: Vec<usize>,
        returned: Vec<usize>,
        baseline: HeadPose,
    ) -> ChallengePass {
        ChallengePass {
            first_frontal,
            last_frontal,
            reached,
            returned,
            baseline,
        }
    }

    /// Frontal frame that formed the baseline (identity is compared against it).
    pub fn first_frontal(&self) -> usize {
        self.first_frontal
    }

    /// Frontal frame after the last turn: the frame the face verifier embeds.
    pub fn last_frontal(&self) -> usize {
        self.last_frontal
    }

    /// Frame at which each turn was reached.
    pub fn reached(&self) -> &[usize] {
        &self.reached
    }

    /// Frame at which the face was back at frontal after each turn: a turn's movement lies
    /// between `reached` and `returned`.
    pub fn returned(&self) -> &[usize] {
        &self.returned
    }

    /// The person's frontal baseline pose.
    pub fn baseline(&self) -> HeadPose {
        self.baseline
    }
}

/// Result of a finished challenge.
pub type ChallengeOutcome = Result<ChallengePass, ChallengeFailure>;

/// Runs a recorded sequence through a session and returns the outcome.
pub fn evaluate(
    challenge: &Challenge,
    mode: Mode,
    cfg: &ChallengeConfig,
    frames: &[Observation],
) -> Result<ChallengeOutcome, ChallengeError> {
    let mut s = Session::new(challenge.clone(), mode, *cfg)?;
    for obs in frames {
        if let Event::Done(outcome) = s.push(obs)? {
            return Ok(outcome);
        }
    }
    Ok(s.finish())
}

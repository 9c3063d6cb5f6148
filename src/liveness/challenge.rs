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

use super::linalg::{measurable, Box2};
use super::pose::{self, HeadPose};
use super::Observation;
use crate::detect::Detection;

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

/// Thresholds and windows. Angles in degrees relative to the frontal baseline, times in
/// seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChallengeConfig {
    /// Default number of turns of a random challenge.
    pub length: usize,
    /// Yaw at which a left or right turn counts as reached.
    pub reach_deg: f64,
    /// Pitch at which an up or down turn counts as reached. Its own threshold: five
    /// landmarks read pitch short (by 12–28 %, "Head pose" in docs/LIVENESS.md), and
    /// people pitch less far than they turn.
    pub reach_pitch_deg: f64,
    /// The baseline's frames must all lie within this of their median yaw and pitch: the
    /// person holds still, facing the camera, before the first prompt.
    pub frontal_deg: f64,
    /// A movement this far in another direction fails the turn (interactive mode).
    pub wrong_deg: f64,
    /// The baseline itself may be this far from the camera axis (camera above/below).
    pub baseline_max_deg: f64,
    /// Consecutive steady frames that form the baseline.
    pub baseline_frames: usize,
    /// A turn reached — or approached by `anticipate_deg` — sooner than this after its
    /// prompt was anticipated (interactive). Human choice reaction takes ≥ 0.2 s.
    pub min_reaction_s: f64,
    /// Movement towards the target within `min_reaction_s` that counts as anticipation.
    pub anticipate_deg: f64,
    /// A turn must be reached within this after its prompt (interactive). Generous: the
    /// kiosk waits for the person; a replay is caught by the order, the prompt timing and
    /// the direction, not by haste. A recording judged in [`Mode::Fixed`] has no turn window:
    /// its timing is the recording's, not a response to prompts.
    pub turn_window_s: f64,
    /// After reaching a turn, the face must be back within this.
    pub return_window_s: f64,
    /// The face is back from a turn when the turn's angle has fallen to this fraction of
    /// the turn's peak. A fraction, not an angle from the baseline: a person (or a hand-held
    /// phone) whose frontal pose drifts during the challenge is back when the head has
    /// come most of the way back (a real recording's frontal pitch moved 13° between the
    /// start and the end).
    pub return_fraction: f64,
    /// A steady frontal face must appear within this of the first frame.
    pub acquire_window_s: f64,
    /// Longest time without a usable face before the track counts as lost.
    pub max_gap_s: f64,
    /// Largest movement of the face-box centre between consecutive detections, in box
    /// widths.
    pub max_jump: f64,
    /// Largest ratio of box widths between consecutive detections (MTCNN's box on a head
    /// pitched 40–60° jumps between frames while the head moves smoothly; a real
    /// recording needs 1.4). A swap of the presented face is also caught by the identity
    /// check.
    pub max_scale_jump: f64,
    /// Poses are averaged over this many consecutive frames.
    pub smooth_frames: usize,
    /// A turn pose (or a wrong one), and the return to frontal after it, counts when held
    /// this many consecutive frames.
    pub hold_frames: usize,
    /// A second face fails the challenge when seen in this many consecutive frames; a
    /// frame with an unconfirmed one is dropped (as if no face were found). A second person
    /// or a held-up photo stays in view for many frames; a detector false positive (MTCNN
    /// firing once on a collar or a chin below the face box) does not.
    pub second_face_frames: usize,
}

/// The shipped thresholds. Those a real person can fail — reach angles, the baseline's
/// steadiness, the return fraction and window, the second-face rule, the gap and the box
/// jumps — were chosen on eight real recordings by `facegate liveness calibrate`
/// ([`crate::eval::liveness`]: the weakest need seen, halved or doubled); each recording
/// judged with thresholds chosen on the other seven, one of eight was refused
/// (docs/LIVENESS.md). The interactive windows and the prompt-timing rules are set by
/// argument: recordings made without prompts cannot measure them.
impl Default for ChallengeConfig {
    fn default() -> Self {
        ChallengeConfig {
            length: 2,
            reach_deg: 14.5,
            reach_pitch_deg: 14.5,
            frontal_deg: 5.0,
            wrong_deg: 15.0,
            baseline_max_deg: 35.0,
            baseline_frames: 5,
            min_reaction_s: 0.2,
            anticipate_deg: 10.0,
            turn_window_s: 10.0,
            return_window_s: 4.8,
            return_fraction: 0.3,
            acquire_window_s: 5.0,
            max_gap_s: 3.4,
            max_jump: 0.3,
            max_scale_jump: 1.8,
            smooth_frames: 3,
            hold_frames: 3,
            second_face_frames: 2,
        }
    }
}

impl ChallengeConfig {
    /// The reach threshold of a direction index (`[left, right, up, down]`).
    fn reach(&self, direction: usize) -> f64 {
        if direction < 2 {
            self.reach_deg
        } else {
            self.reach_pitch_deg
        }
    }

    fn validate(&self) -> Result<(), ChallengeError> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !(pos(self.reach_deg)
            && pos(self.reach_pitch_deg)
            && pos(self.frontal_deg)
            && pos(self.wrong_deg)
            && pos(self.baseline_max_deg)
            && pos(self.anticipate_deg))
        {
            return Err(ChallengeError::Config("angles must be positive and finite"));
        }
        if self.frontal_deg >= self.reach_deg.min(self.reach_pitch_deg) {
            return Err(ChallengeError::Config(
                "frontal_deg must be below reach_deg and reach_pitch_deg",
            ));
        }
        if !(self.return_fraction >= 0.0 && self.return_fraction < 1.0) {
            return Err(ChallengeError::Config("return_fraction must lie in 0..1"));
        }

        if !(self.min_reaction_s.is_finite() && self.min_reaction_s >= 0.0)
            || !(pos(self.turn_window_s)
                && pos(self.return_window_s)
                && pos(self.acquire_window_s)
                && pos(self.max_gap_s))
        {
            return Err(ChallengeError::Config("times must be positive and finite"));
        }
        if !(pos(self.max_jump) && self.max_scale_jump.is_finite() && self.max_scale_jump > 1.0) {
            return Err(ChallengeError::Config(
                "max_jump must be positive, max_scale_jump above 1",
            ));
        }
        if self.hold_frames == 0 || self.hold_frames > 16 {
            return Err(ChallengeError::Config("hold_frames must be in 1..=16"));
        }
        if self.second_face_frames == 0 || self.second_face_frames > 16 {
            return Err(ChallengeError::Config(
                "second_face_frames must be in 1..=16",
            ));
        }
        if self.smooth_frames == 0 || self.smooth_frames > 16 {
            return Err(ChallengeError::Config("smooth_frames must be in 1..=16"));
        }
        if self.baseline_frames == 0 || self.baseline_frames > 64 {
            return Err(ChallengeError::Config("baseline_frames must be in 1..=64"));
        }
        Ok(())
    }
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

/// What the session wants after a frame.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Keep sending frames.
    Continue,
    /// Show this prompt now (interactive mode): the turn with its index.
    Prompt {
        /// Index of the turn in the challenge.
        index: usize,
        /// The turn.
        #[serde(rename = "step")] // the key JSON readers of this event already use
        turn: Turn,
    },
    /// Decided.
    Done(ChallengeOutcome),
}

#[derive(Clone, Debug)]
enum Phase {
    Acquire {
        window: Vec<(usize, HeadPose)>,
        seen_face: bool,
    },
    Seek {
        k: usize,
        since: f64,
        at_prompt: [f64; 4],
        held: usize,
        wrong_held: usize,
    },
    Return {
        k: usize,
        reached_at: f64,
        /// Largest angle of the turn's direction since it was reached.
        peak: f64,
        wrong_held: usize,
        /// Consecutive frames back at frontal, and the first of them.
        back: usize,
        back_from: usize,
    },
    Done,
}

/// The challenge state machine; push frames in time order.
#[derive(Clone, Debug)]
pub struct Session {
    challenge: Challenge,
    mode: Mode,
    cfg: ChallengeConfig,
    phase: Phase,
    frame: usize,
    t0: Option<f64>,
    last_t: Option<f64>,
    last_face: Option<(f64, Detection)>,
    recent: Vec<HeadPose>,
    /// Consecutive frames, up to this one, with a second face in view.
    second_faces: usize,
    baseline: HeadPose,
    first_frontal: usize,
    reached: Vec<usize>,
    returned: Vec<usize>,
}

impl Session {
    /// A session over a challenge.
    pub fn new(
        challenge: Challenge,
        mode: Mode,
        cfg: ChallengeConfig,
    ) -> Result<Self, ChallengeError> {
        cfg.validate()?;
        Ok(Session {
            challenge,
            mode,
            cfg,
            phase: Phase::Acquire {
                window: Vec::new(),
                seen_face: false,
            },
            frame: 0,
            t0: None,
            last_t: None,
            last_face: None,
            recent: Vec::new(),
            second_faces: 0,
            baseline: HeadPose::default(),
            first_frontal: 0,
            reached: Vec::new(),
            returned: Vec::new(),
        })
    }

    /// The challenge being performed.
    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// Consumes the next frame (frame indices count pushes from 0).
    pub fn push(&mut self, obs: &Observation) -> Result<Event, ChallengeError> {
        if matches!(self.phase, Phase::Done) {
            return Err(ChallengeError::Finished);
        }
        let idx = self.frame;
        let t = obs.t;
        if !t.is_finite() || self.last_t.is_some_and(|lt| t <= lt) {
            return Err(ChallengeError::Time(idx));
        }
        self.frame += 1;
        self.last_t = Some(t);
        let t0 = *self.t0.get_or_insert(t);
        let event = self.step(idx, t, t0, obs);
        if matches!(event, Event::Done(_)) {
            self.phase = Phase::Done;
        }
        Ok(event)
    }

    /// Ends the input: an undecided session fails (the sequence stopped before the last
    /// turn completed).
    pub fn finish(&mut self) -> ChallengeOutcome {
        let frame = self.frame.saturating_sub(1);
        let failure = match &self.phase {
            Phase::Done => Failure::Timeout,
            Phase::Acquire {
                seen_face: false, ..
            } => Failure::NoFace,
            Phase::Acquire { .. } => Failure::NotFrontal,
            Phase::Seek { .. } => Failure::Timeout,
            Phase::Return { .. } => Failure::NoReturn,
        };
        let turn = match self.phase {
            Phase::Seek { k, .. } | Phase::Return { k, .. } => Some(k),
            _ => None,
        };
        self.phase = Phase::Done;
        Err(ChallengeFailure {
            failure,
            turn,
            frame,
        })
    }

    fn fail(&self, failure: Failure, frame: usize) -> Event {
        let turn = match self.phase {
            Phase::Seek { k, .. } | Phase::Return { k, .. } => Some(k),
            _ => None,
        };
        Event::Done(Err(ChallengeFailure {
            failure,
            turn,
            frame,
        }))
    }

    fn step(&mut self, idx: usize, t: f64, t0: f64, obs: &Observation) -> Event {
        let (pose, single) = match self.follow(idx, t, t0, obs) {
            Ok(v) => v,
            Err(event) => return event,
        };
        let comps = self.components(pose);
        match self.phase {
            Phase::Acquire { .. } => self.acquire(idx, t, t0, pose, single),
            Phase::Seek { .. } => self.seek(idx, t, t0, comps),
            Phase::Return { .. } => self.back(idx, t, t0, comps, single),
            Phase::Done => Event::Done(Err(ChallengeFailure {
                failure: Failure::Timeout,
                turn: None,
                frame: idx,
            })),
        }
    }

    /// Continuity, which holds in every phase: the face to follow, its pose smoothed over
    /// the last frames, and whether it is the only face in view. `Err` carries the event
    /// of a frame that goes no further (a failure, or no usable face).
    fn follow(
        &mut self,
        idx: usize,
        t: f64,
        t0: f64,
        obs: &Observation,
    ) -> Result<(HeadPose, bool), Event> {
        let track = self.last_face.as_ref().map(|(_, f)| f);
        let in_view = obs.faces_in_view();
        let face = match primary_face(&in_view, track) {
            Some(face) => {
                self.second_faces = 0;
                face
            }
            None => {
                self.second_faces += 1;
                if self.second_faces >= self.cfg.second_face_frames {
                    return Err(self.fail(Failure::SecondFace, idx));
                }
                // Unconfirmed: the frame is dropped, not trusted to either face.
                None
            }
        };
        let face = face.filter(|f| measurable(f));
        let pose = face.and_then(|f| pose::estimate(&f.landmarks).ok());
        let (face, pose) = match (face, pose) {
            (Some(f), Some(p)) => (*f, p),
            _ => {
                self.recent.clear();
                let since = self.last_face.map_or(t0, |(lt, _)| lt);
                if !matches!(self.phase, Phase::Acquire { .. }) && t - since > self.cfg.max_gap_s {
                    return Err(self.fail(Failure::FaceLost, idx));
                }
                return Err(self.timeouts(idx, t, t0));
            }
        };
        if let Some((lt, prev)) = self.last_face {
            let (pb, fb) = (Box2::from(&prev.bbox), Box2::from(&face.bbox));
            let jump = pb.centre().dist(fb.centre()) / pb.w;
            let ratio = (fb.w / pb.w).max(pb.w / fb.w);
            if jump > self.cfg.max_jump || ratio > self.cfg.max_scale_jump {
                return Err(self.fail(Failure::Jump, idx));
            }
            if t - lt > self.cfg.max_gap_s && !matches!(self.phase, Phase::Acquire { .. }) {
                return Err(self.fail(Failure::FaceLost, idx));
            }
        }
        self.last_face = Some((t, face));
        // Landmark noise dominates the pose error on small faces: average the poses of
        // the last few consecutive frames (a 3-frame mean lags ≈ 70 ms at 15 fps).
        self.recent.push(pose);
        if self.recent.len() > self.cfg.smooth_frames {
            self.recent.remove(0);
        }
        let n = self.recent.len().max(1) as f64;
        let pose = self.recent.iter().fold(HeadPose::default(), |a, p| {
            HeadPose::new(
                a.yaw + p.yaw / n,
                a.pitch + p.pitch / n,
                a.roll + p.roll / n,
            )
        });
        if let Phase::Acquire { seen_face, .. } = &mut self.phase {
            *seen_face = true;
        }

        // The frames the pass names (first and last frontal) are the ones the identity
        // check and the face verifier embed: they must hold exactly one face, not the face
        // and a detector duplicate.
        Ok((pose, in_view.len() == 1))
    }

    /// Waiting for a steady frontal face: the baseline pose, then the first prompt.
    fn acquire(&mut self, idx: usize, t: f64, t0: f64, pose: HeadPose, single: bool) -> Event {
        let cfg = self.cfg;
        let Phase::Acquire { window, .. } = &mut self.phase else {
            return Event::Continue;
        };
        window.push((idx, pose));
        if window.len() > cfg.baseline_frames {
            window.remove(0);
        }
        if window.len() == cfg.baseline_frames {
            let med = median_pose(window.iter().map(|(_, p)| *p));
            let steady = window.iter().all(|(_, p)| {
                (p.yaw - med.yaw).abs() <= cfg.frontal_deg
                    && (p.pitch - med.pitch).abs() <= cfg.frontal_deg
            });
            if steady
                && single
                && med.yaw.abs() <= cfg.baseline_max_deg
                && med.pitch.abs() <= cfg.baseline_max_deg
            {
                self.baseline = med;
                self.first_frontal = idx;
                let at_prompt = self.components(pose);
                self.phase = Phase::Seek {
                    k: 0,
                    since: t,
                    at_prompt,
                    held: 0,
                    wrong_held: 0,
                };
                return self.prompt(0);
            }
        }
        self.timeouts(idx, t, t0)
    }

    /// Prompted: waiting for the turn to be reached and held.
    fn seek(&mut self, idx: usize, t: f64, t0: f64, comps: [f64; 4]) -> Event {
        let cfg = self.cfg;
        let Phase::Seek {
            k,
            since,
            at_prompt,
            held,
            wrong_held,
        } = &self.phase
        else {
            return Event::Continue;
        };
        let (k, since, at_prompt, mut h, mut wh) = (*k, *since, *at_prompt, *held, *wrong_held);
        let Some(&target) = self.challenge.turns.get(k) else {
            return self.fail(Failure::Timeout, idx);
        };
        let dominant = dominant(&comps);
        let reached =
            dominant == target.index() && comps[target.index()] >= cfg.reach(target.index());
        let early = self.mode == Mode::Interactive && t - since < cfg.min_reaction_s;
        // Moving towards the target sooner than a human can react means the
        // movement started before the prompt (a replay that happens to turn).
        if early
            && (reached || comps[target.index()] - at_prompt[target.index()] >= cfg.anticipate_deg)
        {
            return self.fail(Failure::Anticipated, idx);
        }
        // A pose counts only when held for `hold_frames` frames: one noisy
        // landmark frame must not complete (or fail) a turn.
        h = if reached { h + 1 } else { 0 };
        let wrong = dominant != target.index() && comps[dominant] >= cfg.wrong_deg;
        wh = if wrong { wh + 1 } else { 0 };
        if let Phase::Seek {
            held, wrong_held, ..
        } = &mut self.phase
        {
            (*held, *wrong_held) = (h, wh);
        }
        if h >= cfg.hold_frames {
            self.reached.push(idx);
            self.phase = Phase::Return {
                k,
                reached_at: t,
                peak: comps[target.index()],
                wrong_held: 0,
                back: 0,
                back_from: idx,
            };
            return Event::Continue;
        }
        if self.mode == Mode::Interactive && wh >= cfg.hold_frames {
            return self.fail(Failure::WrongDirection, idx);
        }
        self.timeouts(idx, t, t0)
    }

    /// The turn reached: waiting for the way back to frontal, then the next prompt or the
    /// pass.
    fn back(&mut self, idx: usize, t: f64, t0: f64, comps: [f64; 4], single: bool) -> Event {
        let cfg = self.cfg;
        let Phase::Return {
            k,
            peak,
            wrong_held,
            back,
            back_from,
            ..
        } = &mut self.phase
        else {
            return Event::Continue;
        };
        let (k, mut wh, mut b, mut from) = (*k, *wrong_held, *back, *back_from);
        let target = self.challenge.turns.get(k).map_or(0, |s| s.index());
        *peak = peak.max(comps[target]);
        let peak = *peak;
        // On the way back only the target direction may exceed the threshold: a
        // turn elsewhere is a movement nobody was asked for (interactive).
        let dom = dominant(&comps);
        let wrong = dom != target && comps[dom] >= cfg.wrong_deg;
        wh = if wrong { wh + 1 } else { 0 };
        // Back from the turn's direction: most of the way from the turn's peak
        // towards the baseline. People nod while they turn, so the other axis only
        // has to be below its reach threshold, and only at the end, where the frame
        // is the one the face verifier embeds.
        let last = k + 1 == self.challenge.turns.len();
        let frontal = comps[target] <= cfg.return_fraction * peak
            && (!last || (0..4).all(|i| i / 2 == target / 2 || comps[i] < cfg.reach(i)));
        // Held like a reach: beyond ≈ 50° MTCNN's landmarks can fold back into a
        // frontal-looking shape (a simulated head held at 55° of yaw read −6° for
        // one smoothed frame), and a turn must not end on one.
        b = if frontal { b + 1 } else { 0 };
        if b == 1 {
            from = idx;
        }
        if let Phase::Return {
            wrong_held,
            back,
            back_from,
            ..
        } = &mut self.phase
        {
            (*wrong_held, *back, *back_from) = (wh, b, from);
        }
        if self.mode == Mode::Interactive && wh >= cfg.hold_frames {
            return self.fail(Failure::WrongDirection, idx);
        }
        if b >= cfg.hold_frames && (single || !last) {
            self.returned.push(from);
            if last {
                return Event::Done(Ok(ChallengePass {
                    first_frontal: self.first_frontal,
                    last_frontal: idx,
                    reached: self.reached.clone(),
                    returned: self.returned.clone(),
                    baseline: self.baseline,
                }));
            }
            self.phase = Phase::Seek {
                k: k + 1,
                since: t,
                at_prompt: comps,
                held: 0,
                wrong_held: 0,
            };
            return self.prompt(k + 1);
        }
        self.timeouts(idx, t, t0)
    }

    fn prompt(&self, index: usize) -> Event {
        match self.challenge.turns.get(index) {
            Some(&turn) => Event::Prompt { index, turn },
            None => Event::Continue,
        }
    }

    /// Window checks for the current phase.
    fn timeouts(&self, idx: usize, t: f64, t0: f64) -> Event {
        match &self.phase {
            Phase::Acquire { seen_face, .. } if t - t0 > self.cfg.acquire_window_s => self.fail(
                if *seen_face {
                    Failure::NotFrontal
                } else {
                    Failure::NoFace
                },
                idx,
            ),
            Phase::Seek { since, .. }
                if self.mode == Mode::Interactive && t - since > self.cfg.turn_window_s =>
            {
                self.fail(Failure::Timeout, idx)
            }
            Phase::Return { reached_at, .. } if t - reached_at > self.cfg.return_window_s => {
                self.fail(Failure::NoReturn, idx)
            }
            _ => Event::Continue,
        }
    }

    /// Pose components relative to the baseline, in the person's own directions:
    /// `[left, right, up, down]`, each ≥ 0 only in its direction.
    fn components(&self, p: HeadPose) -> [f64; 4] {
        let own_left =
            (p.yaw - self.baseline.yaw) * if self.challenge.mirrored { -1.0 } else { 1.0 };
        let up = p.pitch - self.baseline.pitch;
        [own_left, -own_left, up, -up]
    }
}

/// The face to track: the detection that overlaps the track most, or the largest when
/// none does (the first face, or after a jump, which the caller then refuses). Further
/// detections no wider than it are parts of the same head when their centre lies inside
/// its box (MTCNN fires on the chin of a face looking up, sometimes with a box larger than
/// the face's — hence continuity before size) or when they overlap its box from below,
/// centre under the face (chin, neck, a hand under the chin: a second person's face there
/// would have to be in front of this person's neck). Any other face is a second person or
/// a held-up photo: `None`. The frames a pass names must hold one face regardless.
fn primary_face<'a>(
    faces: &'a [Detection],
    track: Option<&Detection>,
) -> Option<Option<&'a Detection>> {
    let area = |f: &Detection| {
        let b = Box2::from(&f.bbox);
        b.w * b.h
    };
    let continuing = track.and_then(|t| {
        faces
            .iter()
            .map(|f| (f, f64::from(f.bbox.iou(&t.bbox))))
            .filter(|(_, o)| *o > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(f, _)| f)
    });
    let Some(main) = continuing.or_else(|| faces.iter().max_by(|a, b| area(a).total_cmp(&area(b))))
    else {
        return Some(None);
    };
    let b = Box2::from(&main.bbox);
    // Centre within the face's width, at or below its top, and the box reaching into the
    // face's box (a centre inside the box implies it).
    let same_head = |f: &Detection| {
        let fb = Box2::from(&f.bbox);
        let c = fb.centre();
        fb.w <= b.w && c.x >= b.x && c.x <= b.x + b.w && c.y >= b.y && fb.y < b.y + b.h
    };
    faces
        .iter()
        .all(|f| std::ptr::eq(f, main) || same_head(f))
        .then_some(Some(main))
}

fn dominant(c: &[f64; 4]) -> usize {
    (0..4).max_by(|&a, &b| c[a].total_cmp(&c[b])).unwrap_or(0)
}

fn median_pose(poses: impl Iterator<Item = HeadPose>) -> HeadPose {
    let ps: Vec<HeadPose> = poses.collect();
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    HeadPose::new(
        med(ps.iter().map(|p| p.yaw).collect()),
        med(ps.iter().map(|p| p.pitch).collect()),
        med(ps.iter().map(|p| p.roll).collect()),
    )
}

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

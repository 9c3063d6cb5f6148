//! The challenge's thresholds and windows, and which of them real recordings chose.

use super::ChallengeError;

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
    /// the direction, not by haste. A recording judged in [`super::Mode::Fixed`] has no turn window:
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
    pub(super) fn reach(&self, direction: usize) -> f64 {
        if direction < 2 {
            self.reach_deg
        } else {
            self.reach_pitch_deg
        }
    }

    pub(super) fn validate(&self) -> Result<(), ChallengeError> {
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

        if !(self.min_reaction_s.is_finite()
            && self.min_reaction_s >= 0.0
            && pos(self.turn_window_s)
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

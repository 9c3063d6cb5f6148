//! The challenge state machine: frames in, prompts and the decision out.

use serde::Serialize;

use super::config::ChallengeConfig;
use super::{
    Challenge, ChallengeError, ChallengeFailure, ChallengeOutcome, ChallengePass, Failure, Mode,
    Timeline, Turn,
};
use crate::detect::Detection;
use crate::liveness::linalg::{measurable, Box2};
use crate::liveness::pose::{self, HeadPose};
use crate::liveness::Observation;

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

    /// Where the challenge stands after the frames pushed so far: `None` before the first
    /// and once decided (the pass, or the failure, then says everything).
    pub(crate) fn timeline(&self) -> Option<Timeline<'_>> {
        if matches!(self.phase, Phase::Done) {
            return None;
        }
        let last = self.frame.checked_sub(1)?;
        let acquired = matches!(self.phase, Phase::Seek { .. } | Phase::Return { .. });
        Some(Timeline {
            first_frontal: acquired.then_some(self.first_frontal),
            reached: &self.reached,
            returned: &self.returned,
            last,
        })
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

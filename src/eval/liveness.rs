//! Liveness thresholds chosen on real recordings, judged on recordings the choice did not
//! see (leave one recording out).
//!
//! Why: thresholds tuned on five recordings passed those five and refused six of six real
//! people recorded the same way. A threshold chosen on the data it is judged on proves
//! nothing, and simulated heads may test code paths but not stand in for people. So every
//! threshold here is chosen from real recordings by one stated rule, and the figure that
//! counts is each recording judged with thresholds chosen on the others.
//!
//! # The rule
//! A [`Knob`] is one threshold of the liveness [`LivenessPolicy`]. A recording's *need* of a knob
//! is the strictest value at which it still passes:
//! - challenge knobs (angles, windows, continuity): the grid is scanned from strict to
//!   lenient, every other knob at its lenient end, until the recording's challenge passes;
//! - layer knobs (parallax, surface, identity): the layer's own score on the recording,
//!   with the challenge thresholds already chosen for that fold (the frames a layer looks
//!   at are the ones the challenge names) and the layers lenient.
//!
//! From the needs of the training recordings the threshold is the weakest need with a
//! margin of [`MARGIN`]: half the smallest for a lower bound, twice the largest for an
//! upper one, measured from the knob's origin (0, or 1 for a ratio). Half the weakest
//! person seen: pose estimates carry a per-person scale error (a deeper nose reads as a
//! larger angle), and seven or eight people are few. The result is rounded outwards to the
//! knob's step and kept within the knob's range, whose lenient end is a floor set by
//! argument, not by the recordings: a reach angle above the pose noise near frontal, a
//! parallax score above what a plane gives under the noise model, a surface relief no
//! lower than the layer needs against a folded print, a return fraction below 1/3 (what
//! the smoothing and the hold can tell from a landmark artefact), an identity distance
//! below [`IDENTITY_CEILING`].

use serde::Serialize;

use crate::liveness::challenge::{self, Challenge, ChallengeOutcome, Mode};
use crate::liveness::fusion::{Decision, FusionError, LivenessPolicy, MAX_IDENTITY_THRESHOLD};
use crate::liveness::Observation;

/// One real recording with the challenge it performs (the person's turns in the order
/// the recording contains them).
pub struct Recording<'a> {
    /// Name, for the report.
    pub name: &'a str,
    /// The turns it contains, in order.
    pub challenge: &'a Challenge,
    /// Its observations, in capture order.
    pub frames: &'a [Observation],
}

/// Whether a knob is a lower or an upper bound on what it measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The measurement must reach the threshold (stricter = higher).
    Lower,
    /// The measurement must stay within the threshold (stricter = lower).
    Upper,
}

/// One threshold of the policy, with its range and how to read and set it.
#[derive(Clone, Copy)]
pub struct Knob {
    /// Name in reports (the policy field it sets).
    pub name: &'static str,
    /// Lower or upper bound.
    pub bound: Bound,
    /// The most lenient value chosen: a floor (or ceiling) set by argument.
    pub lenient: f64,
    /// The value a need is measured at (the lenient end, or for a layer a value that
    /// lets every score through so the next layers run too).
    pub probe: f64,
    /// The strictest value considered.
    pub strict: f64,
    /// Grid step (and rounding unit).
    pub step: f64,
    /// Where the margin is measured from (0, or 1 for a ratio of sizes).
    pub origin: f64,
    set: fn(&mut LivenessPolicy, f64),
    /// For a layer knob, the layer's score in a decision.
    score: Option<fn(&Decision) -> Option<f64>>,
}

impl std::fmt::Debug for Knob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Knob")
            .field("name", &self.name)
            .field("bound", &self.bound)
            .field("lenient", &self.lenient)
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

impl Knob {
    /// Sets this knob in a policy.
    pub fn apply(&self, policy: &mut LivenessPolicy, value: f64) {
        (self.set)(policy, value)
    }

    /// Whether this knob is read from a layer's score rather than searched.
    pub fn is_layer(&self) -> bool {
        self.score.is_some()
    }

    fn grid(&self) -> impl Iterator<Item = f64> + '_ {
        let n = ((self.lenient - self.strict).abs() / self.step).round() as usize;
        let dir = if self.lenient > self.strict {
            1.0
        } else {
            -1.0
        };
        (0..=n).map(move |i| self.strict + dir * self.step * i as f64)
    }

    /// The threshold the rule chooses from these needs (see the module documentation).
    pub fn choose(&self, needs: &[f64]) -> f64 {
        let v = needs.iter().copied().filter(|x| x.is_finite());
        let raw = match self.bound {
            Bound::Lower => v
                .reduce(f64::min)
                .map(|min| self.origin + (min - self.origin) / MARGIN),
            Bound::Upper => v
                .reduce(f64::max)
                .map(|max| self.origin + (max - self.origin) * MARGIN),
        };
        let Some(raw) = raw else {
            return self.lenient;
        };
        let rounded = match self.bound {
            // The tolerance keeps a value already on the grid (0.6 / 0.05) where it is.
            Bound::Lower => (raw / self.step + 1e-9).floor() * self.step,
            Bound::Upper => (raw / self.step - 1e-9).ceil() * self.step,
        };
        let (lo, hi) = if self.lenient < self.strict {
            (self.lenient, self.strict)
        } else {
            (self.strict, self.lenient)
        };
        rounded.clamp(lo, hi)
    }
}

/// The most lenient identity-constancy threshold chosen: the dlib embedding's distance at a
/// false-match rate of 1e-3 among East Asian people (0.401, single chip, every East Asian
/// impostor pair of LFW-dev; docs/MATCHER.md), the population it confuses most. Above it a
/// swap between two people passes the check too often (at 0.60, 41 % of East Asian
/// impostor pairs).
pub const IDENTITY_CEILING: f64 = 0.40;

/// The margin of the rule: a threshold is the weakest need seen, halved (lower bounds) or
/// doubled (upper bounds) from the knob's origin.
pub const MARGIN: f64 = 2.0;

/// The knobs calibrated: every threshold of the challenge a real person can fail, and the
/// three layer thresholds measured on a live face.
pub const KNOBS: [Knob; 12] = [
    Knob {
        name: "challenge.reach_deg",
        bound: Bound::Lower,
        lenient: 12.5,
        probe: 12.5,
        strict: 60.0,
        step: 0.5,
        origin: 0.0,
        set: |p, v| p.challenge.reach_deg = v,
        score: None,
    },
    Knob {
        name: "challenge.reach_pitch_deg",
        bound: Bound::Lower,
        lenient: 12.5,
        probe: 12.5,
        strict: 60.0,
        step: 0.5,
        origin: 0.0,
        set: |p, v| p.challenge.reach_pitch_deg = v,
        score: None,
    },
    Knob {
        name: "challenge.frontal_deg",
        bound: Bound::Upper,
        lenient: 10.0,
        probe: 10.0,
        strict: 2.0,
        step: 0.5,
        origin: 0.0,
        set: |p, v| p.challenge.frontal_deg = v,
        score: None,
    },
    Knob {
        name: "challenge.return_fraction",
        bound: Bound::Upper,
        // Below 1/3: poses are smoothed over 3 frames and a return is held 3 frames, so
        // a landmark artefact of up to 3 frames reading frontal at the far end of a turn
        // (MTCNN's landmarks fold back beyond ≈ 50°) smooths to 1/3, 0, 1/3 of the turn
        // — held, it would end the step at 1/3 or above.
        lenient: 0.3,
        probe: 0.9,
        strict: 0.0,
        step: 0.05,
        origin: 0.0,
        set: |p, v| p.challenge.return_fraction = v,
        score: None,
    },
    Knob {
        name: "challenge.return_window_s",
        bound: Bound::Upper,
        lenient: 10.0,
        probe: 10.0,
        strict: 0.2,
        step: 0.1,
        origin: 0.0,
        set: |p, v| p.challenge.return_window_s = v,
        score: None,
    },
    Knob {
        name: "challenge.second_face_frames",
        bound: Bound::Upper,
        lenient: 16.0,
        probe: 16.0,
        strict: 1.0,
        step: 1.0,
        origin: 0.0,
        set: |p, v| p.challenge.second_face_frames = v as usize,
        score: None,
    },
    Knob {
        name: "challenge.max_gap_s",
        bound: Bound::Upper,
        lenient: 5.0,
        probe: 5.0,
        strict: 0.1,
        step: 0.1,
        origin: 0.0,
        set: |p, v| p.challenge.max_gap_s = v,
        score: None,
    },
    Knob {
        name: "challenge.max_jump",
        bound: Bound::Upper,
        lenient: 2.0,
        probe: 2.0,
        strict: 0.05,
        step: 0.05,
        origin: 0.0,
        set: |p, v| p.challenge.max_jump = v,
        score: None,
    },
    Knob {
        name: "challenge.max_scale_jump",
        bound: Bound::Upper,
        lenient: 3.0,
        probe: 3.0,
        strict: 1.05,
        step: 0.05,
        origin: 1.0,
        set: |p, v| p.challenge.max_scale_jump = v,
        score: None,
    },
    Knob {
        name: "parallax_config.min_score",
        bound: Bound::Lower,
        lenient: 6.0,
        probe: 1e-3,
        strict: 1000.0,
        step: 0.01,
        origin: 0.0,
        set: |p, v| p.parallax_config.min_score = v,
        score: Some(|d| d.parallax.as_ref().map(|r| r.score)),
    },
    Knob {
        name: "surface_config.min_relief",
        bound: Bound::Lower,
        lenient: 0.5,
        probe: 0.0,
        strict: 0.99,
        step: 0.01,
        origin: 0.0,
        set: |p, v| p.surface_config.min_relief = v,
        score: Some(|d| d.surface.as_ref().map(|r| r.score)),
    },
    Knob {
        name: "identity_threshold",
        bound: Bound::Upper,
        lenient: IDENTITY_CEILING,
        probe: MAX_IDENTITY_THRESHOLD as f64,
        strict: 0.01,
        step: 0.01,
        origin: 0.0,
        set: |p, v| p.identity_threshold = v as f32,
        score: Some(|d| d.identity_distance.map(f64::from)),
    },
];

/// `base` with every knob at its probe value (its lenient end; a layer's lets every score
/// through).
pub fn lenient(base: &LivenessPolicy) -> LivenessPolicy {
    let mut p = *base;
    for k in &KNOBS {
        k.apply(&mut p, k.probe);
    }
    p
}

/// One recording's needs, in [`KNOBS`] order (`None`: it does not pass even when every
/// knob is lenient, or the layer gave no score).
#[derive(Clone, Debug, Serialize)]
pub struct Needs {
    /// Recording name.
    pub recording: String,
    /// Need per knob.
    pub needs: Vec<Option<f64>>,
}

/// A recording judged with a policy.
#[derive(Clone, Debug, Serialize)]
pub struct Judged {
    /// Recording name.
    pub recording: String,
    /// The thresholds used, in [`KNOBS`] order.
    pub thresholds: Vec<f64>,
    /// The decision.
    pub decision: Decision,
}

/// The whole calibration.
#[derive(Clone, Debug, Serialize)]
pub struct Calibration {
    /// Knob names, in order.
    pub knobs: Vec<&'static str>,
    /// Every recording's needs.
    pub needs: Vec<Needs>,
    /// Each recording judged with thresholds chosen on the others.
    pub held_out: Vec<Judged>,
    /// How many of the training recordings pass their fold's thresholds, per fold.
    pub training_passed: Vec<(usize, usize)>,
    /// The thresholds chosen on all recordings.
    pub chosen: Vec<f64>,
    /// Every recording judged with those (not held out: they were chosen on it).
    pub all: Vec<Judged>,
}

impl Calibration {
    /// Held-out recordings refused.
    pub fn held_out_refused(&self) -> usize {
        self.held_out.iter().filter(|j| !j.decision.live).count()
    }

    /// The policy the calibration chose, built on `base`.
    pub fn policy(&self, base: &LivenessPolicy) -> LivenessPolicy {
        policy_with(base, &self.chosen)
    }
}

fn policy_with(base: &LivenessPolicy, values: &[f64]) -> LivenessPolicy {
    let mut p = *base;
    for (k, v) in KNOBS.iter().zip(values) {
        k.apply(&mut p, *v);
    }
    p
}

fn outcome(rec: &Recording<'_>, policy: &LivenessPolicy) -> Result<ChallengeOutcome, FusionError> {
    challenge::evaluate(rec.challenge, Mode::Fixed, &policy.challenge, rec.frames)
        .map_err(|e| FusionError::Layer(e.to_string()))
}

/// Leave-one-recording-out calibration of [`KNOBS`] over `recordings`, on top of `base`.
/// `judge(i, policy, outcome)` runs the fusion for recording `i` (it supplies the identity
/// check, which needs the colour frames). Needs at least three recordings.
pub fn calibrate<J>(
    recordings: &[Recording<'_>],
    base: &LivenessPolicy,
    judge: J,
) -> Result<Calibration, FusionError>
where
    J: FnMut(usize, &LivenessPolicy, &ChallengeOutcome) -> Result<Decision, FusionError>,
{
    if recordings.len() < 3 {
        return Err(FusionError::Layer(
            "leave-one-out calibration needs at least three recordings".into(),
        ));
    }
    let mut run = Runs {
        recordings,
        judge,
        layer_needs: Vec::new(),
    };
    let loose = lenient(base);
    // Challenge needs do not depend on the fold: each is searched with the rest lenient.
    let mut challenge_needs = Vec::with_capacity(recordings.len());
    for rec in recordings {
        let mut row = Vec::with_capacity(KNOBS.len());
        for k in &KNOBS {
            let mut need = None;
            if !k.is_layer() {
                for v in k.grid() {
                    let mut p = loose;
                    k.apply(&mut p, v);
                    if outcome(rec, &p)?.is_ok() {
                        need = Some(v);
                        break;
                    }
                }
            }
            row.push(need);
        }
        challenge_needs.push(row);
    }

    // The thresholds of a fold: challenge knobs from the training needs, then the layer
    // knobs from the layers' scores under that challenge.
    let mut choose = |skip: Option<usize>| -> Result<Vec<f64>, FusionError> {
        let train = |ri: &usize| Some(*ri) != skip;
        let mut values: Vec<f64> = KNOBS
            .iter()
            .enumerate()
            .map(|(ki, k)| {
                let v: Vec<f64> = (0..recordings.len())
                    .filter(train)
                    .filter_map(|ri| challenge_needs[ri][ki])
                    .collect();
                if k.is_layer() {
                    k.lenient
                } else {
                    k.choose(&v)
                }
            })
            .collect();
        let challenge_policy = policy_with(&loose, &values);
        let mut layer_rows = Vec::new();
        for ri in (0..recordings.len()).filter(train) {
            layer_rows.push(run.layer_needs(ri, &challenge_policy)?);
        }
        for (ki, k) in KNOBS.iter().enumerate().filter(|(_, k)| k.is_layer()) {
            let v: Vec<f64> = layer_rows.iter().filter_map(|r| r[ki]).collect();
            values[ki] = k.choose(&v);
        }
        Ok(values)
    };

    let mut folds = Vec::with_capacity(recordings.len());
    for i in 0..recordings.len() {
        folds.push(choose(Some(i))?);
    }
    let chosen = choose(None)?;

    let mut held_out = Vec::with_capacity(recordings.len());
    let mut training_passed = Vec::with_capacity(recordings.len());
    for (i, values) in folds.into_iter().enumerate() {
        let policy = policy_with(base, &values);
        let mut passed = 0;
        for j in (0..recordings.len()).filter(|&j| j != i) {
            passed += usize::from(run.decide(j, &policy)?.live);
        }
        training_passed.push((passed, recordings.len() - 1));
        held_out.push(Judged {
            recording: recordings[i].name.to_owned(),
            decision: run.decide(i, &policy)?,
            thresholds: values,
        });
    }
    let policy = policy_with(base, &chosen);
    let mut all = Vec::with_capacity(recordings.len());
    for (i, rec) in recordings.iter().enumerate() {
        all.push(Judged {
            recording: rec.name.to_owned(),
            decision: run.decide(i, &policy)?,
            thresholds: chosen.clone(),
        });
    }
    // A recording's reported needs: its challenge needs, and its layer scores under the
    // thresholds chosen on all recordings.
    let mut needs = Vec::with_capacity(recordings.len());
    for (i, rec) in recordings.iter().enumerate() {
        let layers = run.layer_needs(i, &policy_with(&loose, &chosen))?;
        let row = KNOBS
            .iter()
            .enumerate()
            .map(|(ki, k)| {
                if k.is_layer() {
                    layers[ki]
                } else {
                    challenge_needs[i][ki]
                }
            })
            .collect();
        needs.push(Needs {
            recording: rec.name.to_owned(),
            needs: row,
        });
    }
    Ok(Calibration {
        knobs: KNOBS.iter().map(|k| k.name).collect(),
        needs,
        held_out,
        training_passed,
        chosen,
        all,
    })
}

/// The recordings and the caller's fusion, with the layer scores already measured (a
/// fold's challenge thresholds are often another fold's: each is measured once).
struct Runs<'r, 'a, J> {
    recordings: &'r [Recording<'a>],
    judge: J,
    layer_needs: Vec<(usize, ChallengeKey, Vec<Option<f64>>)>,
}

/// The challenge thresholds of a policy, bit for bit ([`challenge_bits`]).
type ChallengeKey = Vec<u64>;

impl<J> Runs<'_, '_, J>
where
    J: FnMut(usize, &LivenessPolicy, &ChallengeOutcome) -> Result<Decision, FusionError>,
{
    fn decide(&mut self, i: usize, policy: &LivenessPolicy) -> Result<Decision, FusionError> {
        let out = outcome(&self.recordings[i], policy)?;
        (self.judge)(i, policy, &out)
    }

    /// Recording `i`'s layer scores under `policy`'s challenge, the layers lenient (`None`
    /// where the challenge fails or a layer gives no score).
    fn layer_needs(
        &mut self,
        i: usize,
        policy: &LivenessPolicy,
    ) -> Result<Vec<Option<f64>>, FusionError> {
        let key = challenge_bits(policy);
        if let Some((_, _, row)) = self
            .layer_needs
            .iter()
            .find(|(j, k, _)| *j == i && *k == key)
        {
            return Ok(row.clone());
        }
        let mut p = *policy;
        for k in KNOBS.iter().filter(|k| k.is_layer()) {
            k.apply(&mut p, k.probe);
        }
        let out = outcome(&self.recordings[i], &p)?;
        let row = if out.is_ok() {
            let d = (self.judge)(i, &p, &out)?;
            KNOBS.iter().map(|k| k.score.and_then(|s| s(&d))).collect()
        } else {
            vec![None; KNOBS.len()]
        };
        self.layer_needs.push((i, key, row.clone()));
        Ok(row)
    }
}

/// Every numeric challenge threshold of a policy, as bits (a cache key).
fn challenge_bits(p: &LivenessPolicy) -> Vec<u64> {
    let c = &p.challenge;
    vec![
        c.reach_deg.to_bits(),
        c.reach_pitch_deg.to_bits(),
        c.frontal_deg.to_bits(),
        c.return_fraction.to_bits(),
        c.return_window_s.to_bits(),
        c.second_face_frames as u64,
        c.max_gap_s.to_bits(),
        c.max_jump.to_bits(),
        c.max_scale_jump.to_bits(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knob(bound: Bound, lenient: f64, strict: f64, step: f64) -> Knob {
        Knob {
            name: "t",
            bound,
            lenient,
            probe: lenient,
            strict,
            step,
            origin: 0.0,
            set: |_, _| {},
            score: None,
        }
    }

    #[test]
    fn the_rule_halves_the_weakest_lower_need_and_doubles_the_largest_upper_one() {
        let lower = knob(Bound::Lower, 10.0, 60.0, 0.5);
        assert_eq!(lower.choose(&[45.0, 30.0, 50.0, 40.0, 55.0]), 15.0);
        // Floored to the step, and never below the lenient floor.
        assert_eq!(lower.choose(&[45.0, 30.2, 50.0]), 15.0);
        assert_eq!(lower.choose(&[50.0, 16.0, 55.0]), 10.0);
        let upper = knob(Bound::Upper, 16.0, 1.0, 1.0);
        assert_eq!(upper.choose(&[1.0, 1.0, 3.0, 1.0]), 6.0);
        assert_eq!(upper.choose(&[1.0, 1.0, 12.0]), 16.0);
        // A value on the grid stays there: 0.3 × 2 is 0.6, not 0.65.
        let fraction = knob(Bound::Upper, 0.9, 0.0, 0.05);
        assert!((fraction.choose(&[0.0, 0.3, 0.25]) - 0.6).abs() < 1e-9);
        // A ratio's margin is measured from 1.
        let ratio = Knob {
            origin: 1.0,
            ..knob(Bound::Upper, 3.0, 1.05, 0.05)
        };
        assert!((ratio.choose(&[1.1, 1.4, 1.2]) - 1.8).abs() < 1e-9);
        // No finite need: the lenient end.
        assert_eq!(upper.choose(&[]), 16.0);
    }

    #[test]
    fn a_grid_runs_from_strict_to_lenient_inclusive() {
        let g: Vec<f64> = knob(Bound::Upper, 1.0, 0.0, 0.25).grid().collect();
        assert_eq!(g, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let g: Vec<f64> = knob(Bound::Lower, 11.0, 12.0, 0.5).grid().collect();
        assert_eq!(g, vec![12.0, 11.5, 11.0]);
    }

    #[test]
    fn the_lenient_policy_is_valid() {
        let p = lenient(&LivenessPolicy::default());
        assert!(p.validate().is_ok());
        assert!(crate::liveness::challenge::Session::new(
            Challenge::parse_for_evaluation("left", false).unwrap(),
            Mode::Fixed,
            p.challenge
        )
        .is_ok());
    }
}

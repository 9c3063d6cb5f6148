//! Simulated presentations at the landmark level, for tests and the evaluation command.
//!
//! Why simulate: live sequences that follow a *random* challenge cannot be recorded in
//! advance, and attacks must be counted in the hundreds per type (ISO/IEC 30107-3). A
//! genuine head is a randomised 3-D five-point face ([`random_face`]) that rotates about a
//! pivot behind the eyes (the neck) and is projected through a pinhole camera; the
//! attacks are the same projection of other objects:
//!
//! - **static print** — a flat card showing the frontal face, with hand shake;
//! - **moved print** — the card turned and tilted to follow each prompt (its image
//!   moves by exactly a homography: perspective of a plane);
//! - **folded print** — the card folded along the nose line (ridge towards the camera,
//!   10–40°), then turned like the moved print: the classic way to fake relief;
//! - **wrong-order replay** — a real head performing a different step order on its own
//!   schedule, blind to the prompts;
//! - **identity swap** — a real head following the prompts, replaced in place by another
//!   person after the first step.
//!
//! Landmark noise is Gaussian per coordinate, `σ = √(px² + (rel·IOD)²)` ([`NoiseModel`]);
//! its values must come from real frames (see the liveness note). Identity distances are
//! modelled by [`SimIdentity`] (same person ≈ 0.35, different ≈ 1.0, as 128-d dlib
//! embeddings behave); the real check is the face pipeline's.
//!
//! Deterministic: every generator takes a seed, so a failing case can be replayed.

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::geom::box_from_landmarks;
use crate::geom::{detection, Point2};
use facegate::eval::pad::PadReport;
use facegate::liveness::challenge::{
    self, Challenge, ChallengeConfig, ChallengeError, ChallengeOutcome, Event, Mode, Session, Turn,
};
use facegate::liveness::fusion::{IdentityCheck, LivenessPolicy};
pub use facegate::liveness::parallax::LandmarkNoise as NoiseModel;
use facegate::liveness::pose::{self, FaceModel, HeadPose};
use facegate::liveness::Observation;

/// A small deterministic generator (SplitMix64) — simulation only, never for challenges.
#[derive(Clone, Debug)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        SimRng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [a, b).
    pub fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.uniform()
    }

    /// Standard normal (Box–Muller).
    pub fn gauss(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A uniformly chosen turn.
    pub fn turn(&mut self) -> Turn {
        Turn::ALL[(self.next_u64() % 4) as usize]
    }
}

/// A pinhole camera.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CameraModel {
    /// Width, pixels.
    pub width: f64,
    /// Height, pixels.
    pub height: f64,
    /// Focal length, pixels.
    pub focal_px: f64,
}

/// The cameras of the real recordings: laptop webcam, phone front camera, old phone.
pub const CAMERAS: [CameraModel; 3] = [
    CameraModel {
        width: 640.0,
        height: 480.0,
        focal_px: 560.0,
    },
    CameraModel {
        width: 360.0,
        height: 480.0,
        focal_px: 420.0,
    },
    CameraModel {
        width: 176.0,
        height: 144.0,
        focal_px: 160.0,
    },
];

/// Simulation settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SimConfig {
    /// Frames per second.
    pub fps: f64,
    /// Landmark noise.
    pub noise: NoiseModel,
    /// Whether the camera delivers mirrored frames.
    pub mirrored: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            fps: 15.0,
            noise: NoiseModel::default(),
            mirrored: false,
        }
    }
}

/// A randomised adult face: overall scale 0.9–1.1, each coordinate ±6 %, nose relief
/// 18–30 mm, small asymmetry.
pub fn random_face(rng: &mut SimRng) -> FaceModel {
    let s = rng.range(0.9, 1.1);
    let nose_depth = rng.range(18.0, 30.0);
    let mut pts = FaceModel::MEAN.points;
    pts[2][2] = nose_depth;
    pts[3][2] = rng.range(2.0, 9.0);
    pts[4][2] = pts[3][2] + rng.gauss() * 1.0;
    for p in pts.iter_mut() {
        for (k, v) in p.iter_mut().enumerate() {
            let jitter = if k == 2 { 0.5 } else { 1.5 };
            *v = *v * s * (1.0 + 0.06 * rng.gauss()) + jitter * rng.gauss();
        }
    }
    FaceModel { points: pts }
}

/// The kinds of presentation attack simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackType {
    /// A still print held in front of the camera.
    StaticPrint,
    /// A flat print turned and tilted to follow the prompts.
    MovedPrint,
    /// A print folded along the nose line and turned.
    FoldedPrint,
    /// A video of the person performing another order.
    WrongOrderReplay,
    /// The person is replaced by another mid-sequence.
    IdentitySwap,
}

impl AttackType {
    /// Every type.
    pub const ALL: [AttackType; 5] = [
        AttackType::StaticPrint,
        AttackType::MovedPrint,
        AttackType::FoldedPrint,
        AttackType::WrongOrderReplay,
        AttackType::IdentitySwap,
    ];

    /// Stable name (evaluation-suite label).
    pub const fn as_str(self) -> &'static str {
        match self {
            AttackType::StaticPrint => "static_print",
            AttackType::MovedPrint => "moved_print",
            AttackType::FoldedPrint => "folded_print",
            AttackType::WrongOrderReplay => "wrong_order_replay",
            AttackType::IdentitySwap => "identity_swap",
        }
    }

    /// The type with this name.
    pub fn from_name(s: &str) -> Option<Self> {
        AttackType::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A keyframed pose trajectory with smooth (smoothstep) interpolation.
#[derive(Clone, Debug, Default)]
struct Script {
    keys: Vec<(f64, HeadPose)>,
}

impl Script {
    fn at(&self, t: f64) -> HeadPose {
        let Some(&(t_first, first)) = self.keys.first() else {
            return HeadPose::default();
        };
        if t <= t_first {
            return first;
        }
        for w in self.keys.windows(2) {
            let ((ta, a), (tb, b)) = (w[0], w[1]);
            if t <= tb {
                let u = if tb > ta {
                    ((t - ta) / (tb - ta)).clamp(0.0, 1.0)
                } else {
                    1.0
                };
                let s = u * u * (3.0 - 2.0 * u);
                return HeadPose::new(
                    a.yaw + s * (b.yaw - a.yaw),
                    a.pitch + s * (b.pitch - a.pitch),
                    a.roll + s * (b.roll - a.roll),
                );
            }
        }
        self.keys.last().map_or(first, |k| k.1)
    }

    fn push(&mut self, t: f64, p: HeadPose) {
        self.keys.push((t, p));
    }
}

#[derive(Clone, Debug)]
enum Subject {
    Head(FaceModel),
    /// A card showing a frontal photo (x, y in mm on the card), folded by `fold_deg`.
    Card {
        photo: [[f64; 2]; 5],
        fold_deg: f64,
    },
}

impl Subject {
    fn points(&self) -> [[f64; 3]; 5] {
        match self {
            Subject::Head(m) => m.points,
            Subject::Card { photo, fold_deg } => {
                let (s, c) = fold_deg.to_radians().sin_cos();
                photo.map(|[x, y]| [x * c, y, -x.abs() * s])
            }
        }
    }

    /// Rotation pivot: the neck for a head, the card's middle for a card.
    fn pivot(&self) -> [f64; 3] {
        match self {
            Subject::Head(_) => [0.0, 40.0, -95.0],
            Subject::Card { .. } => [0.0, 35.0, 0.0],
        }
    }
}

/// One simulated presentation (genuine or attack) that can be observed over time.
#[derive(Clone, Debug)]
pub struct Presentation {
    label: &'static str,
    subject: Subject,
    swap: Option<(f64, FaceModel)>,
    swapped: bool,
    script: Script,
    responsive: bool,
    rest: HeadPose,
    angle: (f64, f64),
    position: [f64; 3],
    camera: CameraModel,
    noise: NoiseModel,
    sway: [(f64, f64, f64); 3],
    shake_mm: f64,
    mirrored: bool,
    rng: SimRng,
    labels: Vec<u32>,
    busy_until: f64,
}

impl Presentation {
    fn base(label: &'static str, subject: Subject, rng: &mut SimRng, cfg: &SimConfig) -> Self {
        let ci = (rng.next_u64() % 3) as usize;
        let camera = CAMERAS[ci];
        // A kiosk webcam sees people at arm's length; phone front cameras at selfie range.
        let distance = if ci == 0 {
            rng.range(450.0, 750.0)
        } else {
            rng.range(300.0, 450.0)
        };
        let mut sway = [(0.0, 0.0, 0.0); 3];
        for s in sway.iter_mut() {
            *s = (
                rng.range(0.3, 1.5),
                rng.range(0.2, 0.8),
                rng.range(0.0, std::f64::consts::TAU),
            );
        }
        Presentation {
            label,
            subject,
            swap: None,
            swapped: false,
            script: Script::default(),
            responsive: true,
            rest: HeadPose::new(
                rng.range(-4.0, 4.0),
                rng.range(-8.0, 8.0),
                rng.range(-4.0, 4.0),
            ),
            angle: (20.0, 35.0),
            position: [rng.range(-30.0, 30.0), rng.range(-60.0, -10.0), distance],
            camera,
            noise: cfg.noise,
            sway,
            shake_mm: 0.0,
            mirrored: cfg.mirrored,
            rng: SimRng::new(rng.next_u64()),
            labels: Vec::new(),
            busy_until: 0.0,
        }
    }

    /// A live person with a random face who follows prompts.
    pub fn genuine(seed: u64, cfg: &SimConfig) -> Self {
        let mut rng = SimRng::new(seed);
        let face = random_face(&mut rng);
        Presentation::base("live", Subject::Head(face), &mut rng, cfg)
    }

    /// An attack of the given type. `challenge` is the order the attacker is asked for
    /// (the replay performs a different one).
    pub fn attack(kind: AttackType, seed: u64, cfg: &SimConfig, challenge: &[Turn]) -> Self {
        let mut rng = SimRng::new(seed);
        let victim = random_face(&mut rng);
        let print_scale = rng.range(0.8, 1.2);
        let photo = victim
            .points
            .map(|p| [p[0] * print_scale, p[1] * print_scale]);
        let mut p = match kind {
            AttackType::StaticPrint => {
                let mut p = Presentation::base(
                    kind.as_str(),
                    Subject::Card {
                        photo,
                        fold_deg: 0.0,
                    },
                    &mut rng,
                    cfg,
                );
                p.responsive = false;
                p.shake_mm = rng.range(0.5, 3.0);
                p.rest = HeadPose::new(
                    rng.range(-5.0, 5.0),
                    rng.range(-5.0, 5.0),
                    rng.range(-5.0, 5.0),
                );
                p
            }
            AttackType::MovedPrint => {
                let mut p = Presentation::base(
                    kind.as_str(),
                    Subject::Card {
                        photo,
                        fold_deg: 0.0,
                    },
                    &mut rng,
                    cfg,
                );
                p.angle = (20.0, 50.0);
                p.shake_mm = rng.range(0.5, 2.0);
                p
            }
            AttackType::FoldedPrint => {
                let fold_deg = rng.range(10.0, 40.0);
                let mut p = Presentation::base(
                    kind.as_str(),
                    Subject::Card { photo, fold_deg },
                    &mut rng,
                    cfg,
                );
                p.angle = (20.0, 50.0);
                p.shake_mm = rng.range(0.5, 2.0);
                p
            }
            AttackType::WrongOrderReplay => {
                let mut p = Presentation::base(kind.as_str(), Subject::Head(victim), &mut rng, cfg);
                p.responsive = false;
                let steps = wrong_order(challenge, &mut rng);
                let start = rng.range(0.3, 1.5);
                p.plan(&steps, start);
                p
            }
            AttackType::IdentitySwap => {
                let other = random_face(&mut rng);
                let mut p = Presentation::base(kind.as_str(), Subject::Head(victim), &mut rng, cfg);
                p.swap = Some((f64::INFINITY, other));
                p
            }
        };
        p.label = kind.as_str();
        p
    }

    /// `live` or the attack type name.
    pub fn label(&self) -> &'static str {
        self.label
    }

    /// Schedules the given steps from `start` at the subject's own pace (recorded
    /// sequences, and the replay's own order).
    pub fn plan(&mut self, steps: &[Turn], start: f64) -> f64 {
        let mut t = start;
        for &s in steps {
            t = self.schedule(s, t) + self.rng.range(0.2, 0.8);
        }
        t
    }

    /// Tells the subject a prompt appeared at `t`; a responsive subject turns after a
    /// human reaction time, others ignore it.
    pub fn on_prompt(&mut self, turn: Turn, t: f64) {
        if !self.responsive {
            return;
        }
        let start = t.max(self.busy_until) + self.rng.range(0.3, 0.8);
        self.schedule(turn, start);
    }

    fn schedule(&mut self, turn: Turn, start: f64) -> f64 {
        let a = self.rng.range(self.angle.0, self.angle.1);
        let target = turn.target_pose(a, self.mirrored);
        let wobble = HeadPose::new(
            self.rng.gauss() * 2.0,
            self.rng.gauss() * 2.0,
            self.rng.gauss() * 3.0,
        );
        let rest = self.rest;
        let peak = HeadPose::new(
            rest.yaw + target.yaw + wobble.yaw,
            rest.pitch + target.pitch + wobble.pitch,
            rest.roll + wobble.roll,
        );
        let go = self.rng.range(0.35, 0.7);
        let hold = self.rng.range(0.15, 0.5);
        let back = self.rng.range(0.35, 0.7);
        if self.script.keys.is_empty() {
            self.script.push(0.0, rest);
        }
        self.script.push(start, rest);
        self.script.push(start + go, peak);
        self.script.push(start + go + hold, peak);
        let end = start + go + hold + back;
        self.script.push(end, rest);
        if let Some((when, _)) = &mut self.swap {
            if when.is_infinite() {
                // Replace the person while they come back from the first step.
                *when = end - 0.1;
            }
        }
        self.busy_until = end;
        end
    }

    /// Time by which the planned movements are over.
    pub fn busy_until(&self) -> f64 {
        self.busy_until
    }

    /// The observation at time `t` (seconds).
    pub fn observe(&mut self, t: f64) -> Observation {
        let mut subject_pts = self.subject.points();
        let mut label = 0;
        if let Some((when, other)) = &self.swap {
            if t >= *when {
                subject_pts = other.points;
                label = 1;
                self.swapped = true;
            }
        }
        let mut pose = if self.script.keys.is_empty() {
            self.rest
        } else {
            self.script.at(t)
        };
        let [(a0, f0, p0), (a1, f1, p1), (a2, f2, p2)] = self.sway;
        let tau = std::f64::consts::TAU;
        pose.yaw += a0 * (tau * f0 * t + p0).sin();
        pose.pitch += a1 * (tau * f1 * t + p1).sin();
        pose.roll += a2 * (tau * f2 * t + p2).sin();
        let shake = [
            self.rng.gauss() * self.shake_mm,
            self.rng.gauss() * self.shake_mm,
            self.rng.gauss() * self.shake_mm,
        ];
        if self.shake_mm > 0.0 {
            pose.yaw += self.rng.gauss() * 0.5;
            pose.pitch += self.rng.gauss() * 0.5;
        }
        let r = pose.rotation();
        let pivot = self.subject.pivot();
        let cam = self.camera;
        let mut lm = [Point2::default(); 5];
        for (out, p) in lm.iter_mut().zip(subject_pts) {
            let d = [p[0] - pivot[0], p[1] - pivot[1], p[2] - pivot[2]];
            let rot: [f64; 3] =
                std::array::from_fn(|i| (0..3).map(|k| r[i][k] * d[k]).sum::<f64>() + pivot[i]);
            let x = self.position[0] + rot[0] + shake[0];
            let y = self.position[1] + rot[1] + shake[1];
            let z = self.position[2] - rot[2] + shake[2];
            *out = Point2::new(
                cam.width / 2.0 + cam.focal_px * x / z,
                cam.height / 2.0 + cam.focal_px * y / z,
            );
        }
        let iod = lm[0].dist(lm[1]);
        let sigma = self.noise.sigma(iod);
        for p in lm.iter_mut() {
            p.x += sigma * self.rng.gauss();
            p.y += sigma * self.rng.gauss();
        }
        self.labels.push(label);
        Observation::new(t, vec![detection(&lm)])
    }

    /// Identity labels of the frames observed so far (0 = first person, 1 = swapped in).
    pub fn identity_labels(&self) -> &[u32] {
        &self.labels
    }

    /// An identity check over the frames observed so far.
    pub fn identity(&self, seed: u64) -> SimIdentity {
        SimIdentity {
            labels: self.labels.clone(),
            rng: SimRng::new(seed),
        }
    }
}

fn wrong_order(challenge: &[Turn], rng: &mut SimRng) -> Vec<Turn> {
    let n = challenge.len().max(1);
    loop {
        let s: Vec<Turn> = (0..n).map(|_| rng.turn()).collect();
        if s != challenge {
            return s;
        }
    }
}

/// Identity distances from the simulated labels: same person ~ N(0.35, 0.07), different
/// ~ N(1.0, 0.12), clipped at 0 — how 128-d dlib embeddings are distributed.
#[derive(Clone, Debug)]
pub struct SimIdentity {
    labels: Vec<u32>,
    rng: SimRng,
}

/// A frame index outside the simulated sequence.
#[derive(Debug, thiserror::Error)]
#[error("frame {0} is outside the simulated sequence")]
pub struct SimIdentityError(usize);

impl IdentityCheck for SimIdentity {
    type Error = SimIdentityError;
    fn distance(&mut self, a: usize, b: usize) -> Result<f32, SimIdentityError> {
        let la = *self.labels.get(a).ok_or(SimIdentityError(a))?;
        let lb = *self.labels.get(b).ok_or(SimIdentityError(b))?;
        let d = if la == lb {
            0.35 + 0.07 * self.rng.gauss()
        } else {
            1.0 + 0.12 * self.rng.gauss()
        };
        Ok(d.max(0.0) as f32)
    }
}

/// Observes a presentation at `fps` from 0 until `duration` seconds (recorded sequences).
pub fn record(p: &mut Presentation, fps: f64, duration: f64) -> Vec<Observation> {
    let n = (duration * fps).ceil().clamp(0.0, 100_000.0) as usize;
    (0..n).map(|i| p.observe(i as f64 / fps)).collect()
}

/// Runs an interactive session against a presentation: frames at `fps`, prompts passed
/// back to the subject. Returns the frames observed and the outcome.
pub fn run_interactive(
    p: &mut Presentation,
    challenge: Challenge,
    cfg: &ChallengeConfig,
    fps: f64,
) -> Result<(Vec<Observation>, ChallengeOutcome), ChallengeError> {
    let mut session = Session::new(challenge, Mode::Interactive, *cfg)?;
    let mut frames = Vec::new();
    let limit = 60.0 * fps;
    let mut i = 0.0;
    while i < limit {
        let t = i / fps;
        let obs = p.observe(t);
        let ev = session.push(&obs)?;
        frames.push(obs);
        match ev {
            Event::Done(outcome) => return Ok((frames, outcome)),
            Event::Prompt { turn, .. } => p.on_prompt(turn, t),
            Event::Continue => {}
        }
        i += 1.0;
    }
    Ok((frames, session.finish()))
}

/// Simulates a recorded (fixed-order) sequence: a genuine presentation performs the
/// steps; attacks behave as their type.
pub fn recorded(p: &mut Presentation, steps: &[Turn], fps: f64) -> Vec<Observation> {
    let start = 0.6 + p.rng.range(0.0, 0.8);
    let end = if p.responsive {
        p.plan(steps, start)
    } else {
        p.busy_until().max(start + 4.0)
    };
    record(p, fps, end + 0.6)
}

/// Error statistics of the landmark pose estimator, degrees.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PoseErrorStats {
    /// Samples.
    pub n: usize,
    /// RMS error of yaw, pitch, roll (absolute).
    pub rms: [f64; 3],
    /// RMS error of yaw and pitch relative to the person's own frontal estimate (what the
    /// challenge uses).
    pub rms_relative: [f64; 2],
    /// 95th percentile of the relative yaw/pitch error.
    pub p95_relative: [f64; 2],
}

/// Measures the pose estimator: random faces, camera and distance, yaw and pitch uniform
/// in ±35°, roll ±10°, rotation about the neck, perspective projection and `noise`.
pub fn pose_error(seed: u64, n: usize, noise: NoiseModel) -> PoseErrorStats {
    let mut rng = SimRng::new(seed);
    let cfg = SimConfig {
        noise,
        ..SimConfig::default()
    };
    let (mut se, mut sr) = ([0.0; 3], [0.0; 2]);
    let (mut ry, mut rp) = (Vec::new(), Vec::new());
    let mut count = 0usize;
    for _ in 0..n {
        let mut p = Presentation::genuine(rng.next_u64(), &cfg);
        p.sway = [(0.0, 0.0, 0.0); 3];
        let truth = HeadPose::new(
            rng.range(-35.0, 35.0),
            rng.range(-35.0, 35.0),
            rng.range(-10.0, 10.0),
        );
        p.rest = HeadPose::default();
        let Ok(frontal) = pose::estimate(&p.observe(0.0).faces[0].landmarks) else {
            continue;
        };
        p.rest = truth;
        let Ok(est) = pose::estimate(&p.observe(0.0).faces[0].landmarks) else {
            continue;
        };
        let e = [
            est.yaw - truth.yaw,
            est.pitch - truth.pitch,
            est.roll - truth.roll,
        ];
        let er = [
            est.yaw - frontal.yaw - truth.yaw,
            est.pitch - frontal.pitch - truth.pitch,
        ];
        for k in 0..3 {
            se[k] += e[k] * e[k];
        }
        for k in 0..2 {
            sr[k] += er[k] * er[k];
        }
        ry.push(er[0].abs());
        rp.push(er[1].abs());
        count += 1;
    }
    let c = count.max(1) as f64;
    let p95 = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(((v.len() as f64) * 0.95) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    PoseErrorStats {
        n: count,
        rms: se.map(|s| (s / c).sqrt()),
        rms_relative: sr.map(|s| (s / c).sqrt()),
        p95_relative: [p95(ry), p95(rp)],
    }
}

/// A simulated evaluation's tallies ([`PadReport`]) with what the simulation alone knows:
/// parallax scores per label and every wrong decision's seed and challenge, so it can be
/// replayed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SimReport {
    /// ISO/IEC 30107-3 tallies.
    pub pad: PadReport,
    /// Parallax scores by label (presentations that reached the parallax layer).
    pub parallax_scores: BTreeMap<String, Vec<f64>>,
    /// Every wrong decision: (label, presentation seed, steps).
    pub errors: Vec<(String, u64, Vec<Turn>)>,
}

impl std::ops::Deref for SimReport {
    type Target = PadReport;
    fn deref(&self) -> &PadReport {
        &self.pad
    }
}

/// Simulated evaluation: `n` presentations per attack type and `n` genuine ones, each
/// against a random-looking challenge of `len` steps drawn from the seed, judged by the
/// policy in the given mode.
pub fn evaluate(
    seed: u64,
    n: usize,
    len: usize,
    mode: Mode,
    sim: &SimConfig,
    policy: &LivenessPolicy,
) -> Result<SimReport, ChallengeError> {
    let mut rng = SimRng::new(seed);
    let mut report = SimReport::default();
    let labels: Vec<Option<AttackType>> = std::iter::once(None)
        .chain(AttackType::ALL.into_iter().map(Some))
        .collect();
    for label in labels {
        for _ in 0..n {
            let steps: Vec<Turn> = (0..len).map(|_| rng.turn()).collect();
            let challenge = Challenge::fixed_for_evaluation(steps.clone(), sim.mirrored)?;
            let pseed = rng.next_u64();
            let mut p = match label {
                None => Presentation::genuine(pseed, sim),
                Some(kind) => Presentation::attack(kind, pseed, sim, &steps),
            };
            let (frames, outcome) = match mode {
                Mode::Interactive => {
                    run_interactive(&mut p, challenge, &policy.challenge, sim.fps)?
                }
                Mode::Fixed => {
                    let frames = recorded(&mut p, &steps, sim.fps);
                    let outcome =
                        challenge::evaluate(&challenge, Mode::Fixed, &policy.challenge, &frames)?;
                    (frames, outcome)
                }
            };
            let mut id = p.identity(rng.next_u64());
            let decision = policy.decide(
                &outcome,
                &frames,
                Some(&mut id),
                None::<&mut facegate::liveness::fusion::NoPassive>,
            );
            let (live, reason) = match &decision {
                Ok(d) => {
                    if let Some(px) = d.parallax() {
                        report
                            .parallax_scores
                            .entry(p.label().to_string())
                            .or_default()
                            .push(px.score);
                    }
                    (d.live(), d.reason().map(|r| r.code()))
                }
                Err(_) => (false, Some("error")),
            };
            if live != label.is_none() {
                report
                    .errors
                    .push((p.label().to_string(), pseed, steps.clone()));
            }
            report.pad.add(p.label(), live, reason);
        }
    }
    Ok(report)
}

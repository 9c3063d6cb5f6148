//! Dense-point relief: a print — flat *or folded* — is piecewise planar, a face is curved.
//!
//! Why: the five-landmark [`super::parallax`] test cannot tell a face from a print folded
//! along the nose line. With the fold on the nose, eyes and mouth corners lie on two planes
//! and the nose tip on the ridge: exactly the out-of-plane motion a real nose makes. The
//! fold is only visible *between* the landmarks: every textured point of a folded print
//! moves with one of two homographies (one per half, split by the fold line), while the
//! points of a real face — eye sockets, brows, nostrils, cheeks, lips — lie on a curved
//! surface and leave any two planes.
//!
//! # Test
//! For each challenge step, the reference is the last frame before the step that is about
//! as frontal as the most frontal one, and the measured views are the tracked frames from
//! the first one turned [`SurfaceConfig::turn_fraction`] of the way to the step's furthest
//! turn (between its reach and the face's return to frontal, never into the next step)
//! through that furthest turn (shape change of the five landmarks after removing a
//! similarity, median of three frames: one frame's landmark noise once made a frontal frame
//! the "turned" one, a step with no relief). Several views, not one: a single view's
//! tracking error can look like relief on a print or hide it on a face, and relief grows
//! with the turn while tracking error does not follow it.
//! Corners (Shi–Tomasi minimum eigenvalue, the strongest per grid cell of IOD/9) are
//! picked inside the face — brows to below the mouth, between the outer eye corners, away
//! from the outline and the background — on the reference frame. Each corner's reference
//! patch is then located in every second frame up to the furthest turn by anchored,
//! inverse-compositional affine Lucas–Kanade (coarse to fine over two pyramid levels,
//! patch compared mean- and contrast-normalised, started from the landmarks' similarity
//! motion): anchoring on the reference patch keeps errors from accumulating along the
//! chain, and the affine warp follows the foreshortening of a turning surface. A point
//! whose patch stops matching (1 − normalised correlation above
//! [`SurfaceConfig::max_dissimilarity`]: occluded, turned away) is dropped.
//!
//! On the surviving pairs the best *two-plane* model is searched: the points are split by
//! a line (12 orientations × 11 offsets between 25 % and 75 % of the points), a homography
//! is fitted to each side (least squares, refitted twice without its worst points), and
//! the split chosen is the one that leaves the fewest points with a transfer error above
//! `max(noise_px, noise_iod · IOD)`. Its residuals then decide: each point's residual
//! vector is averaged with those of its nearest neighbours on its side
//! ([`SurfaceConfig::neighbours`], the point included), and the point is *off the planes*
//! when that mean exceeds `max(relief_px, relief_iod · IOD)`; points within
//! [`SurfaceConfig::crease_iod`] of the split line are not judged (a patch straddling a
//! fold is not one plane, and the split only approximates the crease). Why neighbourhoods:
//! tracking error is independent from patch to patch and averages out, a face's relief is
//! smooth over its surface and does not — so the tolerance can sit well under the
//! single-point one (0.5 px against 1 px). A view's relief is the fraction of judged points
//! off the planes; the step's is the
//! mean over its views (at most [`SurfaceConfig::measured_frames`]) that still hold at least
//! half of the first view's points — beyond that the face has mostly turned away, or the
//! card was swapped and the few patches still matching sit on look-alike texture. The
//! sequence score is the mean over steps (steps with fewer than
//! [`SurfaceConfig::min_points`] points do not count; a step with a view whose median
//! error exceeds [`SurfaceConfig::max_error_iod`] is no rigid surface — a swap across the
//! span — and counts 0). A score below [`SurfaceConfig::min_relief`] is piecewise planar:
//! rejected.
//!
//! Calibration (liveness note, session 5): on the tuning data the five real recordings
//! score 0.70–0.89, simulated live heads (photos on a 3-D head shape, turning 40–60°)
//! mostly above 0.52, folded prints mostly below 0.49. The threshold, 0.50, was fixed on
//! the tuning data before the fresh suites were judged. A person this layer refuses falls
//! back to an ID card or a code; a print it accepts opens the locker.
//!
//! A single plane is a special case of two (a split with equal homographies), so a flat
//! print moved in perspective fails the same test. What it cannot catch: a print bent
//! into a smooth curve that imitates a face in every direction, and 3-D masks — those
//! need depth, NIR or a passive model (see the liveness note).

mod config;
mod planes;
mod track;

pub use config::SurfaceConfig;
use planes::*;
use track::*;

use serde::Serialize;
use thiserror::Error;

use super::challenge::{ChallengePass, Timeline};
use super::linalg::{inter_ocular, measurable, wide, Box2, Point2};
use super::Observation;
use crate::detect::Detection;

/// The measurement of one challenge step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepRelief {
    /// Reference (frontal) frame.
    pub reference: usize,
    /// Peak (turned) frame.
    pub peak: usize,
    /// Points tracked both ways.
    pub points: usize,
    /// Fraction of points off the best single homography.
    pub off_one_plane: f64,
    /// Fraction of points off the best two-plane split, each judged alone at the fit
    /// tolerance (diagnostic; before session 5, the relief score).
    pub off_two_planes: f64,
    /// Relief: fraction of points whose neighbourhood leaves the best two planes (the
    /// step's score).
    pub relief: f64,
    /// Median transfer error under the best split, as a fraction of IOD.
    pub median_error_iod: f64,
}

/// What the surface test found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SurfaceReport {
    /// Per challenge step (steps with too few points are listed with their count).
    pub steps: Vec<StepRelief>,
    /// The sequence's relief score: the mean over counted steps of [`StepRelief::relief`].
    pub score: f64,
    /// Whether the tracked points are piecewise planar (rejected).
    pub planar: bool,
}

/// Caller faults.
#[derive(Debug, Error, PartialEq, Eq, Clone, Copy)]
pub enum SurfaceError {
    /// Invalid configuration.
    #[error("invalid surface configuration: {0}")]
    Config(&'static str),
}

/// Why the test could not judge (a capture problem, not a fault).
#[derive(Debug, Error, PartialEq, Eq, Clone, Copy)]
pub enum SurfaceInsufficient {
    /// A frame the test needs carries no luma image (or frames differ in size).
    #[error("frame {0} has no usable luma image")]
    NoImage(usize),
    /// No step had enough trackable texture.
    #[error("too few trackable points ({0})")]
    TooFewPoints(usize),
}

impl SurfaceConfig {
    fn validate(&self) -> Result<(), SurfaceError> {
        let finite_pos = |v: f64| v.is_finite() && v > 0.0;
        if !(1..=4096).contains(&self.max_points) || self.min_points < 8 {
            return Err(SurfaceError::Config(
                "max_points must be in 1..=4096 and min_points at least 8",
            ));
        }
        if !(2..=31).contains(&self.window) || !(1..=6).contains(&self.levels) {
            return Err(SurfaceError::Config(
                "window must be in 2..=31 and levels in 1..=6",
            ));
        }
        if !(finite_pos(self.max_dissimilarity)
            && finite_pos(self.noise_px)
            && self.noise_iod.is_finite()
            && self.noise_iod >= 0.0
            && self.min_relief.is_finite()
            && (0.0..1.0).contains(&self.min_relief)
            && (1..=1000).contains(&self.max_hops)
            && (1..=64).contains(&self.measured_frames)
            && self.turn_fraction > 0.0
            && self.turn_fraction <= 1.0
            && finite_pos(self.max_error_iod)
            && self.max_dissimilarity < 2.0
            && (1..=16).contains(&self.neighbours)
            && finite_pos(self.relief_px)
            && self.relief_iod.is_finite()
            && self.relief_iod >= 0.0
            && self.crease_iod.is_finite()
            && (0.0..1.0).contains(&self.crease_iod))
        {
            return Err(SurfaceError::Config(
                "noise, dissimilarity, relief_px and max_error_iod must be positive, relief_iod non-negative, min_relief and crease_iod in [0, 1), max_hops in 1..=1000, measured_frames in 1..=64, neighbours in 1..=16, turn_fraction in (0, 1]",
            ));
        }
        Ok(())
    }
}

/// The frames whose luma [`analyze`] may read, as index spans, for a challenge that has got
/// as far as `t`. A step reads from its reference to its furthest turn; the reference is at
/// most `max_hops` frames before that turn and never before the step's start (the baseline,
/// then the previous step's return), and the furthest turn lies between the step's reach and
/// its return. So a step reads nothing before its reach minus `max_hops`, and a step not yet
/// reached nothing before the latest frame minus `max_hops`.
///
/// Why: a streaming session holds the face's pixels only while a step may still read them,
/// and wipes the rest as it goes (at 15 fps about 2 s around each turn, not the whole video).
pub(crate) fn readable(t: &Timeline<'_>, max_hops: usize) -> Vec<std::ops::RangeInclusive<usize>> {
    let Some(mut start) = t.first_frontal else {
        return Vec::new();
    };
    let mut spans = Vec::new();
    for k in 0.. {
        let Some(&reached) = t.reached.get(k) else {
            // Not reached yet: its reach, and so its furthest turn, is a later frame.
            spans.push(start.max(t.last.saturating_sub(max_hops))..=t.last);
            break;
        };
        let back = t.returned.get(k).copied();
        spans.push(start.max(reached.saturating_sub(max_hops))..=back.unwrap_or(t.last));
        match back {
            Some(b) => start = b,
            None => break,
        }
    }
    spans
}

/// Runs the test over a passed challenge. Every frame between a step's reference and
/// peak must carry [`Observation::luma`]; frames outside [`readable`]'s spans need none.
pub fn analyze(
    frames: &[Observation],
    pass: &ChallengePass,
    cfg: &SurfaceConfig,
) -> Result<Result<SurfaceReport, SurfaceInsufficient>, SurfaceError> {
    cfg.validate()?;
    let base = match frames
        .get(pass.first_frontal)
        .and_then(Observation::single_face)
    {
        Some(f) if measurable(f) => *f,
        _ => return Ok(Err(SurfaceInsufficient::TooFewPoints(0))),
    };
    // How far the face has turned from the baseline, per frame, median of three frames: a
    // single frame's landmark noise (up to a third of a full turn's shape change) must not
    // pick a turned frame as "frontal" or a frontal one as "turned". Computed once for all
    // steps.
    let raw: Vec<Option<f64>> = frames
        .iter()
        .map(|o| o.single_face().and_then(|f| shape_change(&base, f)))
        .collect();
    let turned: Vec<Option<f64>> = (0..raw.len())
        .map(|i| {
            raw[i]?;
            let mut v: Vec<f64> = raw[i.saturating_sub(1)..(i + 2).min(raw.len())]
                .iter()
                .flatten()
                .copied()
                .collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        })
        .collect();
    let mut steps = Vec::new();
    let mut start = pass.first_frontal;
    for (k, &reached) in pass.reached.iter().enumerate() {
        // The step's movement ends where the face was back at frontal. Without that frame
        // (a pass built by hand) the next step's reach bounds it — which lets the next
        // turn's start stand in for this step's peak when this one changes the landmarks
        // less (MTCNN's points move little when a head looks up).
        let returned = pass.returned.get(k).copied();
        let end = returned
            .or_else(|| pass.reached.get(k + 1).copied())
            .unwrap_or(pass.last_frontal)
            .min(frames.len().saturating_sub(1));
        let next_start = returned.unwrap_or(reached);
        if !(start <= reached && reached <= end) {
            start = next_start;
            continue;
        }
        let shape = |i: usize| turned.get(i).copied().flatten();
        // Peak: the furthest turned frame of this step.
        let peak = (reached..=end)
            .filter_map(|i| shape(i).map(|s| (i, s)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((peak, furthest)) = peak else {
            start = next_start;
            continue;
        };
        let from = start.max(peak.saturating_sub(cfg.max_hops));
        let before: Vec<(usize, f64)> = (from..=reached)
            .filter_map(|i| shape(i).map(|s| (i, s)))
            .collect();
        start = next_start;
        let Some(least) = before.iter().map(|b| b.1).min_by(f64::total_cmp) else {
            continue;
        };
        // Reference: the last frame before the turn that is about as frontal as the most
        // frontal one (close in time: less to track, less drift).
        let span = furthest - least;
        let Some(reference) = before
            .iter()
            .rev()
            .find(|b| b.1 <= least + 0.15 * span)
            .map(|b| b.0)
        else {
            continue;
        };
        // Measure every tracked frame from where the face has turned `turn_fraction` of the
        // way through the peak: far enough for relief, and several views, because one
        // view's tracking error can look like relief on a print (or hide it on a face).
        let from_turn = least + cfg.turn_fraction * span;
        let measured = |i: usize| i == peak || shape(i).is_some_and(|v| v >= from_turn);
        match step_relief(frames, reference, peak, &measured, cfg) {
            Err(insufficient) => return Ok(Err(insufficient)),
            Ok(None) => {}
            Ok(Some(relief)) => steps.push(relief),
        }
    }
    let counted: Vec<&StepRelief> = steps
        .iter()
        .filter(|s| s.points >= cfg.min_points)
        .collect();
    if counted.is_empty() {
        let most = steps.iter().map(|s| s.points).max().unwrap_or(0);
        return Ok(Err(SurfaceInsufficient::TooFewPoints(most)));
    }
    // A face shows relief on every turn; a print may catch a lucky one (a blurred view
    // whose tracking error nears the floor), so the steps are averaged, not maximised.
    let score = sequence_score(&counted, cfg);
    Ok(Ok(SurfaceReport {
        planar: score < cfg.min_relief,
        score,
        steps,
    }))
}

/// RMS difference between two faces' landmarks after removing translation, rotation and
/// scale (a similarity), as a fraction of IOD: how far the face has turned.
fn shape_change(a: &Detection, b: &Detection) -> Option<f64> {
    if !measurable(b) {
        return None;
    }
    let (la, lb) = (wide(&a.landmarks), wide(&b.landmarks));
    let sim = Similarity::try_fit(&la, &lb)?;
    let ss: f64 = la
        .iter()
        .zip(&lb)
        .map(|(p, q)| {
            let m = sim.apply(*p);
            (m.x - q.x).powi(2) + (m.y - q.y).powi(2)
        })
        .sum();
    let v = (ss / 5.0).sqrt() / inter_ocular(&b.landmarks);
    v.is_finite().then_some(v)
}
/// Mean relief over the counted steps; a step with no rigid surface is no evidence of a
/// face (a swap across the span) and counts 0.
fn sequence_score(counted: &[&StepRelief], cfg: &SurfaceConfig) -> f64 {
    let sum: f64 = counted
        .iter()
        .map(|s| {
            if s.median_error_iod <= cfg.max_error_iod {
                s.relief
            } else {
                0.0
            }
        })
        .sum();
    sum / counted.len().max(1) as f64
}

/// Tracks corners from `reference` to `peak` and fits the two-plane model on each tracked
/// frame that `measured` selects (at most [`SurfaceConfig::measured_frames`], spread evenly).
/// `Ok(None)` when the step has no corners at all.
fn step_relief(
    frames: &[Observation],
    reference: usize,
    peak: usize,
    measured: &dyn Fn(usize) -> bool,
    cfg: &SurfaceConfig,
) -> Result<Option<StepRelief>, SurfaceInsufficient> {
    let face = frames
        .get(reference)
        .and_then(Observation::single_face)
        .copied()
        .ok_or(SurfaceInsufficient::NoImage(reference))?;
    let luma = |i: usize| {
        frames
            .get(i)
            .and_then(|o| o.luma.as_ref())
            .ok_or(SurfaceInsufficient::NoImage(i))
    };
    if peak <= reference {
        return Ok(None);
    }
    let first = luma(reference)?;
    let size = (first.width(), first.height());
    // Every frame of the span must carry luma of one size, tracked or not: a sequence
    // that changes cameras mid-turn is not a sequence to judge.
    for i in reference..=peak {
        let l = luma(i)?;
        if (l.width(), l.height()) != size {
            return Err(SurfaceInsufficient::NoImage(i));
        }
    }
    // Work on the part of the frames the face sweeps (plus the search margin): a tenth of
    // the pixels and memory of whole frames.
    let mut sweep = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for i in reference..=peak {
        if let Some(f) = frames.get(i).and_then(Observation::single_face) {
            let b = Box2::from(&f.bbox);
            sweep = [
                sweep[0].min(b.x),
                sweep[1].min(b.y),
                sweep[2].max(b.x + b.w),
                sweep[3].max(b.y + b.h),
            ];
        }
    }
    let margin = 0.15 * (sweep[2] - sweep[0]) + (cfg.window << cfg.levels) as f64;
    let clip = |v: f64, n: u32| v.clamp(0.0, f64::from(n)) as usize;
    let crop = [
        clip(sweep[0] - margin, size.0),
        clip(sweep[1] - margin, size.1),
        clip(sweep[2] + margin, size.0),
        clip(sweep[3] + margin, size.1),
    ];
    if crop[2] < crop[0] + 16 || crop[3] < crop[1] + 16 {
        return Ok(None);
    }
    // Every second frame: with the landmark prior the pyramid covers the motion, and the
    // tracking cost halves.
    let mut hops: Vec<usize> = (reference..=peak).step_by(2).collect();
    if hops.last() != Some(&peak) {
        hops.push(peak);
    }
    let mut pyr = Vec::with_capacity(hops.len());
    for &i in &hops {
        pyr.push(Pyramid::new(luma(i)?, crop, cfg.levels));
    }
    let Some(base) = pyr.first() else {
        return Ok(None);
    };
    let iod = inter_ocular(&face.landmarks);
    let offset = Point2::new(crop[0] as f64, crop[1] as f64);
    let mut region = inner_face(&face);
    region[0] -= offset.x;
    region[2] -= offset.x;
    region[1] -= offset.y;
    region[3] -= offset.y;
    let cell = (iod / 9.0).max(3.0);
    let starts = corners(&base.levels[0], region, cell, cfg.max_points);
    if starts.is_empty() {
        return Ok(None);
    }
    // Each point is matched against its reference patch in every hop frame (anchored, so
    // errors do not accumulate along the chain), starting from where the landmarks'
    // similarity motion and the previous hop put it.
    let landmarks = |i: usize| {
        frames
            .get(i)
            .and_then(Observation::single_face)
            .map(|f| wide(&f.landmarks).map(|p| Point2::new(p.x - offset.x, p.y - offset.y)))
    };
    let priors: Vec<Similarity> = hops
        .iter()
        .map(|&i| match (landmarks(reference), landmarks(i)) {
            (Some(a), Some(b)) => Similarity::fit(&a, &b),
            _ => Similarity::IDENTITY,
        })
        .collect();
    let tracked = follow(&pyr, &priors, &starts, cfg);
    let mut views: Vec<usize> = (1..hops.len()).filter(|&k| measured(hops[k])).collect();
    if views.len() > cfg.measured_frames {
        let (n, m) = (views.len(), cfg.measured_frames);
        views = (0..m)
            .map(|j| views[j * (n - 1) / (m - 1).max(1)])
            .collect();
    }
    let tol = cfg.noise_px.max(cfg.noise_iod * iod);
    let mut fits = Vec::with_capacity(views.len());
    for k in views {
        let mut src = Vec::new();
        let mut dst = Vec::new();
        for (s, track) in starts.iter().zip(&tracked) {
            if let Some(e) = track.get(k).copied().flatten() {
                src.push(*s);
                dst.push(e);
            }
        }
        let n = src.len();
        let off_one = if n >= 8 {
            plane_fit(&src, &dst, tol).0
        } else {
            1.0
        };
        let (off_two, relief, median) = match two_planes(&src, &dst, tol) {
            Some(split) if n >= 16 => (split.off, split.relief(&src, iod, cfg), split.median),
            _ => (1.0, 1.0, f64::NAN),
        };
        fits.push(View {
            points: n,
            off_one,
            off_two,
            relief,
            median_iod: median / iod,
        });
    }
    Ok(combine_views(reference, peak, &fits, cfg))
}

/// The two-plane fit of one tracked frame of a step.
#[derive(Clone, Copy, Debug)]
struct View {
    points: usize,
    off_one: f64,
    off_two: f64,
    relief: f64,
    median_iod: f64,
}

/// A step's relief from its views. A view counts while it has enough points and keeps at
/// least half of the first view's: beyond that the surface has mostly turned away (or been
/// swapped: the patches stop matching at once), and the few survivors say little. The step
/// reports the first view's points and averages the relief over the counted views; a view
/// with no rigid surface (median error above `max_error_iod`) makes the whole step "no rigid
/// surface" through the worst median.
fn combine_views(
    reference: usize,
    peak: usize,
    views: &[View],
    cfg: &SurfaceConfig,
) -> Option<StepRelief> {
    let points = views.first()?.points;
    let counted: Vec<&View> = views
        .iter()
        .filter(|v| v.points >= cfg.min_points && 2 * v.points >= points)
        .collect();
    let mean = |f: fn(&View) -> f64| {
        if counted.is_empty() {
            return 1.0;
        }
        counted.iter().map(|v| f(v)).sum::<f64>() / counted.len() as f64
    };
    Some(StepRelief {
        reference,
        peak,
        points,
        off_one_plane: mean(|v| v.off_one),
        off_two_planes: mean(|v| v.off_two),
        relief: mean(|v| v.relief),
        median_error_iod: counted
            .iter()
            .map(|v| v.median_iod)
            .fold(f64::NAN, f64::max),
    })
}

/// The inner face: from the brows to below the mouth, between the outer eye corners —
/// texture that belongs to the face surface, not the outline or the background.
fn inner_face(f: &Detection) -> [f64; 4] {
    let [left_eye, right_eye, nose, mouth_left, mouth_right] = wide(&f.landmarks);
    let iod = inter_ocular(&f.landmarks);
    let xs = [left_eye.x, right_eye.x, mouth_left.x, mouth_right.x];
    let eye_y = (left_eye.y + right_eye.y) / 2.0;
    let mouth_y = (mouth_left.y + mouth_right.y) / 2.0;
    let x0 = xs.iter().copied().fold(f64::INFINITY, f64::min) - 0.35 * iod;
    let x1 = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max) + 0.35 * iod;
    let y0 = eye_y.min(nose.y) - 0.45 * iod;
    let y1 = mouth_y.max(nose.y) + 0.3 * iod;
    [x0, y0, x1, y1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveness::parallax::{apply, Homography};

    #[test]
    fn readable_spans_follow_the_challenge() {
        let t = |first, reached: &'static [usize], returned: &'static [usize], last| Timeline {
            first_frontal: first,
            reached,
            returned,
            last,
        };
        // Not acquired: nothing is read, whatever was pushed.
        assert!(readable(&t(None, &[], &[], 40), 30).is_empty());
        // Seeking the first turn: the last `max_hops` frames, never before the baseline.
        assert_eq!(readable(&t(Some(10), &[], &[], 90), 30), vec![60..=90]);
        assert_eq!(readable(&t(Some(10), &[], &[], 25), 30), vec![10..=25]);
        // Reached, not yet back: from the reach minus `max_hops` to the latest frame.
        assert_eq!(readable(&t(Some(10), &[50], &[], 60), 30), vec![20..=60]);
        // Back, and seeking the second turn: the first step's span is closed at its
        // return; the second starts at that return.
        assert_eq!(
            readable(&t(Some(10), &[50], &[70], 90), 30),
            vec![20..=70, 70..=90]
        );
        assert_eq!(
            readable(&t(Some(10), &[50], &[70], 130), 30),
            vec![20..=70, 100..=130]
        );
        assert_eq!(
            readable(&t(Some(10), &[50, 120], &[70, 140], 140), 30),
            vec![20..=70, 90..=140, 140..=140]
        );
    }

    /// A smooth random texture (blobs of 1.5–5 px, like skin with features), 320×240.
    fn card(seed: u64) -> (Vec<f32>, usize, usize) {
        let (w, h) = (320usize, 240usize);
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut uniform = |a: f64, b: f64| {
            // xorshift64*: enough for a test texture.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let u = (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            a + (b - a) * u
        };
        let mut t = vec![130.0f32; w * h];
        for _ in 0..1500 {
            let (bx, by) = (uniform(0.0, w as f64), uniform(0.0, h as f64));
            let (s, amp) = (uniform(1.5, 5.0), uniform(-70.0, 70.0));
            let r = (3.0 * s).ceil() as isize;
            for y in (by as isize - r).max(0)..(by as isize + r).min(h as isize) {
                for x in (bx as isize - r).max(0)..(bx as isize + r).min(w as isize) {
                    let d2 = (x as f64 - bx).powi(2) + (y as f64 - by).powi(2);
                    t[y as usize * w + x as usize] += (amp * (-d2 / (2.0 * s * s)).exp()) as f32;
                }
            }
        }
        for v in &mut t {
            *v = v.clamp(0.0, 255.0).round();
        }
        (t, w, h)
    }

    fn shifted(src: &[f32], w: usize, h: usize, dx: f64, dy: f64) -> Image {
        let img = Image {
            w,
            h,
            px: src.to_vec(),
        };
        let mut px = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                px[y * w + x] = img.sample(x as f64 - dx, y as f64 - dy);
            }
        }
        Image { w, h, px }
    }

    fn pyramid(img: Image, levels: usize) -> Pyramid {
        let mut out = vec![img];
        while out.len() < levels {
            let next = out[out.len() - 1].down();
            out.push(next);
        }
        Pyramid { levels: out }
    }

    #[test]
    fn anchored_tracking_recovers_a_shift_from_a_rough_prior() {
        let (base, w, h) = card(7);
        let a = pyramid(shifted(&base, w, h, 0.0, 0.0), 2);
        let b = pyramid(shifted(&base, w, h, 9.3, -4.6), 2);
        let starts = corners(&a.levels[0], [110.0, 70.0, 210.0, 170.0], 8.0, 50);
        assert!(starts.len() >= 20, "found {} corners", starts.len());
        // The landmarks' motion predicts the shift to within a pixel or two.
        let prior = Similarity {
            c: (1.0, 0.0),
            t: (8.0, -3.5),
        };
        let pts = follow(
            &[a, b],
            &[Similarity::IDENTITY, prior],
            &starts,
            &SurfaceConfig::default(),
        );
        let good = starts
            .iter()
            .zip(&pts)
            .filter_map(|(s, track)| Some((s, track.last().copied().flatten()?)))
            .filter(|(s, e)| (e.x - s.x - 9.3).hypot(e.y - s.y + 4.6) < 0.2)
            .count();
        assert!(
            good * 10 >= starts.len() * 9,
            "{good}/{} tracked within 0.2 px",
            starts.len()
        );
    }

    fn warp(h: &Homography, pts: &[Point2]) -> Vec<Point2> {
        pts.iter().map(|&p| apply(h, p).unwrap()).collect()
    }

    /// A dome (depth ∝ r²) over the grid, turned: horizontal parallax grows with depth.
    fn dome(src: &[Point2]) -> Vec<Point2> {
        src.iter()
            .map(|&p| {
                let r2 = ((p.x - 144.0) / 48.0).powi(2) + ((p.y - 120.0) / 45.0).powi(2);
                Point2::new(p.x + 6.0 * (1.0 - r2), p.y)
            })
            .collect()
    }

    fn grid() -> Vec<Point2> {
        (0..12)
            .flat_map(|i| {
                (0..10).map(move |j| Point2::new(100.0 + 8.0 * i as f64, 80.0 + 9.0 * j as f64))
            })
            .collect()
    }

    #[test]
    fn a_step_without_a_rigid_surface_counts_as_no_relief() {
        let cfg = SurfaceConfig::default();
        let step = |off: f64, med: f64| StepRelief {
            reference: 0,
            peak: 4,
            points: 100,
            off_one_plane: off,
            off_two_planes: off,
            relief: off,
            median_error_iod: med,
        };
        let (turn, swap) = (step(0.6, 0.03), step(0.9, 0.15));
        assert!((sequence_score(&[&turn, &turn], &cfg) - 0.6).abs() < 1e-12);
        // A swapped card's matches scatter (median 15 % of IOD): not relief.
        assert!((sequence_score(&[&turn, &swap], &cfg) - 0.3).abs() < 1e-12);
        assert_eq!(sequence_score(&[&swap], &cfg), 0.0);
    }

    #[test]
    fn views_that_lost_most_points_do_not_count() {
        let cfg = SurfaceConfig::default();
        let view = |points: usize, off_two: f64, median_iod: f64| View {
            points,
            off_one: off_two,
            off_two,
            relief: off_two,
            median_iod,
        };
        // A turn: points fade slowly, every view counts.
        let turn = [
            view(190, 0.3, 0.01),
            view(170, 0.5, 0.02),
            view(120, 0.4, 0.02),
        ];
        let s = combine_views(0, 9, &turn, &cfg).expect("views");
        assert!((s.relief - 0.4).abs() < 1e-12, "{s:?}");
        assert_eq!(s.points, 190);
        assert!((s.median_error_iod - 0.02).abs() < 1e-12);
        // A swap after the first view: the few patches still matching are not evidence.
        let swap = [
            view(194, 0.05, 0.01),
            view(52, 0.87, 0.09),
            view(27, 0.85, 0.06),
        ];
        let s = combine_views(0, 9, &swap, &cfg).expect("views");
        assert!((s.relief - 0.05).abs() < 1e-12, "{s:?}");
        // A view that no rigid surface explains marks the step through its median.
        let torn = [view(150, 0.3, 0.01), view(140, 0.9, 0.15)];
        let s = combine_views(0, 9, &torn, &cfg).expect("views");
        assert_eq!(sequence_score(&[&s], &cfg), 0.0);
        // Too few points in every view: the step is listed but cannot count.
        let thin = [view(20, 0.0, 0.01)];
        let s = combine_views(0, 9, &thin, &cfg).expect("views");
        assert!(s.points < cfg.min_points);
        assert!(combine_views(0, 9, &[], &cfg).is_none());
    }

    #[test]
    fn two_planes_explain_a_fold_but_not_a_dome() {
        let src = grid();
        // Folded card: the two halves (split at x = 144) move by different homographies
        // that agree on the fold line.
        let ha: Homography = [[1.05, 0.02, -3.0], [0.01, 1.0, 2.0], [0.0, 0.0, 1.0]];
        let fold: Vec<Point2> = src
            .iter()
            .map(|&p| {
                if p.x < 144.0 {
                    apply(&ha, p).unwrap()
                } else {
                    // Same map on the line x = 144 plus a shear growing with x − 144.
                    let q = apply(&ha, p).unwrap();
                    Point2::new(q.x - 0.12 * (p.x - 144.0), q.y + 0.03 * (p.x - 144.0))
                }
            })
            .collect();
        let off_fold = two_planes(&src, &fold, 0.5).expect("split").off;
        let (off_fold_one, _) = plane_fit(&src, &fold, 0.5);
        assert!(off_fold < 0.05, "fold off two planes: {off_fold}");
        assert!(off_fold_one > 0.2, "fold off one plane: {off_fold_one}");
        // A dome (depth ∝ r²) turned: horizontal parallax grows with depth.
        let dome = dome(&src);
        let off_dome = two_planes(&src, &dome, 0.5).expect("split").off;
        assert!(off_dome > 0.3, "dome off two planes: {off_dome}");
        // Pure homography: nothing off.
        let flat = warp(&ha, &src);
        assert!(two_planes(&src, &flat, 0.5).expect("split").off < 0.01);
        assert!(two_planes(&src[..10], &flat[..10], 0.5).is_none());
    }

    #[test]
    fn tracking_noise_averages_out_relief_does_not() {
        let cfg = SurfaceConfig::default();
        let iod = 60.0; // relief tolerance max(0.5 px, 0.7 % IOD) = 0.5 px
        let src = grid();
        // Independent per-point noise, uniform in ±0.75 px per coordinate (a fixed
        // sequence): most points alone leave the 0.5 px tolerance, their neighbourhood
        // means mostly do not.
        let mut state = 7u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1.5
        };
        let noisy = |pts: Vec<Point2>, noise: &mut dyn FnMut() -> f64| -> Vec<Point2> {
            pts.into_iter()
                .map(|p| Point2::new(p.x + noise(), p.y + noise()))
                .collect()
        };
        let ha: Homography = [[1.05, 0.02, -3.0], [0.01, 1.0, 2.0], [0.0, 0.0, 1.0]];
        let card = noisy(warp(&ha, &src), &mut noise);
        // The fit tolerance of the real configuration (1 px) keeps the noisy points in.
        let split = two_planes(&src, &card, 1.0).expect("split");
        let alone = split
            .residual
            .iter()
            .filter(|r| !(r.0.hypot(r.1) <= 0.5))
            .count() as f64
            / src.len() as f64;
        let card_relief = split.relief(&src, iod, &cfg);
        assert!(alone > 0.3, "single points off at 0.5 px: {alone}");
        assert!(card_relief < 0.2, "noisy card relief: {card_relief}");
        // The same noise on a dome: its relief survives the averaging.
        let dome = noisy(dome(&src), &mut noise);
        let split = two_planes(&src, &dome, 1.0).expect("split");
        let dome_relief = split.relief(&src, iod, &cfg);
        assert!(dome_relief > 0.5, "noisy dome relief: {dome_relief}");
    }

    #[test]
    fn bad_configurations_are_refused() {
        let with = |change: fn(&mut SurfaceConfig)| {
            let mut c = SurfaceConfig::default();
            change(&mut c);
            c
        };
        let bad = [
            with(|c| c.min_points = 2),
            with(|c| c.noise_px = f64::NAN),
            with(|c| c.min_relief = 1.5),
            with(|c| c.levels = 0),
            with(|c| c.measured_frames = 0),
            with(|c| c.neighbours = 0),
            with(|c| c.relief_px = 0.0),
            with(|c| c.crease_iod = 1.0),
        ];
        for cfg in bad {
            assert!(cfg.validate().is_err(), "{cfg:?}");
        }
        assert!(SurfaceConfig::default().validate().is_ok());
    }
}

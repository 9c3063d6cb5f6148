//! The two-plane model: the best split of the tracked points into two homographies (a
//! print, flat or folded along a line), and how far each point sits off it.

use super::super::linalg::Point2;
use super::super::parallax::{apply, fit_homography, Homography};
use super::config::SurfaceConfig;

/// Fraction of points off one least-squares homography (refitted without outliers) and
/// their median error.
pub(super) fn plane_fit(src: &[Point2], dst: &[Point2], tol: f64) -> (f64, f64) {
    let idx: Vec<usize> = (0..src.len()).collect();
    match robust_fit(src, dst, &idx, tol) {
        Some(h) => {
            let errs: Vec<f64> = idx.iter().map(|&i| transfer(&h, src[i], dst[i])).collect();
            (off_fraction(&errs, tol), median(&errs))
        }
        None => (1.0, f64::NAN),
    }
}

/// The best split of one view's points into two planes.
pub(super) struct Split {
    /// Fraction of points off their side's homography at the fit tolerance.
    pub(super) off: f64,
    /// Median transfer error, pixels.
    pub(super) median: f64,
    /// Per point: observed minus predicted position (NaN where the homography fails).
    pub(super) residual: Vec<(f64, f64)>,
    /// Per point: which side of the split it is on, and its distance to the split line
    /// (pixels).
    pub(super) side: Vec<(bool, f64)>,
}

impl Split {
    /// Fraction of points whose neighbourhood's mean residual leaves the planes. Why the
    /// neighbourhood: tracking noise is independent from patch to patch and averages out
    /// over neighbours, relief is smooth over the face and does not — so a tolerance well
    /// under the single-point one separates them (the simulated heads refused at the same
    /// folded-print acceptance fell by about two thirds on the tuning data, liveness note).
    pub(super) fn relief(&self, src: &[Point2], iod: f64, cfg: &SurfaceConfig) -> f64 {
        let tol = cfg.relief_px.max(cfg.relief_iod * iod);
        let crease = cfg.crease_iod * iod;
        let n = src.len();
        let mut judged: Vec<usize> = (0..n).filter(|&i| self.side[i].1 >= crease).collect();
        if judged.len() < 8 {
            judged = (0..n).collect();
        }
        let mut near: Vec<(f64, usize)> = Vec::with_capacity(n);
        let mut off = 0usize;
        for &i in &judged {
            let here = self.side[i].0;
            near.clear();
            near.extend(
                (0..n)
                    .filter(|&j| self.side[j].0 == here)
                    .map(|j| (src[i].dist(src[j]), j)),
            );
            let k = cfg.neighbours.min(near.len());
            if k == 0 {
                continue;
            }
            if k < near.len() {
                near.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
            }
            let (sx, sy) = near[..k].iter().fold((0.0, 0.0), |(x, y), &(_, j)| {
                (x + self.residual[j].0, y + self.residual[j].1)
            });
            let m = (sx / k as f64).hypot(sy / k as f64);
            if !(m <= tol) {
                off += 1;
            }
        }
        off as f64 / judged.len().max(1) as f64
    }
}

/// The split of the points by a line into two planes that leaves the fewest points off
/// at the fit tolerance `tol`; `None` when no split can be fitted.
pub(super) fn two_planes(src: &[Point2], dst: &[Point2], tol: f64) -> Option<Split> {
    let n = src.len();
    let min_side = 8;
    // (off, median, direction, line, the first side's points, the two homographies)
    type Best = (f64, f64, (f64, f64), f64, Vec<usize>, [Homography; 2]);
    let mut best: Option<Best> = None;
    for o in 0..12 {
        let a = std::f64::consts::PI * f64::from(o) / 12.0;
        let (s, c) = a.sin_cos();
        let mut proj: Vec<(f64, usize)> = src
            .iter()
            .enumerate()
            .map(|(i, p)| (p.x * c + p.y * s, i))
            .collect();
        proj.sort_by(|x, y| x.0.total_cmp(&y.0));
        for q in 0..=10 {
            let cut = n * (5 + q) / 20; // 25 % … 75 % of the points on the first side
            if cut < min_side || n - cut < min_side {
                continue;
            }
            let left: Vec<usize> = proj[..cut].iter().map(|p| p.1).collect();
            let right: Vec<usize> = proj[cut..].iter().map(|p| p.1).collect();
            let (Some(hl), Some(hr)) = (
                robust_fit(src, dst, &left, tol),
                robust_fit(src, dst, &right, tol),
            ) else {
                continue;
            };
            let mut errs = Vec::with_capacity(n);
            errs.extend(left.iter().map(|&i| transfer(&hl, src[i], dst[i])));
            errs.extend(right.iter().map(|&i| transfer(&hr, src[i], dst[i])));
            let off = off_fraction(&errs, tol);
            if best.as_ref().map_or(true, |b| off < b.0) {
                let line = (proj[cut - 1].0 + proj[cut].0) / 2.0;
                best = Some((off, median(&errs), (c, s), line, left, [hl, hr]));
            }
        }
    }
    let (off, median, (c, s), line, left, [hl, hr]) = best?;
    let mut first = vec![false; n];
    for i in left {
        first[i] = true;
    }
    let side: Vec<(bool, f64)> = src
        .iter()
        .zip(&first)
        .map(|(p, &f)| (f, (p.x * c + p.y * s - line).abs()))
        .collect();
    let residual = src
        .iter()
        .zip(dst)
        .zip(&first)
        .map(|((&p, &q), &f)| {
            let h = if f { &hl } else { &hr };
            apply(h, p).map_or((f64::NAN, f64::NAN), |m| (q.x - m.x, q.y - m.y))
        })
        .collect();
    Some(Split {
        off,
        median,
        residual,
        side,
    })
}

/// Least-squares homography on `idx`, refitted twice on the points within the larger of
/// `tol` and 2.5× the current RMS error (so a few mistracked points do not tilt it).
pub(super) fn robust_fit(
    src: &[Point2],
    dst: &[Point2],
    idx: &[usize],
    tol: f64,
) -> Option<Homography> {
    let pick = |set: &[usize]| -> (Vec<Point2>, Vec<Point2>) {
        (
            set.iter().map(|&i| src[i]).collect(),
            set.iter().map(|&i| dst[i]).collect(),
        )
    };
    let (s, d) = pick(idx);
    let mut h = fit_homography(&s, &d)?;
    for _ in 0..2 {
        let errs: Vec<f64> = idx.iter().map(|&i| transfer(&h, src[i], dst[i])).collect();
        let rms = (errs.iter().map(|e| e * e).sum::<f64>() / errs.len() as f64).sqrt();
        let keep_below = tol.max(2.5 * rms);
        let kept: Vec<usize> = idx
            .iter()
            .zip(&errs)
            .filter(|(_, &e)| e <= keep_below)
            .map(|(&i, _)| i)
            .collect();
        if kept.len() < 8 || kept.len() == idx.len() {
            break;
        }
        let (s, d) = pick(&kept);
        h = fit_homography(&s, &d)?;
    }
    Some(h)
}

pub(super) fn transfer(h: &Homography, p: Point2, q: Point2) -> f64 {
    apply(h, p).map_or(f64::INFINITY, |m| m.dist(q))
}

pub(super) fn off_fraction(errs: &[f64], tol: f64) -> f64 {
    if errs.is_empty() {
        return 1.0;
    }
    errs.iter().filter(|&&e| !(e <= tol)).count() as f64 / errs.len() as f64
}

pub(super) fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|e| e.is_finite()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

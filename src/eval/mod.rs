//! Evaluation protocols for 1:1 verification: LFW-style pair lists, 10-fold accuracy,
//! ROC, TAR at a given FAR, EER; and [`gallery`], every pair of a labelled folder scored
//! and reported per population; [`liveness`], liveness thresholds chosen on real recordings
//! and judged on recordings held out.
//!
//! Why in the library: vendors must measure facegate on *their* cameras and population
//! before trusting a threshold; the same code that produced the published numbers runs on
//! their data (`facegate eval lfw`). Everything here is pure arithmetic on distances, so
//! it is tested exactly.

use std::path::{Path, PathBuf};

pub mod gallery;
pub mod liveness;
mod matcher;
pub mod pad;

pub use matcher::{raw_embedding, Matcher};

/// Errors reading a pairs file.
#[derive(Debug, thiserror::Error)]
pub enum PairsError {
    /// The file could not be read.
    #[error("cannot read pairs file: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not in the LFW pairs format.
    #[error("pairs file line {line}: {reason}")]
    Format {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// One pair of images to compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// First image, relative to the images directory.
    pub a: PathBuf,
    /// Second image.
    pub b: PathBuf,
    /// Whether both show the same person.
    pub same: bool,
    /// Fold index (0-based).
    pub fold: usize,
}

/// Parses the standard LFW `pairs.txt`: a header `FOLDS N`, then per fold N same-person
/// lines `name i j` followed by N different-person lines `name1 i name2 j`; images are
/// `name/name_%04d.jpg`.
pub fn parse_lfw_pairs(text: &str) -> Result<Vec<Pair>, PairsError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or(PairsError::Format {
        line: 1,
        reason: "empty file".into(),
    })?;
    let head: Vec<&str> = header.split_whitespace().collect();
    let bad = |line: usize, reason: &str| PairsError::Format {
        line,
        reason: reason.into(),
    };
    let (folds, per) = match head.as_slice() {
        [f, n] => (
            f.parse::<usize>()
                .map_err(|_| bad(1, "header must be `FOLDS PAIRS_PER_CLASS`"))?,
            n.parse::<usize>()
                .map_err(|_| bad(1, "header must be `FOLDS PAIRS_PER_CLASS`"))?,
        ),
        _ => return Err(bad(1, "header must be `FOLDS PAIRS_PER_CLASS`")),
    };
    if folds == 0 || per == 0 || folds > 1000 || per > 1_000_000 {
        return Err(bad(
            1,
            "fold count and pairs per class must be positive and sane",
        ));
    }
    let image = |name: &str, idx: &str, line: usize| -> Result<PathBuf, PairsError> {
        let i: u32 = idx
            .parse()
            .map_err(|_| bad(line, "image number is not a number"))?;
        if name.is_empty() || name.contains(['/', '\\']) || name == ".." || name == "." {
            return Err(bad(line, "name must be a plain directory name"));
        }
        Ok(Path::new(name).join(format!("{name}_{i:04}.jpg")))
    };
    let mut pairs = Vec::with_capacity(folds * per * 2);
    for fold in 0..folds {
        for k in 0..2 * per {
            let (i, l) = lines
                .next()
                .ok_or_else(|| bad(0, &format!("file ends in fold {}", fold + 1)))?;
            let line = i + 1;
            let f: Vec<&str> = l.split_whitespace().collect();
            let same = k < per;
            let pair = match (same, f.as_slice()) {
                (true, [n, i, j]) => Pair {
                    a: image(n, i, line)?,
                    b: image(n, j, line)?,
                    same,
                    fold,
                },
                (false, [n1, i, n2, j]) => Pair {
                    a: image(n1, i, line)?,
                    b: image(n2, j, line)?,
                    same,
                    fold,
                },
                (true, _) => return Err(bad(line, "expected a same-person line `name i j`")),
                (false, _) => {
                    return Err(bad(
                        line,
                        "expected a different-person line `name1 i name2 j`",
                    ))
                }
            };
            pairs.push(pair);
        }
    }
    Ok(pairs)
}

/// A scored pair: the distance (lower = more similar) and the ground truth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    /// Distance between the two templates.
    pub distance: f32,
    /// Same person?
    pub same: bool,
    /// Fold index.
    pub fold: usize,
}

/// Accuracy of the rule `distance <= threshold` ⇔ same.
pub fn accuracy(scores: &[Scored], threshold: f32) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    let right = scores
        .iter()
        .filter(|s| (s.distance <= threshold) == s.same)
        .count();
    right as f64 / scores.len() as f64
}

/// The threshold maximising accuracy on `scores` (midpoint between neighbouring
/// distances; ties resolved towards the smaller threshold).
pub fn best_threshold(scores: &[Scored]) -> f32 {
    let mut d: Vec<f32> = scores
        .iter()
        .map(|s| s.distance)
        .filter(|d| d.is_finite())
        .collect();
    d.sort_by(f32::total_cmp);
    d.dedup();
    let mut best = (f64::MIN, 0.0f32);
    let mut candidates: Vec<f32> = d.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
    if let (Some(first), Some(last)) = (d.first(), d.last()) {
        candidates.push(first - 1e-6);
        candidates.push(last + 1e-6);
    }
    // O(n log n): sweep the sorted candidates counting.
    candidates.sort_by(f32::total_cmp);
    let mut sorted: Vec<Scored> = scores.to_vec();
    sorted.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    let total_diff = sorted.iter().filter(|s| !s.same).count();
    let (mut i, mut same_below, mut diff_below) = (0usize, 0usize, 0usize);
    for t in candidates {
        while i < sorted.len() && sorted[i].distance <= t {
            if sorted[i].same {
                same_below += 1;
            } else {
                diff_below += 1;
            }
            i += 1;
        }
        let right = same_below + (total_diff - diff_below);
        let acc = right as f64 / sorted.len().max(1) as f64;
        if acc > best.0 {
            best = (acc, t);
        }
    }
    best.1
}

/// Result of the 10-fold protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldResult {
    /// Accuracy on each fold, with the threshold chosen on the other folds.
    pub fold_accuracy: Vec<f64>,
    /// The threshold chosen for each fold.
    pub fold_threshold: Vec<f32>,
    /// Mean fold accuracy.
    pub mean: f64,
    /// Standard deviation of the fold accuracies (population, as LFW results report).
    pub std: f64,
}

/// The standard protocol: for each fold, pick the threshold on the others, test on it.
pub fn k_fold(scores: &[Scored]) -> FoldResult {
    let folds = scores.iter().map(|s| s.fold + 1).max().unwrap_or(0);
    let mut acc = Vec::with_capacity(folds);
    let mut ths = Vec::with_capacity(folds);
    for f in 0..folds {
        let train: Vec<Scored> = scores.iter().copied().filter(|s| s.fold != f).collect();
        let test: Vec<Scored> = scores.iter().copied().filter(|s| s.fold == f).collect();
        let t = best_threshold(&train);
        acc.push(accuracy(&test, t));
        ths.push(t);
    }
    let n = acc.len().max(1) as f64;
    let mean = acc.iter().sum::<f64>() / n;
    let std = (acc.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n).sqrt();
    FoldResult {
        fold_accuracy: acc,
        fold_threshold: ths,
        mean,
        std,
    }
}

/// One point of a ROC curve.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct RocPoint {
    /// Threshold.
    pub threshold: f32,
    /// False accept rate (impostor pairs accepted).
    pub far: f64,
    /// True accept rate (genuine pairs accepted).
    pub tar: f64,
}

/// The ROC curve over all distinct thresholds.
pub fn roc(scores: &[Scored]) -> Vec<RocPoint> {
    let mut sorted: Vec<Scored> = scores
        .iter()
        .copied()
        .filter(|s| s.distance.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    let genuine = scores.iter().filter(|s| s.same).count().max(1) as f64;
    let impostor = scores.iter().filter(|s| !s.same).count().max(1) as f64;
    let (mut g, mut im) = (0usize, 0usize);
    let mut out = vec![RocPoint {
        threshold: f32::NEG_INFINITY,
        far: 0.0,
        tar: 0.0,
    }];
    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].distance;
        while i < sorted.len() && sorted[i].distance == t {
            if sorted[i].same {
                g += 1
            } else {
                im += 1
            }
            i += 1;
        }
        out.push(RocPoint {
            threshold: t,
            far: im as f64 / impostor,
            tar: g as f64 / genuine,
        });
    }
    out
}

/// The highest TAR whose FAR does not exceed `far`.
pub fn tar_at_far(roc: &[RocPoint], far: f64) -> f64 {
    roc.iter()
        .filter(|p| p.far <= far)
        .map(|p| p.tar)
        .fold(0.0, f64::max)
}

/// Equal error rate: where FAR equals FRR (1 − TAR), interpolated between ROC points.
pub fn eer(roc: &[RocPoint]) -> f64 {
    let mut prev: Option<(f64, f64)> = None;
    for p in roc {
        let (far, frr) = (p.far, 1.0 - p.tar);
        if far >= frr {
            return match prev {
                Some((pfar, pfrr)) => {
                    // Intersect the segment with far = frr.
                    let (d0, d1) = (pfrr - pfar, frr - far);
                    let w = if (d0 - d1).abs() > 0.0 {
                        d0 / (d0 - d1)
                    } else {
                        0.0
                    };
                    pfar + w * (far - pfar)
                }
                None => far,
            };
        }
        prev = Some((far, frr));
    }
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lfw_pairs_and_rejects_junk() {
        let t = "2 1\nA 1 2\nA 1 B 3\nC 2 4\nD 1 E 1\n";
        let p = parse_lfw_pairs(t).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].a, Path::new("A/A_0001.jpg"));
        assert!(p[0].same && !p[1].same);
        assert_eq!(p[1].b, Path::new("B/B_0003.jpg"));
        assert_eq!(p[3].fold, 1);
        assert!(parse_lfw_pairs("").is_err());
        assert!(parse_lfw_pairs("2 1\nA 1 2\n").is_err());
        assert!(parse_lfw_pairs("1 1\nA 1\nA 1 B 2\n").is_err());
        assert!(parse_lfw_pairs("1 1\n../etc 1 2\nA 1 B 2\n").is_err());
        assert!(parse_lfw_pairs("x y\n").is_err());
    }

    fn s(distance: f32, same: bool, fold: usize) -> Scored {
        Scored {
            distance,
            same,
            fold,
        }
    }

    #[test]
    fn threshold_and_folds() {
        let scores = vec![
            s(0.1, true, 0),
            s(0.9, false, 0),
            s(0.2, true, 1),
            s(0.8, false, 1),
            s(0.3, true, 2),
            s(0.7, false, 2),
        ];
        let t = best_threshold(&scores);
        assert!(t > 0.3 && t < 0.7, "{t}");
        assert_eq!(accuracy(&scores, t), 1.0);
        let k = k_fold(&scores);
        assert_eq!(k.fold_accuracy, vec![1.0, 1.0, 1.0]);
        assert_eq!(k.std, 0.0);
        // One overlapping pair costs exactly that pair.
        let mut hard = scores.clone();
        hard.push(s(0.75, true, 0));
        assert!((accuracy(&hard, best_threshold(&hard)) - 6.0 / 7.0).abs() < 1e-9);
    }

    #[test]
    fn roc_tar_far_eer() {
        // Genuine 0.1, 0.2, 0.5, 0.6; impostor 0.4, 0.7, 0.8, 0.9.
        let sc: Vec<Scored> = [
            (0.1, true),
            (0.2, true),
            (0.5, true),
            (0.6, true),
            (0.4, false),
            (0.7, false),
            (0.8, false),
            (0.9, false),
        ]
        .iter()
        .map(|&(d, g)| s(d, g, 0))
        .collect();
        let r = roc(&sc);
        assert_eq!(tar_at_far(&r, 0.0), 0.5);
        assert_eq!(tar_at_far(&r, 0.25), 1.0);
        let e = eer(&r);
        assert!((e - 0.25).abs() < 1e-9, "{e}");
        let perfect: Vec<Scored> = vec![s(0.1, true, 0), s(0.9, false, 0)];
        assert_eq!(eer(&roc(&perfect)), 0.0);
    }
}

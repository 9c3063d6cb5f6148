//! Head-pose error of the landmark estimator (`liveness::pose`) against ground truth, on
//! the simulated live heads of a suite (`liveness_suite --types live_sim` writes the true
//! pose of every frame to `pose.txt`). The frames are real photos rendered on a head
//! shape, so the detector and its landmarks see real faces; the truth is exact.
//!
//! What is compared is what the challenge uses: yaw and pitch *relative to the person's
//! own frontal baseline* (mean of the first five frames with a face), estimate against
//! truth. Printed per axis and per bucket of the true relative angle: frames, median and
//! 90th-percentile absolute error, mean signed error, and the least-squares gain of
//! estimate over truth (1 = unbiased scale).
//!
//! `cargo run --release -p facegate-sim --bin liveness_pose -- SUITE/live [--max N]`

use std::path::{Path, PathBuf};

use facegate::face::{FaceConfig, FacePipeline};
use facegate::frame::{DecodeLimits, Frame};
use facegate::liveness::pose;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut root: Option<PathBuf> = None;
    let mut max = usize::MAX;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--max" => max = args.next().ok_or("--max N")?.parse()?,
            _ => root = Some(PathBuf::from(a)),
        }
    }
    let root = root.ok_or("usage: liveness_pose SUITE/live [--max N]")?;
    let mut seqs: Vec<PathBuf> = std::fs::read_dir(&root)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("pose.txt").is_file())
        .collect();
    seqs.sort();
    seqs.truncate(max);
    if seqs.is_empty() {
        return Err(format!("no sequence with pose.txt under {}", root.display()).into());
    }
    let faces = FacePipeline::with_default_models(FaceConfig::default())?;
    // (true, estimated) relative angles per axis.
    let mut yaw: Vec<(f64, f64)> = Vec::new();
    let mut pitch: Vec<(f64, f64)> = Vec::new();
    let mut missed = 0usize;
    let mut frames_total = 0usize;
    for seq in &seqs {
        let truth = read_truth(&seq.join("pose.txt"))?;
        let mut pairs: Vec<([f64; 2], [f64; 2])> = Vec::new();
        for (k, t) in truth.iter().enumerate() {
            frames_total += 1;
            let frame = Frame::open(seq.join(format!("{k:04}.jpg")), &DecodeLimits::default())?;
            let found = faces.detect(&frame)?;
            let [d] = found.as_slice() else {
                missed += 1;
                continue;
            };
            match pose::estimate(&d.landmarks) {
                Ok(p) => pairs.push((*t, [p.yaw, p.pitch])),
                Err(_) => missed += 1,
            }
        }
        let Some(base) = baseline(&pairs) else {
            continue;
        };
        for (t, e) in &pairs {
            yaw.push((t[0] - base.0[0], e[0] - base.1[0]));
            pitch.push((t[1] - base.0[1], e[1] - base.1[1]));
        }
    }
    println!(
        "{} sequences, {frames_total} frames, {missed} without exactly one face",
        seqs.len()
    );
    println!("axis   |true| bucket   frames  median|err|  p90|err|  mean err   gain");
    for (name, v) in [("yaw", &yaw), ("pitch", &pitch)] {
        for (lo, hi) in [
            (0.0, 10.0),
            (10.0, 20.0),
            (20.0, 30.0),
            (30.0, 45.0),
            (45.0, 70.0),
            (0.0, 70.0),
        ] {
            let sel: Vec<(f64, f64)> = v
                .iter()
                .copied()
                .filter(|(t, _)| t.abs() >= lo && t.abs() < hi)
                .collect();
            if sel.is_empty() {
                continue;
            }
            let mut err: Vec<f64> = sel.iter().map(|(t, e)| (e - t).abs()).collect();
            err.sort_by(f64::total_cmp);
            let q = |p: f64| err[((err.len() - 1) as f64 * p).round() as usize];
            let mean = sel.iter().map(|(t, e)| e - t).sum::<f64>() / sel.len() as f64;
            let (st, se) = sel
                .iter()
                .fold((0.0, 0.0), |(a, b), (t, e)| (a + t * t, b + t * e));
            let gain = if st > 0.0 { se / st } else { f64::NAN };
            println!(
                "{name:6} {lo:>4.0}–{hi:<4.0}°    {:7}  {:10.2}°  {:7.2}°  {:+8.2}°  {gain:5.2}",
                sel.len(),
                q(0.5),
                q(0.9),
                mean
            );
        }
    }
    Ok(())
}

/// Per frame (yaw, pitch) from `pose.txt` (`frame yaw pitch roll`, `#` comments).
fn read_truth(path: &Path) -> Result<Vec<[f64; 2]>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let v: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        match v.as_slice() {
            [y, p, _] => out.push([*y, *p]),
            _ => return Err(format!("{}: bad line {line:?}", path.display()).into()),
        }
    }
    Ok(out)
}

/// Mean truth and estimate over the first five frames with a face.
fn baseline(pairs: &[([f64; 2], [f64; 2])]) -> Option<([f64; 2], [f64; 2])> {
    let first = pairs.get(..5)?;
    let n = first.len() as f64;
    let mut t = [0.0; 2];
    let mut e = [0.0; 2];
    for (a, b) in first {
        for k in 0..2 {
            t[k] += a[k] / n;
            e[k] += b[k] / n;
        }
    }
    Some((t, e))
}

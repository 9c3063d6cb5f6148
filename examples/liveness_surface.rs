//! The dense-point surface test (`liveness::surface`) per challenge step, on recorded
//! sequences: for calibrating its thresholds and reading what it measures.
//!
//! Each SEQ is a folder of frames (file-name order) with `challenge.txt` (and optionally
//! `fps.txt`, default 15); a folder holding such folders is expanded. Detections are cached
//! in `CACHE/` (plain text, landmarks only) so re-runs cost only the tracking.
//!
//! `cargo run --release --example liveness_surface -- [--min-face PX] [--cache DIR]
//! [--noise-px PX] [--noise-iod FRACTION] [--relief-px PX] [--neighbours K]
//! [--crease-iod FRACTION] [--turn-fraction F] [--steady N] SEQ…` (the tolerance,
//! neighbourhood and turn options override the defaults; `--steady N` scores the first N
//! frames, before any turn, as one step: what tracking noise and non-rigid motion alone
//! look like to the test)
//!
//! Prints one line per step: label, sequence, reference → peak frames, tracked points,
//! fraction of points off one plane and off the best two planes (each point alone, at the
//! fit tolerance), median error / IOD, the step's relief (neighbourhoods off the planes),
//! and the sequence's verdict and time per sequence.

use std::path::{Path, PathBuf};
use std::time::Instant;

use facegate::detect::{Detection, Landmarks};
use facegate::detect::{Detector, DetectorConfig};
use facegate::frame::{DecodeLimits, Frame};
use facegate::geometry::{Point, Rect};
use facegate::liveness::challenge::{self, Challenge, ChallengePass, Mode};
use facegate::liveness::fusion::LivenessPolicy;
use facegate::liveness::pose::HeadPose;
use facegate::liveness::surface;
use facegate::liveness::{GrayFrame, Observation};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut min_face = 20.0f32;
    let mut cache = PathBuf::from("target/surface-cache");
    let mut seqs: Vec<PathBuf> = Vec::new();
    let mut policy = LivenessPolicy::default();
    let mut steady: Option<usize> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--noise-px" => {
                policy.surface_config.noise_px = args.next().ok_or("--noise-px PX")?.parse()?
            }
            "--noise-iod" => {
                policy.surface_config.noise_iod =
                    args.next().ok_or("--noise-iod FRACTION")?.parse()?
            }
            "--relief-px" => {
                policy.surface_config.relief_px = args.next().ok_or("--relief-px PX")?.parse()?
            }
            "--neighbours" => {
                policy.surface_config.neighbours = args.next().ok_or("--neighbours K")?.parse()?
            }
            "--crease-iod" => {
                policy.surface_config.crease_iod =
                    args.next().ok_or("--crease-iod FRACTION")?.parse()?
            }
            "--turn-fraction" => {
                policy.surface_config.turn_fraction =
                    args.next().ok_or("--turn-fraction F")?.parse()?
            }
            "--steady" => steady = Some(args.next().ok_or("--steady N")?.parse()?),
            "--min-face" => min_face = args.next().ok_or("--min-face PX")?.parse()?,
            "--cache" => cache = PathBuf::from(args.next().ok_or("--cache DIR")?),
            _ => seqs.push(PathBuf::from(a)),
        }
    }
    let mut expanded = Vec::new();
    for s in seqs {
        if s.join("challenge.txt").is_file() {
            expanded.push(s);
        } else if s.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&s)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("challenge.txt").is_file())
                .collect();
            v.sort();
            expanded.extend(v);
        }
    }
    std::fs::create_dir_all(&cache)?;
    let det = Detector::with_default_models(DetectorConfig {
        min_face,
        ..DetectorConfig::default()
    })?;
    for seq in expanded {
        let label = seq
            .parent()
            .and_then(Path::file_name)
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let name = seq
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let steps = std::fs::read_to_string(seq.join("challenge.txt"))?;
        let fps: f64 = std::fs::read_to_string(seq.join("fps.txt"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(15.0);
        let ch = Challenge::parse_for_evaluation(steps.trim(), false)?;
        let frames = load(&det, &seq, &cache.join(format!("{label}_{name}.txt")), fps)?;
        let outcome = challenge::evaluate(&ch, Mode::Fixed, &policy.challenge, &frames)?;
        let pass = match (outcome, steady) {
            // The first N frames, before anyone turns, read as one "step": what tracking
            // noise and non-rigid motion alone look like to the test.
            (_, Some(n)) => ChallengePass::for_evaluation(
                0,
                n.min(frames.len().saturating_sub(1)),
                vec![n / 2],
                vec![n.min(frames.len().saturating_sub(1))],
                HeadPose::default(),
            ),
            (Ok(p), None) => p,
            (Err(f), None) => {
                println!("{label}\t{name}\tchallenge failed: {:?}", f.failure);
                continue;
            }
        };
        let t0 = Instant::now();
        let r = surface::analyze(&frames, &pass, &policy.surface_config)?;
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        match r {
            Err(e) => println!("{label}\t{name}\tinsufficient: {e}\t{ms:.0} ms"),
            Ok(rep) => {
                for s in &rep.steps {
                    println!(
                        "{label}\t{name}\tstep {}→{}\tpoints {}\toff1 {:.3}\toff2 {:.3}\tmed {:.4}\trelief {:.3}",
                        s.reference,
                        s.peak,
                        s.points,
                        s.off_one_plane,
                        s.off_two_planes,
                        s.median_error_iod,
                        s.relief
                    );
                }
                println!(
                    "{label}\t{name}\tscore {:.3}\t{}\t{ms:.0} ms",
                    rep.score,
                    if rep.planar { "PLANAR" } else { "relief" }
                );
            }
        }
    }
    Ok(())
}

/// Frames with luma; detections from the cache when present.
fn load(
    det: &Detector,
    dir: &Path,
    cache: &Path,
    fps: f64,
) -> Result<Vec<Observation>, Box<dyn std::error::Error>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "png"))
        .collect();
    paths.sort();
    let cached: Option<Vec<Vec<Detection>>> = std::fs::read_to_string(cache)
        .ok()
        .map(|s| s.lines().map(parse_faces).collect());
    let cached = cached.filter(|c| c.len() == paths.len());
    let mut out = Vec::with_capacity(paths.len());
    let mut text = String::new();
    for (i, p) in paths.iter().enumerate() {
        let frame = Frame::open(p, &DecodeLimits::default())?;
        let faces = match &cached {
            Some(c) => c[i].clone(),
            None => det.detect(&frame)?,
        };
        text.push_str(&format_faces(&faces));
        text.push('\n');
        let mut o = Observation::new(i as f64 / fps, faces);
        o.luma = Some(GrayFrame::new(
            frame.width(),
            frame.height(),
            frame.luma().to_vec(),
        )?);
        out.push(o);
    }
    if cached.is_none() {
        std::fs::write(cache, text)?;
    }
    Ok(out)
}

fn format_faces(faces: &[Detection]) -> String {
    faces
        .iter()
        .map(|f| {
            let b = f.bbox;
            let mut v = vec![b.x, b.y, b.width, b.height, f.score];
            for p in f.landmarks.to_array() {
                v.push(p.x);
                v.push(p.y);
            }
            v.iter()
                .map(|x| format!("{x:.3}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn parse_faces(line: &str) -> Vec<Detection> {
    line.split(';')
        .filter(|s| !s.is_empty())
        .filter_map(|f| {
            let v: Vec<f32> = f.split(',').filter_map(|x| x.parse().ok()).collect();
            (v.len() == 15).then(|| Detection {
                bbox: Rect {
                    x: v[0],
                    y: v[1],
                    width: v[2],
                    height: v[3],
                },
                score: v[4],
                landmarks: Landmarks::from_array(std::array::from_fn(|k| {
                    Point::new(v[5 + 2 * k], v[6 + 2 * k])
                })),
            })
        })
        .collect()
}

//! Real recordings (`../shared/data/liveness/genuine/<name>/*.jpg`, 15 fps): detects every
//! frame, prints the landmark noise (second-difference estimator), the pose trajectory and
//! the fixed-challenge decision. Evaluation data is never committed; the example skips
//! with a message when it is absent.
//!
//! `cargo run --release --example liveness_real -- [DATA_DIR] [--trace] [--yunet]`

use std::path::{Path, PathBuf};

use facegate::detect::yunet::{YuNet, YuNetConfig};
use facegate::detect::Detection;
use facegate::detect::{Detector, DetectorConfig};
use facegate::frame::{DecodeLimits, Frame};
use facegate::liveness::challenge::{self, Challenge, Mode};
use facegate::liveness::fusion::{LivenessPolicy, NoPassive, Requirement};
use facegate::liveness::{pose, GrayFrame, Observation};
use facegate_sim::geom::wide;

/// The challenge each recording performs (see the data's README): the webcam recording
/// turns left then right; the phone recordings follow left, right, up, down.
fn steps_of(name: &str) -> &'static str {
    if name.starts_with("webcam") {
        "left,right"
    } else {
        "left,right,up,down"
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let trace = args.iter().any(|a| a == "--trace");
    let root = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/liveness/genuine"));
    if !root.is_dir() {
        println!("skipped: {} is absent", root.display());
        return Ok(());
    }
    let det = if args.iter().any(|a| a == "--yunet") {
        Det::YuNet(YuNet::with_default_model(YuNetConfig::default())?)
    } else {
        Det::Mtcnn(Detector::with_default_models(DetectorConfig {
            min_face: 20.0,
            ..DetectorConfig::default()
        })?)
    };
    let policy = LivenessPolicy {
        identity: Requirement::Off,
        ..LivenessPolicy::default()
    };
    let mut names: Vec<String> = std::fs::read_dir(&root)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        let steps = steps_of(name);
        let dir = root.join(name);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        paths.sort();
        let t0 = std::time::Instant::now();
        let frames: Vec<Observation> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| observe(&det, p, i as f64 / 15.0))
            .collect::<Result<_, Box<dyn std::error::Error>>>()?;
        let ms = t0.elapsed().as_secs_f64() * 1e3 / frames.len().max(1) as f64;
        let single: Vec<Option<&Detection>> = frames.iter().map(Observation::single_face).collect();
        let counts = [0, 1, 2].map(|k| {
            frames
                .iter()
                .filter(|f| {
                    if k == 2 {
                        f.faces.len() >= 2
                    } else {
                        f.faces.len() == k
                    }
                })
                .count()
        });
        let (px, rel, iod) = noise(&single);
        println!("{name}: {} frames, detect {ms:.0} ms/frame, faces 0/1/2+: {}/{}/{}, median IOD {iod:.1} px, landmark noise σ ≈ {px:.2} px = {:.2} % IOD", frames.len(), counts[0], counts[1], counts[2], 100.0 * rel);
        let ch = Challenge::parse_for_evaluation(steps, false)?;
        let out = challenge::evaluate(&ch, Mode::Fixed, &policy.challenge, &frames)?;
        let d = policy.decide(
            &out,
            &frames,
            None::<&mut NoPassive>,
            None::<&mut NoPassive>,
        )?;
        println!(
            "  challenge {steps}: live={} reason={:?} parallax={:?} surface={:?} challenge={:?}",
            d.live(),
            d.reason().map(|r| r.code()),
            d.parallax().map(|p| (p.score, p.residual_iod)),
            d.surface().as_ref().map(|s| s.score),
            out.as_ref()
                .map(|p| (p.first_frontal(), p.last_frontal(), p.reached().to_vec()))
                .map_err(|f| (f.failure, f.turn, f.frame))
        );
        if trace {
            for (i, f) in frames.iter().enumerate() {
                let s: Vec<String> = f.faces.iter().map(|b| {
                    let p = pose::estimate(&b.landmarks).unwrap_or_default();
                    format!("score {:.2} iod {:5.1} box ({:.0},{:.0},{:.0}) yaw {:6.1} pitch {:6.1} roll {:6.1}", b.score, b.landmarks.inter_ocular(), b.bbox.x, b.bbox.y, b.bbox.width, p.yaw, p.pitch, p.roll)
                }).collect();
                println!("  {i:3} {}", s.join(" | "));
            }
        }
    }
    Ok(())
}

/// MTCNN (the default) or YuNet (`--yunet`).
enum Det {
    Mtcnn(Detector),
    YuNet(YuNet),
}

/// Detections and the luma (the surface layer tracks texture) of one frame.
fn observe(det: &Det, p: &Path, t: f64) -> Result<Observation, Box<dyn std::error::Error>> {
    let frame = Frame::open(p, &DecodeLimits::default())?;
    let faces = match det {
        Det::Mtcnn(d) => d.detect(&frame)?,
        Det::YuNet(d) => d.detect(&frame)?,
    };
    let mut o = Observation::new(t, faces);
    o.luma = Some(GrayFrame::new(
        frame.width(),
        frame.height(),
        frame.luma().to_vec(),
    )?);
    Ok(o)
}

/// Landmark noise from second differences over consecutive single-face frames:
/// `x[t-1] − 2x[t] + x[t+1]` has variance 6σ² for white noise; a robust (MAD) scale keeps
/// the head's own accelerations out. Returns (σ px, σ / IOD, median IOD).
fn noise(single: &[Option<&Detection>]) -> (f64, f64, f64) {
    let mut d = Vec::new();
    let mut r = Vec::new();
    let mut iods = Vec::new();
    for w in single.windows(3) {
        if let [Some(a), Some(b), Some(c)] = w {
            let [a, b, c] = [a, b, c].map(|f| wide(&f.landmarks));
            let iod = b[0].dist(b[1]);
            iods.push(iod);
            for k in 0..5 {
                for (pa, pb, pc) in [(a[k].x, b[k].x, c[k].x), (a[k].y, b[k].y, c[k].y)] {
                    let v = pa - 2.0 * pb + pc;
                    d.push(v.abs());
                    r.push(v.abs() / iod);
                }
            }
        }
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let k = 1.4826 / 6f64.sqrt();
    (k * med(d), k * med(r), med(iods))
}

//! Chooses the tracker's interval and refinement by measurement on the real recordings
//! (`../shared/data/liveness/genuine/<name>/*.jpg`, 15 fps; evaluation data, never
//! committed — the example skips with a message when it is absent).
//!
//! For every frame it runs the full detector (the reference) and, on the same decoded frame,
//! one tracker per variant: interval N ∈ {3, 5, 7, 10} × refinement {twice, when moved, once}.
//! Per recording and variant it prints:
//! - the landmark noise of the variant's sequence (second-difference estimator, σ / IOD),
//!   against the full detector's — the noise model the liveness layers were calibrated with;
//! - on the followed frames, the distance of each landmark from the full detector's on the
//!   same frame (median and p95, % IOD), and how often the main face was lost;
//! - the detector time per frame, as a ratio to the full detector's in the same run;
//! - the second-face latency bound: a face that walks in is found at the next full
//!   detection, at most N − 1 frames later.
//!
//! `cargo run --release --example track_noise -- [DATA_DIR]`

use std::path::PathBuf;
use std::time::Instant;

use facegate::detect::{Detection, Detector, DetectorConfig, Refine, Tracker};
use facegate::frame::{DecodeLimits, Frame};

const FPS: f64 = 15.0;
const INTERVALS: [u32; 4] = [3, 5, 7, 10];
const REFINES: [(Refine, &str); 3] = [
    (Refine::Twice, "twice"),
    (Refine::WhenMoved, "moved"),
    (Refine::Once, "once"),
];

struct Variant {
    interval: u32,
    refine: Refine,
    name: String,
    tracker: Tracker,
    faces: Vec<Option<Detection>>,
    secs: f64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data/liveness/genuine"));
    if !root.is_dir() {
        println!("skipped: {} is absent", root.display());
        return Ok(());
    }
    let det = Detector::with_default_models(DetectorConfig {
        min_face: 20.0,
        ..DetectorConfig::default()
    })?;
    let mut names: Vec<String> = std::fs::read_dir(&root)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    println!("variant: interval N (full detector every N frames), refinement (O-Net twice; a second time only when the first pass moved the box; once)");
    println!("columns: σ/IOD of the sequence (full detector's in brackets); followed frames: landmark distance from the full detector's, median and p95 % IOD; main face lost; detector time ÷ full detector's; second-face latency bound");
    let mut total: Vec<(String, f64, f64, usize)> = Vec::new();
    for name in &names {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(name))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        paths.sort();
        let mut full: Vec<Option<Detection>> = Vec::new();
        let mut full_secs = 0.0;
        let mut variants: Vec<Variant> = Vec::new();
        for &interval in &INTERVALS {
            for (refine, rname) in REFINES {
                variants.push(Variant {
                    interval,
                    refine,
                    name: format!("N={interval:<2} {rname}"),
                    tracker: Tracker::new(interval)?.with_refine(refine),
                    faces: Vec::new(),
                    secs: 0.0,
                });
            }
        }
        let mut followed: Vec<Vec<bool>> = vec![Vec::new(); variants.len()];
        for p in &paths {
            let frame = Frame::open(p, &DecodeLimits::default())?;
            let t = Instant::now();
            let d = det.detect(&frame)?;
            full_secs += t.elapsed().as_secs_f64();
            full.push(d.first().copied());
            for (v, fol) in variants.iter_mut().zip(&mut followed) {
                let t = Instant::now();
                let d = v.tracker.detect(&det, &frame)?;
                v.secs += t.elapsed().as_secs_f64();
                v.faces.push(d.first().copied());
                fol.push(v.tracker.last_was_followed());
            }
        }
        let (s_full, iod) = noise(&full);
        println!(
            "{name}: {} frames, median IOD {iod:.1} px, full detector σ/IOD {:.2} %, {:.1} ms/frame (loaded machine)",
            paths.len(),
            100.0 * s_full,
            1e3 * full_secs / paths.len().max(1) as f64
        );
        for (v, fol) in variants.iter().zip(&followed) {
            let (s, _) = noise(&v.faces);
            let mut dev = Vec::new();
            let mut lost = 0;
            let mut n_followed = 0;
            for ((tr, fu), &was_followed) in v.faces.iter().zip(&full).zip(fol) {
                if !was_followed {
                    continue;
                }
                n_followed += 1;
                match (tr, fu) {
                    (Some(a), Some(b)) => {
                        let iod = inter_ocular(b);
                        for (pa, pb) in a.landmarks.to_array().iter().zip(b.landmarks.to_array()) {
                            dev.push(f64::from((pa.x - pb.x).hypot(pa.y - pb.y)) / iod);
                        }
                    }
                    (None, Some(_)) => lost += 1,
                    _ => {}
                }
            }
            dev.sort_by(f64::total_cmp);
            let q = |f: f64| dev.get(((dev.len() as f64 - 1.0) * f) as usize).copied();
            let pct = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{:.2}", 100.0 * v));
            println!(
                "  {:<10} σ/IOD {:.2} % ({:.2}); followed {:>3}: landmark Δ median {} p95 {} % IOD, lost {lost}; time ÷ full {:.3}; second face ≤ {:.2} s",
                v.name,
                100.0 * s,
                100.0 * s_full,
                n_followed,
                pct(q(0.5)),
                pct(q(0.95)),
                v.secs / full_secs,
                f64::from(v.interval - 1) / FPS
            );
            let _ = v.refine;
            match total.iter_mut().find(|(n, ..)| *n == v.name) {
                Some(e) => {
                    e.1 += v.secs;
                    e.2 += full_secs;
                    e.3 += paths.len();
                }
                None => total.push((v.name.clone(), v.secs, full_secs, paths.len())),
            }
        }
    }
    println!("all recordings: detector time ÷ full detector's");
    for (name, secs, full, n) in &total {
        println!(
            "  {name:<10} {:.3} ({:.1} vs {:.1} ms/frame, loaded machine)",
            secs / full,
            1e3 * secs / *n as f64,
            1e3 * full / *n as f64
        );
    }
    Ok(())
}

fn inter_ocular(d: &Detection) -> f64 {
    let p = d.landmarks.to_array();
    f64::from((p[0].x - p[1].x).hypot(p[0].y - p[1].y))
}

/// Landmark noise from second differences over consecutive frames with a face:
/// `x[t-1] − 2x[t] + x[t+1]` has variance 6σ² for white noise; a robust (MAD) scale keeps
/// the head's own accelerations out. Returns (σ / IOD, median IOD).
fn noise(faces: &[Option<Detection>]) -> (f64, f64) {
    let mut r = Vec::new();
    let mut iods = Vec::new();
    for w in faces.windows(3) {
        if let [Some(a), Some(b), Some(c)] = w {
            let iod = inter_ocular(b);
            iods.push(iod);
            let (a, b, c) = (
                a.landmarks.to_array(),
                b.landmarks.to_array(),
                c.landmarks.to_array(),
            );
            for k in 0..5 {
                for v in [
                    a[k].x - 2.0 * b[k].x + c[k].x,
                    a[k].y - 2.0 * b[k].y + c[k].y,
                ] {
                    r.push(f64::from(v.abs()) / iod);
                }
            }
        }
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    (1.4826 / 6f64.sqrt() * med(r), med(iods))
}

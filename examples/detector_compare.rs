//! MTCNN vs YuNet, measured side by side in one process (numbers in `docs/DETECTOR.md`).
//!
//! `speed FRAME [ROUNDS]`: time per detection on one frame (use a 640×480 one), each
//! detector once per round, interleaved so that load from other processes hits all of them
//! alike; prints median and p90 and the ratio to MTCNN at min face 40. Run it under
//! `taskset -c 0` or on an idle core for one thread.
//!
//! `noise DIR...`: every frame of each recording (`DIR/*.jpg`, 15 fps) through each
//! detector; prints faces found per frame (0 / 1 / 2+), the landmark noise (robust σ of
//! the second difference over consecutive single-face frames, as `examples/liveness_real`
//! computes it) per landmark and overall in % of the inter-ocular distance, and how far
//! YuNet's points are from MTCNN's on the same frames.
//!
//! `big FRAME`: YuNet (default config) on a 4096×4096 frame tiled from FRAME (many faces);
//! run under `/usr/bin/time -v` for the peak memory.
//!
//! `cargo run --release --example detector_compare -- speed FRAME.jpg 30`
//! `cargo run --release --example detector_compare -- noise ../shared/data/liveness/genuine/*`
//! (`ONLY="yunet_n 640 @0.9"` runs MTCNN and only that YuNet variant; the default YuNet
//! score is 0.6)
use std::path::{Path, PathBuf};
use std::time::Instant;

use facegate::detect::yunet::{YuNet, YuNetConfig};
use facegate::detect::{Detection, Detector, DetectorConfig};
use facegate::frame::{DecodeLimits, Frame};
use facegate::model::OnnxModel;

type Detect = Box<dyn Fn(&Frame) -> Result<Vec<Detection>, facegate::detect::DetectError>>;

fn mtcnn(min_face: f32) -> Result<Detect, Box<dyn std::error::Error>> {
    let d = Detector::with_default_models(DetectorConfig {
        min_face,
        ..Default::default()
    })?;
    Ok(Box::new(move |f| d.detect(f)))
}

fn yunet(model: OnnxModel, config: YuNetConfig) -> Result<Detect, Box<dyn std::error::Error>> {
    let d = YuNet::new(&model, config)?;
    Ok(Box::new(move |f| d.detect(f)))
}

/// yunet_s is not shipped (see docs/DETECTOR.md); it is read from the shared model folder,
/// pinned by the digest its README gives.
const YUNET_S: &str = "../shared/models/yunet/yunet_s_dynamic.onnx";
const YUNET_S_SHA256: &str = "daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3";

fn detectors() -> Result<Vec<(String, Detect)>, Box<dyn std::error::Error>> {
    let n = || OnnxModel::embedded(facegate::detect::yunet::DEFAULT_MODEL);
    let half = YuNetConfig {
        max_side: 320,
        ..Default::default()
    };
    let mut v: Vec<(String, Detect)> = vec![
        ("mtcnn min 20".into(), mtcnn(20.0)?),
        ("mtcnn min 40".into(), mtcnn(40.0)?),
        ("mtcnn min 80".into(), mtcnn(80.0)?),
        ("yunet_n 640".into(), yunet(n()?, YuNetConfig::default())?),
        (
            "yunet_n 640 @0.9".into(),
            yunet(
                n()?,
                YuNetConfig {
                    score_threshold: 0.9,
                    ..Default::default()
                },
            )?,
        ),
        ("yunet_n 320".into(), yunet(n()?, half)?),
        (
            "yunet_n 160".into(),
            yunet(
                n()?,
                YuNetConfig {
                    max_side: 160,
                    ..Default::default()
                },
            )?,
        ),
    ];
    if Path::new(YUNET_S).is_file() {
        let s = OnnxModel::from_file(YUNET_S, YUNET_S_SHA256)?;
        v.push(("yunet_s 640".into(), yunet(s, YuNetConfig::default())?));
    }
    // Research: another YuNet file (e.g. a fixed-size one) loaded with its own digest.
    if let Ok(path) = std::env::var("EXTRA_YUNET") {
        let bytes = std::fs::read(&path)?;
        let digest = facegate::model::sha256_hex(&bytes);
        let d = YuNet::new(
            &OnnxModel::from_bytes(&path, bytes, &digest)?,
            YuNetConfig::default(),
        )?;
        let name = Path::new(&path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("extra")
            .to_string();
        v.push((name, Box::new(move |f| d.detect(f))));
    }
    Ok(v)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("speed") => speed(
            args.get(1).ok_or("speed FRAME [ROUNDS]")?,
            args.get(2).and_then(|r| r.parse().ok()).unwrap_or(30),
        ),
        Some("noise") => noise(&args[1..]),
        Some("big") => big(args.get(1).ok_or("big FRAME")?),
        _ => Err("usage: detector_compare speed FRAME [ROUNDS] | noise DIR... | big FRAME".into()),
    }
}

fn quantile(mut v: Vec<f64>, q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn speed(path: &str, rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
    let frame = Frame::open(path, &DecodeLimits::default())?;
    let dets = detectors()?;
    let mut times = vec![Vec::new(); dets.len()];
    let mut found = vec![0; dets.len()];
    for (i, (_, d)) in dets.iter().enumerate() {
        found[i] = d(&frame)?.len(); // warm-up: plans every shape once
    }
    for _ in 0..rounds {
        for (i, (_, d)) in dets.iter().enumerate() {
            let t = Instant::now();
            d(&frame)?;
            times[i].push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    println!(
        "{path}: {}×{}, {rounds} rounds, interleaved",
        frame.width(),
        frame.height()
    );
    let reference = quantile(times[1].clone(), 0.5);
    for (i, (name, _)) in dets.iter().enumerate() {
        let med = quantile(times[i].clone(), 0.5);
        println!(
            "  {name:14} median {med:6.1} ms  p90 {:6.1} ms  faces {}  ÷ mtcnn min 40 = {:.2}",
            quantile(times[i].clone(), 0.9),
            found[i],
            med / reference
        );
    }
    Ok(())
}

/// Robust σ of the second difference (white noise: Var = 6σ²), per landmark and overall,
/// in % of the inter-ocular distance, over consecutive single-face frames.
fn noise_of(single: &[Option<Detection>]) -> ([f64; 5], f64, usize) {
    let mut per = vec![Vec::new(); 5];
    let mut all = Vec::new();
    let mut triples = 0;
    for w in single.windows(3) {
        if let [Some(a), Some(b), Some(c)] = w {
            triples += 1;
            let iod = f64::from(b.landmarks.inter_ocular());
            let (pa, pb, pc) = (
                a.landmarks.to_array(),
                b.landmarks.to_array(),
                c.landmarks.to_array(),
            );
            for k in 0..5 {
                for v in [
                    pa[k].x - 2.0 * pb[k].x + pc[k].x,
                    pa[k].y - 2.0 * pb[k].y + pc[k].y,
                ] {
                    let r = 100.0 * f64::from(v.abs()) / iod;
                    per[k].push(r);
                    all.push(r);
                }
            }
        }
    }
    let k = 1.4826 / 6f64.sqrt();
    let mut out = [0.0; 5];
    for (o, v) in out.iter_mut().zip(per) {
        *o = k * quantile(v, 0.5);
    }
    (out, k * quantile(all, 0.5), triples)
}

fn noise(dirs: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let all = detectors()?;
    // The noise comparison runs the detectors liveness would: MTCNN at min face 20 (as
    // `examples/liveness_real` and the liveness tests; it stays first, the reference for
    // point distances) and YuNet at 640. `ONLY=a,b` keeps only YuNet variants named so.
    let only = std::env::var("ONLY").ok();
    let dets: Vec<&(String, Detect)> = all
        .iter()
        .filter(|(n, _)| {
            n == "mtcnn min 20"
                || (n.contains(" 640")
                    && only
                        .as_ref()
                        .map_or(true, |o| o.split(',').any(|x| x == n.as_str())))
        })
        .collect();
    let mut totals = vec![[0usize; 3]; dets.len()];
    for dir in dirs {
        let dir = Path::new(dir);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        paths.sort();
        let mut found: Vec<Vec<Vec<Detection>>> = vec![Vec::new(); dets.len()];
        for p in &paths {
            let frame = Frame::open(p, &DecodeLimits::default())?;
            for (i, (_, d)) in dets.iter().enumerate() {
                found[i].push(d(&frame)?);
            }
        }
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        println!("{name}: {} frames", paths.len());
        for (i, (dname, _)) in dets.iter().enumerate() {
            let counts = [0, 1, 2].map(|k| {
                found[i]
                    .iter()
                    .filter(|f| if k == 2 { f.len() >= 2 } else { f.len() == k })
                    .count()
            });
            for (t, c) in totals[i].iter_mut().zip(counts) {
                *t += c;
            }
            let extra: Vec<usize> = found[i]
                .iter()
                .enumerate()
                .filter(|(_, f)| f.len() >= 2)
                .map(|(j, _)| j + 1)
                .take(8)
                .collect();
            let single: Vec<Option<Detection>> = found[i]
                .iter()
                .map(|f| if f.len() == 1 { Some(f[0]) } else { None })
                .collect();
            let (per, overall, triples) = noise_of(&single);
            println!(
                "  {dname:14} faces 0/1/2+ {:3}/{:3}/{:3}  noise σ {overall:.2} % IOD over {triples} triples (eyes {:.2} {:.2}, nose {:.2}, mouth {:.2} {:.2}){}",
                counts[0], counts[1], counts[2], per[0], per[1], per[2], per[3], per[4],
                if extra.is_empty() { String::new() } else { format!("  2+ at frames {extra:?}") }
            );
        }
        // Where YuNet's points sit relative to MTCNN's on the same single-face frames.
        for (i, (dname, _)) in dets.iter().enumerate().skip(1) {
            let mut d = vec![Vec::new(); 5];
            for (m, y) in found[0].iter().zip(&found[i]) {
                if let ([m], [y]) = (m.as_slice(), y.as_slice()) {
                    let iod = f64::from(m.landmarks.inter_ocular());
                    for (k, (a, b)) in m
                        .landmarks
                        .to_array()
                        .iter()
                        .zip(y.landmarks.to_array())
                        .enumerate()
                    {
                        d[k].push(100.0 * f64::from(a.distance(b)) / iod);
                    }
                }
            }
            let med: Vec<String> = d
                .into_iter()
                .map(|v| format!("{:.1}", quantile(v, 0.5)))
                .collect();
            println!(
                "  {dname:14} median distance to MTCNN's points, % IOD: {}",
                med.join(" ")
            );
        }
    }
    println!("all recordings, faces 0/1/2+:");
    for (i, (dname, _)) in dets.iter().enumerate() {
        println!(
            "  {dname:14} {}/{}/{}",
            totals[i][0], totals[i][1], totals[i][2]
        );
    }
    Ok(())
}

fn big(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let tile = Frame::open(path, &DecodeLimits::default())?;
    let (tw, th) = (tile.width() as usize, tile.height() as usize);
    let side = 4096usize;
    let mut rgb = vec![0u8; side * side * 3];
    for y in 0..side {
        for x in 0..side {
            let s = ((y % th) * tw + (x % tw)) * 3;
            let d = (y * side + x) * 3;
            rgb[d..d + 3].copy_from_slice(&tile.rgb()[s..s + 3]);
        }
    }
    let frame = Frame::from_rgb(side as u32, side as u32, rgb)?;
    let det = YuNet::with_default_model(YuNetConfig::default())?;
    let t = Instant::now();
    let first = det.detect(&frame)?.len();
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let n = det.detect(&frame)?.len();
    println!(
        "4096×4096 tiled from {path}: first call (plans 640×640) {first_ms:.0} ms, {first} faces; second {:.0} ms, {n} faces",
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

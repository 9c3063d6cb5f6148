//! Calibrates the quality gate on controlled degradations of LFW photos.
//!
//! `cargo run --release --example quality_calibrate -- ../shared/data/lfw-dev/images [PER_GROUP]`
//!
//! A photo of each sampled person (every k-th identity with two or more photos, `PER_GROUP`
//! per group, default 200) is degraded in memory — Gaussian blur, too dark, too bright, the face made small in a frame
//! of the same size, the face cut by the frame edge — and the gate with
//! [`QualityConfig::default`] judges every version exactly as `FacePipeline::capture` does
//! (detections → `select`, chip → `check_chip`). Printed per group: the rejection rate
//! per defect and severity with the reason codes given, the false rejections of the clean
//! photos, how far each degradation moved the template from the clean photo's, the false
//! non-match rate against the person's second photo at the default threshold — over all
//! versions with a face and over those the gate passed (the harm the gate is there to
//! prevent) — and percentiles of the measures the thresholds apply to.
//!
//! Identities A–E choose thresholds; F–J are the held-out check. Photos with several faces
//! are judged by the central face (LFW centres its subject; a kiosk rejects them by policy,
//! which is not a threshold): their count is printed separately. Nothing is written to disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use facegate::align;
use facegate::detect::Detection;
use facegate::face::{FaceConfig, FacePipeline};
use facegate::frame::{DecodeLimits, Frame};
use facegate::quality::{self, QualityConfig, SeveralFaces};
use facegate::template::Template;
use image::{imageops, Rgb, RgbImage};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A controlled defect and its severity.
#[derive(Clone, Copy, Debug)]
enum Defect {
    Clean,
    /// Gaussian blur, σ in pixels of the photo.
    Blur(f32),
    /// Every channel × gain (too dark).
    Dark(f32),
    /// Every channel + offset, clipped at 255 (too bright).
    Bright(f32),
    /// The photo scaled by this factor, centred in a grey frame of the original size.
    Small(f32),
    /// The frame starts this fraction of the face box's width into the face (cut off).
    Cut(f32),
}

const DEFECTS: [Defect; 18] = [
    Defect::Clean,
    Defect::Blur(1.0),
    Defect::Blur(2.0),
    Defect::Blur(3.0),
    Defect::Blur(4.0),
    Defect::Dark(0.5),
    Defect::Dark(0.3),
    Defect::Dark(0.15),
    Defect::Bright(60.0),
    Defect::Bright(100.0),
    Defect::Bright(140.0),
    Defect::Small(0.7),
    Defect::Small(0.55),
    Defect::Small(0.45),
    Defect::Small(0.35),
    Defect::Cut(0.1),
    Defect::Cut(0.25),
    Defect::Cut(0.4),
];

impl Defect {
    fn label(self) -> String {
        match self {
            Defect::Clean => "clean".into(),
            Defect::Blur(s) => format!("blur σ={s}"),
            Defect::Dark(g) => format!("dark ×{g}"),
            Defect::Bright(o) => format!("bright +{o}"),
            Defect::Small(s) => format!("small ×{s}"),
            Defect::Cut(f) => format!("cut {:.0} %", f * 100.0),
        }
    }

    fn apply(self, img: &RgbImage, clean_face: &Detection) -> RgbImage {
        let map = |f: &dyn Fn(f32) -> f32| {
            let mut out = img.clone();
            for p in out.pixels_mut() {
                for c in p.0.iter_mut() {
                    *c = f(f32::from(*c)).round().clamp(0.0, 255.0) as u8;
                }
            }
            out
        };
        match self {
            Defect::Clean => img.clone(),
            Defect::Blur(s) => imageops::blur(img, s),
            Defect::Dark(g) => map(&|v| v * g),
            Defect::Bright(o) => map(&|v| v + o),
            Defect::Small(s) => {
                let (w, h) = img.dimensions();
                let (sw, sh) = (
                    ((w as f32 * s).round() as u32).max(1),
                    ((h as f32 * s).round() as u32).max(1),
                );
                let small = imageops::resize(img, sw, sh, imageops::FilterType::Triangle);
                let mut canvas = RgbImage::from_pixel(w, h, Rgb([128, 128, 128]));
                imageops::overlay(
                    &mut canvas,
                    &small,
                    i64::from((w - sw) / 2),
                    i64::from((h - sh) / 2),
                );
                canvas
            }
            Defect::Cut(f) => {
                let b = clean_face.bbox;
                let x0 = (b.x + f * b.width).clamp(0.0, img.width() as f32 - 1.0) as u32;
                imageops::crop_imm(img, x0, 0, img.width() - x0, img.height()).to_image()
            }
        }
    }
}

/// What the gate and the embedder made of one version of a photo.
#[derive(Clone, Debug, Default)]
struct Judged {
    /// Reason code if the gate refused it, `None` if it passed.
    refused: Option<&'static str>,
    /// Measures of the face the gate looked at (when there was one).
    inter_ocular: Option<f32>,
    in_frame: Option<f32>,
    yaw_ratio: Option<f32>,
    sharpness: Option<f32>,
    mean_luma: Option<f32>,
    /// Distance of this version's template from the clean photo's.
    drift: Option<f32>,
    /// Whether this version matches another photo of the same person at the default
    /// threshold (the harm a bad capture does is a false non-match).
    mate_match: Option<bool>,
    several_faces: bool,
}

fn judge(
    p: &FacePipeline,
    frame: &Frame,
    gate: &QualityConfig,
    clean: Option<&Template>,
    mate: Option<&Template>,
) -> Result<(Judged, Option<Template>, Option<Detection>), Error> {
    let detections = p.detect(frame)?;
    let mut j = Judged {
        several_faces: detections.len() > 1,
        ..Judged::default()
    };
    let size = (frame.width(), frame.height());
    // The face the gate would look at (central when several), to measure and embed even
    // when the gate refuses it.
    let central = QualityConfig::permissive(SeveralFaces::Central);
    let Ok(face) = quality::select(&detections, size, &central).copied() else {
        j.refused = Some(quality::reasons::NO_FACE.code());
        return Ok((j, None, None));
    };
    j.inter_ocular = Some(face.landmarks.inter_ocular());
    j.yaw_ratio = Some(quality::yaw_ratio(&face).abs());
    let frame_rect = facegate::geometry::Rect {
        x: 0.0,
        y: 0.0,
        width: size.0 as f32,
        height: size.1 as f32,
    };
    j.in_frame = Some(face.bbox.intersection_area(&frame_rect) / face.bbox.area().max(1e-6));
    let verdict = quality::select(&detections, size, gate).map(|_| ());
    let chip = align::align(frame, &face.landmarks)?;
    let q = quality::measure(&chip);
    j.sharpness = Some(q.sharpness);
    j.mean_luma = Some(q.mean_luma);
    j.refused = verdict
        .and_then(|()| quality::check_chip(&chip, gate).map(|_| ()))
        .err()
        .map(|r| r.code());
    let m = facegate::eval::Matcher::new(p);
    let t = m.embed_chip(&chip)?;
    j.drift = clean.map(|c| c.distance(&t));
    j.mate_match = mate.map(|mate| m.compare(mate, &t).same_person());
    Ok((j, Some(t), Some(face)))
}

fn to_image(f: &Frame) -> Result<RgbImage, Error> {
    RgbImage::from_raw(f.width(), f.height(), f.rgb().to_vec()).ok_or_else(|| "bad frame".into())
}

fn to_frame(img: RgbImage) -> Result<Frame, Error> {
    let (w, h) = img.dimensions();
    Ok(Frame::from_rgb(w, h, img.into_raw())?)
}

/// All versions of a person's photo, in `DEFECTS` order (only the clean one when it or
/// the mate, another photo of the same person, has no face).
fn process(
    p: &FacePipeline,
    gate: &QualityConfig,
    (path, mate): &(PathBuf, PathBuf),
) -> Result<Vec<Judged>, Error> {
    let permissive = QualityConfig::permissive(SeveralFaces::Central);
    let mate_frame = Frame::open(mate, &DecodeLimits::default())?;
    let mate = judge(p, &mate_frame, &permissive, None, None)?.1;
    let frame = Frame::open(path, &DecodeLimits::default())?;
    let (clean, template, face) = judge(p, &frame, gate, None, mate.as_ref())?;
    let (Some(template), Some(face), Some(mate)) = (template, face, mate) else {
        return Ok(vec![clean]);
    };
    let img = to_image(&frame)?;
    let mut out = vec![clean];
    for d in DEFECTS.iter().skip(1) {
        let f = to_frame(d.apply(&img, &face))?;
        out.push(judge(p, &f, gate, Some(&template), Some(&mate))?.0);
    }
    Ok(out)
}

fn percentile(v: &mut [f32], q: f64) -> f32 {
    if v.is_empty() {
        return f32::NAN;
    }
    v.sort_by(f32::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v[i.min(v.len() - 1)]
}

fn report(name: &str, photos: &[Vec<Judged>]) {
    let usable: Vec<&Vec<Judged>> = photos.iter().filter(|v| v.len() == DEFECTS.len()).collect();
    println!("\n### {name}\n");
    println!(
        "{} people; {} left out (no face found in the photo or its mate); {} of the rest hold several faces (judged by the central one).\n",
        photos.len(),
        photos.len() - usable.len(),
        usable.iter().filter(|v| v[0].several_faces).count()
    );
    println!("| version | N | refused | reasons | drift from clean, median / p90 | FNMR, all faces | FNMR, passed | FNMR, refused |");
    println!("|---|---|---|---|---|---|---|---|");
    for (k, d) in DEFECTS.iter().enumerate() {
        let n = usable.len();
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for v in &usable {
            if let Some(r) = v[k].refused {
                *reasons.entry(r.trim_start_matches("quality.")).or_default() += 1;
            }
        }
        let refused: usize = reasons.values().sum();
        let mut drift: Vec<f32> = usable.iter().filter_map(|v| v[k].drift).collect();
        let drift = if drift.is_empty() {
            "—".to_string()
        } else {
            format!(
                "{:.3} / {:.3}",
                percentile(&mut drift, 0.5),
                percentile(&mut drift, 0.9)
            )
        };
        let reasons = reasons
            .iter()
            .map(|(r, c)| format!("{r} {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // FNMR over the versions with a face: all, passed (Some(true)) or refused.
        let fnmr = |passed: Option<bool>| {
            let m: Vec<bool> = usable
                .iter()
                .filter(|v| passed.map_or(true, |p| p == v[k].refused.is_none()))
                .filter_map(|v| v[k].mate_match)
                .collect();
            let non = m.iter().filter(|&&x| !x).count();
            format!(
                "{:.1} % ({non}/{})",
                100.0 * non as f64 / m.len().max(1) as f64,
                m.len()
            )
        };
        println!(
            "| {} | {n} | {:.1} % ({refused}) | {} | {drift} | {} | {} | {} |",
            d.label(),
            100.0 * refused as f64 / n.max(1) as f64,
            if reasons.is_empty() { "—" } else { &reasons },
            fnmr(None),
            fnmr(Some(true)),
            fnmr(Some(false)),
        );
    }
    println!("\nMeasures (p1 / p5 / p50 / p95 / p99 over the faces found):\n");
    println!("| version | sharpness | mean luma | inter-ocular px | in frame | |yaw ratio| |");
    println!("|---|---|---|---|---|---|");
    for (k, d) in DEFECTS.iter().enumerate() {
        let col = |f: fn(&Judged) -> Option<f32>| {
            let mut v: Vec<f32> = usable.iter().filter_map(|p| f(&p[k])).collect();
            let qs = [0.01, 0.05, 0.5, 0.95, 0.99].map(|q| percentile(&mut v, q));
            format!(
                "{:.0} / {:.0} / {:.0} / {:.0} / {:.0}",
                qs[0], qs[1], qs[2], qs[3], qs[4]
            )
        };
        let frac = |f: fn(&Judged) -> Option<f32>, q: [f64; 3]| {
            let mut v: Vec<f32> = usable.iter().filter_map(|p| f(&p[k])).collect();
            let qs = q.map(|q| percentile(&mut v, q));
            format!("{:.2} / {:.2} / {:.2}", qs[0], qs[1], qs[2])
        };
        println!(
            "| {} | {} | {} | {} | {} (p1/p5/p50) | {} (p50/p95/p99) |",
            d.label(),
            col(|j| j.sharpness),
            col(|j| j.mean_luma),
            col(|j| j.inter_ocular),
            frac(|j| j.in_frame, [0.01, 0.05, 0.5]),
            frac(|j| j.yaw_ratio, [0.5, 0.95, 0.99]),
        );
    }
}

/// The first two photos of every k-th identity with two or more whose name starts with a
/// letter in `letters`: (photo to degrade, mate).
fn sample(
    root: &Path,
    letters: std::ops::RangeInclusive<char>,
    n: usize,
) -> Vec<(PathBuf, PathBuf)> {
    let mut ids: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    ids.retain(|p| {
        p.file_name()
            .and_then(|s| s.to_str())
            .and_then(|s| s.chars().next())
            .is_some_and(|c| letters.contains(&c.to_ascii_uppercase()))
    });
    ids.sort();
    let pairs: Vec<(PathBuf, PathBuf)> = ids
        .iter()
        .filter_map(|dir| {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
                .collect();
            files.sort();
            let mut it = files.into_iter();
            Some((it.next()?, it.next()?))
        })
        .collect();
    let step = (pairs.len() / n.max(1)).max(1);
    pairs.into_iter().step_by(step).take(n).collect()
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().ok_or(
        "usage: quality_calibrate LFW_IMAGES_DIR [PER_GROUP] (e.g. ../shared/data/lfw-dev/images)",
    )?);
    let per_group: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    // The shipped thresholds; several faces resolved to the central one (see above).
    let gate = QualityConfig {
        several_faces: SeveralFaces::Central,
        ..QualityConfig::default()
    };
    println!("QualityConfig::default() with several_faces: Central = {gate:?}");
    let pipeline = FacePipeline::with_default_models(FaceConfig::default())?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let started = std::time::Instant::now();
    for (name, letters) in [
        ("Identities A–E (threshold choice)", 'A'..='E'),
        ("Identities F–J (held out)", 'F'..='J'),
    ] {
        let paths = sample(&root, letters, per_group);
        if paths.is_empty() {
            return Err(format!("{}: no identities found", root.display()).into());
        }
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, Vec<Judged>)>> = Mutex::new(Vec::new());
        let failure: Mutex<Option<String>> = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    match process(&pipeline, &gate, path) {
                        Ok(v) => results
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((i, v)),
                        Err(e) => {
                            *failure.lock().unwrap_or_else(|e| e.into_inner()) =
                                Some(format!("{}: {e}", path.0.display()));
                            break;
                        }
                    }
                });
            }
        });
        if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e.into());
        }
        let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        results.sort_by_key(|(i, _)| *i);
        let photos: Vec<Vec<Judged>> = results.into_iter().map(|(_, v)| v).collect();
        report(name, &photos);
    }
    eprintln!("done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

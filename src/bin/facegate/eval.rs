//! `facegate eval lfw --pairs PAIRS_TXT --images DIR [--json] [--roc PNG]`: the standard
//! LFW verification protocol on the shipped pipeline.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use facegate::detect::{Detection, Landmarks};
use facegate::eval::{self, Scored};
use facegate::face::{CaptureError, FaceConfig, FacePipeline, DEFAULT_THRESHOLD};
use facegate::frame::{DecodeLimits, Frame};
use facegate::geometry::Point;
use facegate::quality::{QualityConfig, SeveralFaces};
use facegate::template::Template;

use crate::common::fail;

/// Evaluations.
#[derive(clap::Subcommand)]
pub enum Command {
    /// LFW 10-fold verification protocol (threshold chosen on nine folds, tested on the tenth).
    Lfw(LfwArgs),
}

/// `eval lfw` options.
#[derive(clap::Args)]
pub struct LfwArgs {
    /// The pairs file (standard LFW format).
    #[arg(long)]
    pairs: PathBuf,
    /// The images directory (`<name>/<name>_NNNN.jpg`).
    #[arg(long)]
    images: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Write the ROC curve to this PNG file.
    #[arg(long)]
    roc: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Average each template with its mirror image's.
    #[arg(long)]
    mirror: bool,
    /// Smallest face to look for, in pixels.
    #[arg(long, default_value_t = 20.0)]
    min_face: f32,
    /// Where no face is detected: `mean` aligns the image with the mean landmark positions
    /// of the detected faces of the same set (LFW centres its faces by construction);
    /// `reject` scores every pair with that image as "different person".
    #[arg(long, value_enum, default_value_t = NoFace::Mean)]
    on_no_face: NoFace,
    /// Write per-pair distances to this TSV file (fold, same, distance, a, b).
    #[arg(long)]
    scores: Option<PathBuf>,
    /// The face detector (each with its own alignment template; see docs/DETECTOR.md).
    #[arg(long, value_enum, default_value_t = DetectorChoice::Mtcnn)]
    detector: DetectorChoice,
    /// YuNet's smallest face score, in (0, 1) (with `--detector yunet`).
    #[arg(long, default_value_t = facegate::detect::yunet::YuNetConfig::default().score_threshold)]
    yunet_score: f32,
}

/// `--detector`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum DetectorChoice {
    Mtcnn,
    Yunet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum NoFace {
    Mean,
    Reject,
}

struct Embedded {
    template: Option<Template>,
    /// Landmarks relative to the image size (for the mean fallback).
    relative: Option<[Point; 5]>,
    times: [f64; 3],
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Lfw(a) => lfw(a),
    }
}

fn lfw(args: LfwArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.pairs) {
        Ok(t) => t,
        Err(e) => return fail(&format!("{}: {e}", args.pairs.display())),
    };
    let pairs = match eval::parse_lfw_pairs(&text) {
        Ok(p) => p,
        Err(e) => return fail(&format!("{}: {e}", args.pairs.display())),
    };
    let mut images: Vec<PathBuf> = pairs
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    images.sort();
    images.dedup();
    for img in &images {
        if !args.images.join(img).is_file() {
            return fail(&format!(
                "image listed in the pairs file is missing: {}",
                args.images.join(img).display()
            ));
        }
    }

    let config = FaceConfig {
        detector: facegate::detect::DetectorConfig {
            min_face: args.min_face,
            ..Default::default()
        },
        quality: QualityConfig::permissive(SeveralFaces::Central),
        mirror_average: args.mirror,
        ..FaceConfig::default()
    };
    let loaded = match args.detector {
        DetectorChoice::Mtcnn => FacePipeline::with_default_models(config),
        DetectorChoice::Yunet => FacePipeline::with_yunet(
            config,
            facegate::detect::yunet::YuNetConfig {
                min_face: args.min_face,
                score_threshold: args.yunet_score,
                ..Default::default()
            },
        ),
    };
    let pipeline = match loaded {
        Ok(p) => p,
        Err(e) => return fail(&format!("cannot load the face models: {e}")),
    };

    let threads = args
        .threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    let bar = indicatif::ProgressBar::new(images.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:40}] {pos}/{len} images, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_prefix("embedding");
    let next = AtomicUsize::new(0);
    let results: Mutex<HashMap<PathBuf, Embedded>> = Mutex::new(HashMap::new());
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let limits = DecodeLimits::default();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(rel) = images.get(i) else { break };
                match embed_one(&pipeline, &args.images.join(rel), &limits) {
                    Ok(e) => {
                        results
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(rel.clone(), e);
                    }
                    Err(e) => errors
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(format!("{}: {e}", rel.display())),
                }
                bar.inc(1);
            });
        }
    });
    bar.finish_and_clear();
    let errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = errors.first() {
        return fail(&format!(
            "{} image(s) could not be processed; first: {e}",
            errors.len()
        ));
    }
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());

    // Failures to detect.
    let failed: Vec<PathBuf> = results
        .iter()
        .filter(|(_, e)| e.template.is_none())
        .map(|(p, _)| p.clone())
        .collect();
    let detected: Vec<[Point; 5]> = results.values().filter_map(|e| e.relative).collect();
    if args.on_no_face == NoFace::Mean && !failed.is_empty() && !detected.is_empty() {
        let mut mean = [Point::default(); 5];
        for pts in &detected {
            for (m, p) in mean.iter_mut().zip(pts) {
                m.x += p.x / detected.len() as f32;
                m.y += p.y / detected.len() as f32;
            }
        }
        for rel in &failed {
            let path = args.images.join(rel);
            let t = Frame::open(&path, &limits).ok().and_then(|frame| {
                let (w, h) = (frame.width() as f32, frame.height() as f32);
                let marks = Landmarks::from_array(mean.map(|p| Point::new(p.x * w, p.y * h)));
                let chip = pipeline.align(&frame, &marks).ok()?;
                pipeline.embed_chip(&chip).ok()
            });
            if let Some(e) = results.get_mut(rel) {
                e.template = t;
            }
        }
    }

    let mut scored = Vec::with_capacity(pairs.len());
    let mut lines = String::new();
    for p in &pairs {
        let ta = results.get(&p.a).and_then(|e| e.template.as_ref());
        let tb = results.get(&p.b).and_then(|e| e.template.as_ref());
        let distance = match (ta, tb) {
            (Some(a), Some(b)) => a.distance(b),
            _ => f32::INFINITY, // "reject": never the same person
        };
        scored.push(Scored {
            distance,
            same: p.same,
            fold: p.fold,
        });
        if args.scores.is_some() {
            lines.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\n",
                p.fold,
                p.same,
                distance,
                p.a.display(),
                p.b.display()
            ));
        }
    }
    if let Some(path) = &args.scores {
        if let Err(e) = std::fs::write(path, lines) {
            return fail(&format!("{}: {e}", path.display()));
        }
    }

    let folds = eval::k_fold(&scored);
    let roc = eval::roc(&scored);
    let tar = eval::tar_at_far(&roc, 1e-3);
    let eer = eval::eer(&roc);
    let at_default = eval::accuracy(&scored, DEFAULT_THRESHOLD);
    let mut times: [Vec<f64>; 3] = Default::default();
    for e in results.values().filter(|e| e.relative.is_some()) {
        for (v, t) in times.iter_mut().zip(e.times) {
            v.push(t);
        }
    }
    let [mut td, mut ta, mut te] = times;
    let (md, ma, me) = (median(&mut td), median(&mut ta), median(&mut te));
    let pairs_with_failure = pairs
        .iter()
        .filter(|p| failed.iter().any(|f| *f == p.a || *f == p.b))
        .count();
    let handling = match args.on_no_face {
        NoFace::Mean => "aligned with the mean landmarks of the detected faces",
        NoFace::Reject => "pairs scored as different person",
    };

    if let Some(png) = &args.roc {
        if let Err(e) = plot_roc(&roc, png) {
            return fail(&format!("{}: {e}", png.display()));
        }
    }
    if args.json {
        let out = serde_json::json!({
            "accuracy_mean": folds.mean,
            "accuracy_std": folds.std,
            "tar_at_far_1e3": tar,
            "eer": eer,
            "accuracy_at_default_threshold": at_default,
            "default_threshold": DEFAULT_THRESHOLD,
            "failures_to_detect": failed.len(),
            "failure_handling": handling,
            "pairs_with_failure": pairs_with_failure,
            "images": images.len(),
            "pairs": pairs.len(),
            "fold_accuracy": folds.fold_accuracy,
            "fold_threshold": folds.fold_threshold,
            "median_ms": { "detect": md, "align": ma, "embed": me },
            "threads": threads,
            "mirror_average": args.mirror,
            "detector": format!("{:?}", args.detector).to_lowercase(),
        });
        println!("{out}");
    } else {
        println!(
            "LFW protocol: {} pairs in {} folds, {} images",
            pairs.len(),
            folds.fold_accuracy.len(),
            images.len()
        );
        println!(
            "accuracy ({}-fold)            {:.2} % ± {:.2}",
            folds.fold_accuracy.len(),
            100.0 * folds.mean,
            100.0 * folds.std
        );
        println!("TAR at FAR = 1e-3             {tar:.4}");
        println!("EER                           {:.2} %", 100.0 * eer);
        println!(
            "accuracy at threshold {DEFAULT_THRESHOLD:.2}     {:.2} %",
            100.0 * at_default
        );
        println!("failures to detect            {} images ({handling}; {pairs_with_failure} pairs involved)", failed.len());
        println!("median per image              detect {md:.1} ms, align {ma:.1} ms, embed {me:.1} ms ({threads} threads)");
        println!("detector                      {:?}", args.detector);
    }
    ExitCode::from(crate::EXIT_YES)
}

fn embed_one(
    pipeline: &FacePipeline,
    path: &Path,
    limits: &DecodeLimits,
) -> Result<Embedded, String> {
    let frame = Frame::open(path, limits).map_err(|e| e.to_string())?;
    match pipeline.capture(&frame) {
        Ok(c) => {
            let (w, h) = (frame.width() as f32, frame.height() as f32);
            let d: Detection = c.detection;
            let relative = d.landmarks.to_array().map(|p| Point::new(p.x / w, p.y / h));
            Ok(Embedded {
                template: Some(c.template),
                relative: Some(relative),
                times: [c.times.detect_ms, c.times.align_ms, c.times.embed_ms],
            })
        }
        Err(CaptureError::Quality(_)) => Ok(Embedded {
            template: None,
            relative: None,
            times: [0.0; 3],
        }),
        Err(CaptureError::Fault(e)) => Err(e.to_string()),
    }
}

fn plot_roc(roc: &[eval::RocPoint], path: &Path) -> Result<(), String> {
    use plotters::prelude::*;
    // A font shipped in the binary: the kiosk may have none installed.
    const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "cannot load the plot font")?;
    let (w, h) = (800u32, 600u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let area = root.margin(20, 20, 20, 30);
        // FAR on a log axis from 1e-4 to 1.
        let to_x = |far: f64| far.max(1e-4).log10();
        let mut chart = ChartBuilder::on(&area)
            .caption("ROC (LFW protocol, all pairs)", ("sans-serif", 24))
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(-4.0f64..0.0f64, 0.5f64..1.0f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("false accept rate (FAR)")
            .y_desc("true accept rate (TAR)")
            .x_labels(5)
            .x_label_formatter(&|x| format!("1e{}", x.round() as i32))
            .y_label_formatter(&|y| format!("{y:.2}"))
            .axis_desc_style(("sans-serif", 18))
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                roc.iter().map(|p| (to_x(p.far), p.tar.max(0.5))),
                BLUE.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).ok_or("plot buffer size")?;
    img.save(path).map_err(|e| e.to_string())
}

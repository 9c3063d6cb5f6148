//! `facegate eval lfw --pairs PAIRS_TXT --images DIR [--json] [--roc PNG]`: the standard
//! LFW verification protocol on the shipped pipeline.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use facegate::detect::{Detection, Landmarks};
use facegate::eval::{self, Scored};
use facegate::face::{CaptureError, FaceConfig, FacePipeline};
use facegate::frame::{DecodeLimits, Frame};
use facegate::geometry::Point;
use facegate::template::Template;

use crate::common::fail;

/// Evaluations.
#[derive(clap::Subcommand)]
pub enum Command {
    /// LFW 10-fold verification protocol (threshold chosen on nine folds, tested on the tenth).
    Lfw(LfwArgs),
    /// Every pair of a labelled folder `DIR/<identity>/<image>`: FMR and FNMR per population,
    /// thresholds for FMR 1e-3/1e-4/1e-5, the worst population, a DET plot.
    Gallery(GalleryArgs),
}

/// `eval gallery` options.
#[derive(clap::Args)]
pub struct GalleryArgs {
    /// The gallery: one folder per identity, holding that person's images.
    dir: PathBuf,
    /// A demographic subset: a file of identity names (folder names), one a line. Reported
    /// beside the whole, with its complement. May be given several times.
    #[arg(long)]
    subset: Vec<PathBuf>,
    /// Thresholds to report exact rates at (default: the model's threshold). The first is
    /// the operating threshold of the worst-population verdict and the confused pairs.
    #[arg(long = "threshold")]
    thresholds: Vec<f32>,
    /// Write the DET curve (FNMR against FMR, one line per population) to this PNG file.
    #[arg(long)]
    det: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Embed the chip only, not also its mirror image (the default averages both:
    /// fewer errors, twice the embedding time).
    #[arg(long)]
    no_mirror: bool,
    /// Smallest face to look for, in pixels.
    #[arg(long, default_value_t = 20.0)]
    min_face: f32,
    /// How many most-confused identity pairs to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
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
    /// Embed the chip only, not also its mirror image (the default averages both:
    /// fewer errors, twice the embedding time).
    #[arg(long)]
    no_mirror: bool,
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
pub(crate) enum DetectorChoice {
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
        Command::Gallery(a) => gallery(a),
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

    let pipeline = match eval_pipeline(
        args.min_face,
        args.no_mirror,
        args.detector,
        args.yunet_score,
    ) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let threads = threads_or_cores(args.threads);
    let embedded = match embed_all(&pipeline, &args.images, &images, threads) {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let mut results: HashMap<PathBuf, Embedded> = images.iter().cloned().zip(embedded).collect();

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
            let t = Frame::open(&path, &DecodeLimits::default())
                .ok()
                .and_then(|frame| {
                    let (w, h) = (frame.width() as f32, frame.height() as f32);
                    let marks = Landmarks::from_array(mean.map(|p| Point::new(p.x * w, p.y * h)));
                    let chip = pipeline.align(&frame, &marks).ok()?;
                    facegate::eval::Matcher::new(&pipeline)
                        .embed_chip(&chip)
                        .ok()
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
    let threshold = pipeline.threshold().distance();
    let at_default = eval::accuracy(&scored, threshold);
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
            "default_threshold": threshold,
            "failures_to_detect": failed.len(),
            "failure_handling": handling,
            "pairs_with_failure": pairs_with_failure,
            "images": images.len(),
            "pairs": pairs.len(),
            "fold_accuracy": folds.fold_accuracy,
            "fold_threshold": folds.fold_threshold,
            "median_ms": { "detect": md, "align": ma, "embed": me },
            "threads": threads,
            "mirror_average": !args.no_mirror,
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
            "accuracy at threshold {threshold:.2}     {:.2} %",
            100.0 * at_default
        );
        println!("failures to detect            {} images ({handling}; {pairs_with_failure} pairs involved)", failed.len());
        println!("median per image              detect {md:.1} ms, align {ma:.1} ms, embed {me:.1} ms ({threads} threads)");
        println!("detector                      {:?}", args.detector);
    }
    ExitCode::from(crate::EXIT_YES)
}

/// The shipped pipeline as evaluations run it: the central face of each photo, only "a
/// face" required of it (data sets hold what they hold; failures are counted, not hidden).
fn eval_pipeline(
    min_face: f32,
    no_mirror: bool,
    detector: DetectorChoice,
    yunet_score: f32,
) -> Result<FacePipeline, ExitCode> {
    let config = FaceConfig {
        mirror_average: !no_mirror,
        ..FaceConfig::gallery(min_face)
    };
    match detector {
        DetectorChoice::Mtcnn => FacePipeline::with_default_models(config),
        DetectorChoice::Yunet => FacePipeline::with_yunet(
            config,
            facegate::detect::yunet::YuNetConfig {
                min_face,
                score_threshold: yunet_score,
                ..Default::default()
            },
        ),
    }
    .map_err(|e| fail(&format!("cannot load the face models: {e}")))
}

fn threads_or_cores(threads: Option<usize>) -> usize {
    threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1)
}

/// Embeds every image (relative to `root`) once, on `threads` threads, with a progress bar;
/// results in the order of `images`. An image that cannot be read is an error.
fn embed_all(
    pipeline: &FacePipeline,
    root: &Path,
    images: &[PathBuf],
    threads: usize,
) -> Result<Vec<Embedded>, String> {
    let bar = progress(images.len() as u64, "embedding", "images");
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Embedded)>> = Mutex::new(Vec::with_capacity(images.len()));
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let limits = DecodeLimits::default();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(rel) = images.get(i) else { break };
                match embed_one(pipeline, &root.join(rel), &limits) {
                    Ok(e) => results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((i, e)),
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
        return Err(format!(
            "{} image(s) could not be processed; first: {e}",
            errors.len()
        ));
    }
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, e)| e).collect())
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn progress(len: u64, prefix: &'static str, unit: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:40}}] {{human_pos}}/{{human_len}} {unit}, {{per_sec}}, eta {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_prefix(prefix);
    bar
}

fn embed_one(
    pipeline: &FacePipeline,
    path: &Path,
    limits: &DecodeLimits,
) -> Result<Embedded, String> {
    let frame = Frame::open(path, limits).map_err(|e| e.to_string())?;
    match facegate::eval::Matcher::new(pipeline).capture(&frame) {
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

/// Draws an 800×600 chart into a PNG file, with the shipped font.
fn draw_png(
    path: &Path,
    draw: impl FnOnce(
        &plotters::drawing::DrawingArea<plotters::prelude::BitMapBackend, plotters::coord::Shift>,
    ) -> Result<(), String>,
) -> Result<(), String> {
    use plotters::prelude::*;
    // A font shipped in the binary: the kiosk may have none installed.
    const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "cannot load the plot font")?;
    let (w, h) = (800u32, 600u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root.margin(20, 20, 20, 30))?;
        root.present().map_err(|e| e.to_string())?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).ok_or("plot buffer size")?;
    img.save(path).map_err(|e| e.to_string())
}

fn plot_roc(roc: &[eval::RocPoint], path: &Path) -> Result<(), String> {
    use plotters::prelude::*;
    draw_png(path, |area| {
        // FAR on a log axis from 1e-4 to 1.
        let to_x = |far: f64| far.max(1e-4).log10();
        let mut chart = ChartBuilder::on(area)
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
        Ok(())
    })
}

fn gallery(args: GalleryArgs) -> ExitCode {
    use facegate::eval::gallery::{self as g, Gallery, Population};
    let gal = match Gallery::scan(&args.dir) {
        Ok(g) => g,
        Err(e) => return fail(&e.to_string()),
    };
    let mut populations = vec![Population::all(&gal)];
    let mut unknown_names = Vec::new();
    for path in &args.subset {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return fail(&format!("{}: {e}", path.display())),
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "subset".into());
        match Population::from_list(&name, &text, &gal) {
            Ok((p, missing)) => {
                unknown_names.push((name, missing));
                let rest = p.complement();
                populations.push(p);
                populations.push(rest);
            }
            Err(e) => return fail(&e.to_string()),
        }
    }
    if let Some(t) = args
        .thresholds
        .iter()
        .find(|t| !(t.is_finite() && **t >= 0.0))
    {
        return fail(&format!("threshold {t} is not a finite distance ≥ 0"));
    }
    let default_score = facegate::detect::yunet::YuNetConfig::default().score_threshold;
    let pipeline = match eval_pipeline(
        args.min_face,
        args.no_mirror,
        DetectorChoice::Mtcnn,
        default_score,
    ) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let model_threshold = pipeline.threshold().distance();
    let thresholds = if args.thresholds.is_empty() {
        vec![model_threshold]
    } else {
        args.thresholds.clone()
    };
    let threads = threads_or_cores(args.threads);
    let paths: Vec<PathBuf> = gal.images().iter().map(|(p, _)| p.clone()).collect();
    let embedded = match embed_all(&pipeline, Path::new(""), &paths, threads) {
        Ok(e) => e,
        Err(e) => return fail(&e),
    };
    let enrolled: Vec<bool> = embedded.iter().map(|e| e.template.is_some()).collect();
    let items: Vec<(Template, u32)> = embedded
        .into_iter()
        .zip(gal.images())
        .filter_map(|(e, (_, id))| e.template.map(|t| (t, *id)))
        .collect();
    let n = items.len() as u64;
    let bar = progress(n * n.saturating_sub(1) / 2, "scoring", "pairs");
    let report = match g::score_all_pairs(
        &items,
        &gal,
        &enrolled,
        &populations,
        &thresholds,
        |a: &Template, b: &Template| a.distance(b),
        threads,
        |k| bar.inc(k),
    ) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    bar.finish_and_clear();
    drop(items);

    if let Some(png) = &args.det {
        let series: Vec<(String, Vec<(f64, f64)>)> = report
            .populations
            .iter()
            .map(|p| (p.name.clone(), p.histogram.det()))
            .filter(|(_, d)| !d.is_empty())
            .collect();
        if let Err(e) = plot_det(&series, png) {
            return fail(&format!("{}: {e}", png.display()));
        }
    }
    let targets = [1e-3, 1e-4, 1e-5];
    let names = gal.identities();
    let worst = report.worst().map(|p| p.name.clone());
    let t0 = thresholds[0];
    if args.json {
        let pops: Vec<serde_json::Value> = report
            .populations
            .iter()
            .map(|p| {
                let at: Vec<serde_json::Value> = p.at.iter().map(rates_json).collect();
                let for_fmr: serde_json::Map<String, serde_json::Value> = targets
                    .iter()
                    .map(|&f| {
                        (
                            format!("{f:e}"),
                            p.histogram
                                .threshold_for_fmr(f)
                                .map_or(serde_json::Value::Null, |r| rates_json(&r)),
                        )
                    })
                    .collect();
                serde_json::json!({
                    "name": p.name,
                    "identities": p.identities,
                    "images": p.images,
                    "failures_to_enrol": p.failures_to_enrol,
                    "genuine_pairs": p.histogram.genuine_pairs(),
                    "impostor_pairs": p.histogram.impostor_pairs(),
                    "at": at,
                    "threshold_for_fmr": for_fmr,
                })
            })
            .collect();
        let confused: Vec<serde_json::Value> = report
            .confused
            .iter()
            .take(args.top)
            .map(|c| {
                serde_json::json!({
                    "a": names[c.a as usize],
                    "b": names[c.b as usize],
                    "false_matches": c.false_matches,
                    "pairs": c.pairs,
                })
            })
            .collect();
        let out = serde_json::json!({
            "images": gal.images().len(),
            "identities": names.len(),
            "failures_to_enrol": enrolled.iter().filter(|e| !**e).count(),
            "model_threshold": model_threshold,
            "histogram_resolution": g::DistanceHistogram::WIDTH,
            "populations": pops,
            "worst_population": worst,
            "confused": confused,
            "subset_names_not_in_gallery": unknown_names
                .iter()
                .map(|(n, m)| serde_json::json!({ "subset": n, "names": m }))
                .collect::<Vec<_>>(),
            "threads": threads,
            "mirror_average": !args.no_mirror,
        });
        println!("{out}");
        return ExitCode::from(crate::EXIT_YES);
    }

    println!(
        "gallery: {} images of {} identities, {} failures to enrol; model threshold {model_threshold}",
        gal.images().len(),
        names.len(),
        enrolled.iter().filter(|e| !**e).count()
    );
    for (n, m) in unknown_names.iter().filter(|(_, m)| *m > 0) {
        println!("subset {n}: {m} listed name(s) are not identity folders of the gallery");
    }
    for p in &report.populations {
        println!();
        println!(
            "{}: {} identities, {} images ({} failed to enrol); {} genuine, {} impostor pairs",
            p.name,
            p.identities,
            p.images,
            p.failures_to_enrol,
            p.histogram.genuine_pairs(),
            p.histogram.impostor_pairs()
        );
        for r in &p.at {
            println!("  at {:.4}:      {}", r.threshold, rates_text(r));
        }
        for f in targets {
            match p.histogram.threshold_for_fmr(f) {
                Some(r) => println!(
                    "  FMR ≤ {f:.0e}: threshold {:.4}, {}",
                    r.threshold,
                    rates_text(&r)
                ),
                None => println!("  FMR ≤ {f:.0e}: no threshold (no impostor pairs, or too few)"),
            }
        }
    }
    if let Some(w) = &worst {
        println!();
        println!("worst population at {t0:.4}: {w}");
    }
    if !report.confused.is_empty() {
        println!("most confused identity pairs at {t0:.4}:");
        for c in report.confused.iter().take(args.top) {
            println!(
                "  {} – {}: {} of {} pairs",
                names[c.a as usize], names[c.b as usize], c.false_matches, c.pairs
            );
        }
    }
    ExitCode::from(crate::EXIT_YES)
}

fn rates_json(r: &facegate::eval::gallery::Rates) -> serde_json::Value {
    serde_json::json!({
        "threshold": r.threshold,
        "fmr": r.fmr(),
        "false_matches": r.false_matches,
        "impostor_pairs": r.impostor_pairs,
        "fnmr": r.fnmr(),
        "false_non_matches": r.false_non_matches,
        "genuine_pairs": r.genuine_pairs,
    })
}

fn rates_text(r: &facegate::eval::gallery::Rates) -> String {
    format!(
        "FMR {:.3e} ({} / {}), FNMR {:.2} % ({} / {})",
        r.fmr(),
        r.false_matches,
        r.impostor_pairs,
        100.0 * r.fnmr(),
        r.false_non_matches,
        r.genuine_pairs
    )
}

/// FNMR against FMR, both on log axes, one line per population.
fn plot_det(series: &[(String, Vec<(f64, f64)>)], path: &Path) -> Result<(), String> {
    use plotters::prelude::*;
    let colours = [&BLUE, &RED, &GREEN, &MAGENTA, &CYAN, &BLACK];
    draw_png(path, |area| {
        let mut chart = ChartBuilder::on(area)
            .caption("DET (all pairs)", ("sans-serif", 24))
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(-6.0f64..0.0f64, -4.0f64..0.0f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("false match rate (FMR)")
            .y_desc("false non-match rate (FNMR)")
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(&|x| format!("1e{}", x.round() as i32))
            .y_label_formatter(&|y| format!("1e{}", y.round() as i32))
            .axis_desc_style(("sans-serif", 18))
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (name, det)) in series.iter().enumerate() {
            let c = colours[i % colours.len()];
            chart
                .draw_series(LineSeries::new(
                    det.iter()
                        .filter(|(f, r)| *f > 0.0 && *r > 0.0)
                        .map(|(f, r)| (f.log10().max(-6.0), r.log10().max(-4.0))),
                    c.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())
    })
}

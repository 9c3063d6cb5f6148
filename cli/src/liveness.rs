//! `facegate liveness check|eval` — liveness of recorded frame folders.
//!
//! Recorded sequences cannot follow a random draw, so both commands judge a *fixed*
//! challenge (`--challenge`, or `challenge.txt` in an evaluation suite): the steps must
//! appear in that order, other movement in between is tolerated. The interactive session
//! with prompt timing is the library's `challenge::Session` in `Mode::Interactive`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use clap::{Args as ClapArgs, Subcommand};
use facegate::detect::yunet::YuNetConfig;
use facegate::detect::DetectorConfig;
use facegate::detect::Tracker;
use facegate::eval::liveness as liveness_eval;
use facegate::eval::pad::PadReport;
use facegate::face::decide_liveness;
use facegate::face::{FaceConfig, FaceDetector, FacePipeline};
use facegate::frame::{DecodeLimits, Frame};
use facegate::liveness::challenge::{self, Challenge, Mode};
use facegate::liveness::fusion::{self, LivenessPolicy};
use facegate::liveness::{DepthMap, GrayFrame, Observation};

use crate::eval::DetectorChoice;
use crate::{EXIT_ERROR, EXIT_NO, EXIT_YES};

/// Liveness of recorded frames.
#[derive(ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Judge one frame folder against a fixed challenge (exit 0 live, 1 not live, 2 error).
    /// Frames are read in name order until the challenge decides, as a kiosk session stops
    /// at its decision; the frames after it are not read.
    Check {
        /// Folder of frames, in file-name order.
        #[arg(long)]
        frames: PathBuf,
        /// Frames per second of the recording.
        #[arg(long)]
        fps: f64,
        /// Comma list of left,right,up,down (the person's own directions).
        #[arg(long)]
        challenge: String,
        /// The camera delivers mirrored frames.
        #[arg(long)]
        mirrored: bool,
        /// Folder of aligned 16-bit depth images (millimetres), same order and count.
        #[arg(long)]
        depth: Option<PathBuf>,
        /// Folder of aligned 8-bit near-infrared images, same order and count.
        #[arg(long)]
        ir: Option<PathBuf>,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        detection: DetectArgs,
    },
    /// ISO/IEC 30107-3 figures over a suite DIR/<label>/<sequence>/ (label `live` or an
    /// attack type), each sequence with `challenge.txt` and `fps.txt`.
    Eval {
        /// Suite folder.
        #[arg(long)]
        suite: PathBuf,
        /// The suite's frames are mirrored.
        #[arg(long)]
        mirrored: bool,
        /// Print JSON with keys `apcer`, `bpcer`, `presentations` (also `reasons`, the
        /// refusal codes by label, and `errors`, every wrong decision by sequence).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        detection: DetectArgs,
        /// Sequences judged at once (default: the available parallelism). The report does
        /// not depend on it.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
    },
    /// Chooses the liveness thresholds on real recordings by leaving one recording out:
    /// each is judged with thresholds chosen on the others, then thresholds are chosen on
    /// all (the rule: `facegate::eval::liveness`). Exit 0 when at most one held-out
    /// recording is refused, 1 otherwise.
    Calibrate {
        /// Folder with one sub-folder of frames per recording.
        #[arg(long)]
        recordings: PathBuf,
        /// Lines `name turns`: each recording and the turns it contains, in order
        /// (e.g. `selfie_b left,right,up,down`); `#` starts a comment.
        #[arg(long)]
        list: PathBuf,
        /// Frames per second of the recordings.
        #[arg(long, default_value_t = 15.0)]
        fps: f64,
        /// Print the whole calibration as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        detection: DetectArgs,
    },
    /// Scores every frame with the shipped passive model (MiniFASNet, the authors' crops
    /// around the largest detected face): one line per frame (`file live authors_live
    /// detect_ms passive_ms`), then per folder the score distribution and the share of
    /// frames under the threshold (the BPCER of live recordings, the APCER of attacks).
    /// Images are turned upright by their EXIF orientation.
    Passive {
        /// Frame folders (file-name order) or image files.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Live-score threshold (default: the policy's).
        #[arg(long)]
        threshold: Option<f32>,
        /// Also write each face's two crops (raw 80×80 BGR bytes, `*.crop`) and the tract
        /// logits (`*.logits`) into this folder, for `models/tools/minifasnet_to_onnx.py
        /// crops` (NumPy parity). They are face pixels: delete them after use.
        #[arg(long)]
        dump: Option<PathBuf>,
        #[command(flatten)]
        detection: DetectArgs,
    },
}

/// Detector settings shared by `check` and `eval`.
#[derive(ClapArgs)]
struct DetectArgs {
    /// Smallest face to look for, pixels (at least 12). The default 20 finds the ≈ 40 px
    /// faces of 176×144 phone recordings; 640×480 suites with large faces (e.g. the
    /// generated ones) may use 60, which skips the largest, slowest pyramid levels.
    #[arg(
        long,
        value_name = "PX",
        default_value_t = 20.0,
        allow_negative_numbers = true
    )]
    min_face: f32,
    /// The face detector whose landmarks the liveness layers read (docs/DETECTOR.md).
    #[arg(long, value_enum, default_value_t = DetectorChoice::Mtcnn)]
    detector: DetectorChoice,
    /// Run the full detector every N frames and follow the faces in between (MTCNN's
    /// O-Net on each face's last box, `detect::Tracker`); 1 = the full detector on every
    /// frame.
    #[arg(long, value_name = "N", default_value_t = 1)]
    track: u32,
    /// How a followed face's box is refined between full detections (`detect::Refine`):
    /// O-Net twice, a second time only when the first pass moved the box, or once.
    #[arg(long, value_enum, default_value_t = RefineChoice::Once)]
    refine: RefineChoice,
    /// What finds the faces on a full-detection frame with `--track`: MTCNN's cascade, or
    /// YuNet's boxes placed by O-Net (`detect::track::Finder`).
    #[arg(long, value_enum, default_value_t = FinderChoice::Cascade)]
    finder: FinderChoice,
    /// YuNet's working size with `--finder yunet`: frames whose longer side exceeds it are
    /// downscaled first.
    #[arg(long, value_name = "PX", default_value_t = 320)]
    finder_side: u32,
}

/// `--finder`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FinderChoice {
    Cascade,
    Yunet,
}

/// `--refine`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum RefineChoice {
    Twice,
    Moved,
    Once,
}

impl From<RefineChoice> for facegate::detect::Refine {
    fn from(r: RefineChoice) -> Self {
        match r {
            RefineChoice::Twice => facegate::detect::Refine::Twice,
            RefineChoice::Moved => facegate::detect::Refine::WhenMoved,
            RefineChoice::Once => facegate::detect::Refine::Once,
        }
    }
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    match args.cmd {
        Cmd::Check {
            frames,
            fps,
            challenge,
            mirrored,
            depth,
            ir,
            json,
            detection,
        } => {
            let result = Challenge::parse_for_evaluation(&challenge, mirrored)
                .map_err(|e| e.to_string())
                .and_then(|ch| {
                    judge(
                        &pipeline(&detection)?,
                        &frames,
                        fps,
                        &ch,
                        depth.as_deref(),
                        ir.as_deref(),
                    )
                });
            match result {
                Ok(d) => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
                    } else if d.live() {
                        println!("live (frontal frame {})", d.frontal_frame().unwrap_or(0));
                    } else {
                        let r = d.reason().map_or("liveness.unknown", |r| r.code());
                        println!("not live: {r} — {}", d.prompt().unwrap_or(""));
                    }
                    ExitCode::from(if d.live() { EXIT_YES } else { EXIT_NO })
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_ERROR)
                }
            }
        }
        Cmd::Eval {
            suite,
            mirrored,
            json,
            detection,
            threads,
        } => match eval(&suite, mirrored, &detection, threads.map(usize::from)) {
            Ok((r, errors)) => {
                if json {
                    let mut v = r.to_json();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("errors".into(), errors_json(&errors));
                    }
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                } else {
                    for (k, (acc, n)) in &r.attacks {
                        println!(
                            "APCER {k:<20} {:6.2} %  ({acc}/{n})",
                            100.0 * *acc as f64 / (*n).max(1) as f64
                        );
                    }
                    println!("APCER (worst)             {:6.2} %", 100.0 * r.max_apcer());
                    println!(
                        "BPCER                     {:6.2} %  ({}/{})",
                        100.0 * r.bpcer(),
                        r.bona_fide.0,
                        r.bona_fide.1
                    );
                }
                ExitCode::from(EXIT_YES)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_ERROR)
            }
        },
        Cmd::Passive {
            inputs,
            threshold,
            dump,
            detection,
        } => {
            let threshold = threshold.unwrap_or(LivenessPolicy::default().passive_threshold);
            match passive_scores(&inputs, threshold, dump.as_deref(), &detection) {
                Ok(()) => ExitCode::from(EXIT_YES),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_ERROR)
                }
            }
        }
        Cmd::Calibrate {
            recordings,
            list,
            fps,
            json,
            detection,
        } => match calibrate(&recordings, &list, fps, &detection) {
            Ok(c) => {
                if json {
                    println!("{}", serde_json::to_string_pretty(&c).unwrap_or_default());
                } else {
                    print_calibration(&c);
                }
                ExitCode::from(if c.held_out_refused() <= 1 {
                    EXIT_YES
                } else {
                    EXIT_NO
                })
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_ERROR)
            }
        },
    }
}

/// A recording named in the `--list` of `calibrate`: its challenge, frame files and
/// observations.
struct Listed {
    name: String,
    challenge: Challenge,
    paths: Vec<PathBuf>,
    observations: Vec<Observation>,
}

/// Reads the list, observes every recording once, and runs the leave-one-out calibration.
fn calibrate(
    recordings: &Path,
    list: &Path,
    fps: f64,
    detection: &DetectArgs,
) -> Result<liveness_eval::Calibration, String> {
    if !(fps.is_finite() && fps > 0.0 && fps <= 1000.0) {
        return Err(format!("--fps must be in (0, 1000], got {fps}"));
    }
    let text = std::fs::read_to_string(list).map_err(|e| format!("{}: {e}", list.display()))?;
    let observer = pipeline(detection)?;
    let mut listed = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, turns] = fields[..] else {
            return Err(format!(
                "{} line {}: expected `name turns`",
                list.display(),
                n + 1
            ));
        };
        let challenge = Challenge::parse_for_evaluation(turns, false)
            .map_err(|e| format!("{} line {}: {e}", list.display(), n + 1))?;
        let paths = list_images(&recordings.join(name))?;
        let observations = observer.observe_all(&paths, fps)?;
        eprintln!("observed {name}: {} frames", observations.len());
        listed.push(Listed {
            name: name.to_owned(),
            challenge,
            paths,
            observations,
        });
    }
    let recs: Vec<liveness_eval::Recording<'_>> = listed
        .iter()
        .map(|l| liveness_eval::Recording {
            name: &l.name,
            challenge: &l.challenge,
            frames: &l.observations,
        })
        .collect();
    liveness_eval::calibrate(&recs, &LivenessPolicy::default(), |i, policy, outcome| {
        let l = &listed[i];
        let open = |k: usize| {
            let path = l
                .paths
                .get(k)
                .ok_or(FrameFileError(format!("no frame {k}")))?;
            Frame::open(path, &DecodeLimits::default())
                .map_err(|e| FrameFileError(format!("{}: {e}", path.display())))
        };
        // Judged as shipped: with the passive model the default models load (its threshold
        // is the authors', not a knob calibrated here).
        decide_liveness(&observer.faces, policy, outcome, &l.observations, open).map(|(d, _)| d)
    })
    .map_err(|e| e.to_string())
}

/// The calibration as tables: needs, held-out decisions, the chosen thresholds.
fn print_calibration(c: &liveness_eval::Calibration) {
    let fmt = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.2}"));
    let verdict = |d: &fusion::Decision| {
        if d.live() {
            "live".to_owned()
        } else {
            d.reason()
                .map_or("refused".to_owned(), |r| r.code().to_owned())
        }
    };
    print!("{:<30}", "need (strictest value passed)");
    for n in &c.needs {
        print!(" {:>9}", n.recording);
    }
    println!();
    for (k, name) in c.knobs.iter().enumerate() {
        print!("{name:<30}");
        for n in &c.needs {
            print!(" {:>9}", fmt(n.needs.get(k).copied().flatten()));
        }
        println!();
    }
    println!();
    println!("held out (thresholds chosen on the other recordings):");
    for (j, (passed, of)) in c.held_out.iter().zip(&c.training_passed) {
        println!(
            "  {:<10} {:<32} training challenges passed {passed}/{of}",
            j.recording,
            verdict(&j.decision)
        );
    }
    println!("  refused {}/{}", c.held_out_refused(), c.held_out.len());
    println!();
    println!("chosen on all recordings:");
    for (name, v) in c.knobs.iter().zip(&c.chosen) {
        println!("  {name:<30} {v:.2}");
    }
    println!("all recordings with these (not held out):");
    for j in &c.all {
        println!("  {:<10} {}", j.recording, verdict(&j.decision));
    }
}

fn judge(
    observer: &Observer,
    frames: &Path,
    fps: f64,
    ch: &Challenge,
    depth: Option<&Path>,
    ir: Option<&Path>,
) -> Result<fusion::Decision, String> {
    if !(fps.is_finite() && fps > 0.0 && fps <= 1000.0) {
        return Err(format!("--fps must be in (0, 1000], got {fps}"));
    }
    let paths = list_images(frames)?;
    let depth_paths = depth.map(list_images).transpose()?;
    let ir_paths = ir.map(list_images).transpose()?;
    for (name, other) in [("depth", &depth_paths), ("ir", &ir_paths)] {
        if let Some(o) = other {
            if o.len() != paths.len() {
                return Err(format!(
                    "{name} folder has {} images, frames folder {}",
                    o.len(),
                    paths.len()
                ));
            }
        }
    }
    // Frames are observed and pushed one at a time, and reading stops at the challenge's
    // decision, as at a kiosk: the fusion reads nothing after the challenge's last frontal
    // frame, so the frames after it would be detected for nothing.
    let policy = LivenessPolicy::default();
    let mut session = challenge::Session::new(ch.clone(), Mode::Fixed, policy.challenge)
        .map_err(|e| e.to_string())?;
    let mut tracker = observer.tracker()?;
    let mut obs = Vec::new();
    let mut decided = None;
    for (i, path) in paths.iter().enumerate() {
        let mut o = observe(&observer.faces, tracker.as_mut(), path, i as f64 / fps)?;
        if let Some(dp) = depth_paths.as_ref().and_then(|v| v.get(i)) {
            let d = decode_limited(dp, &DecodeLimits::default())?.into_luma16();
            let (w, h) = d.dimensions();
            o.depth = Some(
                DepthMap::new(w, h, d.into_raw().into_iter().map(f32::from).collect())
                    .map_err(|e| e.to_string())?,
            );
        }
        if let Some(np) = ir_paths.as_ref().and_then(|v| v.get(i)) {
            let n = decode_limited(np, &DecodeLimits::default())?.into_luma8();
            let (w, h) = n.dimensions();
            o.nir = Some(GrayFrame::new(w, h, n.into_raw()).map_err(|e| e.to_string())?);
        }
        let event = session.push(&o).map_err(|e| e.to_string())?;
        obs.push(o);
        if let challenge::Event::Done(outcome) = event {
            decided = Some(outcome);
            break;
        }
    }
    let outcome = decided.unwrap_or_else(|| session.finish());
    // Frames are decoded again only for the two faces the identity check compares, and
    // for the two the passive model (loaded with the default models) scores.
    let open = |i: usize| {
        let path = paths
            .get(i)
            .ok_or(FrameFileError(format!("no frame {i}")))?;
        Frame::open(path, &DecodeLimits::default())
            .map_err(|e| FrameFileError(format!("{}: {e}", path.display())))
    };
    decide_liveness(&observer.faces, &policy, &outcome, &obs, open)
        .map(|(d, _)| d)
        .map_err(|e| e.to_string())
}

/// `facegate liveness passive`: per-frame scores and per-input summaries.
fn passive_scores(
    inputs: &[PathBuf],
    threshold: f32,
    dump: Option<&Path>,
    detection: &DetectArgs,
) -> Result<(), String> {
    use std::time::Instant;
    let observer = pipeline(detection)?;
    let model = observer
        .faces
        .passive()
        .ok_or("the pipeline has no passive model")?;
    if let Some(d) = dump {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    for input in inputs {
        let paths = if input.is_dir() {
            list_images(input)?
        } else {
            vec![input.clone()]
        };
        let (mut scores, mut authors_refused) = (Vec::new(), 0usize);
        let (mut det_ms, mut pas_ms, mut no_face) = (0.0, 0.0, 0usize);
        for path in &paths {
            let image = decode_limited(path, &DecodeLimits::default())?.to_rgb8();
            let (w, h) = image.dimensions();
            let frame = Frame::from_rgb(w, h, image.into_raw()).map_err(|e| e.to_string())?;
            let t0 = Instant::now();
            let faces = observer
                .faces
                .detect(&frame)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let dms = t0.elapsed().as_secs_f64() * 1e3;
            det_ms += dms;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            let largest = faces
                .iter()
                .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
            let Some(face) = largest else {
                no_face += 1;
                println!("{name} no_face");
                continue;
            };
            let t1 = Instant::now();
            let crops = facegate::liveness::passive::MiniFasNet::crops(
                frame.rgb(),
                frame.width(),
                frame.height(),
                &face.bbox,
            );
            let s = crops
                .as_ref()
                .map_err(|e| e.to_string())
                .and_then(|c| model.score_crops(c).map_err(|e| e.to_string()));
            let ms = t1.elapsed().as_secs_f64() * 1e3;
            pas_ms += ms;
            let s = match s {
                Ok(s) => s,
                Err(e) => {
                    println!("{name} error {e}");
                    continue;
                }
            };
            if let (Some(d), Ok(crops)) = (dump, &crops) {
                let name = name.trim_end_matches(".jpg").trim_end_matches(".png");
                let stem = match input.file_name().and_then(|n| n.to_str()) {
                    Some(dir) if input.is_dir() => format!("{dir}_{name}"),
                    _ => name.to_string(),
                };
                for (k, (crop, logits)) in crops.iter().zip(s.logits).enumerate() {
                    let text: Vec<String> = logits.iter().map(|v| format!("{v:.7}")).collect();
                    std::fs::write(d.join(format!("{stem}.m{k}.crop")), &crop[..])
                        .and_then(|()| {
                            std::fs::write(d.join(format!("{stem}.m{k}.logits")), text.join(" "))
                        })
                        .map_err(|e| format!("{}: {e}", d.display()))?;
                }
            }
            println!(
                "{name} {:.4} {} box {:.4},{:.4},{:.4},{:.4} {:.1} {:.1}",
                s.live,
                u8::from(s.authors_live),
                face.bbox.x,
                face.bbox.y,
                face.bbox.width,
                face.bbox.height,
                dms,
                ms
            );
            authors_refused += usize::from(!s.authors_live);
            scores.push(s.live);
        }
        let n = scores.len();
        scores.sort_by(f32::total_cmp);
        let q = |p: f64| {
            scores
                .get(((n.max(1) - 1) as f64 * p).round() as usize)
                .copied()
                .unwrap_or(f32::NAN)
        };
        let under = scores.iter().filter(|&&v| v < threshold).count();
        println!(
            "summary {}: frames {} faces {n} no_face {no_face}; live score min {:.3} p5 {:.3} p25 {:.3} median {:.3} max {:.3}; under {threshold}: {under}/{n} = {:.1} %; authors' arg-max not live: {authors_refused}/{n} = {:.1} %; detect {:.1} ms/frame, passive {:.1} ms/face",
            input.display(),
            paths.len(),
            q(0.0),
            q(0.05),
            q(0.25),
            q(0.5),
            q(1.0),
            100.0 * under as f64 / n.max(1) as f64,
            100.0 * authors_refused as f64 / n.max(1) as f64,
            det_ms / paths.len().max(1) as f64,
            pas_ms / n.max(1) as f64,
        );
    }
    Ok(())
}

/// Decodes a depth or near-infrared image (or, for `passive`, a colour image turned upright
/// by its EXIF orientation, which `Frame::open` ignores) under the limits the colour frames
/// get from `Frame::open` (which keeps only 8-bit RGB, so it cannot carry 16-bit depth): the file
/// size bounded before reading, the dimensions read from the header and checked before
/// any pixel is decoded, and the decoder's allocations capped. An untrusted folder
/// cannot make the CLI allocate gigabytes (decompression bomb).
fn decode_limited(path: &Path, limits: &DecodeLimits) -> Result<image::DynamicImage, String> {
    use std::io::{Cursor, Read};
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(|e| err(&e))?;
    let size = file.metadata().map_err(|e| err(&e))?.len();
    if size > limits.max_input_bytes {
        return Err(err(&format!(
            "file is {size} bytes, limit {}",
            limits.max_input_bytes
        )));
    }
    let mut bytes = Vec::new();
    file.take(limits.max_input_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| err(&e))?;
    if bytes.len() as u64 > limits.max_input_bytes {
        return Err(err(&"file grew past the size limit while read"));
    }
    let reader = || {
        image::ImageReader::new(Cursor::new(&bytes))
            .with_guessed_format()
            .map_err(|e| err(&e))
    };
    let (w, h) = reader()?.into_dimensions().map_err(|e| err(&e))?;
    if w == 0 || h == 0 || w > limits.max_width || h > limits.max_height {
        return Err(err(&format!(
            "image is {w}×{h}, limit {}×{}",
            limits.max_width, limits.max_height
        )));
    }
    let mut r = reader()?;
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_width);
    l.max_image_height = Some(limits.max_height);
    l.max_alloc = Some(limits.max_alloc_bytes);
    r.limits(l);
    // Upright by the EXIF orientation (phone photos are often stored sideways).
    let mut decoder = r.into_decoder().map_err(|e| err(&e))?;
    let orientation = image::ImageDecoder::orientation(&mut decoder).map_err(|e| err(&e))?;
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(|e| err(&e))?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// The face pipeline and how a sequence's frames are detected: every frame, or tracked
/// between full detections.
struct Observer {
    faces: FacePipeline,
    track: u32,
    refine: facegate::detect::Refine,
    finder: facegate::detect::track::Finder,
}

impl Observer {
    /// A new sequence's tracker (`None`: full detection on every frame).
    fn tracker(&self) -> Result<Option<Tracker>, String> {
        match (self.track, self.faces.detector()) {
            (1, _) => Ok(None),
            (n, FaceDetector::Mtcnn(_)) => Ok(Some(
                Tracker::new(n)
                    .map_err(|e| e.to_string())?
                    .with_refine(self.refine)
                    .with_finder(self.finder.clone()),
            )),
            _ => Err("--track needs the MTCNN detector (O-Net follows the faces)".into()),
        }
    }

    /// Every frame of a sequence → its observation, in order (a tracker per sequence).
    fn observe_all(&self, paths: &[PathBuf], fps: f64) -> Result<Vec<Observation>, String> {
        let mut tracker = self.tracker()?;
        paths
            .iter()
            .enumerate()
            .map(|(i, p)| observe(&self.faces, tracker.as_mut(), p, i as f64 / fps))
            .collect()
    }
}

/// The observer of the chosen detector, looking for faces of at least `min_face` pixels.
fn pipeline(detection: &DetectArgs) -> Result<Observer, String> {
    if detection.track == 0 || detection.track > facegate::detect::track::MAX_INTERVAL {
        return Err(format!(
            "--track must be in 1..={}, got {}",
            facegate::detect::track::MAX_INTERVAL,
            detection.track
        ));
    }
    let min_face = detection.min_face;
    // Checked here so the message names the flag (the detector would refuse it too).
    if !(min_face.is_finite() && min_face >= 12.0) {
        return Err(format!(
            "--min-face must be at least 12 pixels (MTCNN's window), got {min_face}"
        ));
    }
    let config = FaceConfig {
        detector: DetectorConfig {
            min_face,
            ..DetectorConfig::default()
        },
        ..FaceConfig::default()
    };
    let faces = match detection.detector {
        DetectorChoice::Mtcnn => FacePipeline::with_default_models(config),
        DetectorChoice::Yunet => FacePipeline::with_yunet(
            config,
            YuNetConfig {
                min_face,
                ..YuNetConfig::default()
            },
        ),
    }
    .map_err(|e| e.to_string())?;
    let finder = match detection.finder {
        FinderChoice::Cascade => facegate::detect::track::Finder::Cascade,
        FinderChoice::Yunet => facegate::detect::track::Finder::YuNet(std::sync::Arc::new(
            facegate::detect::yunet::YuNet::with_default_model(YuNetConfig {
                min_face,
                max_side: detection.finder_side,
                ..YuNetConfig::default()
            })
            .map_err(|e| e.to_string())?,
        )),
    };
    Ok(Observer {
        faces,
        track: detection.track,
        refine: detection.refine.into(),
        finder,
    })
}

/// A frame file that could not be read when the identity check needed it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct FrameFileError(String);

/// Frame file → faces.
/// Frame file → an observation: the detected faces and the luma the surface layer tracks
/// (the colour frame is dropped and wiped here; only the luma is kept).
fn observe(
    pipeline: &FacePipeline,
    tracker: Option<&mut Tracker>,
    path: &Path,
    t: f64,
) -> Result<Observation, String> {
    let frame = Frame::open(path, &DecodeLimits::default())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let faces = match (tracker, pipeline.detector()) {
        (Some(tracker), FaceDetector::Mtcnn(mtcnn)) => {
            tracker.detect(mtcnn, &frame).map_err(|e| e.to_string())
        }
        _ => pipeline.detect(&frame).map_err(|e| e.to_string()),
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut o = Observation::new(t, faces);
    o.luma = Some(
        // Move the luma buffer out of its wrapper (the GrayFrame wipes it on drop) rather
        // than copying the pixels.
        GrayFrame::new(
            frame.width(),
            frame.height(),
            std::mem::take(&mut *frame.luma()),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?,
    );
    Ok(o)
}

fn list_images(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                matches!(
                    e.to_ascii_lowercase().as_str(),
                    "jpg" | "jpeg" | "png" | "bmp" | "pgm" | "ppm"
                )
            })
        })
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(format!("{}: no image files", dir.display()));
    }
    Ok(v)
}

/// The sequences of a suite, `(label, folder)` in label then folder-name order.
fn suite_sequences(suite: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let subdirs = |dir: &Path| -> Result<Vec<PathBuf>, String> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        v.sort();
        Ok(v)
    };
    let mut jobs = Vec::new();
    for ldir in subdirs(suite)? {
        let label = ldir
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        for seq in subdirs(&ldir)? {
            jobs.push((label.clone(), seq));
        }
    }
    Ok(jobs)
}

/// A sequence's verdict: live, and the reason code when not.
type Verdict = (bool, Option<&'static str>);

/// A wrong decision: label, sequence folder name, the reason code of a refusal.
type WrongDecision = (String, String, Option<&'static str>);

/// `errors` in the `--json` report: a vendor looks at exactly these sequences.
fn errors_json(errors: &[WrongDecision]) -> serde_json::Value {
    errors
        .iter()
        .map(|(label, seq, reason)| {
            serde_json::json!({ "label": label, "sequence": seq, "reason": reason })
        })
        .collect()
}

/// One suite sequence → its verdict.
fn judge_sequence(observer: &Observer, seq: &Path, mirrored: bool) -> Result<Verdict, String> {
    let read = |f: &str| {
        std::fs::read_to_string(seq.join(f)).map_err(|e| format!("{}: {e}", seq.join(f).display()))
    };
    let ch = Challenge::parse_for_evaluation(read("challenge.txt")?.trim(), mirrored)
        .map_err(|e| format!("{}: {e}", seq.display()))?;
    let fps: f64 = read("fps.txt")?
        .trim()
        .parse()
        .map_err(|e| format!("{}/fps.txt: {e}", seq.display()))?;
    let d = judge(observer, seq, fps, &ch, None, None)?;
    Ok((d.live(), d.reason().map(|r| r.code())))
}

/// Judges every sequence of the suite on `threads` threads sharing one pipeline (the
/// planned networks are read-only; each run keeps its own state). Results are added to
/// the report in suite order, and the first failing sequence in that order is the error
/// reported, so the output does not depend on the thread count or on scheduling.
fn eval(
    suite: &Path,
    mirrored: bool,
    detection: &DetectArgs,
    threads: Option<usize>,
) -> Result<(PadReport, Vec<WrongDecision>), String> {
    let observer = pipeline(detection)?;
    let jobs = suite_sequences(suite)?;
    let threads = threads
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut results: Vec<(usize, Result<Verdict, String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    // Sequences are claimed in order, so every one before a failure
                    // is still judged: the first error in suite order is found.
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((_, seq)) = jobs.get(i) else { break };
                        let r = judge_sequence(&observer, seq, mirrored);
                        if r.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        done.push((i, r));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec![(0, Err("a worker thread panicked".into()))])
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    let mut report = PadReport::default();
    let mut errors = Vec::new();
    for (i, r) in &results {
        let (live, reason) = r.clone()?;
        let (label, seq) = jobs.get(*i).ok_or("sequence index out of range")?;
        report.add(label, live, reason);
        if live != (label == "live") {
            let name = seq.file_name().and_then(|s| s.to_str()).unwrap_or("");
            errors.push((label.clone(), name.to_string(), reason));
        }
    }
    if results.len() != jobs.len() {
        return Err(format!(
            "{} of {} sequences were judged",
            results.len(),
            jobs.len()
        ));
    }
    Ok((report, errors))
}

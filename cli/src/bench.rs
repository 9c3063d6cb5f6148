//! `facegate bench`: speed of the face pipeline on this machine, stage by stage.
//!
//! For vendors on their own hardware: the embedded models on a bundled 640×480 kiosk frame
//! (composed at start from `tests/fixtures/images/obama.jpg`, which ships inside the binary:
//! face_recognition 1.3.0 test image, MIT, © 2017 Adam Geitgey), the same frame
//! `benches/face.rs` measures. Per stage, the median and 95th percentile of `--iterations`
//! samples per thread; then frames per second of the whole per-frame path (decode → detect
//! → quality gate → align → embed) on `--threads` threads sharing one pipeline, a
//! streaming liveness session, and the process's peak resident memory.
//!
//! The session: on the bundled frame it is the *overhead per frame of a static frame*
//! (the same photo pushed N times: nobody turns, so the challenge never passes and the
//! session ends by `finish`); a real session needs a recording (`--frames DIR`, JPEG
//! frames in name order, a person performing `--challenge`).
//!
//! `--detectors` times the ways to find and follow a face on the same frame, interleaved:
//! MTCNN's cascade at min face 20/40/80, YuNet alone and YuNet's boxes placed by O-Net
//! (the tracker's `Finder::YuNet`) at working sizes 320 and 160, and following a face by
//! each `detect::Refine`.
//!
//! `--networks` adds each network alone (P-Net over the pyramid, R-Net and O-Net over
//! their boxes, the ResNet on one chip, both MiniFASNets), single thread; `--dump-inputs
//! DIR` also writes the very inputs and outputs of those runs as `.npy` files for
//! `benches/peers/onnxruntime_peer.py`, which runs the same ONNX files on them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use facegate::consent::{BiometricConsent, FaceConsent};
use facegate::date::Date;
use facegate::detect::{Detection, NetRun};
use facegate::embed::Embedder;
use facegate::eval::Matcher;
use facegate::face::{
    FaceConfig, FaceDetector, FacePipeline, FaceVerifier, Progress, Reference, SessionStart,
    Started,
};
use facegate::frame::{DecodeLimits, Frame};
use facegate::liveness::challenge::{Challenge, Mode};
use facegate::liveness::fusion::LivenessPolicy;
use facegate::liveness::passive::MiniFasNet;
use serde_json::{json, Value};

use crate::common::fail;

/// The portrait the bench frame is made from (MIT, see the module documentation).
const PORTRAIT: &[u8] = include_bytes!("../../tests/fixtures/images/obama.jpg");
const PORTRAIT_NOTE: &str =
    "640x480 frame composed from tests/fixtures/images/obama.jpg (face_recognition 1.3.0, MIT, (c) 2017 Adam Geitgey), face about 200 px wide";
/// Compares per sample: one compare is far below the clock's resolution.
const COMPARES_PER_SAMPLE: usize = 1000;

/// Measure the face pipeline's speed on this machine (bundled 640×480 frame).
#[derive(clap::Args)]
pub struct Args {
    /// Samples per stage and thread.
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Threads sharing one pipeline, each running the per-frame stage loop.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Static-frame session: how many times the bundled frame is pushed per session.
    #[arg(long, default_value_t = 30)]
    session_frames: usize,
    /// Sessions timed (static frame, or the recording of `--frames`).
    #[arg(long, default_value_t = 3)]
    session_runs: usize,
    /// Time real sessions over a recording: a folder of JPEG frames, in name order.
    #[arg(long)]
    frames: Option<PathBuf>,
    /// The turns the person in `--frames` performs, comma-separated.
    #[arg(long, default_value = "left,right,up,down")]
    challenge: String,
    /// Frame rate of `--frames`.
    #[arg(long, default_value_t = 15.0)]
    fps: f64,
    /// Full detection every N frames in the session, tracking in between (1 = every frame;
    /// 7 is what the README's kiosk loop runs).
    #[arg(long, default_value_t = 7)]
    track: u32,
    /// Also time each network alone (single thread; loads a second embedder).
    #[arg(long)]
    networks: bool,
    /// Smallest face the pipeline's detector looks for, pixels (the library default 40;
    /// 20 is what a kiosk's liveness session runs, `FaceConfig::kiosk`).
    #[arg(long, default_value_t = facegate::detect::DetectorConfig::default().min_face)]
    min_face: f32,
    /// Also time the detectors and the tracker's refinements side by side (single thread).
    #[arg(long)]
    detectors: bool,
    /// Write the networks' inputs and outputs on the bundled frame (only it) to DIR as .npy
    /// (implies --networks); for benches/peers/onnxruntime_peer.py.
    #[arg(long)]
    dump_inputs: Option<PathBuf>,
}

/// Median and 95th percentile (nearest rank) of samples in milliseconds.
#[derive(Clone, Copy, Debug)]
struct Summary {
    median: f64,
    p95: f64,
    n: usize,
}

fn summarise(samples: &[f64]) -> Summary {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return Summary {
            median: f64::NAN,
            p95: f64::NAN,
            n: 0,
        };
    }
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    Summary {
        median,
        p95: v[rank - 1],
        n,
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Peak resident set size of this process in MiB (Linux: VmHWM), or None.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// The 640×480 kiosk frame with one ~200 px face, made from the bundled portrait.
fn kiosk_jpeg(pipeline: &FacePipeline) -> Result<Vec<u8>, String> {
    facegate_sim::kiosk::kiosk_jpeg(pipeline, PORTRAIT)
}

/// Stage names in print order.
const STAGES: [&str; 7] = [
    "decode", "detect", "track", "align", "embed", "compare", "capture",
];

/// What each stage measures (printed with `--json` too).
fn stage_note(stage: &str) -> &'static str {
    match stage {
        "decode" => "JPEG bytes -> frame, default limits",
        "detect" => "full MTCNN cascade (pyramid P-Net, R-Net, O-Net)",
        "track" => "light tracking from the last box (O-Net once, the default Refine; no pyramid)",
        "align" => "similarity fit + 150x150 chip",
        "embed" => "dlib ResNet on the chip and its mirror (default: 2 runs)",
        "compare" => "template compare (per call)",
        "capture" => "detect -> quality gate -> align -> embed (one frame, decoded)",
        _ => "",
    }
}

/// Everything the per-frame loop needs, prepared once.
struct Bench<'p> {
    pipeline: &'p FacePipeline,
    jpeg: &'p [u8],
    frame: &'p Frame,
    face: Detection,
}

impl Bench<'_> {
    /// The per-frame stage loop of one thread: `iterations` samples of every stage.
    fn stage_loop(&self, iterations: usize) -> Result<Vec<Vec<f64>>, String> {
        let limits = DecodeLimits::default();
        let matcher = Matcher::new(self.pipeline);
        let mtcnn = match self.pipeline.detector() {
            FaceDetector::Mtcnn(d) => d,
            _ => return Err("the bench pipeline is MTCNN".into()),
        };
        let mut samples = vec![Vec::with_capacity(iterations); STAGES.len()];
        let reference = matcher
            .capture(self.frame)
            .map_err(|e| e.to_string())?
            .template;
        for _ in 0..iterations {
            let t = Instant::now();
            let f = Frame::decode(self.jpeg, &limits).map_err(|e| e.to_string())?;
            samples[0].push(ms(t));
            std::hint::black_box(&f);

            let t = Instant::now();
            let faces = self
                .pipeline
                .detect(self.frame)
                .map_err(|e| e.to_string())?;
            samples[1].push(ms(t));
            if faces.is_empty() {
                return Err("no face in the bench frame".into());
            }

            let t = Instant::now();
            let tracked = mtcnn
                .track(self.frame, &self.face.bbox)
                .map_err(|e| e.to_string())?;
            samples[2].push(ms(t));
            let face = tracked.ok_or("tracking lost the face of a static frame")?;

            let t = Instant::now();
            let chip = self
                .pipeline
                .align(self.frame, &face.landmarks)
                .map_err(|e| e.to_string())?;
            samples[3].push(ms(t));

            let t = Instant::now();
            let template = matcher.embed_chip(&chip).map_err(|e| e.to_string())?;
            samples[4].push(ms(t));

            let t = Instant::now();
            for _ in 0..COMPARES_PER_SAMPLE {
                std::hint::black_box(matcher.compare(std::hint::black_box(&reference), &template));
            }
            samples[5].push(ms(t) / COMPARES_PER_SAMPLE as f64);

            let t = Instant::now();
            let c = matcher.capture(self.frame).map_err(|e| e.to_string())?;
            samples[6].push(ms(t));
            std::hint::black_box(&c);
        }
        Ok(samples)
    }

    /// Frames per second of decode → capture on `threads` threads, `per_thread` each.
    fn throughput(&self, threads: usize, per_thread: usize) -> Result<f64, String> {
        let t = Instant::now();
        let results: Vec<Result<(), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| -> Result<(), String> {
                        let matcher = Matcher::new(self.pipeline);
                        for _ in 0..per_thread {
                            let f = Frame::decode(self.jpeg, &DecodeLimits::default())
                                .map_err(|e| e.to_string())?;
                            std::hint::black_box(matcher.capture(&f).map_err(|e| e.to_string())?);
                        }
                        Ok(())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
                .collect()
        });
        let secs = t.elapsed().as_secs_f64();
        for r in results {
            r?;
        }
        Ok((threads * per_thread) as f64 / secs)
    }
}

/// Rounds of the 1-thread against the N-thread throughput, interleaved so that a change in the
/// machine's load hits both sides alike.
const SCALING_ROUNDS: usize = 5;

/// Throughput on `threads` threads as a ratio to one thread, measured in the same run on the same
/// frame: per round one 1-thread and one N-thread run, the median of the round ratios reported.
fn scaling(b: &Bench<'_>, threads: usize, per_thread: usize) -> Result<Value, String> {
    let mut one = Vec::with_capacity(SCALING_ROUNDS);
    let mut many = Vec::with_capacity(SCALING_ROUNDS);
    let mut ratios = Vec::with_capacity(SCALING_ROUNDS);
    for _ in 0..SCALING_ROUNDS {
        let a = b.throughput(1, per_thread)?;
        let n = b.throughput(threads, per_thread)?;
        one.push(a);
        many.push(n);
        ratios.push(n / a);
    }
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(json!({
        "what": format!("fps on {threads} threads / fps on 1 thread, decode -> capture, {SCALING_ROUNDS} interleaved rounds of {per_thread} frames per thread; the median round ratio"),
        "ratio": sorted[sorted.len() / 2],
        "round_ratios": ratios,
        "fps_one_thread": one,
        "fps_all_threads": many,
    }))
}

/// Timed sessions: per pushed frame, and whole sessions (start with the reference photo,
/// every push, `finish` when undecided).
struct SessionTimes {
    label: &'static str,
    per_frame: Vec<f64>,
    whole: Vec<f64>,
    frames: usize,
    outcome: String,
}

/// What [`time_sessions`] runs: the frames, the reference photo, the turns performed.
struct SessionPlan<'a> {
    frames: &'a [Frame],
    reference: &'a Frame,
    turns: &'a str,
    fps: f64,
    track: u32,
    runs: usize,
    label: &'static str,
}

fn time_sessions(pipeline: &FacePipeline, plan: SessionPlan<'_>) -> Result<SessionTimes, String> {
    let SessionPlan {
        frames,
        reference,
        turns,
        fps,
        track,
        runs,
        label,
    } = plan;
    let verifier = FaceVerifier::new(pipeline, LivenessPolicy::default());
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let today = Date::today_utc()
        .or_else(|| Date::new(2026, 1, 1).ok())
        .ok_or("no date")?;
    let mut out = SessionTimes {
        label,
        per_frame: Vec::new(),
        whole: Vec::new(),
        frames: frames.len(),
        outcome: String::new(),
    };
    for _ in 0..runs {
        let t_whole = Instant::now();
        let start = SessionStart {
            consent: &consent,
            birth_date: None,
            today,
            reference: Reference::Photo(reference),
            mirrored: false,
            track,
        };
        let challenge = Challenge::parse_for_evaluation(turns, false).map_err(|e| e.to_string())?;
        // A recording cannot follow a drawn challenge: the evaluation door, with its turns.
        let mut session = match verifier
            .start_for_evaluation(start, challenge, Mode::Fixed)
            .map_err(|e| e.to_string())?
        {
            Started::Session(s) => s,
            Started::Decided(o) => return Err(format!("session decided before any frame: {o:?}")),
        };
        let mut outcome = None;
        for (i, f) in frames.iter().enumerate() {
            let t = Instant::now();
            let p = session.push(f, i as f64 / fps).map_err(|e| e.to_string())?;
            out.per_frame.push(ms(t));
            if let Progress::Done(o) = p {
                outcome = Some(o);
                break;
            }
        }
        let outcome = match outcome {
            Some(o) => o,
            None => session.finish().map_err(|e| e.to_string())?,
        };
        out.whole.push(ms(t_whole));
        out.outcome = match &outcome {
            facegate::Outcome::Accepted => "accepted".into(),
            facegate::Outcome::Rejected(r) => format!("rejected: {}", r.code()),
            facegate::Outcome::Retry(r) => format!("retry: {}", r.code()),
        };
    }
    Ok(out)
}

/// JPEG frames of a folder, in name order.
fn read_frames(dir: &Path) -> Result<Vec<Frame>, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(format!("{}: no .jpg frames", dir.display()));
    }
    paths
        .iter()
        .map(|p| {
            Frame::open(p, &DecodeLimits::default()).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

/// A little-endian `.npy` file (format 1.0).
fn write_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8]) -> Result<(), String> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n', padded to 64 bytes.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + data.len());
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn write_f32(path: &Path, shape: &[usize], v: &[f32]) -> Result<(), String> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    write_npy(path, "<f4", shape, &bytes)
}

/// Each network alone, single thread; with `dump`, their inputs and outputs as `.npy`.
fn networks(
    pipeline: &FacePipeline,
    b: &Bench<'_>,
    iterations: usize,
    dump: Option<&Path>,
) -> Result<Value, String> {
    let mtcnn = match pipeline.detector() {
        FaceDetector::Mtcnn(d) => d,
        _ => return Err("the bench pipeline is MTCNN".into()),
    };
    if let Some(dir) = dump {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // MTCNN: per frame, the sum of each network's runs (and how many).
    let nets = ["pnet", "rnet", "onet"];
    let mut per_frame: Vec<Vec<f64>> = vec![Vec::new(); 3];
    let mut runs = [0usize; 3];
    let mut dumped: Vec<Value> = Vec::new();
    for it in 0..iterations.max(1) {
        let mut sum = [0.0f64; 3];
        let mut count = [0usize; 3];
        let mut err: Option<String> = None;
        mtcnn
            .detect_measured(b.frame, &mut |r: &NetRun<'_>| {
                let k = nets.iter().position(|n| *n == r.net).unwrap_or(0);
                sum[k] += r.elapsed.as_secs_f64() * 1e3;
                if let (0, Some(dir)) = (it, dump) {
                    let name = format!("{}_{:03}", r.net, count[k]);
                    let mut res =
                        write_f32(&dir.join(format!("{name}_in.npy")), &r.input_shape, r.input);
                    for (j, (shape, v)) in r.outputs.iter().enumerate() {
                        res = res.and_then(|_| {
                            write_f32(&dir.join(format!("{name}_out{j}.npy")), shape, v)
                        });
                    }
                    if let Err(e) = res {
                        err.get_or_insert(e);
                    }
                    dumped.push(
                        json!({"net": r.net, "name": name, "input_shape": r.input_shape,
                        "facegate_ms": r.elapsed.as_secs_f64() * 1e3}),
                    );
                }
                count[k] += 1;
            })
            .map_err(|e| e.to_string())?;
        if let Some(e) = err {
            return Err(e);
        }
        for k in 0..3 {
            per_frame[k].push(sum[k]);
        }
        runs = count;
    }
    // The ResNet on one chip (a single run: the mirror average is two of these).
    let embedder = Embedder::with_default_model().map_err(|e| e.to_string())?;
    let chip = pipeline
        .align(b.frame, &b.face.landmarks)
        .map_err(|e| e.to_string())?;
    let mut resnet = Vec::new();
    for _ in 0..iterations.max(1) {
        let t = Instant::now();
        std::hint::black_box(embedder.embed(&chip).map_err(|e| e.to_string())?);
        resnet.push(ms(t));
    }
    // Both MiniFASNets on the face's two crops.
    let passive = pipeline
        .passive()
        .ok_or("the bench pipeline has no passive model")?;
    let crops = MiniFasNet::crops(
        b.frame.rgb(),
        b.frame.width(),
        b.frame.height(),
        &b.face.bbox,
    )
    .map_err(|e| e.to_string())?;
    let mut fas = Vec::new();
    let mut logits = [[0f32; 3]; 2];
    for _ in 0..iterations.max(1) {
        let t = Instant::now();
        logits = passive
            .score_crops(&crops)
            .map_err(|e| e.to_string())?
            .logits;
        fas.push(ms(t));
    }
    if let Some(dir) = dump {
        write_npy(
            &dir.join("frame.npy"),
            "|u1",
            &[b.frame.height() as usize, b.frame.width() as usize, 3],
            b.frame.rgb(),
        )?;
        let s = chip.size() as usize;
        write_npy(&dir.join("resnet_chip.npy"), "|u1", &[s, s, 3], chip.rgb())?;
        let raw = facegate::eval::raw_embedding(&embedder, &chip).map_err(|e| e.to_string())?;
        write_f32(&dir.join("resnet_out.npy"), &[1, raw.len()], &raw)?;
        for (i, (crop, l)) in crops.iter().zip(logits.iter()).enumerate() {
            let name = ["minifasnet_v2", "minifasnet_v1se"][i];
            write_npy(
                &dir.join(format!("{name}_crop.npy")),
                "|u1",
                &[80, 80, 3],
                crop,
            )?;
            write_f32(&dir.join(format!("{name}_out.npy")), &[1, 3], l)?;
        }
        let lm: Vec<[f32; 2]> = b
            .face
            .landmarks
            .to_array()
            .iter()
            .map(|p| [p.x, p.y])
            .collect();
        let manifest = json!({
            "frame": PORTRAIT_NOTE,
            "runs": dumped,
            "detection": {"x": b.face.bbox.x, "y": b.face.bbox.y, "width": b.face.bbox.width,
                "height": b.face.bbox.height, "score": b.face.score, "landmarks": lm},
            "pyramid": mtcnn.pyramid(b.frame.width(), b.frame.height()),
            "notes": "MTCNN inputs are [1,3,W,H] (channels first of the transposed image, as facegate feeds them); the ONNX files take [1,W,H,3]: transpose (0,2,3,1). resnet_chip is the 150x150 RGB chip (the ONNX input is NCHW float 0..255); minifasnet crops are 80x80 BGR bytes (input NCHW float 0..255)."
        });
        std::fs::write(
            dir.join("manifest.json"),
            serde_json::to_string_pretty(&manifest).unwrap_or_default(),
        )
        .map_err(|e| e.to_string())?;
    }
    let entry = |s: Summary, runs: usize, note: &str| json!({"median_ms": s.median, "p95_ms": s.p95, "samples": s.n, "runs_per_frame": runs, "what": note});
    Ok(json!({
        "pnet": entry(summarise(&per_frame[0]), runs[0], "P-Net over every pyramid level of the frame (network time only)"),
        "rnet": entry(summarise(&per_frame[1]), runs[1], "R-Net over the frame's candidates, batch 1 each"),
        "onet": entry(summarise(&per_frame[2]), runs[2], "O-Net over the frame's candidates, batch 1 each"),
        "resnet": entry(summarise(&resnet), 1, "dlib ResNet on one 150x150 chip (Embedder::embed)"),
        "minifasnet": entry(summarise(&fas), 2, "MiniFASNet V2 + V1SE on the face's two 80x80 crops"),
    }))
}

/// The detector variants of `--detectors`, each timed once per round, rounds interleaved.
fn detectors(b: &Bench<'_>, iterations: usize) -> Result<Value, String> {
    use facegate::detect::yunet::{YuNet, YuNetConfig};
    use facegate::detect::{Detector, DetectorConfig, Refine};
    let mtcnn = |min_face: f32| {
        Detector::with_default_models(DetectorConfig {
            min_face,
            ..DetectorConfig::default()
        })
        .map_err(|e| e.to_string())
    };
    let yunet = |max_side: u32| {
        YuNet::with_default_model(YuNetConfig {
            max_side,
            ..YuNetConfig::default()
        })
        .map_err(|e| e.to_string())
    };
    let (m20, m40, m80) = (mtcnn(20.0)?, mtcnn(40.0)?, mtcnn(80.0)?);
    let (y320, y160) = (yunet(320)?, yunet(160)?);
    let frame = b.frame;
    let face = b.face.bbox;
    type Run<'a> = Box<dyn Fn() -> Result<usize, String> + 'a>;
    let err = |e: facegate::detect::DetectError| e.to_string();
    let variants: Vec<(&str, &str, Run<'_>)> = vec![
        (
            "mtcnn_min20",
            "MTCNN cascade, min face 20",
            Box::new(|| m20.detect(frame).map(|d| d.len()).map_err(err)),
        ),
        (
            "mtcnn_min40",
            "MTCNN cascade, min face 40 (the library default)",
            Box::new(|| m40.detect(frame).map(|d| d.len()).map_err(err)),
        ),
        (
            "mtcnn_min80",
            "MTCNN cascade, min face 80",
            Box::new(|| m80.detect(frame).map(|d| d.len()).map_err(err)),
        ),
        (
            "yunet_320",
            "YuNet alone at 320 (finds faces down to about 20 px of a 640-px frame)",
            Box::new(|| y320.detect(frame).map(|d| d.len()).map_err(err)),
        ),
        (
            "yunet_160",
            "YuNet alone at 160 (faces down to about 40 px)",
            Box::new(|| y160.detect(frame).map(|d| d.len()).map_err(err)),
        ),
        (
            "find_320",
            "YuNet at 320, each box placed by O-Net twice (tracker Finder::YuNet)",
            Box::new(|| {
                m20.place(frame, &y320.detect(frame).map_err(err)?)
                    .map(|d| d.len())
                    .map_err(err)
            }),
        ),
        (
            "find_160",
            "YuNet at 160, each box placed by O-Net twice (tracker Finder::YuNet)",
            Box::new(|| {
                m20.place(frame, &y160.detect(frame).map_err(err)?)
                    .map(|d| d.len())
                    .map_err(err)
            }),
        ),
        (
            "track_once",
            "following the face: O-Net once on the last box (Refine::Once)",
            Box::new(|| {
                m20.track_refined(frame, &face, Refine::Once)
                    .map(|d| usize::from(d.is_some()))
                    .map_err(err)
            }),
        ),
        (
            "track_moved",
            "following the face: O-Net again only when the box moved (Refine::WhenMoved)",
            Box::new(|| {
                m20.track_refined(frame, &face, Refine::WhenMoved)
                    .map(|d| usize::from(d.is_some()))
                    .map_err(err)
            }),
        ),
        (
            "track_twice",
            "following the face: O-Net twice (Refine::Twice)",
            Box::new(|| {
                m20.track_refined(frame, &face, Refine::Twice)
                    .map(|d| usize::from(d.is_some()))
                    .map_err(err)
            }),
        ),
    ];
    // One warm-up round plans every shape.
    let mut faces = Vec::with_capacity(variants.len());
    for (name, _, run) in &variants {
        let n = run()?;
        if n == 0 {
            return Err(format!("{name} found no face in the bench frame"));
        }
        faces.push(n);
    }
    let mut samples = vec![Vec::with_capacity(iterations); variants.len()];
    for _ in 0..iterations {
        for ((_, _, run), s) in variants.iter().zip(&mut samples) {
            let t = Instant::now();
            std::hint::black_box(run()?);
            s.push(ms(t));
        }
    }
    let base = summarise(&samples[0]).median;
    let mut out = serde_json::Map::new();
    for (((name, what, _), s), n) in variants.iter().zip(&samples).zip(&faces) {
        let sum = summarise(s);
        out.insert(
            (*name).to_owned(),
            json!({"median_ms": sum.median, "p95_ms": sum.p95, "samples": sum.n,
                "ratio_to_mtcnn_min20": sum.median / base, "faces": n, "what": what}),
        );
    }
    Ok(Value::Object(out))
}

pub fn run(args: Args) -> ExitCode {
    match bench(&args) {
        Ok(v) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                print_text(&v);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn bench(args: &Args) -> Result<Value, String> {
    if args.iterations == 0 || args.threads == 0 {
        return Err("--iterations and --threads must be at least 1".into());
    }
    if !(args.fps.is_finite() && args.fps > 0.0) {
        return Err("--fps must be positive".into());
    }
    // Read a recording before loading the models: a bad folder fails fast.
    let recording = match &args.frames {
        Some(dir) => Some(read_frames(dir)?),
        None => None,
    };
    let t_load = Instant::now();
    let mut config = FaceConfig::default();
    config.detector.min_face = args.min_face;
    let pipeline = FacePipeline::with_default_models(config)
        .map_err(|e| format!("loading the models: {e}"))?;
    let load_ms = ms(t_load);
    let rss_after_load = peak_rss_mib();
    let jpeg = kiosk_jpeg(&pipeline)?;
    let frame = Frame::decode(&jpeg, &DecodeLimits::default()).map_err(|e| e.to_string())?;
    let faces = pipeline.detect(&frame).map_err(|e| e.to_string())?;
    let face = *faces.first().ok_or("no face in the bench frame")?;
    let b = Bench {
        pipeline: &pipeline,
        jpeg: &jpeg,
        frame: &frame,
        face,
    };
    // Warm-up: plans P-Net for every pyramid level of this frame size.
    Matcher::new(&pipeline)
        .capture(&frame)
        .map_err(|e| e.to_string())?;

    // The stage loop on every thread, sharing the pipeline.
    let per_thread: Vec<Result<Vec<Vec<f64>>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.threads)
            .map(|_| s.spawn(|| b.stage_loop(args.iterations)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    let mut samples = vec![Vec::new(); STAGES.len()];
    for r in per_thread {
        for (all, mine) in samples.iter_mut().zip(r?) {
            all.extend(mine);
        }
    }
    let fps = b.throughput(args.threads, args.iterations)?;
    let scaling = if args.threads > 1 {
        Some(scaling(&b, args.threads, args.iterations)?)
    } else {
        None
    };

    // The session.
    let session = match &recording {
        Some(frames) => time_sessions(
            &pipeline,
            SessionPlan {
                frames,
                reference: &frames[0],
                turns: &args.challenge,
                fps: args.fps,
                track: args.track,
                runs: args.session_runs.max(1),
                label: "whole streaming liveness session over the recording (reference = its first frame)",
            },
        )?,
        None => {
            let frames: Vec<Frame> = (0..args.session_frames.max(1))
                .map(|_| Frame::from_rgb(frame.width(), frame.height(), frame.rgb().to_vec()))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            time_sessions(
                &pipeline,
                SessionPlan {
                    frames: &frames,
                    reference: &frame,
                    turns: "left",
                    fps: args.fps,
                    track: args.track,
                    runs: args.session_runs.max(1),
                    label: "session overhead per frame (static frame): the bundled frame pushed N times, nobody turns; NOT a real liveness session",
                },
            )?
        }
    };
    let rss = peak_rss_mib();

    let mut stages = serde_json::Map::new();
    for (name, s) in STAGES.iter().zip(&samples) {
        let sum = summarise(s);
        stages.insert(
            (*name).into(),
            json!({"median_ms": sum.median, "p95_ms": sum.p95, "samples": sum.n, "what": stage_note(name)}),
        );
    }
    let pf = summarise(&session.per_frame);
    let whole = summarise(&session.whole);
    let mut v = json!({
        "frame": PORTRAIT_NOTE,
        "threads": args.threads,
        "iterations": args.iterations,
        "model_load_ms": load_ms,
        "min_face": args.min_face,
        "stages": stages,
        "fps": fps,
        "fps_what": "frames per second of decode -> detect -> quality gate -> align -> embed, all threads together",
        "session": {
            "what": session.label,
            "frames": session.frames,
            "track": args.track,
            "per_frame": {"median_ms": pf.median, "p95_ms": pf.p95, "samples": pf.n},
            "whole": {"median_ms": whole.median, "p95_ms": whole.p95, "samples": whole.n},
            "outcome": session.outcome,
        },
        "peak_rss_mib": rss,
        "peak_rss_after_model_load_mib": rss_after_load,
    });
    let mut notes = Vec::new();
    if recording.is_some() {
        notes.push("peak_rss_mib includes the whole decoded recording of --frames, held in memory");
    }
    if let Some(s) = scaling {
        v["scaling"] = s;
    }
    if args.detectors {
        v["detectors"] = detectors(&b, args.iterations)?;
    }
    if args.networks || args.dump_inputs.is_some() {
        let nets = networks(&pipeline, &b, args.iterations, args.dump_inputs.as_deref())?;
        v["networks"] = nets;
        notes.push(
            "peak_rss_mib is read before the per-network runs (which load a second embedder)",
        );
    }
    if !notes.is_empty() {
        v["peak_rss_note"] = json!(notes.join("; "));
    }
    Ok(v)
}

/// Milliseconds with three decimals, or four significant digits below 0.01 ms.
fn ms_text(x: f64) -> String {
    if x.abs() < 0.01 && x != 0.0 {
        format!("{x:.3e}")
    } else {
        format!("{x:.3}")
    }
}

/// Networks in print order.
const NETWORKS: [&str; 5] = ["pnet", "rnet", "onet", "resnet", "minifasnet"];

fn print_text(v: &Value) {
    let f = |x: &Value| x.as_f64().unwrap_or(f64::NAN);
    println!("facegate bench — {}", v["frame"].as_str().unwrap_or(""));
    println!(
        "threads {}, {} samples per stage and thread; times on THIS machine (noisy if it is loaded)",
        v["threads"], v["iterations"]
    );
    println!("model load: {:.0} ms", f(&v["model_load_ms"]));
    println!();
    println!("{:<10} {:>10} {:>10}  what", "stage", "median ms", "p95 ms");
    for name in STAGES {
        let s = &v["stages"][name];
        println!(
            "{:<10} {:>10} {:>10}  {}",
            name,
            ms_text(f(&s["median_ms"])),
            ms_text(f(&s["p95_ms"])),
            s["what"].as_str().unwrap_or("")
        );
    }
    let s = &v["session"];
    println!(
        "{:<10} {:>10.3} {:>10.3}  per pushed frame — {}",
        "session",
        f(&s["per_frame"]["median_ms"]),
        f(&s["per_frame"]["p95_ms"]),
        s["what"].as_str().unwrap_or("")
    );
    println!(
        "{:<10} {:>10.1} {:>10.1}  whole session: {} frames, track {}, outcome {}",
        "",
        f(&s["whole"]["median_ms"]),
        f(&s["whole"]["p95_ms"]),
        s["frames"],
        s["track"],
        s["outcome"].as_str().unwrap_or("")
    );
    println!();
    println!(
        "frames per second: {:.2} ({})",
        f(&v["fps"]),
        v["fps_what"].as_str().unwrap_or("")
    );
    if let Some(sc) = v.get("scaling") {
        println!(
            "scaling: {:.3}× one thread ({})",
            f(&sc["ratio"]),
            sc["what"].as_str().unwrap_or("")
        );
    }
    match v["peak_rss_mib"].as_f64() {
        Some(mb) => println!(
            "peak RSS: {mb:.1} MiB (after loading the models: {:.1} MiB)",
            f(&v["peak_rss_after_model_load_mib"])
        ),
        None => println!("peak RSS: unavailable"),
    }
    if let Some(note) = v["peak_rss_note"].as_str() {
        println!("({note})");
    }
    if let Some(d) = v.get("detectors").and_then(Value::as_object) {
        println!();
        println!("detectors and tracking (single thread, rounds interleaved):");
        println!(
            "{:<12} {:>10} {:>10} {:>8}  what",
            "variant", "median ms", "p95 ms", "÷ min20"
        );
        for (name, e) in d {
            println!(
                "{:<12} {:>10.2} {:>10.2} {:>8.3}  {}",
                name,
                f(&e["median_ms"]),
                f(&e["p95_ms"]),
                f(&e["ratio_to_mtcnn_min20"]),
                e["what"].as_str().unwrap_or("")
            );
        }
    }
    if let Some(n) = v.get("networks").and_then(Value::as_object) {
        println!();
        println!("networks alone (single thread, per frame):");
        println!(
            "{:<11} {:>10} {:>10} {:>5}  what",
            "network", "median ms", "p95 ms", "runs"
        );
        for name in NETWORKS {
            let Some(e) = n.get(name) else { continue };
            println!(
                "{:<11} {:>10.3} {:>10.3} {:>5}  {}",
                name,
                f(&e["median_ms"]),
                f(&e["p95_ms"]),
                e["runs_per_frame"],
                e["what"].as_str().unwrap_or("")
            );
        }
    }
}

//! `facegate verify REFERENCE PROBE [--json]`: are the two faces the same person?

use std::process::ExitCode;
use std::time::Instant;

use facegate::detect::Detector;
use facegate::embed::Embedder;
use facegate::face::{CaptureError, FaceConfig, FacePipeline, StageTimes};
use facegate::frame::{DecodeLimits, Frame};
use facegate::quality::{QualityConfig, SeveralFaces};
use facegate::template::Threshold;

use crate::common::{fail, QualityArg, SeveralArg};

/// Compare the face in REFERENCE with the face in PROBE.
#[derive(clap::Args)]
pub struct Args {
    /// Reference image (e.g. the ID document's photo or an enrolment picture).
    reference: std::path::PathBuf,
    /// Probe image (the live capture).
    probe: std::path::PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Decision threshold on the euclidean distance (default: the calibrated one).
    #[arg(long)]
    threshold: Option<f32>,
    /// Smallest face to look for, in pixels.
    #[arg(long, default_value_t = 40.0)]
    min_face: f32,
    /// What to do when an image shows several faces.
    #[arg(long, value_enum, default_value_t = SeveralArg::Largest)]
    several_faces: SeveralArg,
    /// Quality gate: `kiosk` refuses blurred, dark, small or turned faces; `permissive`
    /// only requires a face.
    #[arg(long, value_enum, default_value_t = QualityArg::Kiosk)]
    quality: QualityArg,
    /// Embed the chip only, not also its mirror image (the default averages both:
    /// fewer errors, twice the embedding time).
    #[arg(long)]
    no_mirror: bool,
}

#[derive(serde::Serialize)]
struct ImageTimes {
    decode_ms: f64,
    #[serde(flatten)]
    stages: StageTimes,
}

pub fn run(args: Args) -> ExitCode {
    let t_start = Instant::now();
    let mut config = FaceConfig::default();
    if let Some(t) = args.threshold {
        match Threshold::new(t) {
            Some(t) => config.threshold = Some(t),
            None => return fail("--threshold must be a positive number"),
        }
    }
    config.detector.min_face = args.min_face;
    let several: SeveralFaces = args.several_faces.into();
    config.quality = match args.quality {
        QualityArg::Kiosk => QualityConfig {
            several_faces: several,
            ..QualityConfig::default()
        },
        QualityArg::Permissive => QualityConfig::permissive(several),
    };
    config.mirror_average = !args.no_mirror;
    // Read both files and check their headers before loading the models, so a missing,
    // oversized or unreadable file fails fast; each is decoded just before its face is
    // captured and dropped after, so two large photos are never held decoded at once.
    let limits = DecodeLimits::default();
    let mut encoded = Vec::with_capacity(2);
    for path in [&args.reference, &args.probe] {
        match Frame::read(path, &limits).and_then(|b| Frame::dimensions(&b, &limits).map(|_| b)) {
            Ok(b) => encoded.push(b),
            Err(e) => return fail(&format!("{}: {e}", path.display())),
        }
    }
    let t_load = Instant::now();
    // Two photos have no motion to judge, so the passive liveness model is not loaded:
    // planning it costs about 0.1 s of CPU, a third of the whole command.
    // The embedder first, as `FacePipeline::with_default_models` does (less heap left in holes).
    let embedder = Embedder::with_default_model().map_err(|e| e.to_string());
    let detector = Detector::with_default_models(config.detector).map_err(|e| e.to_string());
    let pipeline = match (detector, embedder) {
        (Ok(d), Ok(e)) => FacePipeline::new(d, e, config),
        (Err(e), _) | (_, Err(e)) => return fail(&format!("cannot load the face models: {e}")),
    };
    let load_ms = t_load.elapsed().as_secs_f64() * 1e3;
    // An operator's tool on two photos, not a kiosk session: the evaluation door.
    let matcher = facegate::eval::Matcher::new(&pipeline);
    let mut captures = Vec::with_capacity(2);
    let mut decode_ms = [0.0; 2];
    for (i, ((bytes, path), which)) in encoded
        .iter()
        .zip([&args.reference, &args.probe])
        .zip(["reference", "probe"])
        .enumerate()
    {
        let t = Instant::now();
        let frame = match Frame::decode(bytes, &limits) {
            Ok(f) => f,
            Err(e) => return fail(&format!("{}: {e}", path.display())),
        };
        decode_ms[i] = t.elapsed().as_secs_f64() * 1e3;
        match matcher.capture(&frame) {
            Ok(c) => captures.push(c),
            // The person's failure, not a fault: "no", with the reason (exit 1).
            Err(CaptureError::Quality(r)) => {
                if args.json {
                    let out = serde_json::json!({
                        "same_person": false,
                        "reason": r.code(),
                        "image": which,
                    });
                    println!("{out}");
                } else {
                    println!(
                        "not verified: {}: no usable face ({})",
                        path.display(),
                        r.code()
                    );
                }
                return ExitCode::from(crate::EXIT_NO);
            }
            Err(CaptureError::Fault(e)) => return fail(&format!("{}: {e}", path.display())),
        }
    }
    drop(encoded);
    let cmp = matcher.compare(&captures[0].template, &captures[1].template);
    let total_ms = t_start.elapsed().as_secs_f64() * 1e3;
    if args.json {
        let times: Vec<ImageTimes> = captures
            .iter()
            .zip(decode_ms)
            .map(|(c, d)| ImageTimes {
                decode_ms: d,
                stages: c.times,
            })
            .collect();
        let out = serde_json::json!({
            "same_person": cmp.same_person(),
            "distance": cmp.distance(),
            "threshold": cmp.threshold().distance(),
            "reference": { "face": captures[0].detection.bbox, "ms": times[0] },
            "probe": { "face": captures[1].detection.bbox, "ms": times[1] },
            "model_load_ms": load_ms,
            "total_ms": total_ms,
        });
        println!("{out}");
    } else {
        println!(
            "{}: distance {:.4} (threshold {:.4})",
            if cmp.same_person() {
                "same person"
            } else {
                "different person"
            },
            cmp.distance(),
            cmp.threshold().distance()
        );
    }
    ExitCode::from(if cmp.same_person() {
        crate::EXIT_YES
    } else {
        crate::EXIT_NO
    })
}

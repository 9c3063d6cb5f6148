//! The streaming face session and `facegate liveness check` decide alike on the same frames
//! of generated suite sequences (`facegate_sim::suite`: rendered prints, a screen replay in
//! the wrong order, a spliced identity swap, a simulated head). The batch `FaceVerifier`
//! runs through the same session, so the three agree.
//!
//! Why: the CLI replays recordings from disk with its own orchestration (frames decoded on
//! demand), the session holds two colour frames in memory; a vendor who measures with the
//! CLI must be measuring what the kiosk runs. Needs `../shared` (LFW photos, the real
//! recordings); skips with a message when it is absent (CI has it).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use facegate::consent::{BiometricConsent, FaceConsent};
use facegate::date::Date;
use facegate::face::{
    FaceConfig, FacePipeline, FaceVerifier, Progress, Reference, SessionStart, Started,
};
use facegate::frame::{DecodeLimits, Frame};
use facegate::liveness::challenge::{Challenge, Mode};
use facegate::liveness::fusion::LivenessPolicy;
use facegate::Outcome;

/// The generated suites' faces are large (640×480 renders); the CLI is run with the same.
const MIN_FACE: f32 = 60.0;

fn frames_of(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    v.sort();
    v
}

/// The liveness part of a session outcome: `None` when liveness passed (the match decided
/// after it), else the liveness reason code.
fn liveness_refusal(o: &Outcome) -> Option<String> {
    match o {
        Outcome::Rejected(r) | Outcome::Retry(r) if r.code().starts_with("liveness.") => {
            Some(r.code().to_owned())
        }
        _ => None,
    }
}

#[test]
fn session_and_cli_check_decide_alike_on_generated_sequences() {
    let (Some(lfw), Some(recordings)) = (
        common::shared("data/lfw-dev/images"),
        common::shared("data/liveness/genuine"),
    ) else {
        return;
    };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("liveness_equality_suite");
    let _ = std::fs::remove_dir_all(&out);
    let args = [
        "--out",
        out.to_str().unwrap(),
        "--n",
        "1",
        "--seed",
        "9",
        "--identities",
        "F-J",
        "--types",
        "static_print,folded_print,replay_wrong_order,identity_swap,live_sim",
        "--threads",
        "2",
        "--lfw",
        lfw.to_str().unwrap(),
        "--recordings",
        recordings.to_str().unwrap(),
    ];
    let opts = facegate_sim::suite::Opts::parse(args.iter().map(|s| s.to_string())).unwrap();
    facegate_sim::suite::run(&opts).unwrap();

    let mut config = FaceConfig::default();
    config.detector.min_face = MIN_FACE;
    let pipeline = FacePipeline::with_default_models(config).unwrap();
    let verifier = FaceVerifier::new(&pipeline, LivenessPolicy::default());
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let today = Date::new(2026, 11, 30).unwrap();

    let mut compared = 0;
    for label in std::fs::read_dir(&out).unwrap() {
        let label = label.unwrap().path();
        for seq in std::fs::read_dir(&label).unwrap() {
            let seq = seq.unwrap().path();
            let turns = std::fs::read_to_string(seq.join("challenge.txt")).unwrap();
            let fps: f64 = std::fs::read_to_string(seq.join("fps.txt"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let name = seq.strip_prefix(&out).unwrap().display().to_string();

            // The CLI, as a vendor runs it.
            let cli = Command::new(env!("CARGO_BIN_EXE_facegate"))
                .args(["liveness", "check", "--frames"])
                .arg(&seq)
                .args(["--fps", &fps.to_string(), "--challenge", turns.trim()])
                .args(["--min-face", &MIN_FACE.to_string(), "--json"])
                .output()
                .unwrap();
            assert!(
                matches!(cli.status.code(), Some(0 | 1)),
                "{name}: {}",
                String::from_utf8_lossy(&cli.stderr)
            );
            let json: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
            let cli_refusal = match json["live"].as_bool().unwrap() {
                true => None,
                false => Some(json["reason"].as_str().unwrap().to_owned()),
            };

            // The session, frame by frame; the reference is the sequence's first frame.
            let paths = frames_of(&seq);
            let first = Frame::open(&paths[0], &DecodeLimits::default()).unwrap();
            let challenge = Challenge::parse_for_evaluation(turns.trim(), false).unwrap();
            let start = SessionStart {
                consent: &consent,
                birth_date: None,
                today,
                reference: Reference::Photo(&first),
                mirrored: false,
                track: 1,
            };
            let outcome = match verifier
                .start_for_evaluation(start, challenge, Mode::Fixed)
                .unwrap()
            {
                Started::Decided(o) => o,
                Started::Session(mut s) => {
                    let mut done = None;
                    for (i, p) in paths.iter().enumerate() {
                        let frame = Frame::open(p, &DecodeLimits::default()).unwrap();
                        if let Progress::Done(o) = s.push(&frame, i as f64 / fps).unwrap() {
                            done = Some(o);
                            break;
                        }
                    }
                    match done {
                        Some(o) => o,
                        None => s.finish().unwrap(),
                    }
                }
            };
            if matches!(&outcome, Outcome::Rejected(r) if r.code() == "face.reference_unusable") {
                // The first frame of a render can miss the face; then there is nothing to
                // compare with, and the session never runs liveness.
                println!("{name}: reference unusable, not compared");
                continue;
            }
            println!("{name}: session {outcome:?}, cli {cli_refusal:?}");
            assert_eq!(liveness_refusal(&outcome), cli_refusal, "{name}");
            compared += 1;
        }
    }
    assert!(compared >= 4, "only {compared} sequences compared");
}

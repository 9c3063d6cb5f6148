//! `facegate liveness check|eval` contract: exit 0 live, 1 not live (reason printed),
//! 2 error.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Command;

fn facegate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_facegate"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A real recording's folder: beside the clone (CI) or two levels up from a git worktree.
fn recording(name: &str) -> Option<PathBuf> {
    common::shared(&format!("data/liveness/genuine/{name}"))
}

#[test]
fn bad_input_exits_2() {
    let (code, _, err) = facegate(&[
        "liveness",
        "check",
        "--frames",
        "/nonexistent/frames",
        "--fps",
        "15",
        "--challenge",
        "left",
    ]);
    assert_eq!(code, 2, "{err}");
    let dir = std::env::temp_dir();
    let d = dir.to_str().unwrap();
    let (code, _, err) = facegate(&[
        "liveness",
        "check",
        "--frames",
        d,
        "--fps",
        "15",
        "--challenge",
        "left,sideways",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("sideways"), "{err}");
    let (code, _, _) = facegate(&[
        "liveness",
        "check",
        "--frames",
        d,
        "--fps",
        "0",
        "--challenge",
        "left",
    ]);
    assert_eq!(code, 2);
    let (code, _, _) = facegate(&["liveness", "eval", "--suite", "/nonexistent/suite"]);
    assert_eq!(code, 2);
}

#[test]
fn real_recording_live_in_its_order_not_live_otherwise() {
    let Some(dir) = recording("selfie_e") else {
        return;
    };
    let d = dir.to_str().unwrap();
    let (code, out, err) = facegate(&[
        "liveness",
        "check",
        "--frames",
        d,
        "--fps",
        "15",
        "--challenge",
        "left,right,up,down",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["live"], true);
    assert!(v["frontal_frame"].as_u64().is_some());
    assert!(
        v["identity_distance"].as_f64().is_some_and(|x| x < 0.6),
        "{v}"
    );
    let (code, out, _) = facegate(&[
        "liveness",
        "check",
        "--frames",
        d,
        "--fps",
        "15",
        "--challenge",
        "down,up",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("liveness.challenge_timeout"), "{out}");
}

/// The check reads frames until the challenge decides, as a kiosk session stops at its
/// decision: webcam_a decides at its 51st frame of 175, so a broken file after that is never
/// read, while one before it is an error (exit 2).
#[test]
fn the_check_stops_reading_at_the_decision() {
    let Some(src) = recording("webcam_a") else {
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("check_stops_at_decision");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".jpg"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 175);
    for n in &names {
        std::fs::copy(src.join(n), dir.join(n)).unwrap();
    }
    let check = |dir: &PathBuf| {
        facegate(&[
            "liveness",
            "check",
            "--frames",
            dir.to_str().unwrap(),
            "--fps",
            "15",
            "--challenge",
            "left,right",
            "--track",
            "7",
            "--json",
        ])
    };
    // After the decision: not read.
    std::fs::write(dir.join(&names[120]), b"not a jpeg").unwrap();
    let (code, out, err) = check(&dir);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["live"], true);
    assert_eq!(v["frontal_frame"], 50);
    // Before it: read, and refused as an error.
    std::fs::write(dir.join(&names[30]), b"not a jpeg").unwrap();
    let (code, _, err) = check(&dir);
    assert_eq!(code, 2, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_detection_and_thread_flags_exit_2_with_a_message() {
    let d = std::env::temp_dir();
    let d = d.to_str().unwrap();
    for (args, expect) in [
        (vec!["eval", "--suite", d, "--threads", "0"], "--threads"),
        (vec!["eval", "--suite", d, "--threads=-1"], "--threads"),
        (vec!["eval", "--suite", d, "--min-face", "-3"], "--min-face"),
        (
            vec!["eval", "--suite", d, "--min-face", "11.5"],
            "--min-face",
        ),
        (
            vec!["eval", "--suite", d, "--min-face", "NaN"],
            "--min-face",
        ),
        (
            vec![
                "check",
                "--frames",
                d,
                "--fps",
                "15",
                "--challenge",
                "left",
                "--min-face",
                "-3",
            ],
            "--min-face",
        ),
    ] {
        let mut all = vec!["liveness"];
        all.extend(args);
        let (code, _, err) = facegate(&all);
        assert_eq!(code, 2, "{all:?}: {err}");
        assert!(err.contains(expect), "{all:?}: {err}");
    }
}

/// A three-sequence suite (a live recording, a still photo of it as an attack, the same
/// still photo mislabelled `live`) judged on one and on two threads: the same JSON, the
/// expected verdicts, and the one wrong decision named by its sequence.
#[test]
fn eval_report_does_not_depend_on_threads() {
    let Some(rec) = recording("selfie_e") else {
        return;
    };
    let suite = std::env::temp_dir().join(format!("facegate-suite-{}", std::process::id()));
    let live = suite.join("live/selfie_e");
    let photo = suite.join("print/still");
    let mislabelled = suite.join("live/still");
    for dir in [&live, &photo, &mislabelled] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("fps.txt"), "15\n").unwrap();
    }
    std::fs::write(live.join("challenge.txt"), "left,right,up,down\n").unwrap();
    std::fs::write(photo.join("challenge.txt"), "left,right\n").unwrap();
    std::fs::write(mislabelled.join("challenge.txt"), "left,right\n").unwrap();
    let mut frames: Vec<_> = std::fs::read_dir(rec)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    frames.sort();
    for f in &frames {
        std::fs::copy(f, live.join(f.file_name().unwrap())).unwrap();
    }
    for i in 0..30 {
        for dir in [&photo, &mislabelled] {
            std::fs::copy(&frames[0], dir.join(format!("{i:04}.jpg"))).unwrap();
        }
    }
    let s = suite.to_str().unwrap();
    let run = |threads: &str| {
        let (code, out, err) = facegate(&[
            "liveness",
            "eval",
            "--suite",
            s,
            "--json",
            "--threads",
            threads,
        ]);
        assert_eq!(code, 0, "{err}");
        out
    };
    let (one, two) = (run("1"), run("2"));
    std::fs::remove_dir_all(&suite).unwrap();
    assert_eq!(one, two);
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["presentations"]["live"], 2, "{v}");
    assert_eq!(v["presentations"]["print"], 1, "{v}");
    assert_eq!(v["bpcer"], 0.5, "{v}");
    assert_eq!(v["apcer"]["print"], 0.0, "{v}");
    let errors = v["errors"].as_array().expect("errors is a list");
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["label"], "live", "{v}");
    assert_eq!(errors[0]["sequence"], "still", "{v}");
    assert!(
        errors[0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("liveness.")),
        "{v}"
    );
}

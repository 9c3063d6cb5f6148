//! `facegate liveness check|eval` contract: exit 0 live, 1 not live (reason printed),
//! 2 error.

use std::path::Path;
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
    let Some(root) = [
        "../shared/data/liveness/genuine",
        "../../shared/data/liveness/genuine",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.is_dir()) else {
        println!("skipped: ../shared/data/liveness is absent");
        return;
    };
    let dir = root.join("selfie_e");
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

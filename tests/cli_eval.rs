//! `facegate eval lfw`: the JSON contract, the ROC PNG, and clear errors. The run on real
//! photos uses `../shared/data/lfw-dev` (never committed) and skips when it is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

fn facegate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_facegate"))
        .args(args)
        .output()
        .unwrap()
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("facegate-cli-eval-{}-{name}", std::process::id()))
}

#[test]
fn small_lfw_subset_json_and_roc() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/lfw-dev");
    let Ok(all) = std::fs::read_to_string(data.join("pairs.txt")) else {
        eprintln!("skipping: {} is absent", data.display());
        return;
    };
    // Two folds of 3 same + 3 different pairs, taken from the first two LFW folds.
    let lines: Vec<&str> = all.lines().skip(1).collect();
    let mut mini = String::from("2 3\n");
    for fold in 0..2 {
        for l in lines[fold * 600..fold * 600 + 3]
            .iter()
            .chain(&lines[fold * 600 + 300..fold * 600 + 303])
        {
            mini.push_str(l);
            mini.push('\n');
        }
    }
    let pairs = temp("pairs.txt");
    let roc = temp("roc.png");
    std::fs::write(&pairs, mini).unwrap();
    let out = facegate(&[
        "eval",
        "lfw",
        "--pairs",
        pairs.to_str().unwrap(),
        "--images",
        data.join("images").to_str().unwrap(),
        "--json",
        "--roc",
        roc.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "accuracy_mean",
        "accuracy_std",
        "tar_at_far_1e3",
        "eer",
        "accuracy_at_default_threshold",
    ] {
        let x = v[key].as_f64().unwrap_or_else(|| panic!("{key} missing"));
        assert!((0.0..=1.0).contains(&x), "{key} = {x}");
    }
    assert_eq!(v["failures_to_detect"].as_u64(), Some(0));
    assert_eq!(v["pairs"].as_u64(), Some(12));
    // These easy pairs are all decided right at the default threshold.
    assert!(v["accuracy_at_default_threshold"].as_f64().unwrap() > 0.8);
    let png = image::open(&roc).unwrap();
    assert_eq!((png.width(), png.height()), (800, 600));
    let _ = std::fs::remove_file(&pairs);
    let _ = std::fs::remove_file(&roc);
}

#[test]
fn bad_pairs_files_exit_2() {
    let out = facegate(&[
        "eval",
        "lfw",
        "--pairs",
        "/nonexistent/pairs.txt",
        "--images",
        "/tmp",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pairs.txt"));
    let bad = temp("bad-pairs.txt");
    std::fs::write(&bad, "10 300\nAaron 1\n").unwrap();
    let out = facegate(&[
        "eval",
        "lfw",
        "--pairs",
        bad.to_str().unwrap(),
        "--images",
        "/tmp",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    let _ = std::fs::remove_file(&bad);
}

#[test]
fn yunet_detector_runs_the_whole_pipeline() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/lfw-dev");
    let Ok(all) = std::fs::read_to_string(data.join("pairs.txt")) else {
        eprintln!("skipping: {} is absent", data.display());
        return;
    };
    // One fold of 3 same + 3 different pairs.
    let lines: Vec<&str> = all.lines().skip(1).collect();
    let mut mini = String::from("1 3\n");
    for l in lines[..3].iter().chain(&lines[300..303]) {
        mini.push_str(l);
        mini.push('\n');
    }
    let pairs = temp("pairs-yunet.txt");
    std::fs::write(&pairs, mini).unwrap();
    let out = facegate(&[
        "eval",
        "lfw",
        "--pairs",
        pairs.to_str().unwrap(),
        "--images",
        data.join("images").to_str().unwrap(),
        "--json",
        "--detector",
        "yunet",
    ]);
    let _ = std::fs::remove_file(&pairs);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["detector"].as_str(), Some("yunet"));
    assert_eq!(v["failures_to_detect"].as_u64(), Some(0));
    assert_eq!(v["pairs"].as_u64(), Some(6));
    assert!(v["accuracy_at_default_threshold"].as_f64().unwrap() > 0.8);
    // An unknown detector is a usage error, not a crash.
    let out = facegate(&[
        "eval",
        "lfw",
        "--pairs",
        "x",
        "--images",
        "y",
        "--detector",
        "hog",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

//! `facegate eval lfw`: the JSON contract, the ROC PNG, and clear errors. The run on real
//! photos uses `../shared/data/lfw-dev` (never committed) and skips when it is absent.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Command;

fn facegate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_facegate"))
        .args(args)
        .output()
        .unwrap()
}

/// The JSON a successful run printed (exit 0 asserted).
fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("facegate-cli-eval-{}-{name}", std::process::id()))
}

/// LFW-dev's folder and a pairs file of `folds` folds of 3 same + 3 different pairs, taken
/// from the first LFW folds; `None` (with a skip line) when `../shared` is absent.
fn lfw_mini(folds: usize, name: &str) -> Option<(PathBuf, PathBuf)> {
    let data = common::shared("data/lfw-dev/pairs.txt")?
        .parent()?
        .to_path_buf();
    let all = std::fs::read_to_string(data.join("pairs.txt")).unwrap();
    let lines: Vec<&str> = all.lines().skip(1).collect();
    let mut mini = format!("{folds} 3\n");
    for fold in 0..folds {
        for l in lines[fold * 600..fold * 600 + 3]
            .iter()
            .chain(&lines[fold * 600 + 300..fold * 600 + 303])
        {
            mini.push_str(l);
            mini.push('\n');
        }
    }
    let pairs = temp(name);
    std::fs::write(&pairs, mini).unwrap();
    Some((data, pairs))
}

#[test]
fn small_lfw_subset_json_and_roc() {
    let Some((data, pairs)) = lfw_mini(2, "pairs.txt") else {
        return;
    };
    let roc = temp("roc.png");
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
    let v = json_of(&out);
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
    // These easy pairs are decided right with the threshold chosen on the other fold (the
    // default threshold is set for FMR ≤ 1e-4 on the worst population, far stricter).
    assert!(v["accuracy_mean"].as_f64().unwrap() > 0.8);
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

/// A gallery built from the fixture photos: Obama (3 images), Biden (1), and a folder
/// whose only image holds no face (a failure to enrol). Every count is known.
fn small_gallery(tag: &str) -> PathBuf {
    let fixtures = common::images();
    let dir = temp(tag);
    let _ = std::fs::remove_dir_all(&dir);
    for (who, file) in [
        ("Barack_Obama", "obama.jpg"),
        ("Barack_Obama", "obama2.jpg"),
        ("Barack_Obama", "obama3.jpg"),
        ("Joe_Biden", "biden.jpg"),
        ("No_Face", "mmod_cars_test_image.jpg"),
    ] {
        std::fs::create_dir_all(dir.join(who)).unwrap();
        std::fs::copy(fixtures.join(file), dir.join(who).join(file)).unwrap();
    }
    std::fs::create_dir_all(dir.join("Empty_Folder")).unwrap();
    dir
}

#[test]
fn gallery_counts_every_pair_per_population() {
    let dir = small_gallery("gallery-counts");
    let lists = temp("lists");
    std::fs::create_dir_all(&lists).unwrap();
    let subset = lists.join("subset.txt");
    std::fs::write(&subset, "Joe_Biden\nBarack_Obama\nNot_In_Gallery\n").unwrap();
    let det = temp("det.png");
    let out = facegate(&[
        "eval",
        "gallery",
        dir.to_str().unwrap(),
        "--subset",
        subset.to_str().unwrap(),
        "--threshold",
        "0.6",
        "--threshold",
        "0.01",
        "--json",
        "--det",
        det.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    let v = json_of(&out);
    assert_eq!(v["images"], 5);
    assert_eq!(v["identities"], 3, "the empty folder is no identity");
    assert_eq!(v["failures_to_enrol"], 1, "the cars photo holds no face");
    let pops = v["populations"].as_array().unwrap();
    let names: Vec<&str> = pops.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["all", "subset", "not subset"]);
    // 4 templates: 3 genuine Obama pairs, 3 Obama–Biden impostor pairs.
    let all = &pops[0];
    assert_eq!(all["genuine_pairs"], 3);
    assert_eq!(all["impostor_pairs"], 3);
    assert_eq!(all["failures_to_enrol"], 1);
    let at = all["at"].as_array().unwrap();
    assert_eq!(at[0]["threshold"].as_f64().unwrap() as f32, 0.6);
    assert_eq!(at[0]["false_matches"], 0, "Biden is not Obama at 0.6");
    assert_eq!(at[0]["false_non_matches"], 0, "Obama is Obama at 0.6");
    assert_eq!(at[1]["false_non_matches"], 3, "nobody is within 0.01");
    // The subset holds everybody enrolled; its complement only the face-less folder.
    assert_eq!(pops[1]["genuine_pairs"], 3);
    assert_eq!(pops[2]["images"], 0);
    assert_eq!(pops[2]["failures_to_enrol"], 1);
    assert_eq!(v["subset_names_not_in_gallery"][0]["names"], 1);
    assert!(v["populations"][0]["threshold_for_fmr"]["1e-3"]["threshold"].is_number());
    assert!(v["confused"].as_array().unwrap().is_empty());
    let png = std::fs::read(&det).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    // Text output names the worst population and the counts.
    let out = facegate(&["eval", "gallery", dir.to_str().unwrap(), "--threads", "1"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 genuine, 3 impostor pairs"), "{text}");
    assert!(text.contains("worst population"), "{text}");

    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&lists);
    let _ = std::fs::remove_file(&det);
}

#[test]
fn gallery_errors_are_clear() {
    let dir = small_gallery("gallery-errors");
    let cases: [(&[&str], &str); 3] = [
        (
            &["eval", "gallery", "/nonexistent-facegate-gallery"],
            "cannot read",
        ),
        (
            &[
                "eval",
                "gallery",
                dir.to_str().unwrap(),
                "--threshold",
                "NaN",
            ],
            "not a finite distance",
        ),
        (
            &[
                "eval",
                "gallery",
                dir.to_str().unwrap(),
                "--subset",
                "/nonexistent-subset.txt",
            ],
            "nonexistent-subset",
        ),
    ];
    for (args, expect) in cases {
        let out = facegate(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn yunet_detector_runs_the_whole_pipeline() {
    let Some((data, pairs)) = lfw_mini(1, "pairs-yunet.txt") else {
        return;
    };
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
    let v = json_of(&out);
    assert_eq!(v["detector"].as_str(), Some("yunet"));
    assert_eq!(v["failures_to_detect"].as_u64(), Some(0));
    assert_eq!(v["pairs"].as_u64(), Some(6));
    let acc = v["accuracy_mean"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc), "{acc}");
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

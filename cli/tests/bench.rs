//! `facegate bench`: it runs on the bundled frame and reports every stage, the session,
//! frames per second and peak memory; `--dump-inputs` writes loadable `.npy` files.
//! No speed is asserted here (speed targets never go in tests), only that the numbers
//! are there, positive and finite.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_facegate");

fn bench(extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args([
            "bench",
            "--iterations",
            "3",
            "--json",
            "--session-frames",
            "3",
            "--session-runs",
            "1",
        ])
        .args(extra)
        .output()
        .expect("run facegate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn positive(v: &serde_json::Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for key in path {
        cur = &cur[*key];
    }
    let x = cur
        .as_f64()
        .unwrap_or_else(|| panic!("{} is not a number in {v}", path.join(".")));
    assert!(x.is_finite() && x > 0.0, "{} = {x}", path.join("."));
    x
}

#[test]
fn bench_json_reports_every_stage() {
    let (code, stdout, stderr) = bench(&[]);
    assert_eq!(code, 0, "stdout {stdout} stderr {stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("--json output does not parse ({e}): {stdout}"));
    for stage in [
        "decode", "detect", "track", "align", "embed", "compare", "capture",
    ] {
        let median = positive(&v, &["stages", stage, "median_ms"]);
        let p95 = positive(&v, &["stages", stage, "p95_ms"]);
        assert!(p95 >= median, "{stage}: p95 {p95} < median {median}");
        assert_eq!(v["stages"][stage]["samples"], 3, "{stage}");
    }
    positive(&v, &["session", "per_frame", "median_ms"]);
    positive(&v, &["session", "whole", "median_ms"]);
    assert_eq!(v["session"]["frames"], 3);
    // Honest label: the bundled frame does not move.
    assert!(v["session"]["what"]
        .as_str()
        .is_some_and(|s| s.contains("static frame")));
    positive(&v, &["fps"]);
    assert_eq!(v["threads"], 1);
    if cfg!(target_os = "linux") {
        positive(&v, &["peak_rss_mib"]);
    } else {
        assert!(v["peak_rss_mib"].is_null());
    }
    assert!(v.get("networks").is_none(), "networks only when asked");
}

/// The dumped tensors are `.npy` files whose header matches their size, and the per-network
/// times are there.
#[test]
fn dump_inputs_writes_npy_files_and_network_times() {
    let dir = std::env::temp_dir().join(format!("facegate-cli-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (code, stdout, stderr) = bench(&["--threads", "2", "--dump-inputs", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "stdout {stdout} stderr {stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["threads"], 2);
    assert_eq!(
        v["stages"]["detect"]["samples"], 6,
        "3 samples on each of 2 threads"
    );
    for net in ["pnet", "rnet", "onet", "resnet", "minifasnet"] {
        positive(&v, &["networks", net, "median_ms"]);
        positive(&v, &["networks", net, "runs_per_frame"]);
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let runs = manifest["runs"].as_array().unwrap();
    let pnet_runs = runs.iter().filter(|r| r["net"] == "pnet").count() as f64;
    assert_eq!(
        pnet_runs,
        positive(&v, &["networks", "pnet", "runs_per_frame"])
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "npy"))
        .collect();
    files.sort();
    assert!(files.len() > 10, "{} .npy files", files.len());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00", "{}", f.display());
        let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0, "{}: header not aligned", f.display());
        let header = std::str::from_utf8(&bytes[10..10 + hlen]).unwrap();
        let shape: usize = header
            .split("'shape': (")
            .nth(1)
            .and_then(|s| s.split(')').next())
            .unwrap()
            .split(',')
            .filter(|d| !d.trim().is_empty())
            .map(|d| d.trim().parse::<usize>().unwrap())
            .product();
        let item = if header.contains("'<f4'") { 4 } else { 1 };
        assert_eq!(bytes.len() - 10 - hlen, shape * item, "{}", f.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::new(BIN)
        .args(["bench", "--iterations", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

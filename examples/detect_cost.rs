//! Cost of one full-frame detection, for before/after comparisons of the detector.
//!
//! Two modes:
//! - `cargo run --release --example detect_cost -- make DIR` writes the inputs to DIR:
//!   `kiosk640.png` (640×480, one ~200 px face cut from `tests/fixtures/images/obama.jpg`, as
//!   `benches/face.rs` builds it) and `tile4096.png` (4096×4096, a grid of 128-px cells each
//!   holding one ~50 px face cut from the fixture portraits: the "many small faces" frame).
//! - `cargo run --release --example detect_cost -- IMAGE MIN_FACE REPS` loads the default
//!   detector at `MIN_FACE`, detects once to plan the pyramid, then `REPS` times, and prints
//!   the median and minimum time and the number of faces. Run it under `/usr/bin/time -v`
//!   for peak RSS.
//!
//! Only the public API is used, so the same source builds against an older detector and
//! both binaries can be run side by side on the same inputs.
use std::path::Path;
use std::time::Instant;

use facegate::detect::{Detector, DetectorConfig};
use facegate::frame::{DecodeLimits, Frame};
use image::imageops::FilterType;

const IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/images");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode, dir] if mode == "make" => make(Path::new(dir)),
        [image, min_face, reps] => run(image, min_face.parse()?, reps.parse()?),
        _ => Err("usage: detect_cost make DIR | detect_cost IMAGE MIN_FACE REPS".into()),
    }
}

fn run(path: &str, min_face: f32, reps: usize) -> Result<(), Box<dyn std::error::Error>> {
    let detector = Detector::with_default_models(DetectorConfig {
        min_face,
        ..Default::default()
    })?;
    let frame = Frame::open(path, &DecodeLimits::default())?;
    let t = Instant::now();
    let first = detector.detect(&frame)?;
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut times = Vec::with_capacity(reps);
    let mut faces = first.len();
    for _ in 0..reps {
        let t = Instant::now();
        faces = detector.detect(&frame)?.len();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(first_ms);
    let min = times.first().copied().unwrap_or(first_ms);
    println!(
        "{path} {}x{} min_face {min_face}: first (with planning) {first_ms:.1} ms, median {median:.1} ms, min {min:.1} ms over {reps}, {faces} faces",
        frame.width(),
        frame.height(),
    );
    Ok(())
}

/// The largest face box of a fixture, found by the detector.
fn face_box(detector: &Detector, img: &image::RgbImage) -> Option<(f32, f32, f32)> {
    let frame = Frame::from_rgb(img.width(), img.height(), img.as_raw().clone()).ok()?;
    let faces = detector.detect(&frame).ok()?;
    let f = faces
        .iter()
        .max_by(|a, b| a.bbox.width.total_cmp(&b.bbox.width))?;
    Some((
        f.bbox.x + f.bbox.width / 2.0,
        f.bbox.y + f.bbox.height / 2.0,
        f.bbox.width,
    ))
}

fn make(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let detector = Detector::with_default_models(DetectorConfig::default())?;
    let mut cells = Vec::new();
    for name in ["obama", "obama2", "obama3", "biden"] {
        let img = image::open(format!("{IMAGES}/{name}.jpg"))?.to_rgb8();
        let (cx, cy, side) = face_box(&detector, &img).ok_or("no face in a fixture")?;
        if name == "obama" {
            // The kiosk frame: face about 200 px wide, 640×480 around it.
            let s = 200.0 / side;
            let (sw, sh) = (
                (img.width() as f32 * s).round() as u32,
                (img.height() as f32 * s).round() as u32,
            );
            let scaled = image::imageops::resize(&img, sw, sh, FilterType::Triangle);
            let x0 = (cx * s - 320.0).clamp(0.0, (sw - 640) as f32) as u32;
            let y0 = (cy * s - 240.0).clamp(0.0, (sh - 480) as f32) as u32;
            image::imageops::crop_imm(&scaled, x0, y0, 640, 480)
                .to_image()
                .save(dir.join("kiosk640.png"))?;
        }
        // A cell of 2.5 face widths around the face, scaled to 128 px (face ≈ 51 px).
        let half = side * 1.25;
        let x0 = (cx - half).max(0.0) as u32;
        let y0 = (cy - half).max(0.0) as u32;
        let w = ((2.0 * half) as u32).min(img.width() - x0);
        let h = ((2.0 * half) as u32).min(img.height() - y0);
        let crop = image::imageops::crop_imm(&img, x0, y0, w, h).to_image();
        cells.push(image::imageops::resize(
            &crop,
            128,
            128,
            FilterType::Triangle,
        ));
    }
    let mut tile = image::RgbImage::new(4096, 4096);
    for gy in 0..32u32 {
        for gx in 0..32u32 {
            let cell = &cells[((gx + gy) as usize) % cells.len()];
            image::imageops::replace(&mut tile, cell, i64::from(gx * 128), i64::from(gy * 128));
        }
    }
    tile.save(dir.join("tile4096.png"))?;
    println!("wrote {}/kiosk640.png and tile4096.png", dir.display());
    Ok(())
}

//! Derives `align::MTCNN_TEMPLATE`: where MTCNN's five landmarks fall, on average, in the
//! 150×150 / 0.25 chips that dlib's own pipeline cut from the same images.
//!
//! Input: a TSV written by `models/tools/dlib_ref lfw` (one row per dlib face: path, the
//! chip rectangle and angle). For each image with exactly one dlib face, the MTCNN face
//! whose eyes lie closest to dlib's chip centre is mapped into dlib's chip frame
//! (inverse of dlib's similarity transform) and expressed in the template's unpadded unit
//! coordinates. The per-point median is printed as Rust source.
//!
//! `cargo run --release --example calibrate_template -- dlib_lfw.tsv`
use facegate::align::{CHIP_PADDING, CHIP_SIZE};
use facegate::detect::{Detector, DetectorConfig};
use facegate::frame::{DecodeLimits, Frame};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tsv = std::env::args()
        .nth(1)
        .ok_or("usage: calibrate_template DLIB_TSV [MAX_IMAGES]")?;
    let max: usize = std::env::args()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let detector = Detector::with_default_models(DetectorConfig {
        min_face: 20.0,
        ..Default::default()
    })?;
    let text = std::fs::read_to_string(&tsv)?;
    let mut rows = text.lines();
    let header: Vec<&str> = rows.next().ok_or("empty TSV")?.split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("no column {name}"))
    };
    let (c_path, c_n) = (col("path")?, col("n_faces")?);
    let (c_l, c_t, c_r, c_b, c_a) = (
        col("chip_left")?,
        col("chip_top")?,
        col("chip_right")?,
        col("chip_bottom")?,
        col("chip_angle")?,
    );
    let n = f64::from(CHIP_SIZE);
    let pad = f64::from(CHIP_PADDING);
    let mut samples: Vec<[(f64, f64); 5]> = Vec::new();
    let (mut used, mut missed) = (0usize, 0usize);
    for line in rows {
        if used + missed >= max {
            break;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < header.len() || f[c_n] != "1" {
            continue;
        }
        let num = |i: usize| f[i].parse::<f64>();
        let (l, t, r, b, angle) = (num(c_l)?, num(c_t)?, num(c_r)?, num(c_b)?, num(c_a)?);
        let frame = Frame::open(f[c_path], &DecodeLimits::default())?;
        let faces = detector.detect(&frame)?;
        let (cx, cy) = ((l + r) / 2.0, (t + b) / 2.0);
        // dlib's chip rectangle is n·s − 1 wide (centered_drect).
        let s = (r - l + 1.0) / n;
        let best = faces.iter().min_by(|p, q| {
            let d = |d: &facegate::detect::Detection| {
                let m = d.landmarks.left_eye.midpoint(d.landmarks.right_eye);
                (f64::from(m.x) - cx).powi(2) + (f64::from(m.y) - cy).powi(2)
            };
            d(p).total_cmp(&d(q))
        });
        let Some(face) = best else {
            missed += 1;
            continue;
        };
        let (cos, sin) = (angle.cos(), angle.sin());
        let mut pts = [(0.0, 0.0); 5];
        let mut plausible = true;
        for (k, p) in face.landmarks.to_array().iter().enumerate() {
            let (dx, dy) = (f64::from(p.x) - cx, f64::from(p.y) - cy);
            // Inverse similarity: rotate by −angle, divide by scale, re-centre on the chip.
            let x = (cos * dx + sin * dy) / s + n / 2.0;
            let y = (-sin * dx + cos * dy) / s + n / 2.0;
            let u = (
                x / n * (1.0 + 2.0 * pad) - pad,
                y / n * (1.0 + 2.0 * pad) - pad,
            );
            plausible &= (-0.25..1.25).contains(&u.0) && (-0.25..1.25).contains(&u.1);
            pts[k] = u;
        }
        if plausible {
            samples.push(pts);
            used += 1;
        } else {
            missed += 1;
        }
    }
    if samples.is_empty() {
        return Err("no usable images".into());
    }
    println!("// {used} images used, {missed} without a matching MTCNN face");
    println!("pub const MTCNN_TEMPLATE: [Point; 5] = [");
    for k in 0..5 {
        let mut xs: Vec<f64> = samples.iter().map(|s| s[k].0).collect();
        let mut ys: Vec<f64> = samples.iter().map(|s| s[k].1).collect();
        xs.sort_by(f64::total_cmp);
        ys.sort_by(f64::total_cmp);
        let med = |v: &[f64]| v[v.len() / 2];
        let iqr = |v: &[f64]| v[v.len() * 3 / 4] - v[v.len() / 4];
        println!(
            "    Point::new({:.4}, {:.4}), // IQR x {:.4}, y {:.4}",
            med(&xs),
            med(&ys),
            iqr(&xs),
            iqr(&ys)
        );
    }
    println!("];");
    Ok(())
}

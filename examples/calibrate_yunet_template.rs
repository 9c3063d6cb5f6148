//! Derives `align::YUNET_TEMPLATE`: where YuNet's five landmarks fall in the chips the
//! MTCNN pipeline cuts, measured by transfer through the measured `MTCNN_TEMPLATE`.
//!
//! For each image where both detectors find the central face, the similarity that maps
//! MTCNN's landmarks onto `MTCNN_TEMPLATE` (unpadded unit chip coordinates) is fitted,
//! YuNet's landmarks of the same face are mapped through it, and the per-point median
//! over all images is printed as Rust source with its interquartile ranges. The spread
//! (IQR) also says how consistently a YuNet model's points agree with MTCNN's, which is
//! how `yunet_n` and `yunet_s` were compared.
//!
//! Images: the first MAX images (sorted) of identities whose name starts with A–E, so
//! F–J stay held out.
//!
//! `cargo run --release --example calibrate_yunet_template -- IMAGES_DIR [MAX] [MODEL.onnx]`
//! (MODEL defaults to the embedded YuNet; another file is loaded with its own digest).
use std::path::PathBuf;

use facegate::align::{Similarity, MTCNN_TEMPLATE};
use facegate::detect::yunet::{YuNet, YuNetConfig};
use facegate::detect::{Detection, Detector, DetectorConfig};
use facegate::frame::{DecodeLimits, Frame};
use facegate::geometry::Point;
use facegate::model::{sha256_hex, OnnxModel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(
        args.first()
            .ok_or("usage: calibrate_yunet_template IMAGES_DIR [MAX] [MODEL.onnx]")?,
    );
    let max: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(2000);
    let yunet_config = YuNetConfig {
        min_face: 20.0,
        ..YuNetConfig::default()
    };
    let yunet = match args.get(2) {
        Some(path) => {
            // Research use: the digest is taken from the file itself.
            let bytes = std::fs::read(path)?;
            let d = sha256_hex(&bytes);
            YuNet::new(&OnnxModel::from_bytes(path, bytes, &d)?, yunet_config)?
        }
        None => YuNet::with_default_model(yunet_config)?,
    };
    let mtcnn = Detector::with_default_models(DetectorConfig {
        min_face: 20.0,
        ..Default::default()
    })?;

    let mut people: Vec<PathBuf> = std::fs::read_dir(&root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.chars().next())
                    .is_some_and(|c| ('A'..='E').contains(&c))
        })
        .collect();
    people.sort();
    let mut images = Vec::new();
    for dir in &people {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        v.sort();
        images.extend(v);
    }
    images.truncate(max);

    let mut samples: Vec<[Point; 5]> = Vec::new();
    let (mut no_mtcnn, mut no_yunet, mut disagree) = (0usize, 0usize, 0usize);
    for path in &images {
        let frame = Frame::open(path, &DecodeLimits::default())?;
        let centre = Point::new(frame.width() as f32 / 2.0, frame.height() as f32 / 2.0);
        let central = |faces: Vec<Detection>| {
            faces.into_iter().min_by(|a, b| {
                let d = |f: &Detection| {
                    f.landmarks
                        .left_eye
                        .midpoint(f.landmarks.right_eye)
                        .distance(centre)
                };
                d(a).total_cmp(&d(b))
            })
        };
        let Some(m) = central(mtcnn.detect(&frame)?) else {
            no_mtcnn += 1;
            continue;
        };
        let Some(y) = central(yunet.detect(&frame)?) else {
            no_yunet += 1;
            continue;
        };
        // The same face: eye midpoints within a quarter of the inter-ocular distance.
        let mid = |d: &Detection| d.landmarks.left_eye.midpoint(d.landmarks.right_eye);
        if mid(&m).distance(mid(&y)) > 0.25 * m.landmarks.inter_ocular() {
            disagree += 1;
            continue;
        }
        let tform = Similarity::fit(&m.landmarks.to_array(), &MTCNN_TEMPLATE)?;
        samples.push(y.landmarks.to_array().map(|p| tform.apply(p)));
    }
    println!(
        "{} images (A–E), {} used; no MTCNN face {no_mtcnn}, no YuNet face {no_yunet}, central faces differ {disagree}",
        images.len(),
        samples.len()
    );
    if samples.is_empty() {
        return Err("no samples".into());
    }
    let quantile = |mut v: Vec<f32>, q: f64| {
        v.sort_by(f32::total_cmp);
        v[((v.len() - 1) as f64 * q).round() as usize]
    };
    let names = ["left eye", "right eye", "nose", "mouth left", "mouth right"];
    println!("pub const YUNET_TEMPLATE: [Point; 5] = [");
    let mut iqr_sum = 0.0;
    for (k, name) in names.iter().enumerate() {
        let xs: Vec<f32> = samples.iter().map(|s| s[k].x).collect();
        let ys: Vec<f32> = samples.iter().map(|s| s[k].y).collect();
        let (mx, my) = (quantile(xs.clone(), 0.5), quantile(ys.clone(), 0.5));
        let iqr_x = quantile(xs.clone(), 0.75) - quantile(xs, 0.25);
        let iqr_y = quantile(ys.clone(), 0.75) - quantile(ys, 0.25);
        iqr_sum += iqr_x + iqr_y;
        println!(
            "    Point::new({mx:.4}, {my:.4}), // {name}: IQR x {iqr_x:.4}, y {iqr_y:.4}; MTCNN ({:.4}, {:.4})",
            MTCNN_TEMPLATE[k].x, MTCNN_TEMPLATE[k].y
        );
    }
    println!("];");
    println!("mean IQR over the 10 coordinates: {:.4}", iqr_sum / 10.0);
    Ok(())
}

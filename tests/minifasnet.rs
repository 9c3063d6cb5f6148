//! The shipped passive model (MiniFASNet V2 + V1SE, `models/minifasnet/`): tract runs the
//! converted ONNX like the NumPy reference forward pass of the authors' weights
//! (`models/tools/minifasnet_to_onnx.py`), the authors' samples get the authors' verdicts,
//! and wrong model files are refused with typed errors.
//!
//! Fixture `tests/fixtures/minifasnet/reference.json` (numbers only, no pixels):
//! - `synthetic`: NumPy logits (float64) of both models on four deterministic inputs
//!   (`synthetic()` below = the tool's `synthetic`), by `minifasnet_to_onnx.py reference`;
//! - `samples`: for the authors' four sample images, the face box facegate's MTCNN finds and
//!   the NumPy logits of the two crops facegate cuts from it (`facegate liveness passive
//!   --dump`, then `minifasnet_to_onnx.py crops`).

use std::path::{Path, PathBuf};

use facegate::detect::DetectorConfig;
use facegate::face::{FaceConfig, FacePipeline};
use facegate::frame::Frame;
use facegate::liveness::passive::{MiniFasNet, PassiveError, MINIFASNET_SIDE};
use facegate::model::OnnxModel;
use image::ImageDecoder;
use serde_json::Value;
use zeroize::Zeroizing;

fn reference() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minifasnet/reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn logits(v: &Value) -> [[f32; 3]; 2] {
    let m = |k: usize| -> [f32; 3] { std::array::from_fn(|c| v[k][c].as_f64().unwrap() as f32) };
    [m(0), m(1)]
}

fn max_diff(a: &[[f32; 3]; 2], b: &[[f32; 3]; 2]) -> f32 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The tool's `synthetic(i)` as a BGR crop, `[y][x][c]`.
fn synthetic(i: usize) -> Zeroizing<Vec<u8>> {
    let s = MINIFASNET_SIDE;
    let mut v = vec![0u8; s * s * 3];
    for y in 0..s {
        for x in 0..s {
            for c in 0..3 {
                v[(y * s + x) * 3 + c] =
                    ((x * (7 + i) + y * (13 + 2 * i) + c * 29 * (i + 1) + x * y * i) % 256) as u8;
            }
        }
    }
    Zeroizing::new(v)
}

#[test]
fn tract_matches_the_numpy_reference_on_synthetic_inputs() {
    let model = MiniFasNet::with_default_models().unwrap();
    let r = reference();
    let mut worst = 0f32;
    for i in 0..4 {
        let got = model.score_crops(&[synthetic(i), synthetic(i)]).unwrap();
        let row = |k: &str| -> [f32; 3] {
            std::array::from_fn(|c| r["synthetic"][k][i][c].as_f64().unwrap() as f32)
        };
        let want = [row("v2"), row("v1se")];
        worst = worst.max(max_diff(&got.logits, &want));
        assert!((0.0..=1.0).contains(&got.live));
    }
    println!("synthetic inputs: tract vs NumPy max |logit diff| {worst:.2e}");
    assert!(worst < 1e-3, "{worst}");
}

fn samples_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = [
        "../shared/models/minifasnet",
        "../../shared/models/minifasnet",
    ]
    .iter()
    .map(|d| root.join(d))
    .find(|d| d.join("sample_image_T1.jpg").is_file());
    if dir.is_none() {
        println!("skipped: ../shared/models/minifasnet (the authors' sample images) is absent");
    }
    dir
}

/// Decodes a JPEG upright: `Frame::open` ignores the EXIF orientation, and F1, F2 and T1
/// are stored landscape with orientation 6 (rotate 90° clockwise).
fn open_upright(path: &Path) -> Frame {
    let mut dec = image::ImageReader::open(path)
        .unwrap()
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    let orientation = dec.orientation().unwrap();
    let mut img = image::DynamicImage::from_decoder(dec).unwrap();
    img.apply_orientation(orientation);
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    Frame::from_rgb(w, h, rgb.into_raw()).unwrap()
}

#[test]
fn the_authors_samples_get_the_authors_verdicts_and_match_the_reference() {
    let Some(dir) = samples_dir() else {
        return;
    };
    // The default pipeline, as `facegate liveness passive` builds it (smallest face 20 px),
    // loads the passive model.
    let faces = FacePipeline::with_default_models(FaceConfig {
        detector: DetectorConfig {
            min_face: 20.0,
            ..DetectorConfig::default()
        },
        ..FaceConfig::default()
    })
    .unwrap();
    let model = faces.passive().unwrap();
    let r = reference();
    let mut worst = 0f32;
    for (name, live) in [("F1", false), ("F2", false), ("T1", true), ("T2", true)] {
        let frame = open_upright(&dir.join(format!("sample_image_{name}.jpg")));
        assert!(
            frame.height() > frame.width(),
            "{name} is portrait once upright"
        );
        let face = faces
            .detect(&frame)
            .unwrap()
            .into_iter()
            .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
            .unwrap();
        let want = &r["samples"][name];
        let b = [face.bbox.x, face.bbox.y, face.bbox.width, face.bbox.height].map(f64::from);
        for (k, v) in b.iter().enumerate() {
            assert!(
                (v - want["box"][k].as_f64().unwrap()).abs() < 0.01,
                "{name} box {b:?}"
            );
        }
        let s = model.score_frame(&frame, &face.bbox).unwrap();
        let d = max_diff(&s.logits, &logits(&want["logits"]));
        worst = worst.max(d);
        println!(
            "{name}: live score {:.4}, authors' verdict live: {}, |logit diff| {d:.2e}",
            s.live, s.authors_live
        );
        assert_eq!(s.authors_live, live, "{name}: {s:?}");
        assert_eq!(s.live >= 0.5, live, "{name}: {s:?}");
    }
    assert!(worst < 1e-3, "{worst}");
}

#[test]
fn wrong_model_files_are_refused_with_typed_errors() {
    let v1se = OnnxModel::embedded("minifasnet/4_0_0_80x80_MiniFASNetV1SE.onnx").unwrap();
    // R-Net takes 24×24 NHWC: not a MiniFASNet.
    let rnet = OnnxModel::embedded("mtcnn/rnet.onnx").unwrap();
    assert!(matches!(
        MiniFasNet::from_models(&rnet, &v1se),
        Err(PassiveError::Load(_))
    ));
    let junk = b"not an onnx model".to_vec();
    let digest = facegate::model::sha256_hex(&junk);
    let junk = OnnxModel::from_bytes("junk.onnx", junk, &digest).unwrap();
    assert!(matches!(
        MiniFasNet::from_models(&v1se, &junk),
        Err(PassiveError::Load(_))
    ));
    // A crop of the wrong size is refused, not indexed out of bounds.
    let model = MiniFasNet::from_models(
        &OnnxModel::embedded("minifasnet/2.7_80x80_MiniFASNetV2.onnx").unwrap(),
        &v1se,
    )
    .unwrap();
    let short = Zeroizing::new(vec![0u8; 10]);
    assert!(matches!(
        model.score_crops(&[short.clone(), short]),
        Err(PassiveError::Frame)
    ));
}

//! Parity with dlib's own C++ pipeline, on the committed fixtures
//! (tests/fixtures/parity, made by models/tools/dlib_ref.cpp).
//!
//! 1. The ONNX ResNet run by tract on dlib's own chips gives dlib's descriptors.
//! 2. Our alignment, given dlib's 5 landmarks, reproduces dlib's chips and descriptors.

use facegate::align::{align_to_template, Chip, CHIP_PADDING, CHIP_SIZE, DLIB_TEMPLATE};
use facegate::embed::Embedder;
use facegate::frame::{DecodeLimits, Frame};
use facegate::geometry::Point;
use facegate::template::{Template, Threshold};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

struct Face {
    image: String,
    chip: String,
    landmarks: Vec<Point>,
    descriptor: Vec<f32>,
}

fn fixtures() -> Vec<Face> {
    let text = std::fs::read_to_string(format!("{DIR}/parity/descriptors.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for im in v["images"].as_array().unwrap() {
        for f in im["faces"].as_array().unwrap() {
            out.push(Face {
                image: im["file"].as_str().unwrap().to_string(),
                chip: f["chip"].as_str().unwrap().to_string(),
                landmarks: f["landmarks5"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        Point::new(p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32)
                    })
                    .collect(),
                descriptor: f["descriptor"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap() as f32)
                    .collect(),
            });
        }
    }
    assert!(out.len() >= 6, "expected the six portrait faces");
    out
}

fn reference(face: &Face) -> Template {
    let mut d = face.descriptor.clone();
    Template::from_embedding(&mut d).unwrap()
}

#[test]
fn tract_resnet_matches_dlib_on_dlib_chips() {
    let embedder = Embedder::with_default_model().unwrap();
    for face in fixtures() {
        let frame = Frame::open(
            format!("{DIR}/parity/{}", face.chip),
            &DecodeLimits::default(),
        )
        .unwrap();
        let chip = Chip::from_frame(&frame).unwrap();
        let ours = embedder.embed(&chip).unwrap();
        // Distance is the only view of a template; max-abs ≤ 1e-5 per value bounds the
        // euclidean distance by 1e-5·√128 ≈ 1.1e-4.
        let d = ours.distance(&reference(&face));
        assert!(
            d < 1.2e-4,
            "{}: distance to dlib's descriptor {d}",
            face.image
        );
    }
}

#[test]
fn alignment_reproduces_dlib_chips() {
    let embedder = Embedder::with_default_model().unwrap();
    let th = Threshold::new(0.6).unwrap();
    for face in fixtures() {
        let frame = Frame::open(
            format!("{DIR}/images/{}", face.image),
            &DecodeLimits::default(),
        )
        .unwrap();
        let chip = align_to_template(
            &frame,
            &face.landmarks,
            &DLIB_TEMPLATE,
            CHIP_SIZE,
            CHIP_PADDING,
        )
        .unwrap();
        let dlib = Frame::open(
            format!("{DIR}/parity/{}", face.chip),
            &DecodeLimits::default(),
        )
        .unwrap();
        let diff: f64 = chip
            .rgb()
            .iter()
            .zip(dlib.rgb())
            .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
            .sum::<f64>()
            / chip.rgb().len() as f64;
        let d = embedder
            .embed(&chip)
            .unwrap()
            .compare(&reference(&face), th);
        println!(
            "{}: mean abs pixel diff {diff:.3}, descriptor distance {:.5}",
            face.image,
            d.distance()
        );
        // Only the JPEG decoders differ (by a grey level here and there).
        assert!(
            diff < 0.05,
            "{}: chips differ by {diff} grey levels on average",
            face.image
        );
        assert!(
            d.distance() < 0.005,
            "{}: descriptor distance {}",
            face.image,
            d.distance()
        );
    }
}

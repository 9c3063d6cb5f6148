//! The measurement doors `facegate bench --dump-inputs` uses: `Detector::detect_measured`
//! finds what `detect` finds and reports every network run; `eval::raw_embedding` is the
//! very output `embed` makes a template of.

use facegate::detect::{Detector, DetectorConfig, NetRun};
use facegate::embed::Embedder;
use facegate::frame::{DecodeLimits, Frame};
use facegate::template::Template;

const IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/images");

#[test]
fn detect_measured_finds_the_same_faces_and_reports_every_run() {
    let det = Detector::with_default_models(DetectorConfig::default()).unwrap();
    let frame = Frame::open(format!("{IMAGES}/obama.jpg"), &DecodeLimits::default()).unwrap();
    let plain = det.detect(&frame).unwrap();
    let mut runs: Vec<(&'static str, Vec<usize>, usize, usize)> = Vec::new();
    let measured = det
        .detect_measured(&frame, &mut |r: &NetRun<'_>| {
            assert_eq!(r.input.len(), r.input_shape.iter().product::<usize>());
            for (shape, v) in &r.outputs {
                assert_eq!(v.len(), shape.iter().product::<usize>());
                assert!(v.iter().all(|x| x.is_finite()));
            }
            // Debug shows shapes and time, never the values (normalised face pixels).
            let shown = format!("{r:?}");
            assert!(
                !shown.contains(&format!("{:?}", r.input[r.input.len() / 2])),
                "{shown}"
            );
            assert!(shown.len() < 300, "{shown}");
            runs.push((r.net, r.input_shape.clone(), r.outputs.len(), r.input.len()));
        })
        .unwrap();
    assert_eq!(plain, measured, "measuring changes nothing");
    // P-Net once per pyramid level, largest first, fed channels first: [1, 3, width, height].
    let pyramid = det.pyramid(frame.width(), frame.height());
    let pnet: Vec<&Vec<usize>> = runs
        .iter()
        .filter(|r| r.0 == "pnet")
        .map(|r| &r.1)
        .collect();
    assert_eq!(pnet.len(), pyramid.len());
    for (shape, (w, h)) in pnet.iter().zip(&pyramid) {
        assert_eq!(**shape, vec![1, 3, *w as usize, *h as usize]);
    }
    // R-Net and O-Net one box at a time; O-Net has three outputs (box, landmarks, score).
    for r in runs.iter().filter(|r| r.0 != "pnet") {
        let side = if r.0 == "rnet" { 24 } else { 48 };
        assert_eq!(r.1, vec![1, 3, side, side], "{}", r.0);
        assert_eq!(r.2, if r.0 == "rnet" { 2 } else { 3 });
    }
    assert!(runs.iter().any(|r| r.0 == "rnet") && runs.iter().any(|r| r.0 == "onet"));
}

#[test]
fn raw_embedding_is_the_output_a_template_is_made_of() {
    let det = Detector::with_default_models(DetectorConfig::default()).unwrap();
    let frame = Frame::open(format!("{IMAGES}/obama.jpg"), &DecodeLimits::default()).unwrap();
    let face = det.detect(&frame).unwrap()[0];
    let chip = facegate::align::align(&frame, &face.landmarks).unwrap();
    let embedder = Embedder::with_default_model().unwrap();
    let raw = facegate::eval::raw_embedding(&embedder, &chip).unwrap();
    assert_eq!(raw.len(), 128);
    let mut copy = raw.to_vec();
    let from_raw = Template::from_embedding(&mut copy).unwrap();
    let template = embedder.embed(&chip).unwrap();
    assert_eq!(from_raw.distance(&template), 0.0);
}

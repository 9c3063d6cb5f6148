//! The face capture on frames the fuzzer paints: detect → quality gate → align → embed, with
//! the kiosk configuration (min face 20, so small frames still hold faces). Beyond "no panic":
//! a captured face has a finite, non-empty box and finite landmarks, and its template compares
//! with itself at distance 0.
#![no_main]

use std::sync::OnceLock;

use facegate::eval::Matcher;
use facegate::face::FaceConfig;
use facegate::frame::Frame;
use facegate::FacePipeline;
use libfuzzer_sys::fuzz_target;

fn pipeline() -> &'static FacePipeline {
    static PIPELINE: OnceLock<FacePipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        FacePipeline::with_default_models(FaceConfig::kiosk()).expect("the embedded models load")
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (head, pixels) = data.split_at(2);
    // Up to 127 × 127: a face of 20 px or more fits, and a run stays in milliseconds.
    let width = u32::from(head[0] % 128).max(1);
    let height = u32::from(head[1] % 128).max(1);
    let len = (width * height * 3) as usize;
    // The painted bytes, repeated to fill the frame.
    let rgb: Vec<u8> = pixels.iter().copied().cycle().take(len).collect();
    let Ok(frame) = Frame::from_rgb(width, height, rgb) else {
        return;
    };
    let matcher = Matcher::new(pipeline());
    if let Ok(c) = matcher.capture(&frame) {
        let b = c.detection.bbox;
        assert!(b.x.is_finite() && b.y.is_finite() && b.width > 0.0 && b.height > 0.0);
        for p in c.detection.landmarks.to_array() {
            assert!(p.x.is_finite() && p.y.is_finite());
        }
        assert_eq!(matcher.compare(&c.template, &c.template).distance(), 0.0);
    }
});

//! Speed of the face pipeline, stage by stage, on a kiosk-sized frame.
//!
//! The frame is built at setup from `tests/fixtures/images/obama.jpg`: scaled so the face
//! box is about 200 px wide (a person at arm's length from a 640×480 kiosk camera),
//! cropped to 640×480 around it and JPEG-encoded in memory. Stages:
//!
//! - `compare`: [`Template::compare`], the 1:1 match hot path;
//! - `decode`: JPEG bytes → [`Frame`] under the default limits;
//! - `detect`: the MTCNN cascade (P-Net plans are cached per pyramid size; warmed up);
//! - `track`: light tracking of the same face from its box (O-Net twice, no pyramid): what
//!   `detect::Tracker` runs on the frames between full detections. Its speed is the
//!   ratio `detect` ÷ `track` of one run;
//! - `align`: similarity fit + 150×150 chip sampling from the landmarks;
//! - `embed`: the dlib ResNet on one chip;
//! - `capture`: detect → quality gate → align → embed, as a kiosk calls it;
//! - `threads/1` and `threads/2`: the same four captures on one thread, and split over two
//!   threads sharing one [`FacePipeline`]. Throughput scaling = time of `threads/1` ÷ time of
//!   `threads/2` (2.0 is perfect; meaningful only on two otherwise idle cores).
//!
//! Run: `cargo bench --bench face -- --warm-up-time 1 --measurement-time 3`
//! (`-- threads` for the scaling alone).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use facegate::align;
use facegate::detect::{Detector, DetectorConfig};
use facegate::eval::Matcher;
use facegate::face::{FaceConfig, FacePipeline};
use facegate::frame::{DecodeLimits, Frame};
use facegate::template::Threshold;
use facegate_sim::kiosk::{FACE_PX, HEIGHT, WIDTH};

const IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/images");

/// The kiosk frame (`facegate_sim::kiosk`) made from a fixture portrait.
fn kiosk_jpeg(pipeline: &FacePipeline, name: &str) -> Vec<u8> {
    let bytes = std::fs::read(format!("{IMAGES}/{name}.jpg")).expect("read fixture");
    facegate_sim::kiosk::kiosk_jpeg(pipeline, &bytes).expect("compose the kiosk frame")
}

fn face_pipeline(c: &mut Criterion) {
    let pipeline = FacePipeline::with_default_models(FaceConfig::default()).expect("load models");
    let limits = DecodeLimits::default();
    let jpeg = kiosk_jpeg(&pipeline, "obama");
    let frame = Frame::decode(&jpeg, &limits).expect("decode kiosk frame");
    assert_eq!((frame.width(), frame.height()), (WIDTH, HEIGHT));

    // Warm-up outside the measurement: the first detection plans P-Net for every pyramid
    // size of this frame.
    let faces = pipeline.detect(&frame).expect("detect");
    assert_eq!(faces.len(), 1, "one face expected in the kiosk frame");
    let face = faces[0];
    assert!(
        (face.bbox.width - FACE_PX).abs() < 40.0,
        "face is {} px wide, expected about {FACE_PX}",
        face.bbox.width
    );
    let chip = align::align(&frame, &face.landmarks).expect("align");
    let matcher = Matcher::new(&pipeline);
    let capture = matcher
        .capture(&frame)
        .expect("the kiosk frame passes the quality gate");
    // The other template only feeds `compare`: any image of the same person will do.
    let other_frame = Frame::open(format!("{IMAGES}/obama2.jpg"), &limits).expect("decode");
    let other = matcher.capture(&other_frame).expect("capture obama2");
    let threshold = Threshold::new(0.6).expect("threshold");
    assert!(capture
        .template
        .compare(&other.template, threshold)
        .same_person());

    c.bench_function("compare", |b| {
        b.iter(|| black_box(&capture.template).compare(black_box(&other.template), threshold))
    });

    let mut g = c.benchmark_group("stage_640x480");
    g.sample_size(10);
    g.bench_function("decode", |b| {
        b.iter(|| Frame::decode(black_box(&jpeg), &limits).expect("decode"))
    });
    g.bench_function("detect", |b| {
        b.iter(|| pipeline.detect(black_box(&frame)).expect("detect"))
    });
    let mtcnn = Detector::with_default_models(DetectorConfig::default()).expect("load MTCNN");
    g.bench_function("track", |b| {
        b.iter(|| {
            mtcnn
                .track(black_box(&frame), black_box(&face.bbox))
                .expect("track")
        })
    });
    g.bench_function("align", |b| {
        b.iter(|| align::align(black_box(&frame), black_box(&face.landmarks)).expect("align"))
    });
    g.bench_function("embed", |b| {
        b.iter(|| matcher.embed_chip(black_box(&chip)).expect("embed"))
    });
    g.bench_function("capture", |b| {
        b.iter(|| matcher.capture(black_box(&frame)).expect("capture"))
    });
    g.finish();
}

/// Four captures of the kiosk frame per iteration, on `threads` threads sharing one pipeline.
fn captures_on(pipeline: &FacePipeline, frame: &Frame, threads: usize) {
    const CAPTURES: usize = 4;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..CAPTURES / threads {
                    black_box(
                        Matcher::new(pipeline)
                            .capture(black_box(frame))
                            .expect("capture"),
                    );
                }
            });
        }
    });
}

fn threads(c: &mut Criterion) {
    let pipeline = FacePipeline::with_default_models(FaceConfig::default()).expect("load models");
    let jpeg = kiosk_jpeg(&pipeline, "obama");
    let frame = Frame::decode(&jpeg, &DecodeLimits::default()).expect("decode kiosk frame");
    // Plan every pyramid level before measuring.
    Matcher::new(&pipeline).capture(&frame).expect("capture");
    let mut g = c.benchmark_group("threads");
    g.sample_size(10);
    for n in [1, 2] {
        g.bench_function(n.to_string(), |b| {
            b.iter(|| captures_on(&pipeline, &frame, n))
        });
    }
    g.finish();
}

criterion_group!(benches, face_pipeline, threads);
criterion_main!(benches);

//! Per-frame cost of each liveness layer (the challenge, parallax, depth and NIR layers
//! run on every frame of a 2–4 s session at 15–30 fps; the surface layer once per step).
//!
//! `cargo bench --bench liveness`

use criterion::{criterion_group, criterion_main, Criterion};
use facegate::liveness::challenge::{Challenge, ChallengeConfig, Event, Mode, Session, Turn};
use facegate::liveness::depth::{self, DepthConfig};
use facegate::liveness::nir::{self, NirConfig};
use facegate::liveness::parallax;
use facegate::liveness::pose;
use facegate::liveness::surface::{self, SurfaceConfig};
use facegate_sim::depth as dsynth;
use facegate_sim::nir as nsynth;
use facegate_sim::simulate::{self, Presentation, SimConfig, SimRng};
use std::hint::black_box;

fn layers(c: &mut Criterion) {
    let sim = SimConfig::default();
    let mut p = Presentation::genuine(3, &sim);
    let frames = simulate::recorded(&mut p, &[Turn::Left, Turn::Up], 15.0);
    let lm0 = frames[0].faces[0].landmarks;
    let lm1 = frames[frames.len() / 3].faces[0].landmarks;

    c.bench_function("pose/estimate (per frame)", |b| {
        b.iter(|| pose::estimate(black_box(&lm1)))
    });
    c.bench_function("parallax/planar_residual (per frame)", |b| {
        b.iter(|| parallax::planar_residual(black_box(&lm0), black_box(&lm1)))
    });
    c.bench_function(
        "challenge/session (whole sequence, per frame = /frames)",
        |b| {
            b.iter(|| {
                let mut s = Session::new(
                    Challenge::fixed_for_evaluation(vec![Turn::Left, Turn::Up], false).unwrap(),
                    Mode::Fixed,
                    ChallengeConfig::default(),
                )
                .unwrap();
                for f in &frames {
                    if let Ok(Event::Done(_)) = s.push(f) {
                        break;
                    }
                }
            })
        },
    );
    println!("challenge sequence has {} frames", frames.len());

    let bbox = facegate::geometry::Rect {
        x: 240.0,
        y: 150.0,
        width: 160.0,
        height: 180.0,
    };
    let mut rng = SimRng::new(1);
    let dm = dsynth::head(640, 480, &bbox, 550.0, 30.0, 1.0, &mut rng);
    c.bench_function("depth/check 640x480 (per frame)", |b| {
        b.iter(|| depth::check(black_box(&dm), &bbox, &DepthConfig::default()))
    });
    // Dense-point surface layer: one 20-frame turn of a rendered face-shaped card
    // (320×240, IOD ≈ 64 px), the whole step: corners, anchored tracking, two-plane search.
    let seq = facegate_sim::surface::sequence(facegate_sim::surface::Shape::Face, 4);
    let pass = facegate_sim::surface::pass();
    c.bench_function("surface/analyze one step (20 frames, 320x240)", |b| {
        b.iter(|| surface::analyze(black_box(&seq), &pass, &SurfaceConfig::default()))
    });
    let nf = nsynth::skin(640, 480, &bbox, &mut rng);
    c.bench_function("nir/check 640x480 (per frame)", |b| {
        b.iter(|| nir::check(black_box(&nf), &bbox, &NirConfig::default()))
    });
}

criterion_group!(benches, layers);
criterion_main!(benches);

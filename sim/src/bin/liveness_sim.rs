//! Simulation measurements for the liveness layers: pose-estimate error and ISO/IEC
//! 30107-3 APCER/BPCER of the fused policy on simulated presentations.
//!
//! `cargo run --release -p facegate-sim --bin liveness_sim -- [N per type] [seed]`

use facegate::liveness::challenge::Mode;
use facegate::liveness::fusion::{LivenessPolicy, Requirement};
use facegate_sim::simulate::{self, NoiseModel, SimConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2026);
    let noise = NoiseModel::default();
    for (name, nm) in [
        ("no noise", NoiseModel { px: 0.0, rel: 1e-9 }),
        ("default noise", noise),
    ] {
        let e = simulate::pose_error(seed, 2000, nm);
        println!(
            "pose error ({name}, n={}): RMS abs yaw {:.1}° pitch {:.1}° roll {:.1}°; relative to own frontal: RMS yaw {:.1}° pitch {:.1}°, p95 yaw {:.1}° pitch {:.1}°",
            e.n, e.rms[0], e.rms[1], e.rms[2], e.rms_relative[0], e.rms_relative[1], e.p95_relative[0], e.p95_relative[1]
        );
    }
    // Parallax alone (no challenge in front of it): whole recorded sequences against their
    // first three frames.
    let pcfg = facegate::liveness::parallax::ParallaxConfig::default();
    let sim = SimConfig {
        noise,
        ..SimConfig::default()
    };
    let steps = [
        facegate::liveness::challenge::Turn::Left,
        facegate::liveness::challenge::Turn::Up,
    ];
    for label in ["live", "static_print", "moved_print", "folded_print"] {
        let (mut planar, mut max, mut min, mut total) = (0usize, 0f64, f64::INFINITY, 0usize);
        for i in 0..n as u64 {
            let mut p = match simulate::AttackType::from_name(label) {
                Some(k) => simulate::Presentation::attack(k, seed ^ ((i + 1) * 7919), &sim, &steps),
                None => simulate::Presentation::genuine(seed ^ ((i + 1) * 7919), &sim),
            };
            let frames = simulate::recorded(&mut p, &steps, sim.fps);
            if let Ok(Ok(r)) = facegate::liveness::parallax::analyze(
                &frames,
                0..=frames.len() - 1,
                &[0, 1, 2],
                &pcfg,
            ) {
                total += 1;
                planar += usize::from(r.planar);
                max = max.max(r.score);
                min = min.min(r.score);
            }
        }
        println!("parallax alone, {label:<13}: judged planar {planar}/{total}, score min {min:.1} max {max:.1} (threshold {})", pcfg.min_score);
    }
    // Landmark-level simulation: no pixels, so no dense-point surface layer.
    let policy = LivenessPolicy {
        surface: Requirement::Off,
        ..LivenessPolicy::default()
    };
    for mode in [Mode::Interactive, Mode::Fixed] {
        for mirrored in [false, true] {
            let sim = SimConfig {
                noise,
                mirrored,
                ..SimConfig::default()
            };
            let r = match simulate::evaluate(seed, n, 2, mode, &sim, &policy) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            };
            println!("\nmode {mode:?}, mirrored {mirrored}, noise {noise:?}");
            for (k, (acc, cnt)) in &r.attacks {
                println!(
                    "  APCER {k:<20} {:6.2} %  ({acc}/{cnt})",
                    100.0 * *acc as f64 / (*cnt).max(1) as f64
                );
            }
            println!(
                "  BPCER {:<20} {:6.2} %  ({}/{})",
                "live",
                100.0 * r.bpcer(),
                r.bona_fide.0,
                r.bona_fide.1
            );
            for (k, v) in &r.reasons {
                println!("  reasons {k}: {v:?}");
            }
            for (label, pseed, steps) in r
                .errors
                .iter()
                .filter(|e| e.0 != "live" && e.0 != "folded_print")
            {
                println!("  accepted attack: {label} seed {pseed} steps {steps:?}");
            }
            for (k, v) in &r.parallax_scores {
                let mut v = v.clone();
                v.sort_by(f64::total_cmp);
                let q = |f: f64| {
                    v.get(((v.len() as f64 - 1.0) * f).round() as usize)
                        .copied()
                        .unwrap_or(f64::NAN)
                };
                println!("  parallax score {k:<20} n={:4} min {:7.1} p05 {:7.1} median {:7.1} p95 {:7.1} max {:7.1}", v.len(), q(0.0), q(0.05), q(0.5), q(0.95), q(1.0));
            }
        }
    }
}

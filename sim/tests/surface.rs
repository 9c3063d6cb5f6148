//! The dense-point surface layer on rendered cards whose geometry is known exactly.

use facegate::liveness::challenge::ChallengePass;
use facegate::liveness::surface::{analyze, SurfaceConfig};
use facegate_sim::surface::{pass, sequence, Shape, FRAMES};

/// A step's views come from that step only: with the frame where the face was back at
/// frontal known, the next movement (another step's turn, which may change the
/// landmarks more) cannot stand in for this step's furthest turn.
#[test]
fn a_step_is_measured_between_its_reach_and_its_return() {
    let frames = sequence(Shape::Face, 3);
    let cfg = SurfaceConfig::default();
    let peak = |pass: &ChallengePass| match analyze(&frames, pass, &cfg) {
        Ok(Ok(report)) => report.steps.first().map(|s| s.peak),
        other => panic!("{other:?}"),
    };
    let pass = pass();
    // The card turns furthest at the middle frame (landmark noise may pick a neighbour).
    let furthest = FRAMES / 2;
    let free = peak(&pass).unwrap();
    assert!(free.abs_diff(furthest) <= 1, "{free}");
    let back = furthest - 3;
    let pass = ChallengePass::for_evaluation(
        pass.first_frontal(),
        pass.last_frontal(),
        pass.reached().to_vec(),
        vec![back],
        pass.baseline(),
    );
    let bounded = peak(&pass).unwrap();
    assert!((pass.reached()[0]..=back).contains(&bounded), "{bounded}");
}

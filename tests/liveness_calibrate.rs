//! The leave-one-recording-out calibration (`facegate::eval::liveness`), run on simulated
//! live heads to test its code paths: the figures that matter come from real recordings
//! (`facegate liveness calibrate`, docs/LIVENESS.md), never from these.

use facegate::eval::liveness::{self, Recording, KNOBS};
use facegate::liveness::challenge::{Challenge, Turn};
use facegate::liveness::fusion::{LivenessPolicy, NoPassive, Requirement};
use facegate::liveness::Observation;
use facegate_sim::simulate::{self, Presentation, SimConfig};

const FPS: f64 = 15.0;

fn simulated(n: u64) -> Vec<Vec<Observation>> {
    let sim = SimConfig::default();
    (0..n)
        .map(|seed| {
            let mut p = Presentation::genuine(700 + seed, &sim);
            simulate::recorded(&mut p, &[Turn::Left, Turn::Up], FPS)
        })
        .collect()
}

/// Landmark layers only: simulated observations carry no luma and no colour frames.
fn base() -> LivenessPolicy {
    LivenessPolicy {
        identity: Requirement::Off,
        surface: Requirement::Off,
        ..LivenessPolicy::default()
    }
}

#[test]
fn each_recording_is_judged_with_thresholds_chosen_on_the_others() {
    let frames = simulated(4);
    let challenge = Challenge::fixed_for_evaluation(vec![Turn::Left, Turn::Up], false).unwrap();
    let names = ["s0", "s1", "s2", "s3"];
    let recs: Vec<Recording<'_>> = frames
        .iter()
        .zip(names)
        .map(|(f, name)| Recording {
            name,
            challenge: &challenge,
            frames: f,
        })
        .collect();
    let mut calls = 0;
    let c = liveness::calibrate(&recs, &base(), |i, policy, outcome| {
        calls += 1;
        policy.decide(
            outcome,
            &frames[i],
            None::<&mut NoPassive>,
            None::<&mut NoPassive>,
        )
    })
    .unwrap();
    assert!(calls > 0);
    assert_eq!(c.held_out.len(), 4);
    assert_eq!(c.needs.len(), 4);
    for (i, judged) in c.held_out.iter().enumerate() {
        assert_eq!(judged.recording, names[i]);
        // A challenge threshold of fold i is the rule applied to the other recordings'
        // needs only: the held-out recording's own need never enters it.
        for (k, knob) in KNOBS.iter().enumerate().filter(|(_, k)| !k.is_layer()) {
            let others: Vec<f64> = c
                .needs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter_map(|(_, n)| n.needs[k])
                .collect();
            assert_eq!(judged.thresholds[k], knob.choose(&others), "{}", knob.name);
        }
    }
    // Every simulated head needs some turn: the reach need is a real measurement.
    assert!(c.needs.iter().all(|n| n.needs[0].is_some_and(|v| v > 15.0)));
    // Thresholds chosen on all four pass all four (each is at most half as strict as
    // the weakest need).
    assert!(c.all.iter().all(|j| j.decision.live()), "{:?}", c.all);
    let policy = c.policy(&base());
    assert_eq!(policy.challenge.reach_deg, c.chosen[0]);
}

#[test]
fn fewer_than_three_recordings_are_refused() {
    let frames = simulated(2);
    let challenge = Challenge::fixed_for_evaluation(vec![Turn::Left, Turn::Up], false).unwrap();
    let recs: Vec<Recording<'_>> = frames
        .iter()
        .map(|f| Recording {
            name: "s",
            challenge: &challenge,
            frames: f,
        })
        .collect();
    let r = liveness::calibrate(&recs, &base(), |_, _, _| unreachable!());
    assert!(r.is_err());
}

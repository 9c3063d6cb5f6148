//! The streaming face session (`FaceVerifier::start`): consent at the start, a prompt per
//! step as the frames arrive, the decision on the frame that passed, and errors that leave
//! the session as it was. The real-recording case reads `../shared/data/liveness` (never
//! committed) and skips with a message when it is absent.

mod common;

use facegate::consent::{BiometricConsent, FaceConsent};
use facegate::date::Date;
use facegate::face::{
    reasons, FaceConfig, FacePipeline, FaceSession, FaceVerifier, FaceVerifyError, Progress,
    Reference, SessionStart, Started,
};
use facegate::frame::Frame;
use facegate::liveness::challenge::{Challenge, Mode, Turn};
use facegate::liveness::fusion::{self, LivenessPolicy};
use facegate::{Outcome, ReasonKind};
use std::sync::Arc;

fn pipeline() -> FacePipeline {
    let mut config = FaceConfig::default();
    config.detector.min_face = 20.0;
    FacePipeline::with_default_models(config).unwrap()
}

fn today() -> Date {
    Date::new(2026, 11, 30).unwrap()
}

fn start<'s>(
    v: &'s FaceVerifier<'s>,
    consent: &'s FaceConsent<'s>,
    reference: Reference<'s>,
    turns: &str,
    track: u32,
) -> FaceSession<'s> {
    let start = SessionStart {
        consent,
        birth_date: None,
        today: today(),
        reference,
        mirrored: false,
        track,
    };
    // Recordings cannot follow a drawn challenge: the evaluation door, with their turns.
    let turns = Challenge::parse_for_evaluation(turns, false).unwrap();
    match v.start_for_evaluation(start, turns, Mode::Fixed).unwrap() {
        Started::Session(s) => s,
        Started::Decided(o) => panic!("decided before any frame: {o:?}"),
    }
}

#[test]
fn consent_refused_decides_before_any_frame() {
    let p = pipeline();
    let v = FaceVerifier::new(&p, LivenessPolicy::default());
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let reference = common::fixture("obama");
    let started = v
        .start(SessionStart {
            consent: &consent,
            birth_date: Some(Date::new(2016, 5, 1).unwrap()),
            today: today(),
            reference: Reference::Photo(&reference),
            mirrored: false,
            track: 1,
        })
        .unwrap();
    match started {
        Started::Decided(o) => assert_eq!(o.reason().map(|r| r.kind()), Some(ReasonKind::Consent)),
        Started::Session(s) => panic!("a child without a guardian's consent got a session: {s:?}"),
    }
}

#[test]
fn a_bad_frame_leaves_the_session_as_it_was_and_a_decided_session_takes_no_more() {
    let p = pipeline();
    let v = FaceVerifier::new(&p, LivenessPolicy::default());
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let face = common::fixture("obama");
    assert!(matches!(
        v.start(SessionStart {
            consent: &consent,
            birth_date: None,
            today: today(),
            reference: Reference::Photo(&face),
            mirrored: false,
            track: 0,
        }),
        Err(FaceVerifyError::Face(_))
    ));
    let mut s = start(&v, &consent, Reference::Photo(&face), "left", 3);
    assert_eq!(s.push(&face, 0.0).unwrap(), Progress::Continue);
    // The same timestamp again: refused, nothing recorded.
    assert!(matches!(
        s.push(&face, 0.0),
        Err(FaceVerifyError::Challenge(_))
    ));
    assert!(matches!(
        s.push(&face, f64::NAN),
        Err(FaceVerifyError::Challenge(_))
    ));
    // Another camera geometry mid-session: refused, nothing recorded.
    let other = common::fixture("obama2");
    assert_ne!(
        (other.width(), other.height()),
        (face.width(), face.height())
    );
    assert!(matches!(
        s.push(&other, 0.05),
        Err(FaceVerifyError::Capture(_))
    ));
    let mut prompted = false;
    for i in 1..12 {
        match s.push(&face, i as f64 / 15.0).unwrap() {
            Progress::Prompt { index: 0, turn } => {
                assert_eq!(turn, Turn::Left);
                prompted = true;
            }
            Progress::Continue => {}
            other => panic!("frame {i}: {other:?}"),
        }
    }
    assert!(
        prompted,
        "a steady frontal face is the baseline: the first step is prompted"
    );
    // The photo never turns: the input ends, the step was not performed.
    let out = s.finish().unwrap();
    assert_eq!(out, Outcome::Rejected(fusion::CHALLENGE_TIMEOUT));
    assert!(s.push(&face, 1.0).is_err());
    assert!(s.finish().is_err());
}

/// Pushes every frame; returns the prompts seen and the outcome.
fn run(s: &mut FaceSession<'_>, frames: &[Frame]) -> (Vec<(usize, Turn)>, Outcome) {
    let mut prompts = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        match s.push(f, i as f64 / 7.5).unwrap() {
            Progress::Continue => {}
            Progress::Prompt { index, turn } => prompts.push((index, turn)),
            Progress::Done(o) => return (prompts, o),
        }
    }
    (prompts, s.finish().unwrap())
}

#[test]
fn a_real_person_is_prompted_step_by_step_and_matched_on_the_frame_that_passed() {
    let Some(frames) = common::recording("selfie_d") else {
        return;
    };
    let p = pipeline();
    let v = FaceVerifier::new(&p, LivenessPolicy::default());
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let turns = "left,right,up,down";
    let expected: Vec<(usize, Turn)> = Challenge::parse_for_evaluation(turns, false)
        .unwrap()
        .turns()
        .iter()
        .copied()
        .enumerate()
        .collect();
    // Full detection on every frame, and the tracker (full detection every third frame).
    for track in [1, 3] {
        let mut s = start(&v, &consent, Reference::Photo(&frames[0]), turns, track);
        let (prompts, out) = run(&mut s, &frames);
        assert_eq!(prompts, expected, "track {track}");
        assert_eq!(out, Outcome::Accepted, "track {track}");
    }
    let other = common::fixture("obama");
    let mut s = start(&v, &consent, Reference::Photo(&other), turns, 3);
    let (_, out) = run(&mut s, &frames);
    assert_eq!(out, Outcome::Rejected(reasons::MISMATCH));
}

/// The session holds a frame's pixels only while the surface test may still read them:
/// none before the baseline, then the frames around each turn, wiped as the challenge
/// moves on (it decides alike: the test above and `cli/tests/liveness_equality.rs`).
#[test]
fn a_session_holds_pixels_only_around_the_turns() {
    let Some(frames) = common::recording("selfie_d") else {
        return;
    };
    let p = pipeline();
    let policy = LivenessPolicy::default();
    let hops = policy.surface_config.max_hops;
    let v = FaceVerifier::new(&p, policy);
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let mut s = start(
        &v,
        &consent,
        Reference::Photo(&frames[0]),
        "left,right,up,down",
        3,
    );
    let mut prompted = None;
    for (i, f) in frames.iter().enumerate() {
        let progress = s.push(f, i as f64 / 7.5).unwrap();
        if let Progress::Prompt { index: 0, .. } = progress {
            prompted = Some(i);
        }
        match prompted {
            // Before the baseline no step can read a frame: nothing is held.
            None => assert_eq!(s.frames_held(), 0, "frame {i}"),
            // Seeking the first turn: the baseline's colour frame and at most the luma of
            // the last `max_hops` + 1 frames.
            Some(at) if i < at + hops => assert!(s.frames_held() <= i - at + 2, "frame {i}"),
            Some(_) => {}
        }
        if matches!(progress, Progress::Done(_)) {
            assert_eq!(progress, Progress::Done(Outcome::Accepted));
            // Decided: every frame is wiped.
            assert_eq!(s.frames_held(), 0);
            return;
        }
    }
    panic!("undecided after every frame");
}

/// A session that borrows nothing (`start_shared`, for the C interface) decides as the
/// borrowing one, keeps the pipeline alive after its other owner lets go, and refuses a
/// borrowed template as its reference.
#[test]
fn a_shared_session_borrows_nothing_and_decides_alike() {
    let shared = Arc::new(pipeline());
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let obama = common::fixture("obama");
    // Only the variant matters here: any template will do (the largest face's).
    let faces = shared.detect(&obama).unwrap();
    let template = facegate::eval::Matcher::new(&shared)
        .capture_face(&obama, faces[0], 0.0)
        .unwrap()
        .template;
    fn start<'s>(consent: &'s FaceConsent<'s>, reference: Reference<'s>) -> SessionStart<'s> {
        SessionStart {
            consent,
            birth_date: None,
            today: today(),
            reference,
            mirrored: false,
            track: 1,
        }
    }
    assert!(matches!(
        FaceVerifier::start_shared(
            &shared,
            LivenessPolicy::default(),
            start(&consent, Reference::Template(&template))
        ),
        Err(FaceVerifyError::Capture(_))
    ));
    let Some(frames) = common::recording("selfie_d") else {
        return;
    };
    let turns = "left,right,up,down";
    let evaluation = |reference: Reference<'_>| {
        let challenge = Challenge::parse_for_evaluation(turns, false).unwrap();
        match FaceVerifier::start_shared_for_evaluation(
            &shared,
            LivenessPolicy::default(),
            start(&consent, reference),
            challenge,
            Mode::Fixed,
        )
        .unwrap()
        {
            Started::Session(s) => s,
            Started::Decided(o) => panic!("decided before any frame: {o:?}"),
        }
    };
    let mut own = evaluation(Reference::Photo(&frames[0]));
    let mut other = evaluation(Reference::Photo(&obama));
    // Only the sessions hold the pipeline now.
    drop(shared);
    assert_eq!(run(&mut own, &frames).1, Outcome::Accepted);
    assert_eq!(
        run(&mut other, &frames).1,
        Outcome::Rejected(reasons::MISMATCH)
    );
}

//! The face verifier end to end: consent before anything, liveness over the capture, the
//! frame that passed liveness compared with the reference.
//!
//! The real-recording cases read `../shared/data/liveness` (never committed) and skip with
//! a message when it is absent.

mod common;

use facegate::consent::{BiometricConsent, FaceConsent, GuardianConsent};
use facegate::date::Date;
use facegate::detect::Detection;
use facegate::face::{
    FaceConfig, FaceEvidence, FacePipeline, FaceVerifier, FrameIdentity, LiveCapture, Reference,
};
use facegate::frame::Frame;
use facegate::liveness::challenge::{self, Challenge, Mode};
use facegate::liveness::fusion::{LivenessPolicy, NoPassive};
use facegate::liveness::{GrayFrame, Observation};
use facegate::template::Threshold;
use facegate::{Family, Outcome, ReasonKind, Verifier};

fn pipeline() -> FacePipeline {
    pipeline_at(facegate::face::DEFAULT_THRESHOLD)
}

fn pipeline_at(threshold: f32) -> FacePipeline {
    let mut config = FaceConfig::default();
    config.detector.min_face = 20.0; // phone recordings at 360×480
    config.threshold = Threshold::new(threshold);
    FacePipeline::with_default_models(config).unwrap()
}

fn today() -> Date {
    Date::new(2026, 11, 23).unwrap()
}

/// Adult (or dated) evidence over a capture recorded in `mode`.
fn evidence<'e>(
    consent: &'e FaceConsent<'e>,
    birth_date: Option<Date>,
    reference: Reference<'e>,
    (frames, times): (&'e [Frame], &'e [f64]),
    challenge: &'e Challenge,
    mode: Mode,
) -> FaceEvidence<'e> {
    FaceEvidence {
        consent,
        birth_date,
        today: today(),
        reference,
        live: LiveCapture {
            frames,
            times,
            challenge,
            mode,
        },
    }
}

#[test]
fn consent_is_checked_before_any_frame() {
    let p = pipeline();
    let mut v = FaceVerifier::new(&p, LivenessPolicy::default());
    assert_eq!(v.family(), Family::Face);
    assert!(v.is_biometric());
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let reference = common::fixture("obama");
    let challenge = Challenge::parse_for_evaluation("left,right", false).unwrap();
    // A 10-year-old without a guardian's consent: refused, although the capture is empty
    // (which would be an error if any frame were looked at).
    let child = Some(Date::new(2016, 5, 1).unwrap());
    let ev = evidence(
        &consent,
        child,
        Reference::Photo(&reference),
        (&[], &[]),
        &challenge,
        Mode::Interactive,
    );
    let out = v.verify(ev).unwrap();
    assert_eq!(
        out.reason().map(|r| r.kind()),
        Some(ReasonKind::Consent),
        "{out:?}"
    );
    // With the guardian's consent the same evidence reaches the frames (and is refused as
    // malformed, having none).
    let guardian = GuardianConsent::given_by_guardian();
    let both = FaceConsent::with_guardian(&person, &guardian);
    let ev = evidence(
        &both,
        child,
        Reference::Photo(&reference),
        (&[], &[]),
        &challenge,
        Mode::Interactive,
    );
    assert!(v.verify(ev).is_err());
}

#[test]
fn live_person_matches_own_photo_not_another_and_a_still_photo_is_not_live() {
    let Some(frames) = common::recording("selfie_d") else {
        return;
    };
    let p = pipeline();
    let mut v = FaceVerifier::new(&p, LivenessPolicy::default());
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let times: Vec<f64> = (0..frames.len()).map(|i| i as f64 / 7.5).collect();
    // The recording turns to the person's own left, then right (not mirrored).
    let challenge = Challenge::parse_for_evaluation("left,right", false).unwrap();
    let capture = |reference| {
        evidence(
            &consent,
            None,
            reference,
            (&frames, &times),
            &challenge,
            Mode::Fixed,
        )
    };

    // Own portrait (a frontal frame of the same recording stands in for the ID photo).
    let own = v.verify(capture(Reference::Photo(&frames[0]))).unwrap();
    assert_eq!(own, Outcome::Accepted);

    // Somebody else's photo.
    let other = common::fixture("obama");
    let out = v.verify(capture(Reference::Photo(&other))).unwrap();
    assert_eq!(out, Outcome::Rejected(facegate::face::reasons::MISMATCH));

    // A still photo held in front of the camera: the same frame over and over.
    let still: Vec<Frame> = (0..23)
        .map(|_| {
            Frame::from_rgb(
                frames[0].width(),
                frames[0].height(),
                frames[0].rgb().to_vec(),
            )
            .unwrap()
        })
        .collect();
    let still_times: Vec<f64> = (0..still.len()).map(|i| i as f64 / 7.5).collect();
    let ev = evidence(
        &consent,
        None,
        Reference::Photo(&frames[0]),
        (&still, &still_times),
        &challenge,
        Mode::Fixed,
    );
    let out = v.verify(ev).unwrap();
    assert!(!out.is_accepted());
    assert_eq!(
        out.reason().map(|r| r.kind()),
        Some(ReasonKind::Liveness),
        "{out:?}"
    );
}

/// The probe is exactly the frame liveness passed ([`Decision::frontal_frame`]), whether
/// its template was made by the identity check or afresh: at a threshold far below the
/// distance between two frames of the same recording, only that frame's own template is
/// accepted as the reference.
///
/// [`Decision::frontal_frame`]: facegate::liveness::fusion::Decision::frontal_frame
#[test]
fn probe_is_the_frontal_frame_liveness_named() {
    let Some(frames) = common::recording("selfie_d") else {
        return;
    };
    let strict = pipeline_at(1e-3);
    let times: Vec<f64> = (0..frames.len()).map(|i| i as f64 / 7.5).collect();
    let challenge = Challenge::parse_for_evaluation("left,right", false).unwrap();

    // Which frame liveness names, learnt through the public liveness API.
    let faces: Vec<Vec<Detection>> = frames.iter().map(|f| strict.detect(f).unwrap()).collect();
    let obs: Vec<Observation> = faces
        .iter()
        .zip(&times)
        .zip(&frames)
        .map(|((d, &t), f)| {
            let mut o = Observation::new(t, d.to_vec());
            o.luma = Some(GrayFrame::new(f.width(), f.height(), f.luma().to_vec()).unwrap());
            o
        })
        .collect();
    let policy = LivenessPolicy::default();
    let outcome = challenge::evaluate(&challenge, Mode::Fixed, &policy.challenge, &obs).unwrap();
    let mut identity = FrameIdentity::new(&strict, &obs, |i| frames.get(i).ok_or(std::fmt::Error));
    let decision = policy
        .decide(&outcome, &obs, Some(&mut identity), None::<&mut NoPassive>)
        .unwrap();
    drop(identity);
    assert!(decision.live());
    let frontal = decision.frontal_frame().unwrap();
    let template = |i: usize| {
        facegate::eval::Matcher::new(&strict)
            .capture_face(&frames[i], faces[i][0], 0.0)
            .ok()
            .map(|c| c.template)
    };
    let own = template(frontal).unwrap();
    // The nearest other frame with a usable single face.
    let other = (1..frames.len())
        .flat_map(|k| [frontal.checked_sub(k), Some(frontal + k)])
        .flatten()
        .filter(|&j| faces.get(j).is_some_and(|f| f.len() == 1))
        .find_map(template)
        .unwrap();
    // So the strict threshold tells even neighbouring frames apart.
    assert!(own.distance(&other) > 1e-3, "neighbouring frames differ");

    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let mut v = FaceVerifier::new(&strict, policy);
    let out = v
        .verify(evidence(
            &consent,
            None,
            Reference::Template(&own),
            (&frames, &times),
            &challenge,
            Mode::Fixed,
        ))
        .unwrap();
    assert_eq!(out, Outcome::Accepted);
}

/// The verifier always compares the person with a reference across the capture: a policy
/// that turns the identity layer off, or any layer below the minimums, is an integration
/// error before consent or frames are looked at (issue 15, item 6).
#[test]
fn a_policy_without_the_identity_layer_is_refused() {
    let p = pipeline();
    let person = BiometricConsent::given_by_person();
    let consent = FaceConsent::adult(&person);
    let reference = common::fixture("obama");
    let challenge = Challenge::random(2, false).unwrap();
    for policy in [
        LivenessPolicy {
            identity: facegate::liveness::fusion::Requirement::Off,
            ..LivenessPolicy::default()
        },
        LivenessPolicy {
            identity_threshold: f32::INFINITY,
            ..LivenessPolicy::default()
        },
    ] {
        let mut v = FaceVerifier::new(&p, policy);
        let ev = evidence(
            &consent,
            None,
            Reference::Photo(&reference),
            (&[], &[]),
            &challenge,
            Mode::Interactive,
        );
        assert!(
            matches!(
                v.verify(ev),
                Err(facegate::face::FaceVerifyError::Liveness(
                    facegate::liveness::fusion::FusionError::Policy(_)
                ))
            ),
            "{policy:?}"
        );
    }
}

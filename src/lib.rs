//! # facegate
//!
//! Identity verification at the edge — parcel lockers, self-service kiosks — by one of
//! three equal families of methods: **face with liveness**, **ID card**, **one-time code**.
//!
//! Why this crate exists: operators made a face scan the *only* way to collect a parcel,
//! photographed every pickup, and were beaten by a printed photo. Regulation now requires
//! that face recognition is never the only method, needs separate consent (a guardian's
//! under 14), is minimal, local and not retained. facegate makes the compliant way the
//! easy way:
//!
//! - [`verifier::Verifier`]: one trait, three families;
//! - [`policy`]: a flow that always offers a non-biometric path, falls back to it, and
//!   cannot be built face-only;
//! - [`template`]: face embeddings that live in memory only, cannot be cloned, serialized
//!   or printed, and are zeroized on drop;
//! - [`audit`]: outcomes and reasons with masked identifiers and no biometric data;
//! - [`liveness`]: layered checks against the printed photo and the replayed video.
//!
//! The face pipeline follows four verbs: [`detect`] → [`align`] → [`embed`] → match
//! ([`template::Template::compare`]). Frames come from encoded images ([`frame`]) or straight
//! from a camera's raw buffers ([`camera`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// `!(x >= min)` is deliberate throughout: it rejects NaN, where `x < min` would accept it.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod align;
pub mod audit;
pub mod camera;
pub mod consent;
pub mod date;
pub mod detect;
pub mod embed;
pub mod eval;
pub mod face;
pub mod frame;
pub mod geometry;
pub mod idcard;
pub mod liveness;
pub mod model;
pub mod otp;
pub mod policy;
mod pool;
mod prelu;
pub mod quality;
mod sample;
pub mod template;
mod vector;
pub mod verifier;

/// The bit patterns of an `f32` tensor's values: how the tests show that a rewritten plan
/// computes exactly what tract's own does.
#[cfg(test)]
pub(crate) fn f32_bits(t: &tract_onnx::prelude::Tensor) -> Vec<u32> {
    t.to_plain_array_view::<f32>()
        .expect("f32 tensor")
        .iter()
        .map(|v| v.to_bits())
        .collect()
}

// The front door: the kiosk's face session, the policy that always offers another way, and
// the non-biometric verifiers beside it.
pub use face::{FacePipeline, FaceSession, FaceVerifier, Progress, SessionStart, Started};
pub use idcard::{IdNumberVerifier, MrzVerifier};
pub use otp::{hotp::HotpVerifier, oob::OobVerifier, totp::TotpVerifier};
pub use policy::{Flow, Policy};
pub use verifier::{Family, Outcome, Reason, ReasonKind, Verifier};

/// The README's Rust snippets, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

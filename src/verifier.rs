//! The one trait every verification method implements.
//!
//! Why a single trait: a kiosk must be able to offer face, ID card and one-time code as
//! *equal* alternatives (regulation forbids face as the only way). If every method answers
//! the same question in the same shape — accepted, rejected with a reason, or try again —
//! the policy can move a person from one method to another without knowing how each works.
//!
//! An [`Outcome`] never carries biometric data, a code or an ID number: only a stable
//! [`Reason`] code. That is what reaches the audit trail and the kiosk's screen.

use serde::{Serialize, Serializer};

/// The three families of verification method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Face with liveness: biometric, needs separate consent.
    Face,
    /// An identity document (resident ID number, ICAO machine-readable zone).
    IdCard,
    /// A one-time code (HOTP/TOTP authenticator or a code sent out of band).
    OneTimeCode,
}

impl Family {
    /// Whether the method processes biometric data (and so needs separate consent and
    /// must never be the only or the default path).
    pub const fn is_biometric(self) -> bool {
        matches!(self, Family::Face)
    }

    /// Stable machine-readable name, as used in audit events and JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            Family::Face => "face",
            Family::IdCard => "id_card",
            Family::OneTimeCode => "one_time_code",
        }
    }
}

/// A verifier names its family, so `Flow::record(&verifier, outcome, now)` reads it
/// from the verifier that produced the outcome.
impl<V: Verifier + ?Sized> From<&V> for Family {
    fn from(v: &V) -> Family {
        v.family()
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of failure a [`Reason`] describes. The policy decides on fallback by kind,
/// not by parsing codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// The evidence was judged and does not match (wrong face, wrong code, wrong holder).
    Mismatch,
    /// Presentation attack suspected or liveness not established.
    Liveness,
    /// The capture was not good enough to decide (no face, blurred, too dark, …).
    Quality,
    /// Consent missing or declined (including a guardian's for a minor).
    Consent,
    /// The evidence is malformed (bad check digit, impossible date, wrong length, …).
    Malformed,
    /// The evidence was valid once but no longer (expired document or code, replayed code).
    Expired,
    /// Too many attempts; the method is locked for a while.
    Locked,
    /// The method cannot run here and now (no camera, no delivery channel, …).
    Unavailable,
}

/// A stable, machine-readable reason code such as `"otp.mismatch"` or
/// `"liveness.planar_motion"`, with its [`ReasonKind`].
///
/// Codes are `&'static str` constants defined by the module that produces them, so they
/// can never carry data from the person (a code, a number, a score).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reason {
    code: &'static str,
    kind: ReasonKind,
}

impl Reason {
    /// A reason; meant for `const` definitions in the producing module.
    pub const fn new(code: &'static str, kind: ReasonKind) -> Self {
        Reason { code, kind }
    }

    /// The stable code, e.g. `"idcard.check_digit"`.
    pub const fn code(self) -> &'static str {
        self.code
    }

    /// The kind of failure.
    pub const fn kind(self) -> ReasonKind {
        self.kind
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

/// The answer of one verification attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// The person is verified by this method.
    Accepted,
    /// The evidence was judged and failed; counts towards the attempt limits.
    Rejected(Reason),
    /// The evidence was not good enough to judge (e.g. no face in view); the person may
    /// try again with the same method.
    Retry(Reason),
}

impl Outcome {
    /// Whether the person is verified.
    pub const fn is_accepted(&self) -> bool {
        matches!(self, Outcome::Accepted)
    }

    /// The reason for a non-accepted outcome.
    pub const fn reason(&self) -> Option<Reason> {
        match self {
            Outcome::Accepted => None,
            Outcome::Rejected(r) | Outcome::Retry(r) => Some(*r),
        }
    }
}

/// A verification method.
///
/// `Evidence` is what the person presents for this method: frames and a consent token
/// for face, a document reading for an ID card, a typed code for OTP. Making it an
/// associated type means a face verifier *cannot be called* without the consent value its
/// evidence type requires.
///
/// `Err` is for faults of the integration (a model failed to run, a frame is corrupt),
/// not for the person's failure: those are [`Outcome::Rejected`] or [`Outcome::Retry`].
pub trait Verifier {
    /// What the person presents.
    type Evidence<'e>;
    /// Integration faults.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Which family this method belongs to.
    fn family(&self) -> Family;

    /// Whether the method is biometric (defaults to the family's answer).
    fn is_biometric(&self) -> bool {
        self.family().is_biometric()
    }

    /// Judge one attempt.
    fn verify(&mut self, evidence: Self::Evidence<'_>) -> Result<Outcome, Self::Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_face_is_biometric() {
        assert!(Family::Face.is_biometric());
        assert!(!Family::IdCard.is_biometric());
        assert!(!Family::OneTimeCode.is_biometric());
    }

    #[test]
    fn reason_serializes_as_its_code() {
        const R: Reason = Reason::new("otp.mismatch", ReasonKind::Mismatch);
        assert_eq!(serde_json::to_string(&R).unwrap(), "\"otp.mismatch\"");
        assert_eq!(Outcome::Rejected(R).reason(), Some(R));
        assert_eq!(Outcome::Accepted.reason(), None);
    }
}

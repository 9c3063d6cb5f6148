//! Which methods a kiosk offers, and how a person moves between them.
//!
//! Why this is the heart of the product: the failure regulators punished was a locker
//! whose *only* way to collect a parcel was a face scan. The 2025 face-recognition
//! security measures require that face recognition is not the only method and that a
//! person who does not agree is offered another way; PIPL art. 29 requires separate
//! consent, so face cannot be the path a person lands on by default. Hence:
//!
//! - [`PolicyBuilder::build`] refuses a policy in which a biometric method is the only
//!   method or the default one ([`PolicyError::BiometricOnly`],
//!   [`PolicyError::BiometricDefault`]). There is no other way to construct a [`Policy`].
//! - A [`Flow`] tracks one person's session: declined consent, no camera, a liveness
//!   failure, repeated quality failures or too many failures move the person to the next
//!   offered method ([`Step::Fallback`]).
//! - Attempt limits follow NIST SP 800-63B: at most 5 consecutive failed face attempts
//!   (10 with presentation-attack detection on), then a delay of at least 30 s that
//!   doubles with each further failure; at most 100 consecutive failures for a one-time
//!   code recipient. [`Limits::validate`] refuses looser limits.
//! - Every method has a short [`notice`] text the kiosk shows (signage is a legal
//!   requirement): what is collected, why, and that alternatives exist.
//!
//! The clock is passed in (`now`, Unix seconds) so the back-off is testable.
//!
//! ```
//! use facegate::policy::{Method, Policy, PolicyError};
//!
//! // Face only: refused.
//! let r = Policy::builder("locker-7").offer(Method::Face { liveness: true }).build();
//! assert_eq!(r.err(), Some(PolicyError::BiometricOnly));
//!
//! // Face first (so the default): refused unless a non-biometric default is named.
//! let r = Policy::builder("locker-7")
//!     .offer(Method::Face { liveness: true })
//!     .offer(Method::OneTimeCode)
//!     .build();
//! assert_eq!(r.err(), Some(PolicyError::BiometricDefault));
//!
//! let policy = Policy::builder("locker-7")
//!     .offer(Method::OneTimeCode)
//!     .offer(Method::Face { liveness: true })
//!     .build()
//!     .unwrap();
//! assert_eq!(policy.default_method(), Method::OneTimeCode);
//! ```

mod flow;
mod limits;
mod notice;

pub use flow::{Flow, Step, Trigger};
pub use limits::Limits;
pub use notice::{notice, Language};

use crate::verifier::{Family, Reason, ReasonKind};

/// Reason codes produced by the flow itself.
pub mod reasons {
    use super::*;
    /// Too many consecutive failures: the method is locked for a back-off period.
    pub const TOO_MANY_FAILURES: Reason =
        Reason::new("policy.too_many_failures", ReasonKind::Locked);
    /// The capture kept failing quality checks.
    pub const TOO_MANY_RETRIES: Reason =
        Reason::new("policy.too_many_retries", ReasonKind::Quality);
    /// No camera (or it failed) at this kiosk.
    pub const NO_CAMERA: Reason = Reason::new("policy.no_camera", ReasonKind::Unavailable);
}

/// A verification method a policy can offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Face recognition; `liveness` says whether presentation-attack detection is on
    /// (it raises the NIST attempt limit from 5 to 10).
    Face {
        /// Whether liveness (presentation-attack detection) runs.
        liveness: bool,
    },
    /// An identity document (resident ID number or machine-readable zone).
    IdCard,
    /// A one-time code (authenticator or out-of-band).
    OneTimeCode,
}

impl Method {
    /// The method's family.
    pub const fn family(self) -> Family {
        match self {
            Method::Face { .. } => Family::Face,
            Method::IdCard => Family::IdCard,
            Method::OneTimeCode => Family::OneTimeCode,
        }
    }

    /// Whether the method is biometric.
    pub const fn is_biometric(self) -> bool {
        self.family().is_biometric()
    }
}

/// Why a policy could not be built or a flow step was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// No method offered.
    #[error("a policy must offer at least one method")]
    NoMethods,
    /// Only biometric methods offered: face would be the only way.
    #[error(
        "a biometric method cannot be the only method; offer an ID card or a one-time code too"
    )]
    BiometricOnly,
    /// The default (first offered, or named) method is biometric.
    #[error("a biometric method cannot be the default; the person must choose it")]
    BiometricDefault,
    /// The named default is not among the offered methods.
    #[error("the default method is not offered")]
    DefaultNotOffered,
    /// The same family offered twice.
    #[error("method family {0} offered twice")]
    Duplicate(Family),
    /// The policy id is empty.
    #[error("the policy id is empty")]
    EmptyId,
    /// An attempt limit is looser than NIST SP 800-63B allows, or zero.
    #[error("limit {0} is out of range (NIST SP 800-63B)")]
    LimitOutOfRange(&'static str),
    /// The method is not offered by this policy.
    #[error("method not offered by this policy")]
    NotOffered,
    /// The method was ruled out for this session (declined consent, no camera, …).
    #[error("method unavailable in this session ({0})")]
    Unavailable(Reason),
    /// The method is locked after too many failures until the given Unix time.
    #[error("method locked until {0}")]
    LockedUntil(u64),
    /// An outcome was recorded for another method than the current one.
    #[error("outcome from {got} recorded while {current} is the current method")]
    WrongMethod {
        /// The flow's current method family.
        current: Family,
        /// The family the outcome came from.
        got: Family,
    },
    /// No method is selected (call [`Flow::choose`] first).
    #[error("no method chosen")]
    NoMethodChosen,
    /// The person is already verified; the flow is over.
    #[error("the flow is finished")]
    Finished,
}

/// A validated policy: offered methods in display order, a non-biometric default, limits.
#[derive(Clone, Debug)]
pub struct Policy {
    id: String,
    methods: Vec<Method>,
    default: Method,
    limits: Limits,
}

impl Policy {
    /// Starts a builder; `id` names the policy in audit events.
    pub fn builder(id: impl Into<String>) -> PolicyBuilder {
        PolicyBuilder {
            id: id.into(),
            methods: Vec::new(),
            default: None,
            limits: Limits::NIST,
        }
    }

    /// The policy id for audit events.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Offered methods in display order.
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// The default method (never biometric).
    pub fn default_method(&self) -> Method {
        self.default
    }

    /// The attempt limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The notice text of every offered method, in display order (for the kiosk's
    /// screen and signage).
    pub fn notices(&self, lang: Language) -> impl Iterator<Item = (Method, &'static str)> + '_ {
        self.methods.iter().map(move |m| (*m, notice(*m, lang)))
    }

    /// Starts one person's session.
    pub fn flow(&self) -> Flow<'_> {
        Flow::new(self)
    }
}

/// Builds a [`Policy`]; see the module docs.
#[derive(Clone, Debug)]
pub struct PolicyBuilder {
    id: String,
    methods: Vec<Method>,
    default: Option<Method>,
    limits: Limits,
}

impl PolicyBuilder {
    /// Offers a method (display order = call order; the first is the default unless
    /// [`PolicyBuilder::default_method`] names another).
    pub fn offer(mut self, m: Method) -> Self {
        self.methods.push(m);
        self
    }

    /// Names the default method (must be offered and non-biometric).
    pub fn default_method(mut self, m: Method) -> Self {
        self.default = Some(m);
        self
    }

    /// Sets attempt limits (must be at least as strict as [`Limits::NIST`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<Policy, PolicyError> {
        if self.id.trim().is_empty() {
            return Err(PolicyError::EmptyId);
        }
        let first = *self.methods.first().ok_or(PolicyError::NoMethods)?;
        for (i, m) in self.methods.iter().enumerate() {
            if self.methods[..i].iter().any(|o| o.family() == m.family()) {
                return Err(PolicyError::Duplicate(m.family()));
            }
        }
        if self.methods.iter().all(|m| m.is_biometric()) {
            return Err(PolicyError::BiometricOnly);
        }
        let default = self.default.unwrap_or(first);
        if !self.methods.contains(&default) {
            return Err(PolicyError::DefaultNotOffered);
        }
        if default.is_biometric() {
            return Err(PolicyError::BiometricDefault);
        }
        self.limits.validate()?;
        Ok(Policy {
            id: self.id,
            methods: self.methods,
            default,
            limits: self.limits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const FACE: Method = Method::Face { liveness: true };
    pub(super) const FACE_NO_PAD: Method = Method::Face { liveness: false };

    pub(super) fn policy() -> Policy {
        Policy::builder("kiosk-1")
            .offer(Method::OneTimeCode)
            .offer(FACE)
            .offer(Method::IdCard)
            .build()
            .unwrap()
    }

    #[test]
    fn face_only_or_face_default_does_not_build() {
        assert_eq!(
            Policy::builder("p").offer(FACE).build().err(),
            Some(PolicyError::BiometricOnly)
        );
        assert_eq!(
            Policy::builder("p")
                .offer(FACE)
                .offer(FACE_NO_PAD)
                .build()
                .err(),
            Some(PolicyError::Duplicate(Family::Face))
        );
        assert_eq!(
            Policy::builder("p")
                .offer(FACE)
                .offer(Method::IdCard)
                .build()
                .err(),
            Some(PolicyError::BiometricDefault)
        );
        assert_eq!(
            Policy::builder("p")
                .offer(Method::IdCard)
                .offer(FACE)
                .default_method(FACE)
                .build()
                .err(),
            Some(PolicyError::BiometricDefault)
        );
        assert_eq!(
            Policy::builder("p").build().err(),
            Some(PolicyError::NoMethods)
        );
        assert_eq!(
            Policy::builder(" ").offer(Method::IdCard).build().err(),
            Some(PolicyError::EmptyId)
        );
        assert_eq!(
            Policy::builder("p")
                .offer(Method::IdCard)
                .default_method(Method::OneTimeCode)
                .build()
                .err(),
            Some(PolicyError::DefaultNotOffered)
        );
        // Face first is fine when a non-biometric default is named.
        let p = Policy::builder("p")
            .offer(FACE)
            .offer(Method::IdCard)
            .default_method(Method::IdCard)
            .build()
            .unwrap();
        assert_eq!(p.default_method(), Method::IdCard);
        assert_eq!(p.flow().current(), Some(Method::IdCard));
    }
}

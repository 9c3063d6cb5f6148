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

use crate::verifier::{Family, Outcome, Reason, ReasonKind};

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

/// Attempt limits and back-off. [`Limits::NIST`] is the loosest allowed setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Consecutive failed face attempts before back-off, without liveness (NIST: ≤ 5).
    pub face_failures: u32,
    /// Consecutive failed face attempts before back-off, with liveness (NIST: ≤ 10).
    pub face_failures_with_liveness: u32,
    /// Consecutive failed one-time-code attempts for one recipient (NIST: ≤ 100).
    pub otp_failures: u32,
    /// Consecutive failed ID-card attempts (guessing numbers against the registry).
    pub id_failures: u32,
    /// "Try again" answers (poor capture) before moving on to the next method.
    pub quality_retries: u32,
    /// First back-off delay in seconds (NIST: ≥ 30); doubles with each further failure.
    pub backoff_start_secs: u64,
    /// Longest back-off delay in seconds.
    pub backoff_max_secs: u64,
}

impl Limits {
    /// The NIST SP 800-63B maxima (and 30 s initial back-off, capped at one hour).
    pub const NIST: Limits = Limits {
        face_failures: 5,
        face_failures_with_liveness: 10,
        otp_failures: 100,
        id_failures: 5,
        quality_retries: 3,
        backoff_start_secs: 30,
        backoff_max_secs: 3600,
    };

    /// Refuses limits looser than NIST SP 800-63B (or nonsensical ones).
    pub fn validate(&self) -> Result<(), PolicyError> {
        let n = Limits::NIST;
        if self.face_failures == 0 || self.face_failures > n.face_failures {
            return Err(PolicyError::LimitOutOfRange("face_failures"));
        }
        if self.face_failures_with_liveness == 0
            || self.face_failures_with_liveness > n.face_failures_with_liveness
        {
            return Err(PolicyError::LimitOutOfRange("face_failures_with_liveness"));
        }
        if self.otp_failures == 0 || self.otp_failures > n.otp_failures {
            return Err(PolicyError::LimitOutOfRange("otp_failures"));
        }
        if self.id_failures == 0 || self.id_failures > n.id_failures {
            return Err(PolicyError::LimitOutOfRange("id_failures"));
        }
        if self.quality_retries > 10 {
            return Err(PolicyError::LimitOutOfRange("quality_retries"));
        }
        if self.backoff_start_secs < n.backoff_start_secs {
            return Err(PolicyError::LimitOutOfRange("backoff_start_secs"));
        }
        if self.backoff_max_secs < self.backoff_start_secs {
            return Err(PolicyError::LimitOutOfRange("backoff_max_secs"));
        }
        Ok(())
    }

    fn failures_for(&self, m: Method) -> u32 {
        match m {
            Method::Face { liveness: false } => self.face_failures,
            Method::Face { liveness: true } => self.face_failures_with_liveness,
            Method::IdCard => self.id_failures,
            Method::OneTimeCode => self.otp_failures,
        }
    }

    /// Back-off after the `n`-th failure beyond the limit (0-based): start · 2ⁿ, capped.
    fn backoff(&self, n: u32) -> u64 {
        let factor = 1u64.checked_shl(n.min(63)).unwrap_or(u64::MAX);
        self.backoff_start_secs
            .saturating_mul(factor)
            .min(self.backoff_max_secs)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::NIST
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

/// An event outside a verifier's outcome that rules a method out for this session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The person declined (or withdrew) consent for the current (face) method.
    ConsentDeclined,
    /// No working camera.
    NoCamera,
    /// The current method cannot run for another reason (no delivery channel, …).
    Unavailable(Reason),
}

/// What the kiosk should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The person is verified.
    Verified(Method),
    /// Try the same method again.
    TryAgain {
        /// The current method.
        method: Method,
        /// Why the last attempt failed.
        reason: Reason,
    },
    /// Move to another offered method (the person may still pick any offered one).
    Fallback {
        /// The method that was left.
        from: Method,
        /// Why.
        reason: Reason,
        /// The method now selected.
        to: Method,
    },
    /// No method is available now.
    Exhausted {
        /// The last reason.
        reason: Reason,
        /// When a locked method becomes available again, if any.
        retry_at: Option<u64>,
    },
}

#[derive(Clone, Debug, Default)]
struct Slot {
    failures: u32,
    retries: u32,
    locked_until: Option<u64>,
    excluded: Option<Reason>,
}

/// One person's session under a [`Policy`].
#[derive(Debug)]
pub struct Flow<'p> {
    policy: &'p Policy,
    slots: Vec<Slot>,
    current: Option<usize>,
    verified: Option<Method>,
}

impl<'p> Flow<'p> {
    /// A fresh session; the default method is preselected (the person may choose another).
    pub fn new(policy: &'p Policy) -> Self {
        let current = policy.methods.iter().position(|m| *m == policy.default);
        Flow {
            policy,
            slots: vec![Slot::default(); policy.methods.len()],
            current,
            verified: None,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &'p Policy {
        self.policy
    }

    /// The currently selected method.
    pub fn current(&self) -> Option<Method> {
        self.current
            .and_then(|i| self.policy.methods.get(i).copied())
    }

    /// Methods the person can choose now (in display order).
    pub fn offered(&self, now: u64) -> Vec<Method> {
        self.policy
            .methods
            .iter()
            .zip(&self.slots)
            .filter(|(_, s)| available(s, now))
            .map(|(m, _)| *m)
            .collect()
    }

    /// The person chooses a method.
    pub fn choose(&mut self, m: Method, now: u64) -> Result<(), PolicyError> {
        if self.verified.is_some() {
            return Err(PolicyError::Finished);
        }
        let i = self
            .policy
            .methods
            .iter()
            .position(|x| *x == m)
            .ok_or(PolicyError::NotOffered)?;
        let slot = &self.slots[i];
        if let Some(r) = slot.excluded {
            return Err(PolicyError::Unavailable(r));
        }
        if let Some(t) = slot.locked_until.filter(|t| *t > now) {
            return Err(PolicyError::LockedUntil(t));
        }
        self.current = Some(i);
        Ok(())
    }

    /// Records the outcome of an attempt with the current method. `from` names the
    /// method the outcome came from: pass the verifier itself (`&otp`) or its
    /// [`Family`]. An outcome from another method than the current one is refused with
    /// [`PolicyError::WrongMethod`] and changes nothing, so a code accepted while face is
    /// selected cannot become `Verified(Face)` in the audit trail or the counters.
    ///
    /// ```
    /// use facegate::policy::{Method, Policy, PolicyError, Step};
    /// use facegate::{Family, Outcome};
    ///
    /// let p = Policy::builder("locker-7")
    ///     .offer(Method::OneTimeCode)
    ///     .offer(Method::Face { liveness: true })
    ///     .build()
    ///     .unwrap();
    /// let mut flow = p.flow();
    /// flow.choose(Method::Face { liveness: true }, 0).unwrap();
    /// assert_eq!(
    ///     flow.record(Family::OneTimeCode, Outcome::Accepted, 0),
    ///     Err(PolicyError::WrongMethod { current: Family::Face, got: Family::OneTimeCode })
    /// );
    /// flow.choose(Method::OneTimeCode, 0).unwrap();
    /// assert_eq!(
    ///     flow.record(Family::OneTimeCode, Outcome::Accepted, 0),
    ///     Ok(Step::Verified(Method::OneTimeCode))
    /// );
    /// ```
    pub fn record(
        &mut self,
        from: impl Into<Family>,
        outcome: Outcome,
        now: u64,
    ) -> Result<Step, PolicyError> {
        let i = self.active(now)?;
        let m = self.policy.methods[i];
        let from = from.into();
        if from != m.family() {
            return Err(PolicyError::WrongMethod {
                current: m.family(),
                got: from,
            });
        }
        let limits = self.policy.limits;
        let slot = &mut self.slots[i];
        match outcome {
            Outcome::Accepted => {
                *slot = Slot::default();
                self.verified = Some(m);
                Ok(Step::Verified(m))
            }
            Outcome::Retry(r) => {
                slot.retries = slot.retries.saturating_add(1);
                if slot.retries > limits.quality_retries {
                    slot.excluded = Some(reasons::TOO_MANY_RETRIES);
                    Ok(self.fall_back(i, reasons::TOO_MANY_RETRIES, now))
                } else {
                    Ok(Step::TryAgain {
                        method: m,
                        reason: r,
                    })
                }
            }
            Outcome::Rejected(r) => match r.kind() {
                // A suspected presentation attack, a missing consent or an unavailable
                // method is not fixed by trying again: leave this method for the session.
                ReasonKind::Liveness | ReasonKind::Consent | ReasonKind::Unavailable => {
                    slot.failures = slot.failures.saturating_add(1);
                    slot.excluded = Some(r);
                    Ok(self.fall_back(i, r, now))
                }
                ReasonKind::Locked => {
                    slot.locked_until = Some(now.saturating_add(limits.backoff_start_secs));
                    Ok(self.fall_back(i, r, now))
                }
                ReasonKind::Mismatch
                | ReasonKind::Malformed
                | ReasonKind::Expired
                | ReasonKind::Quality => {
                    slot.failures = slot.failures.saturating_add(1);
                    let limit = limits.failures_for(m);
                    if slot.failures >= limit {
                        let delay = limits.backoff(slot.failures - limit);
                        slot.locked_until = Some(now.saturating_add(delay));
                        Ok(self.fall_back(i, reasons::TOO_MANY_FAILURES, now))
                    } else {
                        Ok(Step::TryAgain {
                            method: m,
                            reason: r,
                        })
                    }
                }
            },
        }
    }

    /// An event that rules the current method out for this session.
    pub fn trigger(&mut self, t: Trigger, now: u64) -> Result<Step, PolicyError> {
        let i = self.active(now)?;
        let r = match t {
            Trigger::ConsentDeclined => crate::consent::reasons::DECLINED,
            Trigger::NoCamera => reasons::NO_CAMERA,
            Trigger::Unavailable(r) => r,
        };
        self.slots[i].excluded = Some(r);
        Ok(self.fall_back(i, r, now))
    }

    /// Consecutive failures recorded for a method in this session.
    pub fn failures(&self, m: Method) -> u32 {
        self.policy
            .methods
            .iter()
            .position(|x| *x == m)
            .map_or(0, |i| self.slots[i].failures)
    }

    fn active(&self, now: u64) -> Result<usize, PolicyError> {
        if self.verified.is_some() {
            return Err(PolicyError::Finished);
        }
        let i = self.current.ok_or(PolicyError::NoMethodChosen)?;
        if let Some(t) = self.slots[i].locked_until.filter(|t| *t > now) {
            return Err(PolicyError::LockedUntil(t));
        }
        Ok(i)
    }

    fn fall_back(&mut self, from: usize, reason: Reason, now: u64) -> Step {
        let n = self.policy.methods.len();
        let from_m = self.policy.methods[from];
        let next = (1..n)
            .map(|k| (from + k) % n)
            .find(|&j| available(&self.slots[j], now));
        match next {
            Some(j) => {
                self.current = Some(j);
                Step::Fallback {
                    from: from_m,
                    reason,
                    to: self.policy.methods[j],
                }
            }
            None => {
                self.current = None;
                let retry_at = self
                    .slots
                    .iter()
                    .filter(|s| s.excluded.is_none())
                    .filter_map(|s| s.locked_until)
                    .filter(|t| *t > now)
                    .min();
                Step::Exhausted { reason, retry_at }
            }
        }
    }
}

fn available(s: &Slot, now: u64) -> bool {
    s.excluded.is_none() && !matches!(s.locked_until, Some(t) if t > now)
}

/// Language of a notice text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

/// The notice a kiosk shows for a method: what is collected, why, for how long, and that
/// other methods exist. Face recognition requires visible signage and separate consent.
pub const fn notice(m: Method, lang: Language) -> &'static str {
    match (m, lang) {
        (Method::Face { .. }, Language::En) => {
            "Face check (optional). With your separate consent, the camera takes a short video of your \
             face to confirm it is you and that you are present. It is processed only on this device, \
             compared once, and deleted immediately; no photo or face data is stored or sent. Under 14: \
             a parent or guardian must consent. You may instead use your ID card or a one-time code."
        }
        (Method::Face { .. }, Language::Zh) => {
            "人脸核验（可选）。经您单独同意后，摄像头拍摄您面部的短视频，用于确认是您本人且在场。\
             数据仅在本设备处理、比对一次后立即删除，不存储、不上传任何照片或人脸信息。不满十四周岁者须经\
             父母或其他监护人同意。您也可以改用身份证件或一次性验证码。"
        }
        (Method::IdCard, Language::En) => {
            "ID card check. We read your ID number or passport machine-readable zone to confirm you are \
             the recipient. The number is checked on this device and against the recipient record, then \
             discarded; logs show only a masked number. You may instead use a one-time code or, with \
             consent, a face check."
        }
        (Method::IdCard, Language::Zh) => {
            "身份证件核验。读取您的证件号码或护照机读区，用于确认您是收件人。号码仅在本设备核对并与收件记录\
             比对后丢弃，日志中只保留遮盖后的号码。您也可以改用一次性验证码，或经同意后使用人脸核验。"
        }
        (Method::OneTimeCode, Language::En) => {
            "One-time code. Enter the code sent to your phone or shown in your authenticator app. It \
             confirms you hold the phone registered for this parcel; the code is valid once and for a \
             few minutes and is never stored in readable form. You may instead use your ID card or, with \
             consent, a face check."
        }
        (Method::OneTimeCode, Language::Zh) => {
            "一次性验证码。请输入发送到您手机或显示在验证器应用中的验证码，用于确认您持有登记的手机。\
             验证码仅可使用一次、几分钟内有效，且不以可读形式存储。您也可以改用身份证件，或经同意后使用人脸核验。"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{BiometricConsent, FaceConsent};
    use crate::verifier::Verifier;

    const FACE: Method = Method::Face { liveness: true };
    const FACE_NO_PAD: Method = Method::Face { liveness: false };
    const MISMATCH: Reason = Reason::new("test.mismatch", ReasonKind::Mismatch);
    const SPOOF: Reason = Reason::new("test.spoof", ReasonKind::Liveness);
    const BLUR: Reason = Reason::new("test.blur", ReasonKind::Quality);

    /// Test-only stand-in for the face verifier: evidence must carry a consent.
    struct FakeFace {
        live: bool,
        same: bool,
        /// Birth date from the person's ID document, if one was read.
        birth: Option<crate::date::Date>,
    }
    struct FakeEvidence<'e> {
        consent: &'e FaceConsent<'e>,
    }
    impl Verifier for FakeFace {
        type Evidence<'e> = FakeEvidence<'e>;
        type Error = std::convert::Infallible;
        fn family(&self) -> Family {
            Family::Face
        }
        fn verify(&mut self, ev: FakeEvidence<'_>) -> Result<Outcome, Self::Error> {
            let today = crate::date::Date::new(2026, 1, 1).unwrap();
            if let Err(r) = ev.consent.check(self.birth, today) {
                return Ok(Outcome::Rejected(r));
            }
            Ok(match (self.live, self.same) {
                (false, _) => Outcome::Rejected(SPOOF),
                (true, false) => Outcome::Rejected(MISMATCH),
                (true, true) => Outcome::Accepted,
            })
        }
    }

    fn policy() -> Policy {
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

    #[test]
    fn limits_looser_than_nist_are_refused() {
        let loose = Limits {
            face_failures: 6,
            ..Limits::NIST
        };
        assert_eq!(
            Policy::builder("p")
                .offer(Method::IdCard)
                .limits(loose)
                .build()
                .err(),
            Some(PolicyError::LimitOutOfRange("face_failures"))
        );
        let short = Limits {
            backoff_start_secs: 29,
            ..Limits::NIST
        };
        assert_eq!(
            short.validate(),
            Err(PolicyError::LimitOutOfRange("backoff_start_secs"))
        );
        assert_eq!(
            Limits {
                otp_failures: 101,
                ..Limits::NIST
            }
            .validate(),
            Err(PolicyError::LimitOutOfRange("otp_failures"))
        );
        assert_eq!(
            Limits {
                face_failures_with_liveness: 11,
                ..Limits::NIST
            }
            .validate(),
            Err(PolicyError::LimitOutOfRange("face_failures_with_liveness"))
        );
        let strict = Limits {
            face_failures: 3,
            backoff_start_secs: 60,
            ..Limits::NIST
        };
        assert!(strict.validate().is_ok());
    }

    #[test]
    fn declined_consent_falls_back_and_excludes_face() {
        let p = policy();
        let mut f = p.flow();
        assert_eq!(f.current(), Some(Method::OneTimeCode)); // default is not face
        f.choose(FACE, 0).unwrap();
        let step = f.trigger(Trigger::ConsentDeclined, 0).unwrap();
        assert_eq!(
            step,
            Step::Fallback {
                from: FACE,
                reason: crate::consent::reasons::DECLINED,
                to: Method::IdCard
            }
        );
        assert_eq!(
            f.choose(FACE, 1),
            Err(PolicyError::Unavailable(crate::consent::reasons::DECLINED))
        );
        assert_eq!(f.offered(1), vec![Method::OneTimeCode, Method::IdCard]);
    }

    #[test]
    fn no_camera_and_liveness_failure_fall_back() {
        let p = policy();
        let mut f = p.flow();
        f.choose(FACE, 0).unwrap();
        assert!(matches!(
            f.trigger(Trigger::NoCamera, 0).unwrap(),
            Step::Fallback {
                reason: reasons::NO_CAMERA,
                ..
            }
        ));

        let mut f = p.flow();
        f.choose(FACE, 0).unwrap();
        let consent = BiometricConsent::given_by_person();
        let fc = FaceConsent::adult(&consent);
        let out = FakeFace {
            live: false,
            same: true,
            birth: None,
        }
        .verify(FakeEvidence { consent: &fc })
        .unwrap();
        assert_eq!(
            f.record(Family::Face, out, 0).unwrap(),
            Step::Fallback {
                from: FACE,
                reason: SPOOF,
                to: Method::IdCard
            }
        );
    }

    #[test]
    fn child_without_guardian_consent_is_refused_and_falls_back() {
        use crate::consent::{reasons as consent_reasons, GuardianConsent};
        let p = policy();
        let mut f = p.flow();
        f.choose(FACE, 0).unwrap();
        let child = crate::date::Date::new(2015, 6, 1).ok();
        let consent = BiometricConsent::given_by_person();
        let adult_only = FaceConsent::adult(&consent);
        let mut face = FakeFace {
            live: true,
            same: true,
            birth: child,
        };
        let out = face
            .verify(FakeEvidence {
                consent: &adult_only,
            })
            .unwrap();
        assert_eq!(out, Outcome::Rejected(consent_reasons::GUARDIAN_REQUIRED));
        assert_eq!(
            f.record(&face, out, 0).unwrap(),
            Step::Fallback {
                from: FACE,
                reason: consent_reasons::GUARDIAN_REQUIRED,
                to: Method::IdCard
            }
        );
        // With a guardian's consent the same child may use face (in a new session).
        let guardian = GuardianConsent::given_by_guardian();
        let both = FaceConsent::with_guardian(&consent, &guardian);
        assert_eq!(
            face.verify(FakeEvidence { consent: &both }).unwrap(),
            Outcome::Accepted
        );
    }

    #[test]
    fn quality_retries_then_fallback() {
        let p = policy();
        let mut f = p.flow();
        f.choose(FACE, 0).unwrap();
        for _ in 0..Limits::NIST.quality_retries {
            assert_eq!(
                f.record(Family::Face, Outcome::Retry(BLUR), 0).unwrap(),
                Step::TryAgain {
                    method: FACE,
                    reason: BLUR
                }
            );
        }
        assert_eq!(
            f.record(Family::Face, Outcome::Retry(BLUR), 0).unwrap(),
            Step::Fallback {
                from: FACE,
                reason: reasons::TOO_MANY_RETRIES,
                to: Method::IdCard
            }
        );
    }

    #[test]
    fn face_limits_and_exponential_backoff() {
        for (m, limit) in [(FACE_NO_PAD, 5u32), (FACE, 10)] {
            let p = Policy::builder("p")
                .offer(Method::IdCard)
                .offer(m)
                .build()
                .unwrap();
            let mut f = p.flow();
            f.choose(m, 0).unwrap();
            for k in 1..limit {
                assert!(
                    matches!(
                        f.record(m.family(), Outcome::Rejected(MISMATCH), 0)
                            .unwrap(),
                        Step::TryAgain { .. }
                    ),
                    "{k}"
                );
            }
            // The limit-th consecutive failure locks face for 30 s and falls back.
            let step = f
                .record(m.family(), Outcome::Rejected(MISMATCH), 100)
                .unwrap();
            assert_eq!(
                step,
                Step::Fallback {
                    from: m,
                    reason: reasons::TOO_MANY_FAILURES,
                    to: Method::IdCard
                }
            );
            assert_eq!(f.choose(m, 129), Err(PolicyError::LockedUntil(130)));
            assert!(!f.offered(129).contains(&m));
            // After the delay, one more failure locks for 60 s, then 120 s.
            f.choose(m, 130).unwrap();
            f.record(m.family(), Outcome::Rejected(MISMATCH), 130)
                .unwrap();
            assert_eq!(f.choose(m, 189), Err(PolicyError::LockedUntil(190)));
            f.choose(m, 190).unwrap();
            f.record(m.family(), Outcome::Rejected(MISMATCH), 190)
                .unwrap();
            assert_eq!(f.choose(m, 309), Err(PolicyError::LockedUntil(310)));
            // Success resets the counters.
            f.choose(m, 310).unwrap();
            assert_eq!(
                f.record(m.family(), Outcome::Accepted, 310).unwrap(),
                Step::Verified(m)
            );
            assert_eq!(f.failures(m), 0);
            assert_eq!(
                f.record(m.family(), Outcome::Accepted, 311),
                Err(PolicyError::Finished)
            );
        }
    }

    #[test]
    fn otp_limit_is_100_and_exhaustion_reports_retry_time() {
        let p = Policy::builder("p")
            .offer(Method::OneTimeCode)
            .build()
            .unwrap();
        let mut f = p.flow();
        for _ in 1..100 {
            assert!(matches!(
                f.record(Family::OneTimeCode, Outcome::Rejected(MISMATCH), 5)
                    .unwrap(),
                Step::TryAgain { .. }
            ));
        }
        let step = f
            .record(Family::OneTimeCode, Outcome::Rejected(MISMATCH), 5)
            .unwrap();
        assert_eq!(
            step,
            Step::Exhausted {
                reason: reasons::TOO_MANY_FAILURES,
                retry_at: Some(35)
            }
        );
        assert_eq!(
            f.record(Family::OneTimeCode, Outcome::Accepted, 6),
            Err(PolicyError::NoMethodChosen)
        );
        assert_eq!(
            f.choose(Method::OneTimeCode, 6),
            Err(PolicyError::LockedUntil(35))
        );
        f.choose(Method::OneTimeCode, 35).unwrap();
        assert_eq!(
            f.record(Family::OneTimeCode, Outcome::Accepted, 35)
                .unwrap(),
            Step::Verified(Method::OneTimeCode)
        );
    }

    #[test]
    fn an_outcome_is_tied_to_its_method() {
        let p = policy();
        let mut f = p.flow();
        f.choose(FACE, 0).unwrap();
        // An OTP acceptance while face is current: refused, nothing recorded.
        assert_eq!(
            f.record(Family::OneTimeCode, Outcome::Accepted, 0),
            Err(PolicyError::WrongMethod {
                current: Family::Face,
                got: Family::OneTimeCode
            })
        );
        assert_eq!(
            f.record(Family::IdCard, Outcome::Rejected(MISMATCH), 0),
            Err(PolicyError::WrongMethod {
                current: Family::Face,
                got: Family::IdCard
            })
        );
        assert_eq!(f.failures(FACE), 0);
        assert_eq!(f.current(), Some(FACE));
        // Passing the verifier names its family.
        let face = FakeFace {
            live: true,
            same: true,
            birth: None,
        };
        assert_eq!(
            f.record(&face, Outcome::Accepted, 0),
            Ok(Step::Verified(FACE))
        );
    }

    #[test]
    fn backoff_saturates() {
        let l = Limits::NIST;
        assert_eq!(l.backoff(0), 30);
        assert_eq!(l.backoff(1), 60);
        assert_eq!(l.backoff(7), 3600);
        assert_eq!(l.backoff(u32::MAX), 3600);
        let huge = Limits {
            backoff_max_secs: u64::MAX,
            ..l
        };
        assert_eq!(huge.backoff(200), u64::MAX);
    }

    #[test]
    fn every_notice_names_alternatives() {
        for m in [FACE, Method::IdCard, Method::OneTimeCode] {
            let en = notice(m, Language::En);
            assert!(en.contains("instead"), "{m:?}");
            assert!(!notice(m, Language::Zh).is_empty());
        }
        assert!(notice(FACE, Language::En).contains("consent"));
        assert!(notice(FACE, Language::En).contains("guardian"));
        assert!(notice(FACE, Language::Zh).contains("监护人"));
        let p = policy();
        let shown: Vec<Method> = p.notices(Language::En).map(|(m, _)| m).collect();
        assert_eq!(shown, p.methods());
    }
}

//! One person's session under a [`Policy`]: which method is current, what an outcome or
//! an event does to it, and what the kiosk should do next ([`Step`]).
//!
//! Apart from the policy because a policy is fixed configuration that every session at a
//! kiosk shares, while a flow is short-lived state that changes with each attempt.

use super::{reasons, Method, Policy, PolicyError};
use crate::verifier::{Family, Outcome, Reason, ReasonKind};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{BiometricConsent, FaceConsent};
    use crate::policy::tests::{policy, FACE, FACE_NO_PAD};
    use crate::policy::Limits;
    use crate::verifier::Verifier;

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
}

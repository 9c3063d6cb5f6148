//! Attempt limits and back-off: how many consecutive failures each method tolerates
//! before it is locked, and for how long.
//!
//! A file of its own because these numbers are what an auditor checks against NIST
//! SP 800-63B, and [`Limits::validate`] is the one place that refuses looser ones.

use super::{Method, PolicyError};

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

    pub(super) fn failures_for(&self, m: Method) -> u32 {
        match m {
            Method::Face { liveness: false } => self.face_failures,
            Method::Face { liveness: true } => self.face_failures_with_liveness,
            Method::IdCard => self.id_failures,
            Method::OneTimeCode => self.otp_failures,
        }
    }

    /// Back-off after the `n`-th failure beyond the limit (0-based): start · 2ⁿ, capped.
    pub(super) fn backoff(&self, n: u32) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

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
}

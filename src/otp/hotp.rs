//! HOTP (RFC 4226): a code from a shared key and a counter.
//!
//! The verifier keeps the next expected counter; a code is accepted only for a counter
//! at or after it (within a bounded look-ahead for resynchronisation, RFC 4226 §7.4),
//! and the counter then moves past it, so an accepted code is never accepted again.
//!
//! Resynchronisation is limited on purpose: every counter in the look-ahead window is
//! one more value a guess can hit, so the window is at most [`MAX_LOOK_AHEAD`] (10)
//! counters beyond the next one. A 6-digit guess then succeeds with probability at most
//! 11/10⁶, and the per-authenticator failure limit ([`super::throttle`]: back-off, lock
//! after 100) bounds a brute force to 0.11 %. A token pressed more than 10 times without
//! use is re-synchronised by an operator (a new `next_counter`), not by a wider window.

use super::throttle::FailureState;
use super::{reasons, well_formed, Algorithm, Code, Digits, OtpError, Secret};
use crate::verifier::{Family, Outcome, Verifier};
use ring::hmac;

/// Largest look-ahead window allowed (RFC 4226 §7.4 asks for a bounded window).
pub const MAX_LOOK_AHEAD: u32 = 10;

/// The HOTP value for `counter` (RFC 4226 §5.3, dynamic truncation).
pub fn hotp(secret: &Secret, counter: u64, digits: Digits, alg: Algorithm) -> Code {
    hotp_with_key(&secret.key(alg), counter, digits)
}

pub(crate) fn hotp_with_key(key: &hmac::Key, counter: u64, digits: Digits) -> Code {
    let tag = hmac::sign(key, &counter.to_be_bytes());
    let h = tag.as_ref();
    // Tags are 20, 32 or 64 bytes, so these `get`s never miss; no panic path anyway.
    let offset = usize::from(h.last().copied().unwrap_or(0) & 0x0f);
    let byte = |i: usize| u64::from(h.get(offset + i).copied().unwrap_or(0));
    let bin = ((byte(0) & 0x7f) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
    let modulus = 10u64.pow(u32::from(digits.get()));
    Code::from_value(bin % modulus, digits.get())
}

/// A typed HOTP code and the current time (for the failure back-off). `Debug` is
/// redacted and there is no `Clone`: it holds a code.
pub struct HotpAttempt<'e> {
    /// What the person typed.
    pub code: &'e str,
    /// Now, in Unix seconds.
    pub now: u64,
}

impl std::fmt::Debug for HotpAttempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HotpAttempt")
            .field("code", &"<redacted>")
            .field("now", &self.now)
            .finish()
    }
}

/// Verifies HOTP codes for one authenticator, with replay protection and the
/// per-authenticator failure limit of [`super::throttle`].
///
/// ```
/// use facegate::otp::{hotp, reasons, Algorithm, Digits, HotpVerifier, Secret};
/// use facegate::Outcome;
///
/// // The RFC 4226 test key; a real one is made at enrolment (see `otp::uri`).
/// let key = b"12345678901234567890".to_vec();
/// let token = hotp(&Secret::from_bytes(key.clone())?, 0, Digits::SIX, Algorithm::Sha1);
/// let mut verifier = HotpVerifier::new(Secret::from_bytes(key)?, Algorithm::Sha1, Digits::SIX, 0, 3)?;
/// assert_eq!(verifier.check(token.expose(), 0), Outcome::Accepted);
/// assert_eq!(verifier.next_counter(), Some(1)); // persist it with the failure state
/// // A counter once accepted is never accepted again.
/// assert_eq!(verifier.check(token.expose(), 1), Outcome::Rejected(reasons::MISMATCH));
/// assert_eq!(verifier.check("12a456", 2), Outcome::Rejected(reasons::MALFORMED));
/// # Ok::<(), facegate::otp::OtpError>(())
/// ```
#[derive(Debug)]
pub struct HotpVerifier {
    key: hmac::Key,
    digits: Digits,
    /// Next acceptable counter; `None` once the counter space is used up.
    next: Option<u64>,
    look_ahead: u32,
    failures: FailureState,
}

impl HotpVerifier {
    /// A verifier expecting `next_counter` next, accepting up to `look_ahead` counters
    /// beyond it (≤ [`MAX_LOOK_AHEAD`]).
    pub fn new(
        secret: Secret,
        alg: Algorithm,
        digits: Digits,
        next_counter: u64,
        look_ahead: u32,
    ) -> Result<Self, OtpError> {
        if look_ahead > MAX_LOOK_AHEAD {
            return Err(OtpError::Config("look_ahead"));
        }
        Ok(HotpVerifier {
            key: secret.key(alg),
            digits,
            next: Some(next_counter),
            look_ahead,
            failures: FailureState::new(),
        })
    }

    /// Restores the failure state persisted with [`HotpVerifier::failure_state`]. Without
    /// it a restarted verifier would forget past failures.
    pub fn with_failure_state(mut self, state: FailureState) -> Self {
        self.failures = state;
        self
    }

    /// The next counter that can be accepted (persist it between sessions).
    pub fn next_counter(&self) -> Option<u64> {
        self.next
    }

    /// Consecutive failures and back-off (persist it between sessions).
    pub fn failure_state(&self) -> FailureState {
        self.failures
    }

    /// Clears the failures after an operator checked the holder another way.
    pub fn unlock(&mut self) {
        self.failures = FailureState::new();
    }

    /// Checks a typed code at `now` (Unix seconds). While the authenticator is in
    /// back-off or locked the code is not evaluated.
    pub fn check(&mut self, typed: &str, now: u64) -> Outcome {
        if let Some(r) = self.failures.refuse(now) {
            return Outcome::Rejected(r);
        }
        if !well_formed(typed, self.digits.get()) {
            return Outcome::Rejected(reasons::MALFORMED);
        }
        let Some(next) = self.next else {
            return Outcome::Rejected(reasons::COUNTER_EXHAUSTED);
        };
        let mut hit = None;
        for k in 0..=u64::from(self.look_ahead) {
            let Some(c) = next.checked_add(k) else { break };
            // No early exit: the time taken does not reveal which counter matched.
            if hotp_with_key(&self.key, c, self.digits).matches(typed) && hit.is_none() {
                hit = Some(c);
            }
        }
        match hit {
            Some(c) => {
                self.next = c.checked_add(1);
                self.failures.succeed();
                Outcome::Accepted
            }
            None => Outcome::Rejected(self.failures.fail(now).unwrap_or(reasons::MISMATCH)),
        }
    }
}

impl Verifier for HotpVerifier {
    type Evidence<'e> = HotpAttempt<'e>;
    type Error = OtpError;

    fn family(&self) -> Family {
        Family::OneTimeCode
    }

    fn verify(&mut self, a: HotpAttempt<'_>) -> Result<Outcome, OtpError> {
        Ok(self.check(a.code, a.now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4226 Appendix D: secret "12345678901234567890", counters 0–9.
    pub(crate) const RFC4226_D: [&str; 10] = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];

    fn secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn rfc4226_appendix_d() {
        let s = secret();
        for (c, want) in RFC4226_D.iter().enumerate() {
            assert_eq!(
                hotp(&s, c as u64, Digits::SIX, Algorithm::Sha1).expose(),
                *want,
                "counter {c}"
            );
        }
    }

    #[test]
    fn replay_and_look_ahead() {
        let mut v = HotpVerifier::new(secret(), Algorithm::Sha1, Digits::SIX, 0, 2).unwrap();
        assert_eq!(v.check(RFC4226_D[0], 0), Outcome::Accepted);
        assert_eq!(
            v.check(RFC4226_D[0], 0),
            Outcome::Rejected(reasons::MISMATCH)
        ); // replay
        assert_eq!(
            v.check(RFC4226_D[4], 0),
            Outcome::Rejected(reasons::MISMATCH)
        ); // beyond window
        assert_eq!(v.check(RFC4226_D[3], 0), Outcome::Accepted); // within window (1..=3)
        assert_eq!(v.next_counter(), Some(4));
        assert_eq!(
            v.check(RFC4226_D[2], 0),
            Outcome::Rejected(reasons::MISMATCH)
        ); // older counter
        assert_eq!(v.check("12345", 0), Outcome::Rejected(reasons::MALFORMED));
        assert_eq!(v.check("12345a", 0), Outcome::Rejected(reasons::MALFORMED));
        assert!(HotpVerifier::new(secret(), Algorithm::Sha1, Digits::SIX, 0, 10).is_ok());
        assert!(HotpVerifier::new(secret(), Algorithm::Sha1, Digits::SIX, 0, 11).is_err());
    }

    #[test]
    fn counter_end_is_not_replayable() {
        let s = secret();
        let last = hotp(&s, u64::MAX, Digits::SIX, Algorithm::Sha1);
        let mut v = HotpVerifier::new(s, Algorithm::Sha1, Digits::SIX, u64::MAX, 5).unwrap();
        assert_eq!(v.check(last.expose(), 0), Outcome::Accepted);
        assert_eq!(
            v.check(last.expose(), 0),
            Outcome::Rejected(reasons::COUNTER_EXHAUSTED)
        );
    }

    #[test]
    fn failures_back_off_lock_and_persist() {
        let mut v = HotpVerifier::new(secret(), Algorithm::Sha1, Digits::SIX, 0, 10).unwrap();
        let wrong = "000000"; // not among counters 0..=10 (Appendix D and beyond)
        for c in 0..=10 {
            assert_ne!(
                hotp(&secret(), c, Digits::SIX, Algorithm::Sha1).expose(),
                wrong
            );
        }
        for _ in 0..4 {
            assert_eq!(v.check(wrong, 100), Outcome::Rejected(reasons::MISMATCH));
        }
        // Blocked for 30 s: even the right code is not evaluated.
        assert_eq!(
            v.check(RFC4226_D[0], 129),
            Outcome::Rejected(reasons::THROTTLED)
        );
        assert_eq!(v.failure_state(), FailureState::restore(4, 130));
        // A restarted verifier restored from persisted state keeps the back-off.
        let mut v = HotpVerifier::new(secret(), Algorithm::Sha1, Digits::SIX, 0, 10)
            .unwrap()
            .with_failure_state(v.failure_state());
        assert_eq!(
            v.check(RFC4226_D[0], 129),
            Outcome::Rejected(reasons::THROTTLED)
        );
        assert_eq!(v.check(RFC4226_D[0], 130), Outcome::Accepted);
        assert_eq!(v.failure_state(), FailureState::new());
        // The 100th consecutive failure locks, until unlocked.
        let mut v = v.with_failure_state(FailureState::restore(99, 0));
        assert_eq!(
            v.check(wrong, 0),
            Outcome::Rejected(reasons::AUTHENTICATOR_LOCKED)
        );
        assert_eq!(
            v.check(RFC4226_D[1], u64::MAX),
            Outcome::Rejected(reasons::AUTHENTICATOR_LOCKED)
        );
        v.unlock();
        assert_eq!(v.check(RFC4226_D[1], 0), Outcome::Accepted);
    }
}

//! TOTP (RFC 6238): HOTP over the number of time steps since T0.
//!
//! The verifier accepts a bounded skew window (at most ±2 steps, RFC 6238 §5.2 advises
//! at most one step of network delay) and remembers the last accepted step: a code for
//! that step or an earlier one is refused as a replay, even inside the window.
//!
//! Brute force is bounded per authenticator, across sessions and restarts: failures back
//! off exponentially and lock the authenticator at 100 ([`super::throttle`]). Persist
//! [`TotpVerifier::failure_state`] with [`TotpVerifier::last_accepted_step`].

use super::hotp::hotp_with_key;
use super::throttle::FailureState;
use super::{reasons, well_formed, Algorithm, Code, Digits, OtpError, Secret};
use crate::verifier::{Family, Outcome, Verifier};
use ring::hmac;

/// Largest skew window (in steps, each side).
pub const MAX_SKEW: u8 = 2;

/// TOTP parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TotpParams {
    /// HMAC algorithm.
    pub algorithm: Algorithm,
    /// Code length.
    pub digits: Digits,
    /// Time step X in seconds (1..=3600; 30 is standard).
    pub step: u64,
    /// Epoch T0 in Unix seconds (0 is standard).
    pub t0: u64,
    /// Accepted steps before/after the current one (≤ [`MAX_SKEW`]).
    pub skew: u8,
}

impl Default for TotpParams {
    fn default() -> Self {
        TotpParams {
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
            step: 30,
            t0: 0,
            skew: 1,
        }
    }
}

impl TotpParams {
    fn validate(&self) -> Result<(), OtpError> {
        if !(1..=3600).contains(&self.step) {
            return Err(OtpError::Config("step"));
        }
        if self.skew > MAX_SKEW {
            return Err(OtpError::Config("skew"));
        }
        Ok(())
    }

    fn step_at(&self, unix_time: u64) -> Result<u64, OtpError> {
        let since = unix_time
            .checked_sub(self.t0)
            .ok_or(OtpError::ClockBeforeEpoch)?;
        // `step` is validated ≥ 1, but guard anyway: no panic path.
        since.checked_div(self.step).ok_or(OtpError::Config("step"))
    }
}

/// The TOTP value at `unix_time`.
pub fn totp(secret: &Secret, unix_time: u64, params: &TotpParams) -> Result<Code, OtpError> {
    params.validate()?;
    let t = params.step_at(unix_time)?;
    Ok(hotp_with_key(
        &secret.key(params.algorithm),
        t,
        params.digits,
    ))
}

/// A typed TOTP code and the current time. `Debug` is redacted and there is no
/// `Clone`: it holds a code.
pub struct TotpAttempt<'e> {
    /// What the person typed.
    pub code: &'e str,
    /// Now, in Unix seconds.
    pub now: u64,
}

impl std::fmt::Debug for TotpAttempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpAttempt")
            .field("code", &"<redacted>")
            .field("now", &self.now)
            .finish()
    }
}

/// Verifies TOTP codes for one authenticator, with replay protection and the
/// per-authenticator failure limit of [`super::throttle`].
///
/// ```
/// use facegate::otp::{reasons, totp, Secret, TotpParams, TotpVerifier};
/// use facegate::Outcome;
///
/// // The RFC 6238 test key; a real one is made at enrolment (see `otp::uri`).
/// let key = b"12345678901234567890".to_vec();
/// let params = TotpParams::default(); // 6 digits, 30 s steps, one step of clock skew
/// let now = 1_764_460_800; // Unix seconds, from the kiosk's clock
/// let token = totp(&Secret::from_bytes(key.clone())?, now, &params)?;
/// let mut verifier = TotpVerifier::new(Secret::from_bytes(key)?, params, None)?;
/// assert_eq!(verifier.check(token.expose(), now)?, Outcome::Accepted);
/// assert_eq!(verifier.last_accepted_step(), Some(now / 30)); // persist it
/// // The same code again within its step is a replay.
/// assert_eq!(verifier.check(token.expose(), now + 5)?, Outcome::Rejected(reasons::REPLAYED));
/// # Ok::<(), facegate::otp::OtpError>(())
/// ```
#[derive(Debug)]
pub struct TotpVerifier {
    key: hmac::Key,
    params: TotpParams,
    last_step: Option<u64>,
    failures: FailureState,
}

impl TotpVerifier {
    /// A verifier; `last_accepted_step` restores replay state persisted earlier.
    pub fn new(
        secret: Secret,
        params: TotpParams,
        last_accepted_step: Option<u64>,
    ) -> Result<Self, OtpError> {
        params.validate()?;
        Ok(TotpVerifier {
            key: secret.key(params.algorithm),
            params,
            last_step: last_accepted_step,
            failures: FailureState::new(),
        })
    }

    /// Restores the failure state persisted with [`TotpVerifier::failure_state`].
    /// Without it a restarted verifier would forget past failures.
    pub fn with_failure_state(mut self, state: FailureState) -> Self {
        self.failures = state;
        self
    }

    /// The last accepted time step (persist it to keep replay protection across restarts).
    pub fn last_accepted_step(&self) -> Option<u64> {
        self.last_step
    }

    /// Consecutive failures and back-off (persist it between sessions).
    pub fn failure_state(&self) -> FailureState {
        self.failures
    }

    /// Clears the failures after an operator checked the holder another way.
    pub fn unlock(&mut self) {
        self.failures = FailureState::new();
    }

    /// Checks a typed code at `now`. While the authenticator is in back-off or locked
    /// the code is not evaluated.
    pub fn check(&mut self, typed: &str, now: u64) -> Result<Outcome, OtpError> {
        if let Some(r) = self.failures.refuse(now) {
            return Ok(Outcome::Rejected(r));
        }
        if !well_formed(typed, self.params.digits.get()) {
            return Ok(Outcome::Rejected(reasons::MALFORMED));
        }
        let current = self.params.step_at(now)?;
        let skew = u64::from(self.params.skew);
        let mut hit = None;
        for t in current.saturating_sub(skew)..=current.saturating_add(skew) {
            if hotp_with_key(&self.key, t, self.params.digits).matches(typed) && hit.is_none() {
                hit = Some(t);
            }
        }
        Ok(match hit {
            // A replay counts as a failure: it is not the holder's fresh code.
            Some(t) if self.last_step.is_some_and(|last| t <= last) => {
                Outcome::Rejected(self.failures.fail(now).unwrap_or(reasons::REPLAYED))
            }
            Some(t) => {
                self.last_step = Some(t);
                self.failures.succeed();
                Outcome::Accepted
            }
            None => Outcome::Rejected(self.failures.fail(now).unwrap_or(reasons::MISMATCH)),
        })
    }
}

impl Verifier for TotpVerifier {
    type Evidence<'e> = TotpAttempt<'e>;
    type Error = OtpError;

    fn family(&self) -> Family {
        Family::OneTimeCode
    }

    fn verify(&mut self, a: TotpAttempt<'_>) -> Result<Outcome, OtpError> {
        self.check(a.code, a.now)
    }
}

/// RFC 6238 Appendix B test vectors: (time, SHA-1, SHA-256, SHA-512), 8 digits.
#[cfg(test)]
pub(crate) const RFC6238_B: [(u64, &str, &str, &str); 6] = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 erratum 2866: the SHA-256/512 seeds are the ASCII seed repeated to 32/64 bytes.
    pub(crate) fn seed(alg: Algorithm) -> Secret {
        let base = b"1234567890";
        let n = match alg {
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha512 => 64,
        };
        Secret::from_bytes(base.iter().copied().cycle().take(n).collect()).unwrap()
    }

    #[test]
    fn rfc6238_appendix_b() {
        for (t, s1, s256, s512) in RFC6238_B {
            for (alg, want) in [
                (Algorithm::Sha1, s1),
                (Algorithm::Sha256, s256),
                (Algorithm::Sha512, s512),
            ] {
                let p = TotpParams {
                    algorithm: alg,
                    digits: Digits::EIGHT,
                    ..TotpParams::default()
                };
                assert_eq!(
                    totp(&seed(alg), t, &p).unwrap().expose(),
                    want,
                    "{alg:?} at {t}"
                );
            }
        }
    }

    #[test]
    fn skew_window_and_replay() {
        let p = TotpParams {
            digits: Digits::EIGHT,
            ..TotpParams::default()
        };
        let mut v = TotpVerifier::new(seed(Algorithm::Sha1), p, None).unwrap();
        // 1111111109 is step 37037036; 1111111111 is step 37037037.
        assert_eq!(v.check("07081804", 1111111111).unwrap(), Outcome::Accepted); // one step behind
        assert_eq!(
            v.check("07081804", 1111111111).unwrap(),
            Outcome::Rejected(reasons::REPLAYED)
        );
        assert_eq!(v.check("14050471", 1111111111).unwrap(), Outcome::Accepted);
        assert_eq!(
            v.check("14050471", 1111111112).unwrap(),
            Outcome::Rejected(reasons::REPLAYED)
        );
        assert_eq!(v.last_accepted_step(), Some(37037037));
        // Far outside the window.
        let mut v = TotpVerifier::new(seed(Algorithm::Sha1), p, None).unwrap();
        assert_eq!(
            v.check("07081804", 1111111111 + 90).unwrap(),
            Outcome::Rejected(reasons::MISMATCH)
        );
        assert_eq!(
            v.check("0708180", 1111111111).unwrap(),
            Outcome::Rejected(reasons::MALFORMED)
        );
    }

    #[test]
    fn bad_params_and_clock() {
        let s = seed(Algorithm::Sha1);
        assert!(matches!(
            totp(
                &s,
                0,
                &TotpParams {
                    step: 0,
                    ..TotpParams::default()
                }
            ),
            Err(OtpError::Config("step"))
        ));
        assert!(matches!(
            TotpVerifier::new(
                seed(Algorithm::Sha1),
                TotpParams {
                    skew: 3,
                    ..TotpParams::default()
                },
                None
            ),
            Err(OtpError::Config("skew"))
        ));
        assert!(matches!(
            totp(
                &s,
                5,
                &TotpParams {
                    t0: 10,
                    ..TotpParams::default()
                }
            ),
            Err(OtpError::ClockBeforeEpoch)
        ));
        assert!(totp(&s, u64::MAX, &TotpParams::default()).is_ok());
    }
}

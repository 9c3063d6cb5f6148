//! Failure limits per authenticator (HOTP token, TOTP app), NIST SP 800-63B §5.2.2.
//!
//! Why here and not in [`crate::policy::Flow`]: a flow is one person's session, and an
//! attacker at a kiosk simply starts a new session. The limit must hold per
//! *authenticator*, so the failure state lives in the verifier and is persisted with its
//! replay state ([`FailureState`] is `Serialize`/`Deserialize` and can be restored).
//!
//! The schedule:
//! - the first [`FREE_FAILURES`] consecutive failures cost nothing (typos);
//! - each further failure blocks the authenticator for [`BACKOFF_START_SECS`] doubling
//!   per failure, capped at [`BACKOFF_MAX_SECS`] (30 s, 60 s, 120 s, … 1 h);
//! - at [`LOCK_AFTER_FAILURES`] (100) consecutive failures it locks until an operator
//!   calls `unlock` after checking the holder another way (account recovery);
//! - an accepted code resets the count.
//!
//! While blocked or locked a typed code is not evaluated at all, so waiting is the only
//! way to get another guess. Reaching the lock takes about 90 hours of waiting; with a
//! 6-digit code and a window of `w` candidate values, the chance that 100 guesses find
//! the code is at most `100 · w / 10⁶` (TOTP, skew 1: 0.03 %; HOTP, look-ahead 10:
//! 0.11 %).

use serde::{Deserialize, Serialize};

use super::reasons;
use crate::verifier::Reason;

/// Consecutive failures allowed without any delay.
pub const FREE_FAILURES: u32 = 3;
/// Delay after the first failure beyond [`FREE_FAILURES`], in seconds; doubles per failure.
pub const BACKOFF_START_SECS: u64 = 30;
/// Longest delay between two guesses, in seconds.
pub const BACKOFF_MAX_SECS: u64 = 3600;
/// Consecutive failures after which the authenticator is locked (NIST: ≤ 100).
pub const LOCK_AFTER_FAILURES: u32 = 100;

/// Consecutive failures of one authenticator and when it may be tried again. Persist it
/// next to the counter or last time step, and restore it with the verifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureState {
    failures: u32,
    blocked_until: u64,
}

impl FailureState {
    /// No failures.
    pub const fn new() -> Self {
        FailureState {
            failures: 0,
            blocked_until: 0,
        }
    }

    /// Restores persisted state.
    pub const fn restore(failures: u32, blocked_until: u64) -> Self {
        FailureState {
            failures,
            blocked_until,
        }
    }

    /// Consecutive failures so far.
    pub const fn failures(&self) -> u32 {
        self.failures
    }

    /// Unix time before which no code is evaluated (0 when not blocked).
    pub const fn blocked_until(&self) -> u64 {
        self.blocked_until
    }

    /// Whether the authenticator is locked until an operator unlocks it.
    pub const fn is_locked(&self) -> bool {
        self.failures >= LOCK_AFTER_FAILURES
    }

    /// The delay imposed after the `failures`-th consecutive failure, in seconds.
    pub fn delay_after(failures: u32) -> u64 {
        let Some(n) = failures.checked_sub(FREE_FAILURES + 1) else {
            return 0;
        };
        let factor = 1u64.checked_shl(n.min(63)).unwrap_or(u64::MAX);
        BACKOFF_START_SECS
            .saturating_mul(factor)
            .min(BACKOFF_MAX_SECS)
    }

    /// Why a code must not be evaluated at `now`, if so.
    pub(crate) fn refuse(&self, now: u64) -> Option<Reason> {
        if self.is_locked() {
            Some(reasons::AUTHENTICATOR_LOCKED)
        } else if now < self.blocked_until {
            Some(reasons::THROTTLED)
        } else {
            None
        }
    }

    /// Records a failed guess at `now`; returns the reason to report if it locked.
    pub(crate) fn fail(&mut self, now: u64) -> Option<Reason> {
        self.failures = self.failures.saturating_add(1);
        let delay = Self::delay_after(self.failures);
        if delay > 0 {
            self.blocked_until = now.saturating_add(delay);
        }
        self.is_locked().then_some(reasons::AUTHENTICATOR_LOCKED)
    }

    /// Records an accepted code.
    pub(crate) fn succeed(&mut self) {
        *self = FailureState::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_doubles_caps_and_locks() {
        let delays: Vec<u64> = (1..=12).map(FailureState::delay_after).collect();
        assert_eq!(
            delays,
            [0, 0, 0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
        );
        assert_eq!(FailureState::delay_after(u32::MAX), 3600);
        let mut s = FailureState::new();
        for _ in 0..3 {
            assert_eq!(s.fail(10), None);
            assert_eq!(s.refuse(10), None);
        }
        assert_eq!(s.fail(10), None);
        assert_eq!(s.refuse(39), Some(reasons::THROTTLED));
        assert_eq!(s.refuse(40), None);
        let mut s = FailureState::restore(99, 0);
        assert_eq!(s.fail(0), Some(reasons::AUTHENTICATOR_LOCKED));
        // Locked whatever the clock says.
        assert_eq!(s.refuse(u64::MAX), Some(reasons::AUTHENTICATOR_LOCKED));
        s.succeed();
        assert_eq!(s, FailureState::new());
    }
}

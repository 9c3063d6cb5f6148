//! Out-of-band codes (SMS, voice call, app push) sent to a registered recipient.
//!
//! Threats and the answer to each (NIST SP 800-63B §5.1.3, §5.2.2):
//! - guessing one code: ≥ 6 digits drawn uniformly by rejection sampling (no modulo
//!   bias), at most [`OobConfig::attempts_per_code`] tries per code;
//! - guessing across many codes (many recipients): a global limit on evaluated checks
//!   per verifier, default 10 per minute and 120 per rolling hour. **Bound: at most
//!   [`OobConfig::checks_per_hour`] guesses per hour per verifier (120 by default)**,
//!   whatever the number of recipients, sessions or codes; with 6 digits the chance that
//!   an hour of guessing finds any code is at most 120/10⁶ = 0.012 %. Checks refused by
//!   this limit report [`reasons::RATE_LIMITED`] and are not evaluated;
//! - guessing one recipient over time: at [`OobConfig::recipient_failures`] (≤ 100)
//!   consecutive failures the recipient is locked for [`OobConfig::lockout_secs`]
//!   (default 15 min); after it expires each further failure locks again for twice as
//!   long, up to [`MAX_LOCKOUT_SECS`] (24 h), until a code is accepted. The lockout
//!   expires by itself, so an attacker cannot lock a victim out for good;
//! - a leaked store: codes are kept only as an HMAC under a per-process random key,
//!   recipients only as a keyed hash; nothing readable is retained;
//! - replay and late use: single use, time to live 5 min by default (10 max);
//! - a clock set back to stretch a code's life: a check earlier than the code's issue
//!   time by more than [`MAX_CLOCK_SKEW_SECS`] fails closed
//!   ([`reasons::CLOCK_BEFORE_ISSUE`]) and discards the code;
//! - SMS flooding a person: per-recipient send rate limits (default 1/min, 5/hour);
//! - SMS pumping (toll fraud through many premium numbers): a global send cap per
//!   verifier, default 10 per minute and 60 per hour ([`OtpError::SendCapReached`]);
//! - timing: comparison through `ring::hmac::verify` (constant time).
//!
//! Rate windows treat a timestamp later than `now` (a clock set back) as recent, so a
//! backwards clock only tightens the limits.
//!
//! The library hands the code to the integrator's [`Delivery`] and nowhere else; it
//! never logs a code.

use std::collections::{HashMap, VecDeque};

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::{reasons, well_formed, Code, OtpError};
use crate::verifier::{Family, Outcome, Verifier};

/// Sends a code to a recipient. Implemented by the integrator (SMS gateway, push, …).
pub trait Delivery {
    /// Channel failure.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Delivers `code` to `recipient`. Do not log the code.
    fn deliver(&mut self, recipient: &str, code: &OobCode) -> Result<(), Self::Error>;
}

/// A freshly drawn out-of-band code, handed to [`Delivery::deliver`]; zeroized on drop.
pub struct OobCode(Code);

impl OobCode {
    /// The digits to send.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl std::fmt::Debug for OobCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OobCode(<redacted>)")
    }
}

/// How far the clock may read before a code's issue time (an NTP step) before a check
/// fails closed, in seconds.
pub const MAX_CLOCK_SKEW_SECS: u64 = 2;

/// Longest recipient lockout, in seconds (24 h).
pub const MAX_LOCKOUT_SECS: u64 = 86_400;

/// Out-of-band code settings. [`OobConfig::default`] follows NIST SP 800-63B.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OobConfig {
    /// Code length, 6..=9.
    pub digits: u8,
    /// Time to live in seconds, 1..=600 (default 300).
    pub ttl_secs: u64,
    /// Wrong tries per code before it is discarded, 1..=5.
    pub attempts_per_code: u32,
    /// Codes per recipient per minute (≥ 1).
    pub sends_per_minute: u32,
    /// Codes per recipient per hour (≥ 1).
    pub sends_per_hour: u32,
    /// Consecutive failures per recipient before it is locked, 1..=100.
    pub recipient_failures: u32,
    /// First lockout of a recipient in seconds, 60..=[`MAX_LOCKOUT_SECS`] (default 900);
    /// doubles with each further lockout until a code is accepted.
    pub lockout_secs: u64,
    /// Evaluated code checks per minute, all recipients together, 1..=60 (default 10).
    pub checks_per_minute: u32,
    /// Evaluated code checks per rolling hour, all recipients together, 1..=3600
    /// (default 120). This is the verifier's guesses-per-hour bound.
    pub checks_per_hour: u32,
    /// Codes sent per minute, all recipients together, 1..=60 (default 10).
    pub global_sends_per_minute: u32,
    /// Codes sent per rolling hour, all recipients together, 1..=3600 (default 60).
    pub global_sends_per_hour: u32,
}

impl Default for OobConfig {
    fn default() -> Self {
        OobConfig {
            digits: 6,
            ttl_secs: 300,
            attempts_per_code: 5,
            sends_per_minute: 1,
            sends_per_hour: 5,
            recipient_failures: 100,
            lockout_secs: 900,
            checks_per_minute: 10,
            checks_per_hour: 120,
            global_sends_per_minute: 10,
            global_sends_per_hour: 60,
        }
    }
}

impl OobConfig {
    fn validate(&self) -> Result<(), OtpError> {
        if !(6..=9).contains(&self.digits) {
            return Err(OtpError::Digits);
        }
        if !(1..=600).contains(&self.ttl_secs) {
            return Err(OtpError::Config("ttl_secs"));
        }
        if !(1..=5).contains(&self.attempts_per_code) {
            return Err(OtpError::Config("attempts_per_code"));
        }
        if self.sends_per_minute == 0 || self.sends_per_hour == 0 || self.sends_per_hour > 60 {
            return Err(OtpError::Config("sends_per_hour"));
        }
        if !(1..=100).contains(&self.recipient_failures) {
            return Err(OtpError::Config("recipient_failures"));
        }
        if !(60..=MAX_LOCKOUT_SECS).contains(&self.lockout_secs) {
            return Err(OtpError::Config("lockout_secs"));
        }
        if !(1..=60).contains(&self.checks_per_minute) {
            return Err(OtpError::Config("checks_per_minute"));
        }
        if !(1..=3600).contains(&self.checks_per_hour) {
            return Err(OtpError::Config("checks_per_hour"));
        }
        if !(1..=60).contains(&self.global_sends_per_minute) {
            return Err(OtpError::Config("global_sends_per_minute"));
        }
        if !(1..=3600).contains(&self.global_sends_per_hour) {
            return Err(OtpError::Config("global_sends_per_hour"));
        }
        Ok(())
    }
}

/// A sliding window of event times: at most `per_minute` in any 60 s and `per_hour` in
/// any 3600 s. Its memory is bounded by `per_hour`, since a refused event is not stored.
#[derive(Default)]
struct Window {
    times: VecDeque<u64>,
}

impl Window {
    /// `Err(retry_at)` when one more event at `now` would exceed a limit.
    fn admit(&mut self, now: u64, per_minute: u32, per_hour: u32) -> Result<(), u64> {
        self.forget_older_than_an_hour(now);
        // A time after `now` (clock set back) counts as recent: limits only tighten.
        let recent = |t: &u64, secs: u64| *t > now || now - *t < secs;
        let last_minute = self.times.iter().filter(|t| recent(t, 60)).count();
        if last_minute >= per_minute as usize {
            let oldest = self
                .times
                .iter()
                .rev()
                .nth((per_minute as usize).saturating_sub(1))
                .copied()
                .unwrap_or(now);
            return Err(oldest.saturating_add(60));
        }
        if self.times.len() >= per_hour as usize {
            let oldest = self.times.front().copied().unwrap_or(now);
            return Err(oldest.saturating_add(3600));
        }
        Ok(())
    }

    fn push(&mut self, now: u64) {
        self.times.push_back(now);
    }

    fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    fn forget_older_than_an_hour(&mut self, now: u64) {
        while self
            .times
            .front()
            .is_some_and(|t| *t <= now && now - *t >= 3600)
        {
            self.times.pop_front();
        }
    }
}

/// A code was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// When it expires (Unix seconds).
    pub expires_at: u64,
}

/// A typed out-of-band code. `Debug` is redacted and there is no `Clone`: it holds a
/// phone number (or device id) and a code.
pub struct OobAttempt<'e> {
    /// The recipient the code was sent to (phone number, device id, …).
    pub recipient: &'e str,
    /// What the person typed.
    pub code: &'e str,
    /// Now, in Unix seconds.
    pub now: u64,
}

impl std::fmt::Debug for OobAttempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OobAttempt")
            .field("recipient", &"<redacted>")
            .field("code", &"<redacted>")
            .field("now", &self.now)
            .finish()
    }
}

struct Pending {
    tag: Zeroizing<Vec<u8>>,
    issued_at: u64,
    expires_at: u64,
    attempts_left: u32,
}

#[derive(Default)]
struct Entry {
    pending: Option<Pending>,
    sends: Window,
    /// Consecutive failures; stays at or above the limit after a lockout expires, so
    /// the next failure locks again (for longer) until a code is accepted.
    failures: u32,
    /// Lockouts since the last accepted code (the back-off exponent).
    lockouts: u32,
    locked_until: u64,
}

impl Entry {
    fn locked(&self, now: u64) -> bool {
        now < self.locked_until
    }

    /// Records a failure; locks the recipient when the limit is reached.
    fn fail(&mut self, now: u64, cfg: &OobConfig) -> bool {
        self.failures = self.failures.saturating_add(1);
        if self.failures < cfg.recipient_failures {
            return false;
        }
        let factor = 1u64.checked_shl(self.lockouts.min(63)).unwrap_or(u64::MAX);
        let secs = cfg
            .lockout_secs
            .saturating_mul(factor)
            .min(MAX_LOCKOUT_SECS);
        self.locked_until = now.saturating_add(secs);
        self.lockouts = self.lockouts.saturating_add(1);
        self.pending = None;
        true
    }
}

/// Issues and verifies out-of-band codes.
///
/// ```
/// use facegate::otp::{reasons, Delivery, OobCode, OobConfig, OobVerifier, OtpError};
/// use facegate::Outcome;
///
/// /// Stands in for the SMS gateway: keeps the codes it would send.
/// struct Phone(Vec<String>);
/// impl Delivery for Phone {
///     type Error = std::convert::Infallible;
///     fn deliver(&mut self, _recipient: &str, code: &OobCode) -> Result<(), Self::Error> {
///         self.0.push(code.expose().to_owned());
///         Ok(())
///     }
/// }
///
/// let recipient = "+1 555 0100"; // a fictional number
/// let now = 1_764_460_800;
/// let mut codes = OobVerifier::new(OobConfig::default(), Phone(Vec::new()))?;
/// let sent = codes.send(recipient, now)?;
/// assert_eq!(sent.expires_at, now + 300); // five minutes to live
/// // At most one code a minute to a recipient (no SMS flooding).
/// assert!(matches!(codes.send(recipient, now + 10), Err(OtpError::RateLimited { .. })));
///
/// let typed = codes.delivery().0[0].clone(); // what the person reads off the phone
/// assert_eq!(codes.check(recipient, &typed, now + 20), Outcome::Accepted);
/// // Single use.
/// assert_eq!(codes.check(recipient, &typed, now + 25), Outcome::Rejected(reasons::NO_CODE));
/// # Ok::<(), OtpError>(())
/// ```
pub struct OobVerifier<D: Delivery> {
    config: OobConfig,
    key: hmac::Key,
    rng: SystemRandom,
    entries: HashMap<[u8; 32], Entry>,
    /// Sends to all recipients (anti SMS pumping).
    sends: Window,
    /// Evaluated checks for all recipients (the guesses-per-hour bound).
    checks: Window,
    delivery: D,
}

impl<D: Delivery> std::fmt::Debug for OobVerifier<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OobVerifier")
            .field("config", &self.config)
            .field("recipients", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl<D: Delivery> OobVerifier<D> {
    /// A verifier with a fresh random hashing key.
    pub fn new(config: OobConfig, delivery: D) -> Result<Self, OtpError> {
        config.validate()?;
        let rng = SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng).map_err(|_| OtpError::Rng)?;
        Ok(OobVerifier {
            config,
            key,
            rng,
            entries: HashMap::new(),
            sends: Window::default(),
            checks: Window::default(),
            delivery,
        })
    }

    /// The delivery channel (e.g. to inspect a test double).
    pub fn delivery(&self) -> &D {
        &self.delivery
    }

    fn recipient_key(&self, recipient: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(b"recipient\0");
        ctx.update(recipient.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(&ctx.sign().as_ref()[..32]);
        out
    }

    fn code_message(rkey: &[u8; 32], code: &str) -> Zeroizing<Vec<u8>> {
        let mut m = Zeroizing::new(Vec::with_capacity(38 + code.len()));
        m.extend_from_slice(b"code\0");
        m.extend_from_slice(rkey);
        m.extend_from_slice(code.as_bytes());
        m
    }

    /// Draws a new code for `recipient`, replaces any pending one, and delivers it.
    ///
    /// Refused while the recipient is locked ([`OtpError::RecipientLocked`]), over the
    /// recipient's send rate ([`OtpError::RateLimited`]) or over the verifier's global
    /// send cap ([`OtpError::SendCapReached`]).
    pub fn send(&mut self, recipient: &str, now: u64) -> Result<Sent, OtpError> {
        let rkey = self.recipient_key(recipient);
        let cfg = self.config;
        // Look before inserting: refused requests must not grow the map.
        if let Some(entry) = self.entries.get_mut(&rkey) {
            if entry.locked(now) {
                return Err(OtpError::RecipientLocked);
            }
            entry
                .sends
                .admit(now, cfg.sends_per_minute, cfg.sends_per_hour)
                .map_err(|retry_at| OtpError::RateLimited { retry_at })?;
        }
        self.sends
            .admit(now, cfg.global_sends_per_minute, cfg.global_sends_per_hour)
            .map_err(|retry_at| OtpError::SendCapReached { retry_at })?;
        let modulus = 10u32.pow(u32::from(cfg.digits));
        let rng = &self.rng;
        let value = uniform_below(modulus, || {
            let mut b = [0u8; 4];
            rng.fill(&mut b).map_err(|_| OtpError::Rng)?;
            Ok(u32::from_be_bytes(b))
        })?;
        let code = OobCode(Code::from_value(u64::from(value), cfg.digits));
        let tag = hmac::sign(&self.key, &Self::code_message(&rkey, code.expose()));
        // Count the send before delivering: a failing channel must not bypass the limits.
        self.sends.push(now);
        let entry = self.entries.entry(rkey).or_default();
        entry.sends.push(now);
        entry.pending = None;
        self.delivery
            .deliver(recipient, &code)
            .map_err(|e| OtpError::Delivery(Box::new(e)))?;
        let expires_at = now.saturating_add(cfg.ttl_secs);
        let entry = self.entries.entry(rkey).or_default();
        entry.pending = Some(Pending {
            tag: Zeroizing::new(tag.as_ref().to_vec()),
            issued_at: now,
            expires_at,
            attempts_left: cfg.attempts_per_code,
        });
        Ok(Sent { expires_at })
    }

    /// Checks a typed code.
    pub fn check(&mut self, recipient: &str, typed: &str, now: u64) -> Outcome {
        let rkey = self.recipient_key(recipient);
        let cfg = self.config;
        let msg = Self::code_message(&rkey, typed);
        let Some(entry) = self.entries.get_mut(&rkey) else {
            return Outcome::Rejected(reasons::NO_CODE);
        };
        if entry.locked(now) {
            entry.pending = None;
            return Outcome::Rejected(reasons::RECIPIENT_LOCKED);
        }
        let Some(p) = entry.pending.as_mut() else {
            return Outcome::Rejected(reasons::NO_CODE);
        };
        if now.saturating_add(MAX_CLOCK_SKEW_SECS) < p.issued_at {
            // The clock was set back (or is broken): the code's age is unknown.
            entry.pending = None;
            return Outcome::Rejected(reasons::CLOCK_BEFORE_ISSUE);
        }
        if now >= p.expires_at {
            entry.pending = None;
            return Outcome::Rejected(reasons::EXPIRED);
        }
        // Only checks that reach the comparison count towards the global bound.
        if self
            .checks
            .admit(now, cfg.checks_per_minute, cfg.checks_per_hour)
            .is_err()
        {
            return Outcome::Rejected(reasons::RATE_LIMITED);
        }
        self.checks.push(now);
        if well_formed(typed, cfg.digits) && hmac::verify(&self.key, &msg, &p.tag).is_ok() {
            entry.pending = None;
            entry.failures = 0;
            entry.lockouts = 0;
            return Outcome::Accepted;
        }
        p.attempts_left = p.attempts_left.saturating_sub(1);
        let exhausted = p.attempts_left == 0;
        if entry.fail(now, &cfg) {
            return Outcome::Rejected(reasons::RECIPIENT_LOCKED);
        }
        if exhausted {
            entry.pending = None;
            return Outcome::Rejected(reasons::CODE_ATTEMPTS_EXHAUSTED);
        }
        if well_formed(typed, cfg.digits) {
            Outcome::Rejected(reasons::MISMATCH)
        } else {
            Outcome::Rejected(reasons::MALFORMED)
        }
    }

    /// Unlocks a recipient after an out-of-band check by staff (NIST: account recovery),
    /// without waiting for the lockout to expire.
    pub fn unlock(&mut self, recipient: &str) {
        let rkey = self.recipient_key(recipient);
        if let Some(e) = self.entries.get_mut(&rkey) {
            e.failures = 0;
            e.lockouts = 0;
            e.locked_until = 0;
        }
    }

    /// Drops expired codes and recipients with no recent sends and no failures, so
    /// memory stays bounded on a long-running kiosk.
    pub fn purge(&mut self, now: u64) {
        self.sends.forget_older_than_an_hour(now);
        self.checks.forget_older_than_an_hour(now);
        self.entries.retain(|_, e| {
            if e.pending.as_ref().is_some_and(|p| now >= p.expires_at) {
                e.pending = None;
            }
            e.sends.forget_older_than_an_hour(now);
            e.pending.is_some() || !e.sends.is_empty() || e.failures > 0 || e.locked(now)
        });
    }
}

impl<D: Delivery> Verifier for OobVerifier<D> {
    type Evidence<'e> = OobAttempt<'e>;
    type Error = OtpError;

    fn family(&self) -> Family {
        Family::OneTimeCode
    }

    fn verify(&mut self, a: OobAttempt<'_>) -> Result<Outcome, OtpError> {
        Ok(self.check(a.recipient, a.code, a.now))
    }
}

/// A uniform value in `0..modulus` by rejection sampling: draws falling in the last,
/// incomplete block of `modulus` values are discarded, so every code is equally likely.
pub(crate) fn uniform_below(
    modulus: u32,
    mut draw: impl FnMut() -> Result<u32, OtpError>,
) -> Result<u32, OtpError> {
    if modulus == 0 {
        return Err(OtpError::Config("modulus"));
    }
    // Number of values in complete blocks: the largest multiple of `modulus` ≤ 2^32.
    let zone = (u64::from(u32::MAX) + 1) / u64::from(modulus) * u64::from(modulus);
    // Rejection probability is < 1/4 for our moduli; 64 rejections in a row means a broken RNG.
    for _ in 0..64 {
        let x = draw()?;
        if u64::from(x) < zone {
            return Ok(x % modulus);
        }
    }
    Err(OtpError::Rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test double: keeps what it was asked to deliver (as the phone would).
    #[derive(Default)]
    struct Phone {
        inbox: Vec<(String, String)>,
        fail: bool,
    }
    #[derive(Debug, thiserror::Error)]
    #[error("gateway down")]
    struct Down;
    impl Delivery for Phone {
        type Error = Down;
        fn deliver(&mut self, recipient: &str, code: &OobCode) -> Result<(), Down> {
            if self.fail {
                return Err(Down);
            }
            self.inbox
                .push((recipient.to_owned(), code.expose().to_owned()));
            Ok(())
        }
    }

    fn last_code(v: &OobVerifier<Phone>) -> String {
        v.delivery().inbox.last().unwrap().1.clone()
    }

    fn wrong(code: &str) -> String {
        let d = code.as_bytes()[0];
        let first = if d == b'9' { '0' } else { char::from(d + 1) };
        format!("{first}{}", &code[1..])
    }

    #[test]
    fn single_use_and_ttl() {
        let mut v = OobVerifier::new(OobConfig::default(), Phone::default()).unwrap();
        let sent = v.send("+8613800000000", 1000).unwrap();
        assert_eq!(sent.expires_at, 1300);
        let code = last_code(&v);
        assert_eq!(code.len(), 6);
        assert_eq!(
            v.check("+8613800000001", &code, 1001),
            Outcome::Rejected(reasons::NO_CODE)
        );
        assert_eq!(v.check("+8613800000000", &code, 1001), Outcome::Accepted);
        assert_eq!(
            v.check("+8613800000000", &code, 1002),
            Outcome::Rejected(reasons::NO_CODE)
        );

        v.send("+8613800000000", 1100).unwrap();
        let code = last_code(&v);
        assert_eq!(
            v.check("+8613800000000", &code, 1400),
            Outcome::Rejected(reasons::EXPIRED)
        );
    }

    #[test]
    fn per_code_attempt_limit() {
        let mut v = OobVerifier::new(OobConfig::default(), Phone::default()).unwrap();
        v.send("r", 0).unwrap();
        let code = last_code(&v);
        for _ in 0..4 {
            assert_eq!(
                v.check("r", &wrong(&code), 1),
                Outcome::Rejected(reasons::MISMATCH)
            );
        }
        assert_eq!(
            v.check("r", &wrong(&code), 1),
            Outcome::Rejected(reasons::CODE_ATTEMPTS_EXHAUSTED)
        );
        // The right code no longer works: it was discarded.
        assert_eq!(v.check("r", &code, 2), Outcome::Rejected(reasons::NO_CODE));
        assert_eq!(v.check("r", "12ab", 2), Outcome::Rejected(reasons::NO_CODE));
    }

    #[test]
    fn send_rate_limits() {
        let mut v = OobVerifier::new(OobConfig::default(), Phone::default()).unwrap();
        v.send("r", 0).unwrap();
        assert!(matches!(
            v.send("r", 59),
            Err(OtpError::RateLimited { retry_at: 60 })
        ));
        for t in [60, 120, 180, 240] {
            v.send("r", t).unwrap();
        }
        assert!(matches!(
            v.send("r", 300),
            Err(OtpError::RateLimited { retry_at: 3600 })
        ));
        v.send("r", 3600).unwrap();
        v.send("other", 300).unwrap();
        // A failing channel still counts towards the limit.
        let mut v = OobVerifier::new(
            OobConfig::default(),
            Phone {
                fail: true,
                ..Phone::default()
            },
        )
        .unwrap();
        let e = v.send("r", 0).unwrap_err();
        assert!(matches!(e, OtpError::Delivery(_)));
        assert_eq!(e.to_string(), "code delivery failed");
        assert!(matches!(v.send("r", 1), Err(OtpError::RateLimited { .. })));
    }

    #[test]
    fn recipient_locks_after_100_failures() {
        let cfg = OobConfig {
            sends_per_minute: 60,
            sends_per_hour: 60,
            ..OobConfig::default()
        };
        let mut v = OobVerifier::new(cfg, Phone::default()).unwrap();
        let mut t = 0;
        let mut failures = 0;
        while failures < 100 {
            v.send("r", t).unwrap();
            let code = last_code(&v);
            for _ in 0..5 {
                let out = v.check("r", &wrong(&code), t);
                failures += 1;
                if failures == 100 {
                    assert_eq!(out, Outcome::Rejected(reasons::RECIPIENT_LOCKED));
                    break;
                }
            }
            t += 60;
        }
        // Locked for 15 min (from the last failure, one step before `t`).
        assert!(matches!(
            v.send("r", t - 60 + 899),
            Err(OtpError::RecipientLocked)
        ));
        v.unlock("r");
        v.send("r", t + 7200).unwrap();
        let code = last_code(&v);
        assert_eq!(v.check("r", &code, t + 7201), Outcome::Accepted);
    }

    #[test]
    fn rejection_sampling_discards_the_biased_tail() {
        // 2^32 = 4294967296; zone for 10^6 is 4294000000. A draw at or above it is rejected.
        let mut draws = [u32::MAX, 4_294_000_000, 4_293_999_999].into_iter();
        let v = uniform_below(1_000_000, || Ok(draws.next().unwrap())).unwrap();
        assert_eq!(v, 999_999);
        assert!(matches!(
            uniform_below(1_000_000, || Ok(u32::MAX)),
            Err(OtpError::Rng)
        ));
        assert_eq!(uniform_below(1_000_000, || Ok(1_234_567)).unwrap(), 234_567);
    }

    #[test]
    fn codes_spread_over_all_digits() {
        let cfg = OobConfig {
            sends_per_minute: 60,
            sends_per_hour: 60,
            global_sends_per_minute: 60,
            ..OobConfig::default()
        };
        let mut v = OobVerifier::new(cfg, Phone::default()).unwrap();
        for i in 0..60u64 {
            v.send(&format!("r{i}"), 0).unwrap();
        }
        let mut seen = [0usize; 10];
        for (_, c) in &v.delivery().inbox {
            for b in c.bytes() {
                seen[usize::from(b - b'0')] += 1;
            }
        }
        // 360 digits: every digit value appears (probability of a miss < 1e-15).
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
        assert!(format!("{v:?}").contains("recipients: 60"));
    }

    #[test]
    fn config_is_bounded() {
        let bad = [
            OobConfig {
                digits: 5,
                ..OobConfig::default()
            },
            OobConfig {
                ttl_secs: 601,
                ..OobConfig::default()
            },
            OobConfig {
                attempts_per_code: 6,
                ..OobConfig::default()
            },
            OobConfig {
                recipient_failures: 101,
                ..OobConfig::default()
            },
            OobConfig {
                sends_per_minute: 0,
                ..OobConfig::default()
            },
            OobConfig {
                lockout_secs: 59,
                ..OobConfig::default()
            },
            OobConfig {
                lockout_secs: MAX_LOCKOUT_SECS + 1,
                ..OobConfig::default()
            },
            OobConfig {
                checks_per_minute: 0,
                ..OobConfig::default()
            },
            OobConfig {
                checks_per_hour: 3601,
                ..OobConfig::default()
            },
            OobConfig {
                global_sends_per_minute: 61,
                ..OobConfig::default()
            },
            OobConfig {
                global_sends_per_hour: 0,
                ..OobConfig::default()
            },
        ];
        for c in bad {
            assert!(OobVerifier::new(c, Phone::default()).is_err(), "{c:?}");
        }
    }
}

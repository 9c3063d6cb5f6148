//! One-time codes: HOTP (RFC 4226), TOTP (RFC 6238), out-of-band codes sent by SMS,
//! voice or push, and `otpauth://` URIs for enrolling authenticator apps.
//!
//! Why these shapes: a code is a secret for its lifetime and a shared key is a secret
//! forever. So [`Secret`] and [`Code`] cannot be cloned, print as `<redacted>` in
//! `Debug`, and are zeroized on drop; comparison is constant-time; every verifier keeps
//! replay state so a code (or counter) once accepted is never accepted again (RFC 4226
//! §7.2, RFC 6238 §5.2). Errors never carry a code or a key.
//!
//! Limitation: verifiers turn the [`Secret`] into a `ring::hmac::Key` once (the
//! `Secret` itself is then dropped and zeroized); ring does not zeroize the key schedule
//! it keeps, so that state lives until the verifier is dropped and its memory reused.

pub mod hotp;
pub mod oob;
pub mod throttle;
pub mod totp;
pub mod uri;

pub use hotp::{hotp, HotpAttempt, HotpVerifier};
pub use oob::{Delivery, OobAttempt, OobCode, OobConfig, OobVerifier, Sent};
pub use throttle::FailureState;
pub use totp::{totp, TotpAttempt, TotpParams, TotpVerifier};
pub use uri::{OtpAuthUri, UriKind};

use ring::hmac;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// Reason codes produced by OTP verifiers.
pub mod reasons {
    use crate::verifier::{Reason, ReasonKind};
    /// Wrong code.
    pub const MISMATCH: Reason = Reason::new("otp.mismatch", ReasonKind::Mismatch);
    /// Not a code of the expected length and digits.
    pub const MALFORMED: Reason = Reason::new("otp.malformed", ReasonKind::Malformed);
    /// A code (or counter/time step) that was already accepted once.
    pub const REPLAYED: Reason = Reason::new("otp.replayed", ReasonKind::Expired);
    /// The code's time to live has passed.
    pub const EXPIRED: Reason = Reason::new("otp.expired", ReasonKind::Expired);
    /// No code is pending for this recipient (never sent, already used or discarded).
    pub const NO_CODE: Reason = Reason::new("otp.no_code", ReasonKind::Expired);
    /// Too many wrong tries for this code; it is discarded (request a new one).
    pub const CODE_ATTEMPTS_EXHAUSTED: Reason =
        Reason::new("otp.code_attempts_exhausted", ReasonKind::Expired);
    /// Too many consecutive failures for this recipient (NIST SP 800-63B: 100); the
    /// lockout expires with back-off (see [`super::oob`]).
    pub const RECIPIENT_LOCKED: Reason = Reason::new("otp.recipient_locked", ReasonKind::Locked);
    /// Too many consecutive failures for this authenticator (NIST SP 800-63B: ≤ 100);
    /// locked until an operator unlocks it.
    pub const AUTHENTICATOR_LOCKED: Reason = Reason::new("otp.locked", ReasonKind::Locked);
    /// The authenticator is in its back-off delay after failures; the code was not
    /// evaluated. Try again later.
    pub const THROTTLED: Reason = Reason::new("otp.throttled", ReasonKind::Locked);
    /// The verifier's global limit on code checks is reached (all recipients together);
    /// the code was not evaluated.
    pub const RATE_LIMITED: Reason = Reason::new("otp.rate_limited", ReasonKind::Locked);
    /// The clock reads earlier than the code's issue time (beyond the allowed skew): the
    /// clock is wrong or was set back, so the code is discarded.
    pub const CLOCK_BEFORE_ISSUE: Reason =
        Reason::new("otp.clock_before_issue", ReasonKind::Expired);
    /// The HOTP counter space is used up.
    pub const COUNTER_EXHAUSTED: Reason =
        Reason::new("otp.counter_exhausted", ReasonKind::Unavailable);
}

/// Every OTP fault. Messages never contain a code, a key or a recipient.
#[derive(Debug, thiserror::Error)]
pub enum OtpError {
    /// Shared secret shorter than 128 bits (RFC 4226 R6) or longer than 1024 bytes.
    #[error("secret must be 16 to 1024 bytes")]
    SecretLength,
    /// Secret is not valid hexadecimal.
    #[error("secret is not valid hex")]
    SecretHex,
    /// Secret is not valid base32.
    #[error("secret is not valid base32")]
    SecretBase32,
    /// Code length outside what the method allows.
    #[error("number of digits out of range")]
    Digits,
    /// Unknown HMAC algorithm name.
    #[error("unknown algorithm (expected sha1, sha256 or sha512)")]
    Algorithm,
    /// A configuration value out of range (names the field).
    #[error("configuration value out of range: {0}")]
    Config(&'static str),
    /// The clock reads before the TOTP epoch T0.
    #[error("time is before the TOTP epoch")]
    ClockBeforeEpoch,
    /// The system random number generator failed.
    #[error("random number generator failed")]
    Rng,
    /// Send rate limit hit for this recipient; try again at the given Unix time.
    #[error("too many codes sent to this recipient; retry at {retry_at}")]
    RateLimited {
        /// When a new code may be sent.
        retry_at: u64,
    },
    /// The verifier's global send cap (all recipients) is reached; try again at the
    /// given Unix time. A burst here suggests SMS pumping.
    #[error("code send cap reached; retry at {retry_at}")]
    SendCapReached {
        /// When a new code may be sent.
        retry_at: u64,
    },
    /// Too many consecutive failures for this recipient; the lockout expires by itself
    /// (see [`oob`]) or an operator unlocks it.
    #[error("recipient locked after too many failures")]
    RecipientLocked,
    /// The integrator's delivery channel failed.
    #[error("code delivery failed")]
    Delivery(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An `otpauth://` URI is malformed (names the part).
    #[error("invalid otpauth URI: {0}")]
    Uri(&'static str),
}

/// HMAC algorithm for HOTP/TOTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// HMAC-SHA-1 (the RFC 4226 default; still safe as an HMAC).
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl Algorithm {
    fn ring(self) -> hmac::Algorithm {
        match self {
            Algorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Algorithm::Sha256 => hmac::HMAC_SHA256,
            Algorithm::Sha512 => hmac::HMAC_SHA512,
        }
    }

    /// The name used in `otpauth://` URIs (`SHA1`, `SHA256`, `SHA512`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }
}

impl std::str::FromStr for Algorithm {
    type Err = OtpError;
    fn from_str(s: &str) -> Result<Self, OtpError> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Ok(Algorithm::Sha1),
            "sha256" => Ok(Algorithm::Sha256),
            "sha512" => Ok(Algorithm::Sha512),
            _ => Err(OtpError::Algorithm),
        }
    }
}

/// Number of digits of an HOTP/TOTP code: 6, 7 or 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Digits(u8);

impl Digits {
    /// Six digits (the common default).
    pub const SIX: Digits = Digits(6);
    /// Eight digits.
    pub const EIGHT: Digits = Digits(8);

    /// 6 to 8 digits (RFC 4226 §5.3 allows 6–8; fewer are too guessable).
    pub fn new(n: u8) -> Result<Digits, OtpError> {
        if (6..=8).contains(&n) {
            Ok(Digits(n))
        } else {
            Err(OtpError::Digits)
        }
    }

    /// The count.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Default for Digits {
    fn default() -> Self {
        Digits::SIX
    }
}

/// A shared HOTP/TOTP key: zeroized on drop, never cloned or printed.
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// From raw bytes (16 to 1024 bytes). The input vector is moved in, not copied.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Secret, OtpError> {
        let bytes = Zeroizing::new(bytes);
        if !(16..=1024).contains(&bytes.len()) {
            return Err(OtpError::SecretLength);
        }
        Ok(Secret(bytes))
    }

    /// From hexadecimal (either case).
    pub fn from_hex(hex: &str) -> Result<Secret, OtpError> {
        let upper = Zeroizing::new(hex.trim().to_ascii_uppercase());
        let bytes = data_encoding::HEXUPPER
            .decode(upper.as_bytes())
            .map_err(|_| OtpError::SecretHex)?;
        Secret::from_bytes(bytes)
    }

    /// From base32 (RFC 4648, either case, padding optional), as in `otpauth://` URIs.
    pub fn from_base32(b32: &str) -> Result<Secret, OtpError> {
        let mut clean = Zeroizing::new(String::with_capacity(b32.len()));
        for c in b32.chars().filter(|c| *c != '=' && *c != ' ') {
            clean.push(c.to_ascii_uppercase());
        }
        let bytes = data_encoding::BASE32_NOPAD
            .decode(clean.as_bytes())
            .map_err(|_| OtpError::SecretBase32)?;
        Secret::from_bytes(bytes)
    }

    /// Base32 without padding, for export into an `otpauth://` URI.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::BASE32_NOPAD.encode(&self.0))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true (a secret has at least 16 bytes); for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn key(&self, alg: Algorithm) -> hmac::Key {
        hmac::Key::new(alg.ring(), &self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<redacted, {} bytes>)", self.0.len())
    }
}

/// A generated code: zeroized on drop, `Debug` redacted. Read it with
/// [`Code::expose`] only to show it to its owner (CLI, delivery).
pub struct Code(Zeroizing<String>);

impl Code {
    pub(crate) fn from_value(value: u64, digits: u8) -> Code {
        let mut s = Zeroizing::new(String::with_capacity(usize::from(digits)));
        let width = usize::from(digits);
        let mut buf = [b'0'; 20];
        let mut v = value;
        let mut i = buf.len();
        while v > 0 && i > 0 {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let start = buf.len().saturating_sub(width);
        for &b in &buf[start..] {
            s.push(char::from(b));
        }
        buf.zeroize();
        Code(s)
    }

    /// The digits, zero-padded to the code length.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a typed code (the length is not secret).
    pub fn matches(&self, typed: &str) -> bool {
        self.0.as_bytes().ct_eq(typed.as_bytes()).into()
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code(<redacted>)")
    }
}

/// Whether `typed` is exactly `digits` ASCII digits.
pub(crate) fn well_formed(typed: &str, digits: u8) -> bool {
    typed.len() == usize::from(digits) && typed.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_codes_never_print() {
        let s = Secret::from_hex("3132333435363738393031323334353637383930").unwrap();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("3132") && dbg.contains("redacted"), "{dbg}");
        let c = Code::from_value(755224, 6);
        assert_eq!(c.expose(), "755224");
        assert!(!format!("{c:?}").contains("755224"));
        assert_eq!(Code::from_value(42, 8).expose(), "00000042");
        assert!(c.matches("755224") && !c.matches("755225") && !c.matches("75522"));
    }

    #[test]
    fn secret_input_validation() {
        assert!(matches!(Secret::from_hex("zz"), Err(OtpError::SecretHex)));
        assert!(matches!(
            Secret::from_hex("00"),
            Err(OtpError::SecretLength)
        ));
        assert!(matches!(
            Secret::from_base32("!!!"),
            Err(OtpError::SecretBase32)
        ));
        assert_eq!(
            Secret::from_base32("gezdgnbvgy3tqojqgezdgnbvgy3tqojq")
                .unwrap()
                .len(),
            20
        );
        assert!(matches!(Digits::new(5), Err(OtpError::Digits)));
        assert!(matches!(Digits::new(9), Err(OtpError::Digits)));
        assert_eq!("SHA-256".parse::<Algorithm>().unwrap(), Algorithm::Sha256);
        assert!(matches!(
            "md5".parse::<Algorithm>(),
            Err(OtpError::Algorithm)
        ));
    }
}

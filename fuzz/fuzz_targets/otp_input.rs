//! One-time codes as an attacker types them: any text, at any clock reading, in any order,
//! against TOTP, HOTP and out-of-band verifiers that keep their state across the run. Beyond
//! "no panic":
//! - an accepted code is one the authenticator really issued for that moment or counter;
//! - TOTP and HOTP never evaluate more than `LOCK_AFTER_FAILURES` consecutive wrong codes;
//! - the out-of-band verifier evaluates at most `checks_per_hour` codes per hour of clock
//!   span, whatever the recipients, and however the clock moves.
#![no_main]

use facegate::otp::oob::{Delivery, OobCode, OobConfig, OobVerifier};
use facegate::otp::throttle::LOCK_AFTER_FAILURES;
use facegate::otp::totp::{totp, TotpParams, TotpVerifier};
use facegate::otp::{hotp, reasons, Algorithm, Digits, HotpVerifier, Secret};
use facegate::verifier::Outcome;
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8; 20] = b"12345678901234567890";
const START: u64 = 1_700_000_000;
const RECIPIENTS: [&str; 3] = ["+8613800000000", "+8613900000001", "device:42"];

/// Keeps the last code per recipient, as a phone would show it.
#[derive(Default)]
struct Inbox(Vec<(String, String)>);

impl Delivery for Inbox {
    type Error = std::convert::Infallible;
    fn deliver(&mut self, recipient: &str, code: &OobCode) -> Result<(), Self::Error> {
        self.0.retain(|(r, _)| r != recipient);
        self.0.push((recipient.to_owned(), code.expose().to_owned()));
        Ok(())
    }
}

fn secret() -> Secret {
    Secret::from_bytes(SECRET.to_vec()).expect("a 20-byte secret")
}

fuzz_target!(|data: &[u8]| {
    let params = TotpParams::default();
    let mut totp_v = TotpVerifier::new(secret(), params, None).expect("default parameters");
    let first_counter = 7u64;
    let mut hotp_v = HotpVerifier::new(secret(), Algorithm::Sha1, Digits::SIX, first_counter, 10)
        .expect("look-ahead within bounds");
    let config = OobConfig::default();
    let mut oob = OobVerifier::new(config, Inbox::default()).expect("default config");

    let (mut now, mut lo, mut hi) = (START, START, START);
    let (mut totp_run, mut hotp_run) = (0u32, 0u32);
    let mut oob_evaluated = 0u64;
    // Each operation: kind, clock move (signed, seconds), text length, text.
    let mut rest = data;
    while rest.len() >= 4 {
        let (head, tail) = rest.split_at(4);
        let kind = head[0] % 6;
        let delta = i64::from(i16::from_le_bytes([head[1], head[2]])) * 7;
        now = now.saturating_add_signed(delta);
        lo = lo.min(now);
        hi = hi.max(now);
        let n = usize::from(head[3] % 16).min(tail.len());
        let (text_bytes, tail) = tail.split_at(n);
        rest = tail;
        let text = String::from_utf8_lossy(text_bytes);
        let recipient = RECIPIENTS[usize::from(head[3] >> 4) % RECIPIENTS.len()];
        match kind {
            0 => match totp_v.check(&text, now) {
                Ok(Outcome::Accepted) => {
                    let step = params.step as i64;
                    let issued = (-1..=1).any(|k| {
                        let t = now.saturating_add_signed(k * step);
                        totp(&secret(), t, &params).is_ok_and(|c| c.matches(&text))
                    });
                    assert!(issued, "TOTP accepted a code it did not issue");
                    totp_run = 0;
                }
                Ok(Outcome::Rejected(r)) if r == reasons::MISMATCH => {
                    totp_run += 1;
                    assert!(totp_run <= LOCK_AFTER_FAILURES, "TOTP evaluated past its lock");
                }
                _ => {}
            },
            1 => match hotp_v.check(&text, now) {
                Outcome::Accepted => {
                    let next = hotp_v.next_counter().map_or(u64::MAX, |c| c - 1);
                    let issued = hotp(&secret(), next, Digits::SIX, Algorithm::Sha1);
                    assert!(issued.matches(&text), "HOTP accepted a code it did not issue");
                    assert!(next >= first_counter);
                    hotp_run = 0;
                }
                Outcome::Rejected(r) if r == reasons::MISMATCH => {
                    hotp_run += 1;
                    assert!(hotp_run <= LOCK_AFTER_FAILURES, "HOTP evaluated past its lock");
                }
                _ => {}
            },
            2 => {
                let _ = oob.send(recipient, now);
            }
            3 | 4 => {
                // Half the checks type what the phone shows, so acceptance is reachable.
                let shown = oob
                    .delivery()
                    .0
                    .iter()
                    .find(|(r, _)| r == recipient)
                    .map(|(_, c)| c.clone());
                let typed = match (kind, &shown) {
                    (3, Some(code)) => code.clone(),
                    _ => text.to_string(),
                };
                match oob.check(recipient, &typed, now) {
                    Outcome::Accepted => {
                        assert_eq!(shown.as_deref(), Some(typed.as_str()), "OOB accepted an unsent code");
                        oob_evaluated += 1;
                    }
                    Outcome::Rejected(r)
                        if r == reasons::MISMATCH
                            || r == reasons::MALFORMED
                            || r == reasons::CODE_ATTEMPTS_EXHAUSTED =>
                    {
                        oob_evaluated += 1;
                    }
                    _ => {}
                }
                let hours = (hi - lo) / 3600 + 1;
                assert!(
                    oob_evaluated <= u64::from(config.checks_per_hour) * hours,
                    "OOB evaluated {oob_evaluated} codes in {hours} h of clock span"
                );
            }
            _ => {
                if head[3] & 1 == 0 {
                    totp_v.unlock();
                    totp_run = 0;
                } else {
                    oob.purge(now);
                }
            }
        }
    }
});

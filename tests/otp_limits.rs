//! Out-of-band codes attacked through the public API with a simulated clock: guessing
//! across many recipients, moving the clock back, locking a victim out, SMS pumping.

use facegate::otp::{Delivery, OobCode, OobConfig, OobVerifier};
use facegate::Outcome;

#[derive(Default)]
struct Phone(Vec<(String, String)>);
impl Delivery for Phone {
    type Error = std::convert::Infallible;
    fn deliver(&mut self, r: &str, code: &OobCode) -> Result<(), Self::Error> {
        self.0.push((r.to_owned(), code.expose().to_owned()));
        Ok(())
    }
}

fn last_code(v: &OobVerifier<Phone>) -> String {
    v.delivery().0.last().unwrap().1.clone()
}

/// A code that differs from `code` in its first digit.
fn wrong(code: &str) -> String {
    let d = code.as_bytes()[0];
    let first = if d == b'9' { '0' } else { char::from(d + 1) };
    format!("{first}{}", &code[1..])
}

fn reason(out: Outcome) -> &'static str {
    out.reason().map_or("accepted", |r| r.code())
}

const T0: u64 = 1_800_000_000;

/// An attacker with a stock of phone numbers (recipients) asks for a code for a new one every
/// second and guesses as fast as the verifier answers, for one simulated hour. Counts the
/// guesses the verifier actually evaluated: this is the measured guesses-per-hour bound.
fn guesses_evaluated_in_one_hour(config: OobConfig) -> (u32, u32) {
    let mut v = OobVerifier::new(config, Phone::default()).unwrap();
    let mut pending: Vec<(String, String)> = Vec::new();
    let (mut evaluated, mut sent) = (0u32, 0u32);
    for s in 0..3600u64 {
        let now = T0 + s;
        let r = format!("+86138{:08}", s);
        if v.send(&r, now).is_ok() {
            sent += 1;
            pending.push((r, last_code(&v)));
        }
        // 20 guesses per second, spread over every pending code.
        for k in 0..20 {
            let Some((r, code)) = pending.get(k % pending.len().max(1)).cloned() else {
                break;
            };
            let out = v.check(&r, &wrong(&code), now);
            match reason(out) {
                "otp.mismatch" | "otp.code_attempts_exhausted" | "otp.recipient_locked" => {
                    evaluated += 1
                }
                "accepted" => panic!("a wrong code was accepted"),
                _ => {}
            }
            if matches!(
                reason(out),
                "otp.code_attempts_exhausted" | "otp.no_code" | "otp.expired"
            ) {
                pending.retain(|(p, _)| *p != r);
            }
        }
    }
    (evaluated, sent)
}

#[test]
fn out_of_band_guesses_per_hour_are_bounded_across_recipients() {
    // Defaults: 120 checks per rolling hour (10 per minute), 60 sends per hour. The
    // attacker's script gets 110: codes run out (sends capped, 5-minute TTL) before the
    // check limit does.
    let (evaluated, sent) = guesses_evaluated_in_one_hour(OobConfig::default());
    assert!(
        evaluated <= 120,
        "{evaluated} guesses evaluated in one hour"
    );
    assert!(
        evaluated >= 100,
        "{evaluated}: the script should get close to the bound"
    );
    assert!(sent <= 60, "{sent} codes sent in one hour");
    // With the send caps opened up, the check limit alone binds: exactly 120, whatever
    // the number of recipients and codes.
    let open_sends = OobConfig {
        global_sends_per_minute: 60,
        global_sends_per_hour: 3600,
        ..OobConfig::default()
    };
    let (evaluated, sent) = guesses_evaluated_in_one_hour(open_sends);
    assert_eq!(evaluated, 120, "{evaluated} guesses evaluated in one hour");
    assert!(sent > 1000, "{sent}");
}

#[test]
fn a_code_checked_before_its_issue_time_fails_closed() {
    let mut v = OobVerifier::new(OobConfig::default(), Phone::default()).unwrap();
    v.send("a", T0).unwrap();
    let code = last_code(&v);
    // The clock set back 10 s: refused with its own reason, and the code is discarded.
    assert_eq!(
        reason(v.check("a", &code, T0 - 10)),
        "otp.clock_before_issue"
    );
    assert_eq!(reason(v.check("a", &code, T0 + 1)), "otp.no_code");
    // A reading within the documented skew (2 s) is tolerated.
    v.send("b", T0 + 100).unwrap();
    let code = last_code(&v);
    assert_eq!(reason(v.check("b", &code, T0 + 98)), "accepted");
    // Clock moving backwards at every send: no check before its issue time passes.
    let mut accepted_early = 0;
    for k in 0..100u64 {
        let r = format!("c{k}");
        let now = T0 + 100_000 - k * 120;
        if v.send(&r, now).is_err() {
            continue;
        }
        let code = last_code(&v);
        if v.check(&r, &code, now - 60).is_accepted() {
            accepted_early += 1;
        }
    }
    assert_eq!(accepted_early, 0);
}

/// Sends a code to `r`, waiting out rate limits on the simulated clock.
fn send_waiting(v: &mut OobVerifier<Phone>, r: &str, t: &mut u64) -> String {
    for _ in 0..1000 {
        if v.send(r, *t).is_ok() {
            return last_code(v);
        }
        *t += 60;
    }
    panic!("could not send");
}

/// Checks a code, waiting out the global check limit on the simulated clock.
fn check_waiting(v: &mut OobVerifier<Phone>, r: &str, code: &str, t: &mut u64) -> &'static str {
    loop {
        let out = reason(v.check(r, code, *t));
        if out != "otp.rate_limited" {
            return out;
        }
        *t += 60;
    }
}

/// Fails on purpose against `r` until the verifier locks it; returns the wrong guesses
/// it evaluated (a code that expired while the global limit made us wait is not one).
fn fail_until_locked(v: &mut OobVerifier<Phone>, r: &str, t: &mut u64) -> u32 {
    let mut failures = 0;
    loop {
        let code = send_waiting(v, r, t);
        for _ in 0..5 {
            match check_waiting(v, r, &wrong(&code), t) {
                "otp.recipient_locked" => return failures + 1,
                "otp.mismatch" => failures += 1,
                "otp.code_attempts_exhausted" => {
                    failures += 1;
                    break;
                }
                _ => break, // expired or gone: ask for a new code
            }
        }
        assert!(failures < 100, "{failures} failures and no lock");
    }
}

#[test]
fn recipient_lockout_expires_with_backoff() {
    let cfg = OobConfig {
        sends_per_minute: 60,
        sends_per_hour: 60,
        ..OobConfig::default()
    };
    let mut v = OobVerifier::new(cfg, Phone::default()).unwrap();
    let mut t = T0;
    assert_eq!(fail_until_locked(&mut v, "victim", &mut t), 100);
    let locked_at = t;
    // Locked for the documented 15 minutes: no send, no check.
    assert!(v.send("victim", locked_at + 899).is_err());
    assert_eq!(
        reason(v.check("victim", "123456", locked_at + 899)),
        "otp.recipient_locked"
    );
    // Then it expires by itself: the victim gets a code and it works.
    t = locked_at + 900;
    let code = send_waiting(&mut v, "victim", &mut t);
    assert_eq!(t, locked_at + 900);
    assert_eq!(check_waiting(&mut v, "victim", &code, &mut t), "accepted");

    // Back-off: after a lock expires, the next failure locks again for twice as long.
    assert_eq!(fail_until_locked(&mut v, "victim", &mut t), 100);
    t += 900;
    let code = send_waiting(&mut v, "victim", &mut t);
    let relocked_at = t;
    assert_eq!(
        check_waiting(&mut v, "victim", &wrong(&code), &mut t),
        "otp.recipient_locked"
    );
    assert_eq!(t, relocked_at);
    assert!(v.send("victim", relocked_at + 1799).is_err());
    let mut t = relocked_at + 1800;
    let code = send_waiting(&mut v, "victim", &mut t);
    assert_eq!(check_waiting(&mut v, "victim", &code, &mut t), "accepted");
}

#[test]
fn sends_are_capped_per_verifier() {
    let mut v = OobVerifier::new(OobConfig::default(), Phone::default()).unwrap();
    // A pumping script: a new premium-rate number every second.
    let ok_first_minute = (0..60)
        .filter(|s| v.send(&format!("+1900555{s:04}"), T0 + s).is_ok())
        .count();
    assert_eq!(ok_first_minute, 10);
    let ok_hour = ok_first_minute
        + (60..3600)
            .filter(|s| v.send(&format!("+1900555{s:04}"), T0 + s).is_ok())
            .count();
    assert_eq!(ok_hour, 60);
}

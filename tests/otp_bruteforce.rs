//! Brute force through the public API, as an attacker at the kiosk would try it: a new
//! session (flow) whenever the flow falls back or locks, the verifier rebuilt from its
//! persisted state for every session (as a kiosk restarting its process would), the clock
//! moved forward past every back-off, and guesses until the authenticator locks.
//! NIST SP 800-63B §5.2.2: at most 100 consecutive failed attempts per authenticator,
//! whatever the sessions.

use facegate::otp::{
    hotp, totp, Algorithm, Digits, FailureState, HotpAttempt, HotpVerifier, Secret, TotpAttempt,
    TotpParams, TotpVerifier,
};
use facegate::policy::{Method, Policy, Step};
use facegate::{Outcome, ReasonKind, Verifier};

const SECRET_HEX: &str = "3132333435363738393031323334353637383930";

fn secret() -> Secret {
    Secret::from_hex(SECRET_HEX).unwrap()
}

fn policy() -> Policy {
    Policy::builder("locker-7")
        .offer(Method::OneTimeCode)
        .offer(Method::IdCard)
        .build()
        .unwrap()
}

/// The next six-digit guess after `*g` that is not in `right`, so a lucky success
/// cannot end the run.
fn next_wrong(g: &mut u32, right: &[String]) -> String {
    loop {
        let guess = format!("{:06}", *g % 1_000_000);
        *g += 1;
        if !right.contains(&guess) {
            return guess;
        }
    }
}

/// What the attacker learns from one guess.
enum Answer {
    /// Evaluated and wrong.
    Failed,
    /// Not evaluated: wait.
    Throttled,
    /// Locked for good.
    Locked,
}

fn classify(out: Outcome) -> Answer {
    match out {
        Outcome::Accepted => panic!("a wrong guess was accepted"),
        Outcome::Rejected(r) if r.code() == "otp.locked" => Answer::Locked,
        Outcome::Rejected(r) if r.kind() == ReasonKind::Locked => Answer::Throttled,
        Outcome::Rejected(_) | Outcome::Retry(_) => Answer::Failed,
    }
}

/// Runs sessions until the authenticator locks; `guess` makes one attempt in a fresh
/// or continuing session and returns the outcome. Returns the wrong guesses evaluated.
fn brute_force(mut guess: impl FnMut(bool, u64) -> Outcome) -> (u32, u32) {
    let policy = policy();
    let mut now = 1_800_000_000u64;
    let (mut failures, mut sessions) = (0u32, 0u32);
    'sessions: while sessions < 2_000 {
        sessions += 1;
        let mut flow = policy.flow();
        if flow.choose(Method::OneTimeCode, now).is_err() {
            now += 3600;
            continue;
        }
        let mut fresh = true;
        loop {
            let out = guess(fresh, now);
            fresh = false;
            match classify(out) {
                // The guess that reached the limit was evaluated, then locked.
                Answer::Locked => return (failures + 1, sessions),
                Answer::Throttled => {
                    now += 3600; // a patient attacker waits out the back-off
                    continue 'sessions;
                }
                Answer::Failed => failures += 1,
            }
            assert!(
                failures <= 100,
                "{failures} wrong guesses in {sessions} sessions"
            );
            match flow
                .record(facegate::Family::OneTimeCode, out, now)
                .unwrap()
            {
                Step::TryAgain { .. } => now += 1,
                _ => continue 'sessions,
            }
        }
    }
    panic!("never locked after {failures} failures in {sessions} sessions");
}

#[test]
fn totp_locks_after_at_most_100_failures_across_sessions() {
    let p = TotpParams::default();
    // Persisted between sessions, as a kiosk would store it.
    let mut stored: (Option<u64>, FailureState) = (None, FailureState::new());
    let mut v = None;
    let mut g = 0u32;
    let (failures, sessions) = brute_force(|fresh, now| {
        if fresh || v.is_none() {
            v = Some(
                TotpVerifier::new(secret(), p, stored.0)
                    .unwrap()
                    .with_failure_state(stored.1),
            );
        }
        let verifier = v.as_mut().unwrap();
        let right: Vec<String> = [now - 30, now, now + 30]
            .iter()
            .map(|t| totp(&secret(), *t, &p).unwrap().expose().to_owned())
            .collect();
        let code = next_wrong(&mut g, &right);
        let out = verifier.verify(TotpAttempt { code: &code, now }).unwrap();
        stored = (verifier.last_accepted_step(), verifier.failure_state());
        out
    });
    assert_eq!(
        failures, 100,
        "locked after {failures} in {sessions} sessions"
    );
    assert_eq!(stored.1.failures(), 100);
    assert!(sessions > 10, "{sessions}");
    // Locked: even the right code is refused, at any later time, until unlocked.
    let mut v = TotpVerifier::new(secret(), p, stored.0)
        .unwrap()
        .with_failure_state(stored.1);
    let later = 1_900_000_000;
    let right = totp(&secret(), later, &p).unwrap();
    let out = v.check(right.expose(), later).unwrap();
    assert_eq!(out.reason().map(|r| r.code()), Some("otp.locked"));
    v.unlock();
    assert!(v.check(right.expose(), later).unwrap().is_accepted());
}

#[test]
fn hotp_locks_after_at_most_100_failures_across_restarts() {
    let mut stored: (u64, FailureState) = (0, FailureState::new());
    let mut g = 0u32;
    let right: Vec<String> = (0..=10)
        .map(|c| {
            hotp(&secret(), c, Digits::SIX, Algorithm::Sha1)
                .expose()
                .to_owned()
        })
        .collect();
    let (failures, _) = brute_force(|_, now| {
        // A new process for every guess: only the persisted state carries over.
        let mut v = HotpVerifier::new(secret(), Algorithm::Sha1, Digits::SIX, stored.0, 10)
            .unwrap()
            .with_failure_state(stored.1);
        let code = next_wrong(&mut g, &right);
        let out = v.verify(HotpAttempt { code: &code, now }).unwrap();
        stored = (v.next_counter().unwrap(), v.failure_state());
        out
    });
    assert_eq!(failures, 100);
    assert!(stored.1.is_locked());
    assert_eq!(stored.1.failures(), 100);
}

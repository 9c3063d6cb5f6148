//! One-time codes: codes sent out of band through the integrator's delivery callback, and
//! TOTP/HOTP authenticators imported from and exported to `otpauth://` URIs.
//!
//! Why a callback for delivery: the code must reach the person's phone and nothing else.
//! facegate hands it to the callback in a buffer it wipes right after, and never writes it
//! to an error message, a log or an outcome.

use std::ffi::{c_char, c_void};

use facegate::otp::{
    Algorithm, Delivery, Digits, FailureState, HotpVerifier, OobCode, OobConfig, OobVerifier,
    OtpAuthUri, OtpError, Secret, TotpParams, TotpVerifier, UriKind,
};
use facegate::verifier::Family;

use crate::{
    arg_bytes, arg_str, enum_arg, fail, free_handle, guard, handle, handle_mut, need, new_handle,
    put, wiped_c_string, write_text, CallbackFailed, FgOutcome, FgStatus, Res,
};

/// Delivers `code` (NUL-terminated digits, valid during the call only — do not keep or log
/// it) to `recipient` (e.g. a phone number). Return 0 when sent, nonzero on failure.
pub type FgDeliverFn = Option<
    unsafe extern "C" fn(user: *mut c_void, recipient: *const c_char, code: *const c_char) -> i32,
>;

/// Out-of-band codes (SMS, voice, push) with NIST SP 800-63B limits: 6 digits, 5 minutes,
/// 5 tries a code, send and guess rate limits per recipient and per verifier.
///
/// Thread safety: one thread at a time (it may move between threads). The delivery callback
/// runs on the calling thread. Pending codes are kept only as keyed hashes, wiped on free.
pub struct FgOob {
    inner: OobVerifier<CallbackDelivery>,
}

struct CallbackDelivery {
    deliver: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> i32,
    user: *mut c_void,
}

impl Delivery for CallbackDelivery {
    type Error = CallbackFailed;
    fn deliver(&mut self, recipient: &str, code: &OobCode) -> Result<(), CallbackFailed> {
        // NUL-terminated copies, wiped when this function returns.
        let recipient = wiped_c_string(recipient).ok_or(CallbackFailed)?;
        let text = wiped_c_string(code.expose()).ok_or(CallbackFailed)?;
        // SAFETY: the integrator registered this callback for `user` (fg_oob_new's contract);
        // both strings are NUL-terminated and outlive the call.
        let rc = unsafe {
            (self.deliver)(
                self.user,
                recipient.as_ptr().cast::<c_char>(),
                text.as_ptr().cast::<c_char>(),
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(CallbackFailed)
        }
    }
}

/// Messages of OTP errors: the library's, which never hold a code, secret or recipient.
fn otp_fail(e: &OtpError) -> crate::Fail {
    let status = match e {
        OtpError::RateLimited { .. }
        | OtpError::SendCapReached { .. }
        | OtpError::RecipientLocked => FgStatus::RateLimited,
        OtpError::Delivery(_) => FgStatus::CallbackFailed,
        OtpError::Rng => FgStatus::Internal,
        _ => FgStatus::OtpInvalid,
    };
    fail(status, e.to_string())
}

/// An out-of-band code verifier with the default (NIST) settings, delivering through
/// `deliver` with `user` passed back.
///
/// # Safety
/// `deliver` is safe to call with `user` for the verifier's lifetime; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_oob_new(
    deliver: FgDeliverFn,
    user: *mut c_void,
    out: *mut *mut FgOob,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        let deliver = deliver.ok_or_else(|| fail(FgStatus::NullPointer, "deliver is NULL"))?;
        let inner = OobVerifier::new(OobConfig::default(), CallbackDelivery { deliver, user })
            .map_err(|e| otp_fail(&e))?;
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, FgOob { inner }) }
    })
}

/// Draws a new code for `recipient`, replaces any pending one, and hands it to the delivery
/// callback. `expires_at` (may be NULL) receives the code's expiry, Unix seconds. Refused
/// with `FG_STATUS_RATE_LIMITED` over a send limit or while the recipient is locked;
/// `FG_STATUS_CALLBACK_FAILED` when the callback fails (the send still counts).
///
/// # Safety
/// `oob` is a live verifier used by this thread alone; `recipient` is NUL-terminated;
/// `expires_at` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fg_oob_send(
    oob: *mut FgOob,
    recipient: *const c_char,
    now: u64,
    expires_at: *mut u64,
) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract for each pointer.
        let (v, recipient) = unsafe { (handle_mut(oob, "oob")?, arg_str(recipient, "recipient")?) };
        let sent = v.inner.send(recipient, now).map_err(|e| otp_fail(&e))?;
        if !expires_at.is_null() {
            // SAFETY: non-NULL and writable by the contract.
            unsafe { put(expires_at, sent.expires_at, "expires_at")? };
        }
        Ok(())
    })
}

/// Checks the code the person typed for `recipient` at `now`; writes the outcome (family
/// one-time code) for `fg_flow_record`.
///
/// # Safety
/// `oob` is a live verifier used by this thread alone; `recipient` and `typed` are
/// NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_oob_check(
    oob: *mut FgOob,
    recipient: *const c_char,
    typed: *const c_char,
    now: u64,
    out: *mut FgOutcome,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract for each pointer.
        let (v, recipient, typed) = unsafe {
            (
                handle_mut(oob, "oob")?,
                arg_str(recipient, "recipient")?,
                arg_str(typed, "typed code")?,
            )
        };
        let outcome = v.inner.check(recipient, typed, now);
        // SAFETY: non-NULL (checked) and writable by the contract.
        unsafe { put(out, FgOutcome::new(Family::OneTimeCode, outcome), "out") }
    })
}

/// Frees an out-of-band verifier, wiping pending code hashes; NULL is accepted.
///
/// # Safety
/// `oob` is NULL or a live verifier no other call is using.
#[no_mangle]
pub unsafe extern "C" fn fg_oob_free(oob: *mut FgOob) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe { free_handle(oob) }
}

/// HMAC algorithm of an authenticator.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgOtpAlgorithm {
    /// HMAC-SHA-1 (what most authenticator apps use).
    Sha1 = 0,
    /// HMAC-SHA-256.
    Sha256 = 1,
    /// HMAC-SHA-512.
    Sha512 = 2,
}

/// Settings of a new authenticator.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FgOtpParams {
    /// Nonzero: HOTP (counter-based); zero: TOTP (time-based).
    pub hotp: u32,
    /// An `FgOtpAlgorithm` value.
    pub algorithm: u32,
    /// Code length, 6..=8.
    pub digits: u32,
    /// TOTP: time step in seconds (1..=3600, 30 is standard). HOTP: ignored.
    pub period: u64,
    /// HOTP: the next counter expected. TOTP: ignored.
    pub counter: u64,
}

/// A TOTP or HOTP authenticator (the shared secret, its label, replay and failure state).
///
/// Thread safety: one thread at a time (it may move between threads). The secret is wiped
/// on free (ring's HMAC key schedule is not: a documented limitation of the library).
pub struct FgOtp {
    uri: OtpAuthUri,
    verifier: OtpVerifier,
}

enum OtpVerifier {
    Totp(TotpVerifier),
    Hotp(HotpVerifier),
}

/// Counters beyond the expected one an HOTP check accepts (a few presses of the token's
/// button without a login); the library allows at most 10.
pub const FG_HOTP_LOOK_AHEAD: u32 = 3;

/// A second copy of a secret (the verifier takes one, the URI keeps one for export); both
/// are wiped on drop.
fn copy_secret(s: &Secret) -> Res<Secret> {
    Secret::from_base32(&s.to_base32()).map_err(|e| otp_fail(&e))
}

impl FgOtp {
    fn from_uri(uri: OtpAuthUri) -> Res<FgOtp> {
        let verifier = verifier(&uri, uri.kind, None, FailureState::new())?;
        Ok(FgOtp { uri, verifier })
    }
}

/// A verifier for `uri`'s secret and settings, of `kind` (HOTP: with its next counter),
/// with replay (`last_step`, TOTP) and failure state restored.
fn verifier(
    uri: &OtpAuthUri,
    kind: UriKind,
    last_step: Option<u64>,
    failures: FailureState,
) -> Res<OtpVerifier> {
    let secret = copy_secret(&uri.secret)?;
    Ok(match kind {
        UriKind::Totp { period } => {
            let params = TotpParams {
                algorithm: uri.algorithm,
                digits: uri.digits,
                step: period,
                ..TotpParams::default()
            };
            OtpVerifier::Totp(
                TotpVerifier::new(secret, params, last_step)
                    .map_err(|e| otp_fail(&e))?
                    .with_failure_state(failures),
            )
        }
        UriKind::Hotp { counter } => OtpVerifier::Hotp(
            HotpVerifier::new(
                secret,
                uri.algorithm,
                uri.digits,
                counter,
                FG_HOTP_LOOK_AHEAD,
            )
            .map_err(|e| otp_fail(&e))?
            .with_failure_state(failures),
        ),
    })
}

/// What an authenticator must remember between runs of the kiosk program, besides its
/// secret: the replay state and the failure counters. Without it a restarted kiosk would
/// accept a TOTP code already used in the same time step and forget past failed guesses.
/// Persist it after every `fg_otp_check` (`fg_otp_state_export`) and restore it after
/// importing the authenticator (`fg_otp_state_import`). It holds no secret.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FgOtpState {
    /// TOTP: nonzero when `last_step` holds the last accepted time step. HOTP: 0.
    pub has_last_step: u32,
    /// TOTP: the last accepted time step (Unix time / period).
    pub last_step: u64,
    /// HOTP: nonzero when `next_counter` holds the next counter expected (0 once the
    /// counter space is used up). TOTP: 0.
    pub has_next_counter: u32,
    /// HOTP: the next counter expected (also in the exported URI).
    pub next_counter: u64,
    /// Consecutive failed codes (the authenticator locks at 100, until an operator unlocks it).
    pub failures: u32,
    /// Unix time before which no code is evaluated (0: not in back-off).
    pub blocked_until: u64,
}

/// Imports an authenticator from an `otpauth://totp/…` or `otpauth://hotp/…` URI (the Key
/// Uri Format authenticator apps scan). A malformed URI is `FG_STATUS_OTP_INVALID`; the
/// message names the part, never the secret.
///
/// # Safety
/// `uri` is NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_otp_import_uri(uri: *const c_char, out: *mut *mut FgOtp) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract.
        let text = unsafe { arg_str(uri, "uri")? };
        let parsed = OtpAuthUri::parse(text).map_err(|e| otp_fail(&e))?;
        let otp = FgOtp::from_uri(parsed)?;
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, otp) }
    })
}

/// A new authenticator from a raw shared secret (16..=1024 bytes), a label such as
/// `"Locker:staff-7"` and `params`.
///
/// # Safety
/// `params` is readable; `secret` points to `secret_len` readable bytes; `label` is
/// NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_otp_new(
    params: *const FgOtpParams,
    secret: *const u8,
    secret_len: usize,
    label: *const c_char,
    out: *mut *mut FgOtp,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract for each pointer.
        let (p, secret, label) = unsafe {
            (
                handle(params, "params")?,
                arg_bytes(secret, secret_len, "secret")?,
                arg_str(label, "label")?,
            )
        };
        if label.is_empty() {
            return Err(fail(FgStatus::OtpInvalid, "the label is empty"));
        }
        let algorithm = enum_arg(
            p.algorithm,
            &[
                (0, Algorithm::Sha1),
                (1, Algorithm::Sha256),
                (2, Algorithm::Sha512),
            ],
            "algorithm",
        )?;
        let digits = u8::try_from(p.digits)
            .ok()
            .filter(|d| (6..=8).contains(d))
            .ok_or_else(|| fail(FgStatus::OtpInvalid, "digits must be 6, 7 or 8"))
            .and_then(|d| Digits::new(d).map_err(|e| otp_fail(&e)))?;
        let kind = if p.hotp != 0 {
            UriKind::Hotp { counter: p.counter }
        } else {
            if !(1..=3600).contains(&p.period) {
                return Err(fail(
                    FgStatus::OtpInvalid,
                    "period must be 1..=3600 seconds",
                ));
            }
            UriKind::Totp { period: p.period }
        };
        let uri = OtpAuthUri {
            kind,
            label: label.to_owned(),
            issuer: None,
            secret: Secret::from_bytes(secret.to_vec()).map_err(|e| otp_fail(&e))?,
            algorithm,
            digits,
        };
        let otp = FgOtp::from_uri(uri)?;
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, otp) }
    })
}

/// Exports the authenticator as an `otpauth://` URI (HOTP with its next counter) into the
/// caller's buffer of `capacity` bytes; `needed` (may be NULL) receives the size with the
/// NUL. The URI holds the secret: show it as a QR code, never log it, and wipe the buffer.
///
/// # Safety
/// `otp` is a live authenticator; `buf` is NULL or writable for `capacity` bytes; `needed`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fg_otp_export_uri(
    otp: *const FgOtp,
    buf: *mut c_char,
    capacity: usize,
    needed: *mut usize,
) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let o = unsafe { handle(otp, "otp")? };
        let kind = match (&o.verifier, o.uri.kind) {
            (OtpVerifier::Hotp(h), UriKind::Hotp { counter }) => UriKind::Hotp {
                counter: h.next_counter().unwrap_or(counter),
            },
            (_, k) => k,
        };
        let current = OtpAuthUri {
            kind,
            label: o.uri.label.clone(),
            issuer: o.uri.issuer.clone(),
            secret: copy_secret(&o.uri.secret)?,
            algorithm: o.uri.algorithm,
            digits: o.uri.digits,
        };
        let text = current.to_uri();
        // SAFETY: forwarded contract for `buf`, `capacity` and `needed`.
        unsafe { write_text(&text, buf, capacity, needed) }
    })
}

/// Checks a typed TOTP/HOTP code at Unix time `now` (replays and back-off included); writes
/// the outcome (family one-time code) for `fg_flow_record`.
///
/// # Safety
/// `otp` is a live authenticator used by this thread alone; `typed` is NUL-terminated;
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_otp_check(
    otp: *mut FgOtp,
    typed: *const c_char,
    now: u64,
    out: *mut FgOutcome,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract for each pointer.
        let (o, typed) = unsafe { (handle_mut(otp, "otp")?, arg_str(typed, "typed code")?) };
        let outcome = match &mut o.verifier {
            OtpVerifier::Totp(t) => t.check(typed, now).map_err(|e| otp_fail(&e))?,
            OtpVerifier::Hotp(h) => h.check(typed, now),
        };
        // SAFETY: non-NULL (checked) and writable by the contract.
        unsafe { put(out, FgOutcome::new(Family::OneTimeCode, outcome), "out") }
    })
}

/// Writes the authenticator's replay state and failure counters to `*out` (no secret), to
/// persist next to its URI.
///
/// # Safety
/// `otp` is a live authenticator; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_otp_state_export(otp: *const FgOtp, out: *mut FgOtpState) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract.
        let o = unsafe { handle(otp, "otp")? };
        let (last_step, next_counter, failures) = match &o.verifier {
            OtpVerifier::Totp(t) => (t.last_accepted_step(), None, t.failure_state()),
            OtpVerifier::Hotp(h) => (None, h.next_counter(), h.failure_state()),
        };
        let state = FgOtpState {
            has_last_step: u32::from(last_step.is_some()),
            last_step: last_step.unwrap_or(0),
            has_next_counter: u32::from(next_counter.is_some()),
            next_counter: next_counter.unwrap_or(0),
            failures: failures.failures(),
            blocked_until: failures.blocked_until(),
        };
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { put(out, state, "out") }
    })
}

/// Restores the state `fg_otp_state_export` wrote (typically after `fg_otp_import_uri` at
/// start-up), replacing the authenticator's replay state and failure counters. Fields of
/// the other kind (TOTP's `last_step` for HOTP, HOTP's `next_counter` for TOTP) are
/// ignored. An HOTP state without a next counter (`has_next_counter` 0: the counter space
/// is used up) cannot be restored: `FG_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `otp` is a live authenticator used by this thread alone; `state` is readable.
#[no_mangle]
pub unsafe extern "C" fn fg_otp_state_import(
    otp: *mut FgOtp,
    state: *const FgOtpState,
) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract for each pointer.
        let (o, st) = unsafe { (handle_mut(otp, "otp")?, handle(state, "state")?) };
        let failures = FailureState::restore(st.failures, st.blocked_until);
        let (kind, last_step) = match o.uri.kind {
            UriKind::Totp { .. } => (o.uri.kind, (st.has_last_step != 0).then_some(st.last_step)),
            UriKind::Hotp { .. } => {
                if st.has_next_counter == 0 {
                    return Err(fail(
                        FgStatus::InvalidArgument,
                        "an HOTP state without a next counter cannot be restored",
                    ));
                }
                (
                    UriKind::Hotp {
                        counter: st.next_counter,
                    },
                    None,
                )
            }
        };
        o.verifier = verifier(&o.uri, kind, last_step, failures)?;
        Ok(())
    })
}

/// Frees an authenticator, wiping its secret; NULL is accepted.
///
/// # Safety
/// `otp` is NULL or a live authenticator no other call is using.
#[no_mangle]
pub unsafe extern "C" fn fg_otp_free(otp: *mut FgOtp) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe { free_handle(otp) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FgOutcomeKind;
    use std::ptr::null_mut;

    /// A restarted kiosk refuses a TOTP code used before the restart only with the saved
    /// state: without it the same code is accepted twice.
    #[test]
    fn saved_state_keeps_replay_protection_across_a_restart() {
        let params = FgOtpParams {
            hotp: 0,
            algorithm: 0,
            digits: 8,
            period: 30,
            counter: 0,
        };
        let secret = b"12345678901234567890";
        let check = |otp: *mut FgOtp| {
            let mut out = FgOutcome::new(Family::OneTimeCode, facegate::Outcome::Accepted);
            // SAFETY: a live handle, a NUL-terminated code, a writable output.
            assert_eq!(
                unsafe { fg_otp_check(otp, c"94287082".as_ptr(), 59, &mut out) },
                FgStatus::Ok
            );
            out.kind
        };
        let new = || {
            let mut otp = null_mut();
            // SAFETY: readable params and secret, a NUL-terminated label, a writable output.
            let s = unsafe {
                fg_otp_new(
                    &params,
                    secret.as_ptr(),
                    secret.len(),
                    c"staff".as_ptr(),
                    &mut otp,
                )
            };
            assert_eq!(s, FgStatus::Ok);
            otp
        };
        let first = new();
        assert_eq!(check(first), FgOutcomeKind::Accepted);
        let mut saved = FgOtpState {
            has_last_step: 0,
            last_step: 0,
            has_next_counter: 0,
            next_counter: 0,
            failures: 7,
            blocked_until: 7,
        };
        // SAFETY: live handles, readable and writable states; each handle freed once.
        unsafe {
            assert_eq!(fg_otp_state_export(first, &mut saved), FgStatus::Ok);
            assert_eq!((saved.has_last_step, saved.last_step), (1, 1));
            assert_eq!((saved.failures, saved.blocked_until), (0, 0));
            fg_otp_free(first);
            let forgetful = new();
            assert_eq!(check(forgetful), FgOutcomeKind::Accepted);
            fg_otp_free(forgetful);
            let restored = new();
            assert_eq!(fg_otp_state_import(restored, &saved), FgStatus::Ok);
            assert_eq!(check(restored), FgOutcomeKind::Rejected);
            fg_otp_free(restored);
        }
    }
}

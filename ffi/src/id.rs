//! Identity documents: Chinese resident identity numbers (and HK/Macao/Taiwan/foreigner
//! permits) and ICAO 9303 machine-readable zones, with the reason codes of the
//! `facegate id check` / `facegate mrz check` commands.
//!
//! Why check and verify are separate: checking a number's form says nothing about who holds
//! it, so only `*_verify`, which asks the integrator's holder callback, gives an outcome the
//! flow accepts. The full number reaches that callback and nothing else; the caller gets the
//! masked form.

use std::ffi::{c_char, c_void, CString};

use facegate::date::Date;
use facegate::idcard::{
    CnIdNumber, HolderRegistry, IdNumberVerifier, IdReading, Mrz, MrzReading, MrzVerifier,
};
use facegate::verifier::{Family, Verifier};

use crate::{
    arg_str, fail, guard, need, put, reason_text, wiped_c_string, CallbackFailed, FgDate,
    FgOutcome, FgStatus, FG_MASKED_MAX,
};

/// Is the person `name` the holder of document `number`? (The parcel's recipient record, a
/// staff list, …) `number` is the full number, valid during the call only: do not log it.
/// Return 1 for yes, 0 for no, negative when the lookup failed.
pub type FgHolderFn = Option<
    unsafe extern "C" fn(user: *mut c_void, name: *const c_char, number: *const c_char) -> i32,
>;

/// The form of a document number, checked (no holder lookup).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FgIdCheck {
    /// Nonzero when the number (or MRZ) is well formed and, for an MRZ, not expired.
    pub valid: u32,
    /// NULL when valid, else a static reason code such as `"idcard.check_digit"`.
    pub reason: *const c_char,
    /// The masked number (e.g. `110105********002X`), NUL-terminated; empty when invalid.
    pub masked: [c_char; FG_MASKED_MAX],
    /// Birth date (valid only): for the under-14 consent rule of `fg_face_verify`.
    pub birth_date: FgDate,
    /// Nonzero when the holder is under 14 today (valid only): face needs a guardian's
    /// consent too.
    pub under_14: u32,
}

fn check_out(result: Result<(String, Date), facegate::Reason>, today: Date) -> FgIdCheck {
    let mut out = FgIdCheck {
        valid: 0,
        reason: std::ptr::null(),
        masked: [0; FG_MASKED_MAX],
        birth_date: FgDate {
            year: 0,
            month: 0,
            day: 0,
        },
        under_14: 0,
    };
    match result {
        Ok((masked, born)) => {
            out.valid = 1;
            for (dst, src) in out
                .masked
                .iter_mut()
                .zip(masked.bytes().take(FG_MASKED_MAX - 1))
            {
                *dst = src as c_char;
            }
            out.birth_date = FgDate::from_date(born);
            out.under_14 = u32::from(
                born.age_on(today)
                    .is_some_and(|a| a < facegate::consent::GUARDIAN_AGE),
            );
        }
        Err(r) => out.reason = reason_text(r),
    }
    out
}

/// The body of both checks: read the text and date, apply `parse`, write the result.
///
/// # Safety
/// `text` is NULL or NUL-terminated; `out` is NULL or writable.
unsafe fn check(
    text: *const c_char,
    what: &str,
    today: FgDate,
    out: *mut FgIdCheck,
    parse: impl FnOnce(&str, Date) -> Result<(String, Date), facegate::Reason>,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract.
        let text = unsafe { arg_str(text, what)? };
        let today = today.to_date("today")?;
        let result = check_out(parse(text, today), today);
        // SAFETY: non-NULL (checked) and writable by the contract.
        unsafe { put(out, result, "out") }
    })
}

/// Checks an 18-character identity number's form on `today` (region, birth date, check
/// character). Invalid is not an error: `valid` is 0 and `reason` says why.
///
/// # Safety
/// `number` is NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_id_number_check(
    number: *const c_char,
    today: FgDate,
    out: *mut FgIdCheck,
) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe {
        check(number, "number", today, out, |number, today| {
            CnIdNumber::parse(number, today)
                .map(|id| (id.masked().as_str().to_owned(), id.birth_date()))
                .map_err(|e| e.reason())
        })
    }
}

/// Checks an MRZ (2 or 3 lines separated by newlines; TD1, TD2 or TD3) on `today`: check
/// digits, dates and expiry, with the `mrz.*` reason codes.
///
/// # Safety
/// `text` is NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_mrz_check(
    text: *const c_char,
    today: FgDate,
    out: *mut FgIdCheck,
) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe {
        check(text, "text", today, out, |text, today| {
            Mrz::parse(text, today)
                .and_then(|m| m.check_expiry(today).map(|()| m))
                .map(|m| {
                    (
                        m.masked_document_number().as_str().to_owned(),
                        m.birth_date(),
                    )
                })
                .map_err(|e| e.reason())
        })
    }
}

/// The holder callback as the library's registry.
struct CallbackRegistry {
    is_holder: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> i32,
    user: *mut c_void,
}

impl HolderRegistry for CallbackRegistry {
    type Error = CallbackFailed;
    fn is_holder(&self, name: &str, number: &str) -> Result<bool, CallbackFailed> {
        let name = CString::new(name).map_err(|_| CallbackFailed)?;
        // The full number's NUL-terminated copy is wiped when this function returns.
        let number = wiped_c_string(number).ok_or(CallbackFailed)?;
        // SAFETY: the integrator passed this callback for `user` for the duration of the
        // verifying call; both strings are NUL-terminated and outlive the call.
        match unsafe {
            (self.is_holder)(self.user, name.as_ptr(), number.as_ptr().cast::<c_char>())
        } {
            1 => Ok(true),
            0 => Ok(false),
            _ => Err(CallbackFailed),
        }
    }
}

fn registry(is_holder: FgHolderFn, user: *mut c_void) -> crate::Res<CallbackRegistry> {
    let is_holder = is_holder.ok_or_else(|| fail(FgStatus::NullPointer, "is_holder is NULL"))?;
    Ok(CallbackRegistry { is_holder, user })
}

fn lookup_failed(_: CallbackFailed) -> crate::Fail {
    fail(FgStatus::CallbackFailed, "the holder callback failed")
}

/// Verifies an identity number read from a card (chip or typed) and its holder `name`: the
/// number's form, then `is_holder`. Writes the outcome (family ID card) for `fg_flow_record`.
///
/// # Safety
/// `name` and `number` are NUL-terminated; `is_holder` is safe to call with `user` during
/// this call; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_id_number_verify(
    name: *const c_char,
    number: *const c_char,
    today: FgDate,
    is_holder: FgHolderFn,
    user: *mut c_void,
    out: *mut FgOutcome,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract for each pointer.
        let (name, number) = unsafe { (arg_str(name, "name")?, arg_str(number, "number")?) };
        let today = today.to_date("today")?;
        let mut v = IdNumberVerifier::new(registry(is_holder, user)?);
        let outcome = v
            .verify(IdReading {
                name,
                number,
                today,
            })
            .map_err(lookup_failed)?;
        // SAFETY: non-NULL (checked) and writable by the contract.
        unsafe { put(out, FgOutcome::new(Family::IdCard, outcome), "out") }
    })
}

/// Verifies a scanned MRZ and its holder: check digits, dates, expiry, then `is_holder`
/// with the MRZ name (`SURNAME GIVEN NAMES`) and document number. Writes the outcome.
///
/// # Safety
/// `text` is NUL-terminated; `is_holder` is safe to call with `user` during this call;
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_mrz_verify(
    text: *const c_char,
    today: FgDate,
    is_holder: FgHolderFn,
    user: *mut c_void,
    out: *mut FgOutcome,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract.
        let text = unsafe { arg_str(text, "text")? };
        let today = today.to_date("today")?;
        let mut v = MrzVerifier::new(registry(is_holder, user)?);
        let outcome = v
            .verify(MrzReading { text, today })
            .map_err(lookup_failed)?;
        // SAFETY: non-NULL (checked) and writable by the contract.
        unsafe { put(out, FgOutcome::new(Family::IdCard, outcome), "out") }
    })
}

//! # facegate's C interface
//!
//! `libfacegate.so` / `libfacegate.a` and `include/facegate.h` (generated from this crate by
//! cbindgen; CI checks that the committed header matches). Locker firmware and kiosk
//! applications are mostly C or C++, and Java, C# and Python reach native code through a C
//! ABI: this crate is their door to the same library the Rust API exposes.
//!
//! Why it is shaped this way — small and hard to misuse, in the spirit of ring and rustls:
//!
//! - **Opaque handles, one owner.** Every object is a pointer to a type C cannot see into,
//!   made by one `fg_*_new`-style function and released by its `fg_*_free`, which accepts
//!   NULL. Buffers the caller passes in stay the caller's; strings facegate hands out are
//!   either static (reason codes, notices, prompts: valid for the life of the process) or
//!   copied into a buffer the caller owns.
//! - **A status on every call.** Every function returns an `FgStatus`; a person's failure
//!   (wrong code, wrong face, invalid ID number) is not an error but an `FgOutcome` with a
//!   stable reason code, exactly as in Rust. The per-thread `fg_last_error` message explains
//!   an error status and never holds a code, secret, phone number, ID number or biometric
//!   value: messages are written here from the error's kind, never from the caller's input.
//! - **Nothing crosses the boundary uncaught.** Each function runs under `catch_unwind`; a
//!   panic becomes `FgStatus::Internal`. NULL pointers, lengths that do not match, absurd
//!   frame sizes, non-UTF-8 strings, undecodable images and wrong model digests are each a
//!   documented status.
//! - **Secrets are wiped.** Handles holding a code, a secret or pixels hold them in the
//!   library's zeroizing types, so freeing the handle wipes them. Templates never leave the
//!   library at all: C sees a distance and a decision, never an embedding.
//! - **The rules of the Rust API hold here too.** A face-only policy does not build; a face
//!   attempt needs a consent handle whose constructor is named for who gave it; an outcome can
//!   only be recorded with a reason code facegate itself produced.
//!
//! Thread safety is stated on each handle in the header. The face pipeline is `Sync` (checked
//! at compile time below) and may be used from many threads at once.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use facegate::verifier::{Family, Outcome, Reason, ReasonKind};

pub mod face;
pub mod id;
pub mod otp;
pub mod policy;
pub mod session;

/// Version of the C ABI: raised whenever a function, struct or enum of the header changes
/// incompatibly.
pub const FG_ABI_VERSION: u32 = 1;

/// Longest masked identifier written into `FgIdCheck.masked`, with its NUL.
pub const FG_MASKED_MAX: usize = 48;

/// What a call did. `FG_STATUS_OK` is 0; every other value is an error whose explanation
/// `fg_last_error` gives on the same thread.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgStatus {
    /// Success. A person's failure (wrong code, no face, …) is also `OK`, with the
    /// `FgOutcome` saying what happened.
    Ok = 0,
    /// A required pointer was NULL.
    NullPointer = 1,
    /// An argument is out of range or inconsistent (an unknown enum value, an invalid date,
    /// a malformed digest, timestamps that do not increase, too many frames, a face session's
    /// frame of another size than its first, …).
    InvalidArgument = 2,
    /// A string is not valid UTF-8.
    InvalidUtf8 = 3,
    /// A raw camera frame's layout is impossible: zero or over-large dimensions, a stride
    /// shorter than a row, plane lengths that do not match the size, odd 4:2:0 sizes.
    BadDimensions = 4,
    /// Image bytes are not a decodable JPEG/PNG/BMP/PNM, or are over the size limits.
    BadImage = 5,
    /// A model file's SHA-256 is not the one given: the file is refused.
    ModelDigest = 6,
    /// A model could not be read or is not the network expected.
    ModelUnusable = 7,
    /// The policy was refused (face only, face as default, duplicates, no method, …).
    PolicyRefused = 8,
    /// The flow refused the step (method not offered, locked, outcome from another method,
    /// no method chosen, flow finished).
    FlowRefused = 9,
    /// A one-time-code setting or secret is invalid (length, digits, algorithm, URI).
    OtpInvalid = 10,
    /// A code cannot be sent now (recipient or send rate limit, recipient locked).
    RateLimited = 11,
    /// A callback (delivery, holder registry, audit sink) reported a failure.
    CallbackFailed = 12,
    /// The caller's buffer is too small; the needed size was written.
    BufferTooSmall = 13,
    /// The face pipeline failed to run (an integration fault, not the person's).
    FaceFailed = 14,
    /// An index is past the end.
    OutOfRange = 15,
    /// The face session has already decided: it takes no more frames and no second
    /// `fg_session_finish`. Free it.
    SessionDecided = 16,
    /// A bug in facegate (a caught panic). Please report it.
    Internal = 99,
}

/// A call's failure: its status and a message safe to show and log.
pub(crate) struct Fail {
    status: FgStatus,
    message: String,
}

pub(crate) type Res<T = ()> = Result<T, Fail>;

pub(crate) fn fail(status: FgStatus, message: impl Into<String>) -> Fail {
    Fail {
        status,
        message: message.into(),
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // Messages are ours and contain no NUL; drop any to be safe rather than lose the text.
    let text = CString::new(message.replace('\0', "")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = text);
}

/// Runs one exported function's body: clears the thread's last error, catches any panic,
/// and turns the result into a status (recording the message of a failure).
pub(crate) fn guard(body: impl FnOnce() -> Res) -> FgStatus {
    set_last_error("");
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => FgStatus::Ok,
        Ok(Err(f)) => {
            set_last_error(&f.message);
            f.status
        }
        Err(_) => {
            set_last_error("internal error: a panic was caught at the facegate C boundary");
            FgStatus::Internal
        }
    }
}

/// A C string argument as UTF-8. NULL and non-UTF-8 are errors; `what` names the argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, what: &str) -> Res<&'a str> {
    if p.is_null() {
        return Err(fail(FgStatus::NullPointer, format!("{what} is NULL")));
    }
    // SAFETY: non-NULL, and the caller's contract (documented in the header) is a
    // NUL-terminated string valid for the call.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|_| fail(FgStatus::InvalidUtf8, format!("{what} is not valid UTF-8")))
}

/// A byte buffer argument. NULL is an error unless `len` is 0.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes valid for `'a`.
pub(crate) unsafe fn arg_bytes<'a>(p: *const u8, len: usize, what: &str) -> Res<&'a [u8]> {
    if p.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(fail(FgStatus::NullPointer, format!("{what} is NULL")));
    }
    if len > isize::MAX as usize {
        return Err(fail(
            FgStatus::InvalidArgument,
            format!("{what}: length is larger than any buffer"),
        ));
    }
    // SAFETY: non-NULL, len ≤ isize::MAX, and the caller's contract is `len` readable bytes
    // valid for the call.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A shared reference to a handle. NULL is an error.
///
/// # Safety
/// `p` is NULL or a live handle of type `T` made by facegate, not freed.
pub(crate) unsafe fn handle<'a, T>(p: *const T, what: &str) -> Res<&'a T> {
    // SAFETY: the caller's contract: NULL (checked by `as_ref`) or a live handle.
    unsafe { p.as_ref() }.ok_or_else(|| fail(FgStatus::NullPointer, format!("{what} is NULL")))
}

/// An exclusive reference to a handle. NULL is an error.
///
/// # Safety
/// `p` is NULL or a live handle of type `T` made by facegate, not freed and not used by
/// another thread during the call.
pub(crate) unsafe fn handle_mut<'a, T>(p: *mut T, what: &str) -> Res<&'a mut T> {
    // SAFETY: the caller's contract: NULL (checked by `as_mut`) or a live handle used by
    // this thread alone for the call.
    unsafe { p.as_mut() }.ok_or_else(|| fail(FgStatus::NullPointer, format!("{what} is NULL")))
}

/// Writes `value` through an out-pointer. NULL is an error.
///
/// # Safety
/// `p` is NULL or points to writable memory for a `T`.
pub(crate) unsafe fn put<T>(p: *mut T, value: T, what: &str) -> Res {
    if p.is_null() {
        return Err(fail(FgStatus::NullPointer, format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and, by the caller's contract, writable for a `T`; `write` does not
    // read or drop the old (possibly uninitialised) contents.
    unsafe { p.write(value) };
    Ok(())
}

/// Checks an out-pointer before any work is done, so a NULL is refused early.
pub(crate) fn need<T>(p: *mut T, what: &str) -> Res {
    if p.is_null() {
        return Err(fail(FgStatus::NullPointer, format!("{what} is NULL")));
    }
    Ok(())
}

/// Moves a value into a new handle written to `out`.
///
/// # Safety
/// `out` is NULL or points to writable memory for a pointer.
pub(crate) unsafe fn new_handle<T>(out: *mut *mut T, value: T) -> Res {
    need(out, "out")?;
    let p = Box::into_raw(Box::new(value));
    // SAFETY: `out` is non-NULL (checked) and writable by the caller's contract.
    unsafe { put(out, p, "out") }
}

/// Frees a handle made by `new_handle`; NULL is accepted. Dropping the value wipes what
/// it holds (the library's zeroizing types).
///
/// # Safety
/// `p` is NULL or a live handle of type `T` made by facegate, freed only once, and not in
/// use by another thread.
pub(crate) unsafe fn free_handle<T>(p: *mut T) -> FgStatus {
    guard(|| {
        if !p.is_null() {
            // SAFETY: made by `Box::into_raw` in `new_handle` and, by the caller's contract,
            // not freed before: ownership returns to the Box, which drops it.
            drop(unsafe { Box::from_raw(p) });
        }
        Ok(())
    })
}

/// Copies `text` and a NUL into the caller's buffer of `capacity` bytes; `needed` (if not
/// NULL) receives the size including the NUL. Too small → `FgStatus::BufferTooSmall`, and
/// the buffer (if any) holds an empty string.
///
/// # Safety
/// `buf` is NULL or writable for `capacity` bytes; `needed` is NULL or writable.
pub(crate) unsafe fn write_text(
    text: &str,
    buf: *mut c_char,
    capacity: usize,
    needed: *mut usize,
) -> Res {
    let size = text.len() + 1;
    if !needed.is_null() {
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { needed.write(size) };
    }
    if buf.is_null() || capacity < size {
        if !buf.is_null() && capacity > 0 {
            // SAFETY: at least one writable byte.
            unsafe { buf.write(0) };
        }
        return Err(fail(
            FgStatus::BufferTooSmall,
            format!("the buffer holds {capacity} bytes, {size} are needed"),
        ));
    }
    // SAFETY: `buf` is writable for `capacity ≥ size` bytes and cannot overlap `text`, which
    // is facegate's own memory.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        buf.add(text.len()).write(0);
    }
    Ok(())
}

/// A C callback (delivery, holder registry) reported a failure. It carries nothing of what
/// the callback was given.
#[derive(Debug)]
pub(crate) struct CallbackFailed;

impl std::fmt::Display for CallbackFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a callback failed")
    }
}

impl std::error::Error for CallbackFailed {}

/// A NUL-terminated copy of `text` that is wiped when dropped (for a code, a full ID number
/// or a phone number handed to a callback); `None` if `text` holds a NUL.
pub(crate) fn wiped_c_string(text: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    if text.as_bytes().contains(&0) {
        return None;
    }
    let mut v = zeroize::Zeroizing::new(Vec::with_capacity(text.len() + 1));
    v.extend_from_slice(text.as_bytes());
    v.push(0);
    Some(v)
}

/// Static NUL-terminated copies of facegate's static strings (reason codes, notices,
/// prompts), made once each: a bounded set, since every such string is a constant.
static STATIC_TEXTS: Mutex<Vec<(&'static str, &'static CStr)>> = Mutex::new(Vec::new());

/// Reasons facegate handed out, by the address of their code's C string: an outcome given
/// back to `policy::fg_flow_record` must carry one of these, so C cannot forge a reason.
static REASONS: Mutex<Vec<(usize, Reason)>> = Mutex::new(Vec::new());

/// The C string of a static text, valid for the life of the process.
pub(crate) fn static_text(text: &'static str) -> *const c_char {
    let mut known = STATIC_TEXTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, c)) = known
        .iter()
        .find(|(t, _)| std::ptr::eq(*t, text) || *t == text)
    {
        return c.as_ptr();
    }
    let c: &'static CStr = Box::leak(
        CString::new(text.replace('\0', ""))
            .unwrap_or_default()
            .into_boxed_c_str(),
    );
    known.push((text, c));
    c.as_ptr()
}

/// The C string of a reason code, remembered so the reason can be recognised later.
pub(crate) fn reason_text(r: Reason) -> *const c_char {
    let p = static_text(r.code());
    let mut known = REASONS.lock().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|(a, _)| *a == p as usize) {
        known.push((p as usize, r));
    }
    p
}

/// The reason whose code facegate handed out at `p` (compared by address: `p` is never
/// read).
pub(crate) fn reason_at(p: *const c_char) -> Option<Reason> {
    let known = REASONS.lock().unwrap_or_else(|e| e.into_inner());
    known
        .iter()
        .find(|(a, _)| *a == p as usize)
        .map(|(_, r)| *r)
}

/// Method family of an outcome.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgFamily {
    /// Face with liveness.
    Face = 0,
    /// Identity document.
    IdCard = 1,
    /// One-time code.
    OneTimeCode = 2,
}

impl From<Family> for FgFamily {
    fn from(f: Family) -> FgFamily {
        match f {
            Family::Face => FgFamily::Face,
            Family::IdCard => FgFamily::IdCard,
            Family::OneTimeCode => FgFamily::OneTimeCode,
        }
    }
}

/// Accepted, rejected or try again.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgOutcomeKind {
    /// The person is verified by this method.
    Accepted = 0,
    /// The evidence was judged and failed (counts towards the attempt limits).
    Rejected = 1,
    /// The evidence was not good enough to judge; the person may try again.
    Retry = 2,
}

/// What kind of failure a reason code describes (the policy decides on fallback by kind).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgReasonKind {
    /// No reason (accepted).
    None = 0,
    /// The evidence does not match.
    Mismatch = 1,
    /// Presentation attack suspected or liveness not established.
    Liveness = 2,
    /// The capture was not good enough.
    Quality = 3,
    /// Consent missing or declined.
    Consent = 4,
    /// Malformed evidence (bad check digit, wrong length, …).
    Malformed = 5,
    /// Valid once, no longer (expired, replayed).
    Expired = 6,
    /// Too many attempts.
    Locked = 7,
    /// The method cannot run here and now.
    Unavailable = 8,
}

impl From<ReasonKind> for FgReasonKind {
    fn from(k: ReasonKind) -> FgReasonKind {
        match k {
            ReasonKind::Mismatch => FgReasonKind::Mismatch,
            ReasonKind::Liveness => FgReasonKind::Liveness,
            ReasonKind::Quality => FgReasonKind::Quality,
            ReasonKind::Consent => FgReasonKind::Consent,
            ReasonKind::Malformed => FgReasonKind::Malformed,
            ReasonKind::Expired => FgReasonKind::Expired,
            ReasonKind::Locked => FgReasonKind::Locked,
            ReasonKind::Unavailable => FgReasonKind::Unavailable,
        }
    }
}

/// The answer of one verification attempt, written by facegate's verifying functions and
/// given back to `fg_flow_record`. `reason` is NULL when accepted, else a static reason code
/// such as `"otp.mismatch"` (valid for the life of the process); `fg_flow_record` accepts
/// only codes facegate produced.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FgOutcome {
    /// The method that produced it.
    pub family: FgFamily,
    /// Accepted, rejected or retry.
    pub kind: FgOutcomeKind,
    /// Stable reason code, or NULL when accepted.
    pub reason: *const c_char,
    /// The reason's kind (`FG_REASON_KIND_NONE` when accepted).
    pub reason_kind: FgReasonKind,
}

impl FgOutcome {
    pub(crate) fn new(family: Family, outcome: Outcome) -> FgOutcome {
        let (kind, reason) = match outcome {
            Outcome::Accepted => (FgOutcomeKind::Accepted, None),
            Outcome::Rejected(r) => (FgOutcomeKind::Rejected, Some(r)),
            Outcome::Retry(r) => (FgOutcomeKind::Retry, Some(r)),
        };
        FgOutcome {
            family: family.into(),
            kind,
            reason: reason.map_or(std::ptr::null(), reason_text),
            reason_kind: reason.map_or(FgReasonKind::None, |r| r.kind().into()),
        }
    }
}

/// `FgOutcome` as C may have filled it: the enums read as plain integers, so a value
/// outside the enum is an error instead of undefined behaviour. Same layout (checked below).
#[repr(C)]
struct RawOutcome {
    family: u32,
    kind: u32,
    reason: *const c_char,
    reason_kind: u32,
}

const _: () = {
    assert!(std::mem::size_of::<RawOutcome>() == std::mem::size_of::<FgOutcome>());
    assert!(std::mem::align_of::<RawOutcome>() == std::mem::align_of::<FgOutcome>());
    assert!(std::mem::size_of::<FgFamily>() == 4 && std::mem::size_of::<FgOutcomeKind>() == 4);
};

/// Reads an outcome given back by C, accepting only a reason code facegate produced.
///
/// # Safety
/// `p` is NULL or points to a readable `FgOutcome`-sized struct.
pub(crate) unsafe fn read_outcome(p: *const FgOutcome) -> Res<(Family, Outcome)> {
    // SAFETY: same size and alignment as FgOutcome (checked at compile time) and every bit
    // pattern of RawOutcome's fields is valid; NULL is refused by `handle`.
    let raw = unsafe { handle(p.cast::<RawOutcome>(), "outcome")? };
    let family = enum_arg(
        raw.family,
        &[
            (0, Family::Face),
            (1, Family::IdCard),
            (2, Family::OneTimeCode),
        ],
        "outcome family",
    )?;
    let reason = || {
        reason_at(raw.reason).ok_or_else(|| {
            fail(
                FgStatus::InvalidArgument,
                "the outcome's reason was not produced by facegate",
            )
        })
    };
    let outcome = match raw.kind {
        0 => Outcome::Accepted,
        1 => Outcome::Rejected(reason()?),
        2 => Outcome::Retry(reason()?),
        k => {
            return Err(fail(
                FgStatus::InvalidArgument,
                format!("outcome kind: unknown value {k}"),
            ))
        }
    };
    Ok((family, outcome))
}

/// A calendar date.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FgDate {
    /// Year, 1..=9999.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month.
    pub day: u8,
}

impl FgDate {
    pub(crate) fn to_date(self, what: &str) -> Res<facegate::date::Date> {
        facegate::date::Date::new(self.year, self.month, self.day).map_err(|_| {
            fail(
                FgStatus::InvalidArgument,
                format!("{what} is not a calendar date"),
            )
        })
    }

    pub(crate) fn from_date(d: facegate::date::Date) -> FgDate {
        FgDate {
            year: d.year(),
            month: d.month(),
            day: d.day(),
        }
    }
}

/// Reads an enum value passed from C as a plain integer, so an out-of-range value is an
/// error rather than undefined behaviour.
pub(crate) fn enum_arg<T: Copy>(value: u32, all: &[(u32, T)], what: &str) -> Res<T> {
    all.iter()
        .find(|(v, _)| *v == value)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            fail(
                FgStatus::InvalidArgument,
                format!("{what}: unknown value {value}"),
            )
        })
}

/// The library's version (e.g. `"0.1.0"`, static) and the ABI version
/// (`FG_ABI_VERSION`). Either pointer may be NULL.
///
/// # Safety
/// Each pointer is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fg_version(
    version: *mut *const c_char,
    abi_version: *mut u32,
) -> FgStatus {
    guard(|| {
        if !version.is_null() {
            // SAFETY: non-NULL and writable by the caller's contract.
            unsafe { put(version, static_text(env!("CARGO_PKG_VERSION")), "version")? };
        }
        if !abi_version.is_null() {
            // SAFETY: non-NULL and writable by the caller's contract.
            unsafe { put(abi_version, FG_ABI_VERSION, "abi_version")? };
        }
        Ok(())
    })
}

/// The message of this thread's last error status: an empty string after a call that
/// succeeded. It never contains a code, secret, phone number, ID number or biometric value.
/// The pointer stays valid until this thread's next facegate call.
///
/// # Safety
/// `message` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fg_last_error(message: *mut *const c_char) -> FgStatus {
    // Not through `guard`: reading the last error must not clear it.
    if message.is_null() {
        return FgStatus::NullPointer;
    }
    let p = LAST_ERROR.with(|e| e.borrow().as_ptr());
    // SAFETY: non-NULL and writable by the caller's contract. The pointer stays valid
    // until the thread-local CString is replaced, i.e. the thread's next facegate call.
    unsafe { message.write(p) };
    FgStatus::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let mut p: *const c_char = std::ptr::null();
        // SAFETY: a valid out-pointer.
        assert_eq!(unsafe { fg_last_error(&mut p) }, FgStatus::Ok);
        // SAFETY: fg_last_error wrote a NUL-terminated string valid until the next call.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
    }

    /// A panic inside a call becomes the internal-error status with a message, and the next
    /// successful call clears the message.
    #[test]
    fn a_panic_becomes_internal() {
        let s = guard(|| panic!("boom 123456"));
        assert_eq!(s, FgStatus::Internal);
        let m = last_error();
        assert!(m.contains("panic") && !m.contains("123456"), "{m}");
        // SAFETY: NULL outputs are allowed.
        assert_eq!(
            unsafe { fg_version(std::ptr::null_mut(), std::ptr::null_mut()) },
            FgStatus::Ok
        );
        assert_eq!(last_error(), "");
    }

    /// Only reason codes facegate handed out come back as reasons; a copy of the same text
    /// at another address is refused.
    #[test]
    fn outcomes_carry_only_facegate_reasons() {
        let given = FgOutcome::new(
            Family::OneTimeCode,
            Outcome::Rejected(facegate::otp::reasons::MISMATCH),
        );
        // SAFETY: a readable FgOutcome.
        let (family, outcome) = unsafe { read_outcome(&given) }.ok().unwrap();
        assert_eq!(family, Family::OneTimeCode);
        assert_eq!(outcome, Outcome::Rejected(facegate::otp::reasons::MISMATCH));
        let forged_text = CString::new("otp.mismatch").unwrap();
        let forged = FgOutcome {
            reason: forged_text.as_ptr(),
            ..given
        };
        // SAFETY: a readable FgOutcome.
        let err = unsafe { read_outcome(&forged) }.err().unwrap();
        assert_eq!(err.status, FgStatus::InvalidArgument);
    }

    #[test]
    fn text_too_long_for_the_buffer_is_refused_and_emptied() {
        let mut buf = [b'x' as c_char; 4];
        let mut needed = 0usize;
        // SAFETY: buf is writable for its length; needed is writable.
        let r = unsafe { write_text("abcd", buf.as_mut_ptr(), buf.len(), &mut needed) };
        assert_eq!(r.err().unwrap().status, FgStatus::BufferTooSmall);
        assert_eq!((needed, buf[0]), (5, 0));
        let mut buf = [0 as c_char; 5];
        // SAFETY: as above.
        assert!(unsafe { write_text("abcd", buf.as_mut_ptr(), buf.len(), &mut needed) }.is_ok());
        // SAFETY: write_text wrote a NUL-terminated string.
        assert_eq!(
            unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(),
            "abcd"
        );
    }
}

//! Policy and flow: which methods a kiosk offers, the notices it shows, and one person's
//! session moving between methods — with each recorded attempt sent to an audit callback
//! as a JSON line.
//!
//! Why the audit sink lives in the flow: an attempt that is recorded is audited, with no
//! second call to forget. The event is the library's own (time, policy id, method, outcome,
//! reason code), so nothing the caller types — a code, a number — can reach the trail.

use std::ffi::{c_char, c_void, CString};

use facegate::audit::{AuditEvent, AuditSink, JsonLinesSink, PseudonymKey, SubjectRef};
use facegate::policy::{notice, Flow, Language, Method, Policy, PolicyError, Step, Trigger};

use facegate::idcard::CnIdNumber;

use crate::{
    arg_bytes, arg_str, enum_arg, fail, free_handle, guard, handle, handle_mut, need, new_handle,
    put, read_outcome, reason_text, static_text, FgDate, FgOutcome, FgStatus,
};

/// A verification method a policy offers.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgMethod {
    /// A one-time code (authenticator or sent out of band).
    OneTimeCode = 0,
    /// An identity document.
    IdCard = 1,
    /// Face recognition with liveness (never alone, never the default).
    Face = 2,
}

/// Language of a notice.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgLanguage {
    /// English.
    En = 0,
    /// Simplified Chinese.
    Zh = 1,
}

/// What the kiosk should do next.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgStepKind {
    /// The person is verified by `method`.
    Verified = 0,
    /// Try `method` again (`reason` says why the last attempt failed).
    TryAgain = 1,
    /// Leave `method` for `to` (`reason` says why).
    Fallback = 2,
    /// No method is available now; `retry_at` (if `has_retry_at`) says when one unlocks.
    Exhausted = 3,
}

/// The flow's answer to a recorded outcome or trigger.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FgStep {
    /// Which step.
    pub kind: FgStepKind,
    /// The method verified, tried again, or left (unused when exhausted).
    pub method: FgMethod,
    /// The method now selected (fallback only).
    pub to: FgMethod,
    /// Static reason code, or NULL when verified.
    pub reason: *const c_char,
    /// Nonzero when `retry_at` holds a time.
    pub has_retry_at: u32,
    /// Unix seconds when a locked method becomes available again (exhausted only).
    pub retry_at: u64,
}

/// What rules the current method out for this session.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FgTrigger {
    /// The person declined (or withdrew) consent to face recognition.
    ConsentDeclined = 0,
    /// No working camera.
    NoCamera = 1,
}

/// Receives one audit event as a JSON object (one line, no newline, NUL-terminated, `len`
/// bytes without the NUL), e.g.
/// `{"time":1800000000,"policy":"locker-7","method":"one_time_code","outcome":"accepted"}`.
/// The text is valid during the call only. Return 0 on success, nonzero on failure.
pub type FgAuditFn =
    Option<unsafe extern "C" fn(user: *mut c_void, json_line: *const c_char, len: usize) -> i32>;

/// A validated policy: offered methods in display order, a non-biometric default, the NIST
/// SP 800-63B attempt limits.
///
/// Thread safety: immutable; may be shared between threads.
pub struct FgPolicy {
    inner: Policy,
}

/// One person's session under a policy (it keeps its own copy of the policy).
///
/// Thread safety: one thread at a time (it may move between threads).
pub struct FgFlow {
    // Declared first, so dropped first: it borrows the policy `_policy` owns.
    flow: Flow<'static>,
    _policy: PolicyBox,
    audit: FgAuditFn,
    user: *mut c_void,
    /// Who the session is about, as the audit trail may hold it (masked or pseudonymous).
    subject: Option<SubjectRef>,
}

/// The flow's own copy of the policy, at a fixed heap address for the flow's lifetime.
struct PolicyBox(*mut Policy);

impl Drop for PolicyBox {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw in `fg_flow_new` and dropped once, here, after the
        // flow that borrowed it (field order of FgFlow).
        drop(unsafe { Box::from_raw(self.0) });
    }
}

pub(crate) const METHODS: [(u32, Method); 3] = [
    (0, Method::OneTimeCode),
    (1, Method::IdCard),
    (2, Method::Face { liveness: true }),
];

fn to_fg(m: Method) -> FgMethod {
    match m {
        Method::OneTimeCode => FgMethod::OneTimeCode,
        Method::IdCard => FgMethod::IdCard,
        Method::Face { .. } => FgMethod::Face,
    }
}

fn policy_fail(e: &PolicyError) -> crate::Fail {
    fail(FgStatus::PolicyRefused, e.to_string())
}

fn flow_fail(e: &PolicyError) -> crate::Fail {
    fail(FgStatus::FlowRefused, e.to_string())
}

/// Builds a policy named `id` (it names the policy in audit events) offering `methods`
/// (`count` ≤ 16 `FgMethod` values in display order; the first is the default). A policy in which
/// face is the only method or the default does not build: `FG_STATUS_POLICY_REFUSED`.
///
/// # Safety
/// `id` is a NUL-terminated string; `methods` points to `count` readable `uint32_t`;
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_policy_new(
    id: *const c_char,
    methods: *const u32,
    count: usize,
    out: *mut *mut FgPolicy,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: NUL-terminated or NULL (refused), by the contract.
        let id = unsafe { arg_str(id, "id")? };
        if methods.is_null() && count > 0 {
            return Err(fail(FgStatus::NullPointer, "methods is NULL"));
        }
        if count > 16 {
            return Err(fail(FgStatus::InvalidArgument, "count: at most 16 methods"));
        }
        let mut b = Policy::builder(id);
        for i in 0..count {
            // SAFETY: `methods` points to `count` readable u32 by the contract.
            let v = unsafe { methods.add(i).read() };
            b = b.offer(enum_arg(v, &METHODS, "method")?);
        }
        let inner = b.build().map_err(|e| policy_fail(&e))?;
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, FgPolicy { inner }) }
    })
}

/// The notice of the policy's method at `index` (display order, from 0) in `language` (an
/// `FgLanguage`): what is collected, why, and that alternatives exist — the kiosk shows it.
/// The text is static UTF-8. Past the last method: `FG_STATUS_OUT_OF_RANGE`.
///
/// # Safety
/// `policy` is a live policy; `method` is NULL or writable; `text` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_policy_notice(
    policy: *const FgPolicy,
    index: usize,
    language: u32,
    method: *mut FgMethod,
    text: *mut *const c_char,
) -> FgStatus {
    guard(|| {
        need(text, "text")?;
        // SAFETY: the caller's contract.
        let p = unsafe { handle(policy, "policy")? };
        let lang = enum_arg(
            language,
            &[(0, Language::En), (1, Language::Zh)],
            "language",
        )?;
        let m = *p.inner.methods().get(index).ok_or_else(|| {
            fail(
                FgStatus::OutOfRange,
                "the policy has no method at this index",
            )
        })?;
        if !method.is_null() {
            // SAFETY: non-NULL and writable by the contract.
            unsafe { put(method, to_fg(m), "method")? };
        }
        // SAFETY: non-NULL (checked) and writable by the contract.
        unsafe { put(text, static_text(notice(m, lang)), "text") }
    })
}

/// Frees a policy; NULL is accepted. Flows made from it keep their own copy.
///
/// # Safety
/// `policy` is NULL or a live policy no other call is using.
#[no_mangle]
pub unsafe extern "C" fn fg_policy_free(policy: *mut FgPolicy) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe { free_handle(policy) }
}

/// Starts one person's session under `policy`, the default method selected. `audit` (may
/// be NULL) receives one JSON line per recorded attempt, with `user` passed back.
///
/// # Safety
/// `policy` is a live policy; `out` is writable; `audit`, if not NULL, is safe to call with
/// `user` for the flow's lifetime.
#[no_mangle]
pub unsafe extern "C" fn fg_flow_new(
    policy: *const FgPolicy,
    audit: FgAuditFn,
    user: *mut c_void,
    out: *mut *mut FgFlow,
) -> FgStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: the caller's contract.
        let p = unsafe { handle(policy, "policy")? };
        let raw = Box::into_raw(Box::new(p.inner.clone()));
        let policy = PolicyBox(raw);
        // SAFETY: `raw` is a live heap allocation owned by `policy`, which the FgFlow frees
        // only after dropping `flow` (field order), never moves and never mutates: the
        // borrow is valid for as long as the flow exists.
        let flow = Flow::new(unsafe { &*raw });
        let f = FgFlow {
            flow,
            _policy: policy,
            audit,
            user,
            subject: None,
        };
        // SAFETY: `out` is writable by the caller's contract.
        unsafe { new_handle(out, f) }
    })
}

/// The person chooses `method` (an `FgMethod`) at Unix time `now`. Refused
/// (`FG_STATUS_FLOW_REFUSED`) when not offered, ruled out or locked.
///
/// # Safety
/// `flow` is a live flow used by this thread alone.
#[no_mangle]
pub unsafe extern "C" fn fg_flow_choose(flow: *mut FgFlow, method: u32, now: u64) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let f = unsafe { handle_mut(flow, "flow")? };
        let m = enum_arg(method, &METHODS, "method")?;
        f.flow.choose(m, now).map_err(|e| flow_fail(&e))
    })
}

/// The currently selected method; `FG_STATUS_FLOW_REFUSED` when none is.
///
/// # Safety
/// `flow` is a live flow used by this thread alone; `method` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_flow_current(flow: *const FgFlow, method: *mut FgMethod) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract.
        let f = unsafe { handle(flow, "flow")? };
        let m = f
            .flow
            .current()
            .ok_or_else(|| fail(FgStatus::FlowRefused, "no method is selected"))?;
        // SAFETY: writable by the contract (NULL refused by `put`).
        unsafe { put(method, to_fg(m), "method") }
    })
}

fn step_out(s: Step) -> FgStep {
    let none = FgStep {
        kind: FgStepKind::Exhausted,
        method: FgMethod::OneTimeCode,
        to: FgMethod::OneTimeCode,
        reason: std::ptr::null(),
        has_retry_at: 0,
        retry_at: 0,
    };
    match s {
        Step::Verified(m) => FgStep {
            kind: FgStepKind::Verified,
            method: to_fg(m),
            to: to_fg(m),
            ..none
        },
        Step::TryAgain { method, reason } => FgStep {
            kind: FgStepKind::TryAgain,
            method: to_fg(method),
            to: to_fg(method),
            reason: reason_text(reason),
            ..none
        },
        Step::Fallback { from, reason, to } => FgStep {
            kind: FgStepKind::Fallback,
            method: to_fg(from),
            to: to_fg(to),
            reason: reason_text(reason),
            ..none
        },
        Step::Exhausted { reason, retry_at } => FgStep {
            reason: reason_text(reason),
            has_retry_at: u32::from(retry_at.is_some()),
            retry_at: retry_at.unwrap_or(0),
            ..none
        },
    }
}

/// The audit callback as the library's sink: one JSON line per event.
struct CallbackSink {
    audit: unsafe extern "C" fn(*mut c_void, *const c_char, usize) -> i32,
    user: *mut c_void,
}

impl AuditSink for CallbackSink {
    fn record(&mut self, event: &AuditEvent) -> Result<(), facegate::audit::AuditError> {
        // The library's own JSON-lines encoding, without the newline.
        let mut sink = JsonLinesSink::new(Vec::new());
        sink.record(event)?;
        let mut line = sink.into_inner();
        while line.last() == Some(&b'\n') {
            line.pop();
        }
        let line = CString::new(line).map_err(|_| {
            facegate::audit::AuditError::Io(std::io::Error::other("NUL in an audit event"))
        })?;
        // SAFETY: the integrator registered this callback for `user` (fg_flow_new's
        // contract); the line is NUL-terminated and outlives the call.
        let rc = unsafe { (self.audit)(self.user, line.as_ptr(), line.as_bytes().len()) };
        if rc != 0 {
            return Err(std::io::Error::other("audit callback failed").into());
        }
        Ok(())
    }
}

/// Records the outcome of an attempt with the current method at Unix time `now` and writes
/// what to do next. `outcome` must come from facegate (a verifying function of the current
/// method's family): an outcome of another method is `FG_STATUS_FLOW_REFUSED`, a reason code
/// facegate did not produce `FG_STATUS_INVALID_ARGUMENT`. The attempt is then sent to the
/// audit callback; if that fails the status is `FG_STATUS_CALLBACK_FAILED` (the step is still
/// recorded and written — do not open the locker on an unaudited verification).
///
/// # Safety
/// `flow` is a live flow used by this thread alone; `outcome` is readable; `step` writable.
#[no_mangle]
pub unsafe extern "C" fn fg_flow_record(
    flow: *mut FgFlow,
    outcome: *const FgOutcome,
    now: u64,
    step: *mut FgStep,
) -> FgStatus {
    guard(|| {
        need(step, "step")?;
        // SAFETY: the caller's contract for each pointer.
        let (f, (family, outcome)) = unsafe { (handle_mut(flow, "flow")?, read_outcome(outcome)?) };
        let s = f
            .flow
            .record(family, outcome, now)
            .map_err(|e| flow_fail(&e))?;
        // SAFETY: non-NULL (checked) and writable by the contract.
        unsafe { put(step, step_out(s), "step")? };
        if let Some(audit) = f.audit {
            let mut event = AuditEvent::new(now, f.flow.policy().id(), family, outcome);
            if let Some(subject) = &f.subject {
                event = event.with_subject(subject.clone());
            }
            let mut sink = CallbackSink {
                audit,
                user: f.user,
            };
            sink.record(&event).map_err(|_| {
                fail(
                    FgStatus::CallbackFailed,
                    "the audit callback failed; the attempt is not in the audit trail",
                )
            })?;
        }
        Ok(())
    })
}

/// From now on, the flow's audit lines name the person by a keyed pseudonym of
/// `identifier` (the recipient's phone number, a staff id, …): `"subject":"p:"` and 32 hex
/// digits of HMAC-SHA-256 under `key` (at least 16 bytes; keep one key per deployment, so
/// the same person links across events while the identifier itself is never stored).
/// Replaces any subject set before. A key shorter than 16 bytes is
/// `FG_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `flow` is a live flow used by this thread alone; `key` points to `key_len` readable
/// bytes; `identifier` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fg_flow_set_subject_pseudonym(
    flow: *mut FgFlow,
    key: *const u8,
    key_len: usize,
    identifier: *const c_char,
) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract for each pointer.
        let (f, key, identifier) = unsafe {
            (
                handle_mut(flow, "flow")?,
                arg_bytes(key, key_len, "key")?,
                arg_str(identifier, "identifier")?,
            )
        };
        let key = PseudonymKey::new(key).map_err(|_| {
            fail(
                FgStatus::InvalidArgument,
                "the pseudonym key must be at least 16 bytes",
            )
        })?;
        f.subject = Some(SubjectRef::pseudonym(&key, identifier));
        Ok(())
    })
}

/// From now on, the flow's audit lines name the person by their masked ID number (e.g.
/// `110105********002X`: no birth date), once the ID card has been read. The number is
/// checked on `today`; an invalid one is `FG_STATUS_INVALID_ARGUMENT` (the message does not
/// repeat it). Replaces any subject set before.
///
/// # Safety
/// `flow` is a live flow used by this thread alone; `number` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn fg_flow_set_subject_id_number(
    flow: *mut FgFlow,
    number: *const c_char,
    today: FgDate,
) -> FgStatus {
    guard(|| {
        // SAFETY: the caller's contract for each pointer.
        let (f, number) = unsafe { (handle_mut(flow, "flow")?, arg_str(number, "number")?) };
        let today = today.to_date("today")?;
        let id = CnIdNumber::parse(number, today)
            .map_err(|_| fail(FgStatus::InvalidArgument, "the ID number is not valid"))?;
        f.subject = Some(SubjectRef::masked(id.masked()));
        Ok(())
    })
}

/// An event that rules the current method out for this session (`trigger` is an
/// `FgTrigger`): the person declined consent, or there is no camera. Writes the step.
///
/// # Safety
/// `flow` is a live flow used by this thread alone; `step` is writable.
#[no_mangle]
pub unsafe extern "C" fn fg_flow_trigger(
    flow: *mut FgFlow,
    trigger: u32,
    now: u64,
    step: *mut FgStep,
) -> FgStatus {
    guard(|| {
        need(step, "step")?;
        // SAFETY: the caller's contract.
        let f = unsafe { handle_mut(flow, "flow")? };
        let t = enum_arg(
            trigger,
            &[(0, Trigger::ConsentDeclined), (1, Trigger::NoCamera)],
            "trigger",
        )?;
        let s = f.flow.trigger(t, now).map_err(|e| flow_fail(&e))?;
        // SAFETY: non-NULL (checked) and writable by the contract.
        unsafe { put(step, step_out(s), "step") }
    })
}

/// Frees a flow; NULL is accepted.
///
/// # Safety
/// `flow` is NULL or a live flow no other call is using.
#[no_mangle]
pub unsafe extern "C" fn fg_flow_free(flow: *mut FgFlow) -> FgStatus {
    // SAFETY: forwarded contract.
    unsafe { free_handle(flow) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FgFamily;
    use std::ptr::null_mut;

    unsafe extern "C" fn collect(user: *mut c_void, line: *const c_char, len: usize) -> i32 {
        // SAFETY: `user` is the test's Vec<String>; `line` holds `len` bytes.
        unsafe {
            let lines = &mut *user.cast::<Vec<String>>();
            let bytes = std::slice::from_raw_parts(line.cast::<u8>(), len);
            lines.push(String::from_utf8(bytes.to_vec()).unwrap());
        }
        0
    }

    /// The audit line names the person as set: by the masked ID number (never the birth
    /// date), or by a keyed pseudonym (never the phone number).
    #[test]
    fn audit_lines_carry_the_subject_as_set() {
        let today = FgDate {
            year: 2027,
            month: 1,
            day: 15,
        };
        let methods = [FgMethod::OneTimeCode as u32, FgMethod::IdCard as u32];
        let mut lines: Vec<String> = Vec::new();
        let (mut policy, mut flow) = (null_mut(), null_mut());
        let accepted = FgOutcome {
            family: FgFamily::OneTimeCode,
            kind: crate::FgOutcomeKind::Accepted,
            reason: std::ptr::null(),
            reason_kind: crate::FgReasonKind::None,
        };
        let mut step = step_out(Step::Verified(Method::OneTimeCode));
        // SAFETY: valid strings, buffers and out-pointers; every handle freed once below.
        unsafe {
            assert_eq!(
                fg_policy_new(c"locker-7".as_ptr(), methods.as_ptr(), 2, &mut policy),
                FgStatus::Ok
            );
            let user = (&mut lines as *mut Vec<String>).cast::<c_void>();
            for subject in ["id", "pseudonym"] {
                assert_eq!(
                    fg_flow_new(policy, Some(collect), user, &mut flow),
                    FgStatus::Ok
                );
                let status = if subject == "id" {
                    fg_flow_set_subject_id_number(flow, c"11010519491231002X".as_ptr(), today)
                } else {
                    let key = b"a deployment key, 16+ bytes";
                    fg_flow_set_subject_pseudonym(
                        flow,
                        key.as_ptr(),
                        key.len(),
                        c"+8613800000000".as_ptr(),
                    )
                };
                assert_eq!(status, FgStatus::Ok);
                assert_eq!(fg_flow_record(flow, &accepted, 0, &mut step), FgStatus::Ok);
                assert_eq!(fg_flow_free(flow), FgStatus::Ok);
            }
            assert_eq!(fg_policy_free(policy), FgStatus::Ok);
        }
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].contains(r#""subject":"110105********002X""#),
            "{}",
            lines[0]
        );
        assert!(!lines[0].contains("19491231"));
        assert!(lines[1].contains(r#""subject":"p:"#), "{}", lines[1]);
        assert!(!lines[1].contains("13800000000"));
    }
}

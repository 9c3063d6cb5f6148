//! The C entry points as a careless or hostile C caller uses them: any bytes as strings,
//! NULL for any pointer, out-of-range enum values, outcome structs built by hand, and calls in
//! any order on live handles (ID numbers, MRZ, OTP and out-of-band codes, policies and flows,
//! reason sentences). Run under AddressSanitizer (cargo-fuzz's default), so a read or write
//! outside what the contract allows is a finding, not only a panic. Beyond "no crash":
//! - every status is one of the header's values;
//! - an outcome facegate hands back carries a reason pointer that facegate accepts again
//!   (`fg_reason_sentence`), and one built by the caller around its own string is refused;
//! - a successful ID check's masked number never shows the birth date digits.
#![no_main]

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::{null, null_mut};

use facegate_ffi::id::*;
use facegate_ffi::otp::*;
use facegate_ffi::policy::*;
use facegate_ffi::session::fg_reason_sentence;
use facegate_ffi::{fg_last_error, fg_version, FgDate, FgOutcome, FgStatus};
use libfuzzer_sys::fuzz_target;

/// The fuzzer's bytes, read front to back.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) << 32 | u64::from(self.u32())
    }
    /// A string of up to 64 bytes (any bytes but NUL, which ends a C string).
    fn text(&mut self) -> CString {
        let n = usize::from(self.byte() % 65).min(self.0.len());
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        CString::new(s.iter().copied().filter(|&b| b != 0).collect::<Vec<u8>>())
            .expect("no NUL left")
    }
    /// Sometimes NULL, sometimes one of `known`, otherwise fuzzer text.
    fn arg(&mut self, known: &[&str]) -> Option<CString> {
        match self.byte() % 8 {
            0 => None,
            1..=3 if !known.is_empty() => {
                let i = usize::from(self.byte()) % known.len();
                Some(CString::new(known[i]).expect("no NUL"))
            }
            _ => Some(self.text()),
        }
    }
    fn date(&mut self) -> FgDate {
        match self.byte() % 4 {
            0 => FgDate {
                year: self.u32() as u16,
                month: self.byte(),
                day: self.byte(),
            },
            _ => FgDate {
                year: 2026,
                month: 12,
                day: 1,
            },
        }
    }
}

fn ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(null(), |s| s.as_ptr())
}

fn known_status(s: FgStatus) {
    // The enum is `repr(C)`; its value must be one the header lists (0..=16, 99).
    let v = s as i32;
    assert!((0..=16).contains(&v) || v == 99, "status {v}");
}

unsafe extern "C" fn deliver(_user: *mut c_void, _r: *const c_char, _c: *const c_char) -> i32 {
    0
}
unsafe extern "C" fn audit(_user: *mut c_void, _line: *const c_char, _len: usize) -> i32 {
    0
}
unsafe extern "C" fn holder(_user: *mut c_void, _n: *const c_char, _id: *const c_char) -> i32 {
    1
}

const IDS: [&str; 3] = ["11010519491231002X", "110105194912310021", "440524188001010014"];
const MRZ: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
const URIS: [&str; 2] = [
    "otpauth://totp/Locker:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Locker",
    "otpauth://hotp/Locker:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=5",
];

/// The masked form of a valid Chinese ID number must not contain its birth date.
fn check_masked(number: &CStr, masked: &[c_char]) {
    let Ok(n) = number.to_str() else { return };
    let m: Vec<u8> = masked.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    if n.len() == 18 {
        let birth = &n.as_bytes()[6..14];
        assert!(
            !m.windows(8).any(|w| w == birth),
            "masked ID shows the birth date"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut otps: Vec<*mut FgOtp> = Vec::new();
    let mut oob: *mut FgOob = null_mut();
    let mut policy: *mut FgPolicy = null_mut();
    let mut flow: *mut FgFlow = null_mut();
    let mut outcomes: Vec<FgOutcome> = Vec::new();
    // SAFETY: every pointer passed is NULL, a live handle this target created and has not
    // freed, a CString alive for the call, or a local out-parameter: the header's contract
    // for each function. Handles are freed once, at the end or when replaced.
    unsafe {
        for _ in 0..32 {
            if input.0.is_empty() {
                break;
            }
            match input.byte() % 16 {
                0 => {
                    let n = input.arg(&IDS);
                    let mut out = std::mem::zeroed::<FgIdCheck>();
                    let null_out = input.byte() % 8 == 0;
                    let s = fg_id_number_check(
                        ptr(&n),
                        input.date(),
                        if null_out { null_mut() } else { &mut out },
                    );
                    known_status(s);
                    if s == FgStatus::Ok && !null_out && out.valid != 0 {
                        if let Some(n) = &n {
                            check_masked(n, &out.masked);
                        }
                    }
                }
                1 => {
                    let t = input.arg(&[MRZ]);
                    let mut out = std::mem::zeroed::<FgIdCheck>();
                    known_status(fg_mrz_check(ptr(&t), input.date(), &mut out));
                }
                2 => {
                    let (name, n) = (input.arg(&["ZHANG SAN"]), input.arg(&IDS));
                    let mut out = std::mem::zeroed::<FgOutcome>();
                    let cb = if input.byte() % 4 == 0 { None } else { Some(holder as _) };
                    let s = fg_id_number_verify(ptr(&name), ptr(&n), input.date(), cb, null_mut(), &mut out);
                    known_status(s);
                    if s == FgStatus::Ok {
                        outcomes.push(out);
                    }
                }
                3 => {
                    let u = input.arg(&URIS);
                    let mut h: *mut FgOtp = null_mut();
                    let s = fg_otp_import_uri(ptr(&u), &mut h);
                    known_status(s);
                    if s == FgStatus::Ok {
                        assert!(!h.is_null());
                        otps.push(h);
                    }
                }
                4 => {
                    let params = FgOtpParams {
                        hotp: input.u32() % 3,
                        algorithm: input.u32() % 4,
                        digits: input.u32() % 10,
                        period: input.u64() % 120,
                        counter: input.u64(),
                    };
                    let secret = input.text();
                    let label = input.arg(&["locker"]);
                    let mut h: *mut FgOtp = null_mut();
                    let s = fg_otp_new(
                        &params,
                        secret.as_ptr().cast(),
                        secret.as_bytes().len(),
                        ptr(&label),
                        &mut h,
                    );
                    known_status(s);
                    if s == FgStatus::Ok {
                        otps.push(h);
                    }
                }
                5 if !otps.is_empty() => {
                    let h = otps[usize::from(input.byte()) % otps.len()];
                    let code = input.arg(&["123456", "000000", "94287082"]);
                    let mut out = std::mem::zeroed::<FgOutcome>();
                    let s = fg_otp_check(h, ptr(&code), input.u64(), &mut out);
                    known_status(s);
                    if s == FgStatus::Ok {
                        outcomes.push(out);
                    }
                }
                6 if !otps.is_empty() => {
                    let h = otps[usize::from(input.byte()) % otps.len()];
                    let mut st = std::mem::zeroed::<FgOtpState>();
                    known_status(fg_otp_state_export(h, &mut st));
                    if input.byte() % 2 == 0 {
                        st.failures = input.u32();
                        st.blocked_until = input.u64();
                        st.has_last_step = input.u32();
                        st.last_step = input.u64();
                        st.has_next_counter = input.u32();
                        st.next_counter = input.u64();
                    }
                    known_status(fg_otp_state_import(h, &st));
                    let cap = usize::from(input.byte());
                    let mut buf = vec![0 as c_char; cap];
                    let mut needed = 0usize;
                    let b = if cap == 0 { null_mut() } else { buf.as_mut_ptr() };
                    known_status(fg_otp_export_uri(h, b, cap, &mut needed));
                }
                7 => {
                    if oob.is_null() {
                        let cb = if input.byte() % 8 == 0 { None } else { Some(deliver as _) };
                        known_status(fg_oob_new(cb, null_mut(), &mut oob));
                    } else {
                        let r = input.arg(&["+8613800000000", "device:42"]);
                        let mut exp = 0u64;
                        known_status(fg_oob_send(oob, ptr(&r), input.u64(), &mut exp));
                    }
                }
                8 => {
                    let r = input.arg(&["+8613800000000", "device:42"]);
                    let code = input.arg(&["123456"]);
                    let mut out = std::mem::zeroed::<FgOutcome>();
                    // A NULL handle must be refused, not dereferenced.
                    let s = fg_oob_check(oob, ptr(&r), ptr(&code), input.u64(), &mut out);
                    known_status(s);
                    if s == FgStatus::Ok {
                        outcomes.push(out);
                    }
                }
                9 => {
                    let id = input.arg(&["locker-v1"]);
                    let count = usize::from(input.byte() % 5);
                    let methods: Vec<u32> = (0..count).map(|_| input.u32() % 5).collect();
                    let m = if input.byte() % 8 == 0 { null() } else { methods.as_ptr() };
                    let mut p: *mut FgPolicy = null_mut();
                    let s = fg_policy_new(ptr(&id), m, count, &mut p);
                    known_status(s);
                    if s == FgStatus::Ok {
                        if !flow.is_null() {
                            known_status(fg_flow_free(flow));
                            flow = null_mut();
                        }
                        if !policy.is_null() {
                            known_status(fg_policy_free(policy));
                        }
                        policy = p;
                    }
                }
                10 => {
                    let mut method = std::mem::zeroed::<FgMethod>();
                    let mut text: *const c_char = null();
                    known_status(fg_policy_notice(
                        policy,
                        usize::from(input.byte()),
                        input.u32() % 4,
                        &mut method,
                        &mut text,
                    ));
                    if !policy.is_null() && flow.is_null() {
                        let cb = if input.byte() % 2 == 0 { None } else { Some(audit as _) };
                        known_status(fg_flow_new(policy, cb, null_mut(), &mut flow));
                    }
                }
                11 => {
                    known_status(fg_flow_choose(flow, input.u32() % 6, input.u64()));
                    let mut method = std::mem::zeroed::<FgMethod>();
                    known_status(fg_flow_current(flow, &mut method));
                }
                12 => {
                    // An outcome facegate produced, or one built by hand.
                    #[repr(C)]
                    struct Raw {
                        family: u32,
                        kind: u32,
                        reason: *const c_char,
                        reason_kind: u32,
                    }
                    let own = input.text();
                    let raw = Raw {
                        family: input.u32() % 4,
                        kind: input.u32() % 4,
                        reason: if input.byte() % 2 == 0 { null() } else { own.as_ptr() },
                        reason_kind: input.u32() % 8,
                    };
                    let use_real = !outcomes.is_empty() && input.byte() % 2 == 0;
                    let real = outcomes.get(usize::from(input.byte()) % outcomes.len().max(1)).copied();
                    let p: *const FgOutcome = match (use_real, &real) {
                        (true, Some(r)) => r,
                        _ => (&raw as *const Raw).cast(),
                    };
                    let mut step = std::mem::zeroed::<FgStep>();
                    known_status(fg_flow_record(flow, p, input.u64(), &mut step));
                }
                13 => {
                    let mut step = step_buf();
                    known_status(fg_flow_trigger(flow, input.u32() % 6, input.u64(), &mut step));
                    let key = input.text();
                    let ident = input.arg(&["alice"]);
                    known_status(fg_flow_set_subject_pseudonym(
                        flow,
                        key.as_ptr().cast(),
                        key.as_bytes().len(),
                        ptr(&ident),
                    ));
                    let n = input.arg(&IDS);
                    known_status(fg_flow_set_subject_id_number(flow, ptr(&n), input.date()));
                }
                14 => {
                    // Reasons facegate handed out are accepted back; the caller's own text is
                    // read as a string (the contract allows any NUL-terminated string).
                    let mut sentence: *const c_char = null();
                    for o in &outcomes {
                        if !o.reason.is_null() {
                            let s = fg_reason_sentence(o.reason, &mut sentence);
                            assert_eq!(s, FgStatus::Ok, "a reason facegate produced was refused");
                        }
                    }
                    let own = input.text();
                    known_status(fg_reason_sentence(own.as_ptr(), &mut sentence));
                    known_status(fg_reason_sentence(null(), &mut sentence));
                }
                _ => {
                    let mut v: *const c_char = null();
                    let mut abi = 0u32;
                    known_status(fg_version(&mut v, &mut abi));
                    let mut msg: *const c_char = null();
                    known_status(fg_last_error(&mut msg));
                    if !msg.is_null() {
                        let _ = CStr::from_ptr(msg).to_bytes().len();
                    }
                    known_status(fg_last_error(null_mut()));
                }
            }
        }
        for h in otps {
            known_status(fg_otp_free(h));
        }
        known_status(fg_oob_free(oob));
        known_status(fg_flow_free(flow));
        known_status(fg_policy_free(policy));
    }
});

fn step_buf() -> FgStep {
    // SAFETY: FgStep is plain C data (enums with a zero value, a pointer, integers).
    unsafe { std::mem::zeroed() }
}

//! Typed or scanned text at the kiosk: resident ID numbers, machine-readable zones,
//! `otpauth://` URIs and one-time codes. Each parser returns a value or a typed error; none
//! may panic, and a masked identifier never shows more than its rule allows.
#![no_main]

use facegate::date::Date;
use facegate::idcard::{CnIdNumber, Mrz};
use facegate::otp::OtpAuthUri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let today = Date::new(2026, 11, 30).expect("a valid date");
    if let Ok(id) = CnIdNumber::parse(&text, today) {
        // A resident number's mask keeps the region code and the last four characters
        // (10 of 18); any other kind keeps fewer.
        let masked = id.masked().to_string();
        assert!(masked.chars().filter(|c| *c != '*').count() <= 10, "{masked}");
    }
    let _ = Mrz::parse(&text, today);
    let _ = OtpAuthUri::parse(&text);
});

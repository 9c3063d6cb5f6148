//! No audit event, `Debug` output or error message contains a full ID number, a code, a
//! secret, a phone number, a depth value or a pixel. Drives every verifier in this crate
//! through good and bad inputs, records an audit event for each attempt, and searches all
//! text produced. The types that hold such data are also checked not to be `Clone`.

use facegate::audit::{AuditEvent, AuditSink, JsonLinesSink, PseudonymKey, SubjectRef};
use facegate::date::Date;
use facegate::detect::{Detection, Landmarks};
use facegate::frame::Frame;
use facegate::geometry::{Point, Rect};
use facegate::idcard::{
    CnIdNumber, HolderRegistry, IdNumberVerifier, IdReading, MaskedId, Mrz, MrzReading, MrzVerifier,
};
use facegate::liveness::{DepthMap, GrayFrame, Observation};
use facegate::otp::{
    hotp, Algorithm, Code, Delivery, Digits, HotpAttempt, HotpVerifier, OobAttempt, OobCode,
    OobConfig, OobVerifier, OtpAuthUri, Secret, TotpAttempt, TotpParams, TotpVerifier,
};
use facegate::{Family, Outcome, Verifier};

/// Fails to compile when `$t` implements `$tr` (as in `tests/template_memory.rs`): with
/// the trait, the call below has two candidate impls and inference is ambiguous.
macro_rules! assert_not_impl {
    ($t:ty, $tr:path) => {
        const _: fn() = || {
            trait AmbiguousIfImpl<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
            #[allow(dead_code)]
            struct Invalid;
            impl<T: ?Sized + $tr> AmbiguousIfImpl<Invalid> for T {}
            let _ = <$t as AmbiguousIfImpl<_>>::some_item;
        };
    };
}

// One copy only of anything holding a code, a secret, a phone number, an ID number or
// face data: no `Clone` (hence no `Copy`).
assert_not_impl!(Secret, Clone);
assert_not_impl!(Code, Clone);
assert_not_impl!(OobCode, Clone);
assert_not_impl!(OobAttempt<'static>, Clone);
assert_not_impl!(TotpAttempt<'static>, Clone);
assert_not_impl!(HotpAttempt<'static>, Clone);
assert_not_impl!(OtpAuthUri, Clone);
assert_not_impl!(CnIdNumber, Clone);
assert_not_impl!(Mrz, Clone);
assert_not_impl!(IdReading<'static>, Clone);
assert_not_impl!(MrzReading<'static>, Clone);
assert_not_impl!(DepthMap, Clone);
assert_not_impl!(GrayFrame, Clone);
assert_not_impl!(Observation, Clone);
assert_not_impl!(Frame, Clone);

const ID: &str = "11010519491231002X";
const ID_BAD: &str = "110105194912310021";
const SECRET_HEX: &str = "3132333435363738393031323334353637383930";
const SECRET_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const DOC: &str = "L898902C3";
const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
const PHONE: &str = "+8613812345678";

struct Registry;
#[derive(Debug, thiserror::Error)]
#[error("registry unavailable")]
struct RegistryDown;
impl HolderRegistry for Registry {
    type Error = RegistryDown;
    fn is_holder(&self, name: &str, _number: &str) -> Result<bool, RegistryDown> {
        Ok(name == "ZHANG SAN" || name == "ERIKSSON ANNA MARIA")
    }
}

#[derive(Default)]
struct Phone(Vec<String>);
impl Delivery for Phone {
    type Error = std::convert::Infallible;
    fn deliver(&mut self, _r: &str, code: &OobCode) -> Result<(), Self::Error> {
        self.0.push(code.expose().to_owned());
        Ok(())
    }
}

#[test]
fn nothing_log_bound_contains_a_number_code_or_secret() {
    let today = Date::new(2026, 11, 23).unwrap();
    let mut text = String::new(); // every Debug, Display and audit line produced
    let mut sink = JsonLinesSink::new(Vec::new());
    let key = PseudonymKey::new(&[9u8; 32]).unwrap();
    let mut audit = |text: &mut String, family: Family, out: Outcome, subject: SubjectRef| {
        let ev = AuditEvent::new(1_700_000_000, "kiosk-1", family, out).with_subject(subject);
        text.push_str(&format!("{ev:?}\n"));
        sink.record(&ev).unwrap();
    };

    // ID numbers.
    let id = CnIdNumber::parse(ID, today).unwrap();
    text.push_str(&format!("{id:?}\n{}\n", id.masked()));
    let mut idv = IdNumberVerifier::new(Registry);
    for (number, masked) in [
        (ID, CnIdNumber::parse(ID, today).unwrap().masked()),
        // An invalid number gets the generic mask (the birth date's place is unknown).
        (ID_BAD, MaskedId::new(ID_BAD)),
    ] {
        let r = IdReading {
            name: "ZHANG SAN",
            number,
            today,
        };
        text.push_str(&format!("{r:?}\n"));
        let out = idv.verify(r).unwrap();
        text.push_str(&format!("{out:?}\n"));
        audit(&mut text, Family::IdCard, out, SubjectRef::masked(masked));
        if let Err(e) = CnIdNumber::parse(number, today) {
            text.push_str(&format!("{e} {e:?}\n"));
        }
    }

    // MRZ.
    let mrz = Mrz::parse(TD3, today).unwrap();
    text.push_str(&format!("{mrz:?}\n"));
    let mut mv = MrzVerifier::new(Registry);
    let r = MrzReading {
        text: TD3,
        today: Date::new(2010, 1, 1).unwrap(),
    };
    text.push_str(&format!("{r:?}\n"));
    let out = mv.verify(r).unwrap();
    assert!(out.is_accepted());
    audit(
        &mut text,
        Family::IdCard,
        out,
        SubjectRef::masked(mrz.masked_document_number()),
    );
    let e = Mrz::parse(&TD3.replace("<<<<<10", "<<<<<11"), today)
        .map(|_| ())
        .unwrap_err();
    text.push_str(&format!("{e} {e:?}\n"));

    // HOTP / TOTP.
    let secret = Secret::from_hex(SECRET_HEX).unwrap();
    text.push_str(&format!("{secret:?}\n"));
    let code = hotp(&secret, 0, Digits::SIX, Algorithm::Sha1);
    text.push_str(&format!("{code:?}\n"));
    let mut hv = HotpVerifier::new(
        Secret::from_hex(SECRET_HEX).unwrap(),
        Algorithm::Sha1,
        Digits::SIX,
        0,
        3,
    )
    .unwrap();
    text.push_str(&format!("{hv:?}\n"));
    for typed in ["755224", "755224", "000000"] {
        let a = HotpAttempt {
            code: typed,
            now: 1_700_000_000,
        };
        text.push_str(&format!("{a:?}\n"));
        let out = hv.verify(a).unwrap();
        audit(
            &mut text,
            Family::OneTimeCode,
            out,
            SubjectRef::pseudonym(&key, "staff-17"),
        );
    }
    let mut tv = TotpVerifier::new(
        Secret::from_base32(SECRET_B32).unwrap(),
        TotpParams::default(),
        None,
    )
    .unwrap();
    text.push_str(&format!("{tv:?}\n"));
    let a = TotpAttempt {
        code: "287082",
        now: 59,
    };
    text.push_str(&format!("{a:?}\n"));
    let out = tv.verify(a).unwrap();
    text.push_str(&format!("{out:?}\n"));
    let uri = OtpAuthUri::parse(&format!(
        "otpauth://totp/Kiosk:ops?secret={SECRET_B32}&issuer=Kiosk"
    ))
    .unwrap();
    text.push_str(&format!("{uri:?}\n"));
    for bad in ["zz", "00"] {
        let e = Secret::from_hex(bad).unwrap_err();
        text.push_str(&format!("{e} {e:?}\n"));
    }

    // Out-of-band codes.
    let mut oob = OobVerifier::new(OobConfig::default(), Phone::default()).unwrap();
    let sent = oob.send(PHONE, 1000).unwrap();
    text.push_str(&format!("{sent:?} {oob:?}\n"));
    let sent_code = oob.delivery().0[0].clone();
    let wrong = if sent_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    for typed in [wrong, sent_code.as_str()] {
        let a = OobAttempt {
            recipient: PHONE,
            code: typed,
            now: 1001,
        };
        text.push_str(&format!("{a:?}\n"));
        let out = oob.verify(a).unwrap();
        text.push_str(&format!("{out:?}\n"));
        audit(
            &mut text,
            Family::OneTimeCode,
            out,
            SubjectRef::pseudonym(&key, PHONE),
        );
    }
    let e = oob.send(PHONE, 1002).unwrap_err();
    text.push_str(&format!("{e} {e:?}\n"));

    let log = String::from_utf8(sink.into_inner()).unwrap();
    assert_eq!(log.lines().count(), 8);
    text.push_str(&log);

    let secret_b32_prefix = &SECRET_B32[..16];
    for forbidden in [
        ID,
        "11010519491231002x",
        ID_BAD,
        DOC,
        "ZE184226B",
        SECRET_HEX,
        secret_b32_prefix,
        "12345678901234567890",
        "755224",
        "287082",
        sent_code.as_str(),
        PHONE,
        "13812345678",
    ] {
        assert!(!text.contains(forbidden), "found {forbidden:?} in:\n{text}");
    }
    // And the masked forms are what appear instead.
    assert!(log.contains("110105********002X") && log.contains("L8*****C3"));
    assert!(log.contains("11**************21"), "{log}");
    assert!(!log.contains("19491231"), "{log}");
}

#[test]
fn face_data_never_prints() {
    // Distinctive values, so a leak is recognisable in the text.
    const DEPTH_MM: f32 = 1234.5;
    const PIXEL: u8 = 173;
    let (w, h) = (8u32, 6u32);
    let n = (w * h) as usize;
    let depth = DepthMap::new(w, h, vec![DEPTH_MM; n]).unwrap();
    let nir = GrayFrame::new(w, h, vec![PIXEL; n]).unwrap();
    let luma = GrayFrame::new(w, h, vec![PIXEL; n]).unwrap();
    let face = Detection {
        bbox: Rect {
            x: 321.75,
            y: 198.25,
            width: 77.5,
            height: 91.5,
        },
        score: 0.99,
        landmarks: Landmarks::from_array([Point::new(301.125, 211.875); 5]),
    };
    let mut o = Observation::new(0.5, vec![face]);
    o.depth = Some(depth);
    o.nir = Some(nir);
    o.luma = Some(luma);
    let frame = Frame::from_rgb(w, h, vec![PIXEL; n * 3]).unwrap();
    let text = format!("{o:?}\n{:?}\n{:?}\n{:?}\n{frame:?}", o.depth, o.nir, o.luma);
    for forbidden in ["1234", "173", "321.75", "301.125", "211.875"] {
        assert!(!text.contains(forbidden), "found {forbidden:?} in:\n{text}");
    }
    // What does print: dimensions, time, how many faces.
    assert!(
        text.contains("width: 8") && text.contains("faces: 1"),
        "{text}"
    );
}

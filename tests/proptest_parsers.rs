//! Property tests: every parser is total (no panic on arbitrary input) and the
//! round-trips hold.

use facegate::date::Date;
use facegate::idcard::cn::check_char;
use facegate::idcard::{CnIdNumber, MaskedId, Mrz};
use facegate::otp::{Algorithm, Digits, HotpVerifier, OtpAuthUri, Secret, UriKind};
use facegate::policy::{Method, Policy};
use proptest::prelude::*;

fn today() -> Date {
    Date::new(2026, 11, 23).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_never_panic(s in ".{0,200}") {
        let _ = Date::parse_iso(&s);
        let _ = Date::parse_compact(&s);
        let _ = CnIdNumber::parse(&s, today());
        let _ = Mrz::parse(&s, today());
        let _ = OtpAuthUri::parse(&s);
        let _ = Secret::from_hex(&s);
        let _ = Secret::from_base32(&s);
        let _ = MaskedId::new(&s);
        let _ = s.parse::<Algorithm>();
    }

    #[test]
    fn id_like_inputs_never_panic(s in "[0-9Xx]{0,20}", t in "[0-9]{17}[0-9X]") {
        let _ = CnIdNumber::parse(&s, today());
        let _ = CnIdNumber::parse(&t, today());
    }

    #[test]
    fn mrz_like_inputs_never_panic(
        l1 in "[A-Z0-9<]{30}|[A-Z0-9<]{36}|[A-Z0-9<]{44}",
        l2 in "[A-Z0-9<]{30}|[A-Z0-9<]{36}|[A-Z0-9<]{44}",
        l3 in proptest::option::of("[A-Z0-9<]{30}"),
    ) {
        let text = match l3 { Some(l3) => format!("{l1}\n{l2}\n{l3}"), None => format!("{l1}\n{l2}") };
        let _ = Mrz::parse(&text, today());
    }

    #[test]
    fn otpauth_like_inputs_never_panic(
        ty in "totp|hotp|xotp", label in "[A-Za-z0-9%:@ ]{0,20}", q in "[a-z=&%0-9A-Z]{0,60}"
    ) {
        let _ = OtpAuthUri::parse(&format!("otpauth://{ty}/{label}?{q}"));
    }

    #[test]
    fn date_roundtrips(days in -719_162i64..=2_932_896) {
        let d = Date::from_days_since_epoch(days).unwrap();
        prop_assert_eq!(d.days_since_epoch(), days);
        prop_assert_eq!(Date::parse_iso(&d.to_string()), Ok(d));
    }

    #[test]
    fn valid_id_numbers_roundtrip(
        province in prop::sample::select(vec!["11", "31", "44", "65"]),
        rest in "[0-9]{4}", y in 1900u16..2026, m in 1u8..=12, d in 1u8..=28, seq in "[0-9]{3}"
    ) {
        let body = format!("{province}{rest}{y:04}{m:02}{d:02}{seq}");
        let cc = char::from(check_char(body.as_bytes()).unwrap());
        let n = format!("{body}{cc}");
        let id = CnIdNumber::parse(&n, today()).unwrap();
        prop_assert_eq!(id.expose(), n.as_str());
        prop_assert_eq!(id.birth_date(), Date::new(y, m, d).unwrap());
        let masked = id.masked();
        prop_assert_eq!(&masked.as_str()[..6], &n[..6]);
        prop_assert_eq!(&masked.as_str()[6..14], "********");
        // Any single substituted digit in the body is rejected.
        let i = (usize::from(m) * 3 + usize::from(d)) % 17;
        let mut b = n.clone().into_bytes();
        b[i] = if b[i] == b'9' { b'0' } else { b[i] + 1 };
        prop_assert!(CnIdNumber::parse(std::str::from_utf8(&b).unwrap(), today()).is_err());
    }

    #[test]
    fn otpauth_roundtrips(
        secret in proptest::collection::vec(any::<u8>(), 16..64),
        label in "[^\u{0}]{1,30}", issuer in proptest::option::of("[^\u{0}]{1,20}"),
        alg in prop::sample::select(vec![Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512]),
        digits in 6u8..=8, hotp in any::<bool>(), n in 1u64..=3600,
    ) {
        let kind = if hotp { UriKind::Hotp { counter: n } } else { UriKind::Totp { period: n } };
        let u = OtpAuthUri {
            kind, label: label.clone(), issuer: issuer.clone(),
            secret: Secret::from_bytes(secret).unwrap(), algorithm: alg, digits: Digits::new(digits).unwrap(),
        };
        let back = OtpAuthUri::parse(&u.to_uri()).unwrap();
        prop_assert_eq!(back.kind, kind);
        prop_assert_eq!(&back.label, &label);
        prop_assert_eq!(&back.issuer, &issuer);
        prop_assert_eq!(back.algorithm, alg);
        prop_assert_eq!(back.digits.get(), digits);
        prop_assert_eq!(&*back.secret.to_base32(), &*u.secret.to_base32());
    }

    #[test]
    fn hotp_verifier_total_on_any_typed_code(typed in ".{0,12}") {
        let mut v = HotpVerifier::new(Secret::from_bytes(vec![1; 20]).unwrap(), Algorithm::Sha1, Digits::SIX, 0, 5).unwrap();
        let _ = v.check(&typed, 0);
    }

    #[test]
    fn no_policy_without_a_non_biometric_default(
        methods in proptest::collection::vec(
            prop::sample::select(vec![
                Method::Face { liveness: true }, Method::Face { liveness: false }, Method::IdCard, Method::OneTimeCode,
            ]),
            0..5,
        )
    ) {
        let mut b = Policy::builder("p");
        for m in &methods { b = b.offer(*m); }
        if let Ok(p) = b.build() {
            prop_assert!(!p.default_method().is_biometric());
            prop_assert!(p.methods().iter().any(|m| !m.is_biometric()));
        }
    }
}

/// Builds a TD3 MRZ from fields, computing every check digit.
fn td3(
    doc: &str,
    birth: &str,
    expiry: &str,
    sex: char,
    opt: &str,
    surname: &str,
    given: &str,
) -> String {
    use facegate::idcard::mrz::check_digit;
    let pad = |s: &str, n: usize| format!("{s:<<n$}");
    let mut l1 = format!("P<UTO{surname}<<{given}");
    l1 = pad(&l1, 44);
    let doc = pad(doc, 9);
    let opt = pad(opt, 14);
    let cd = |s: &str| check_digit(s.as_bytes()).to_string();
    let mut l2 = format!(
        "{doc}{}UTO{birth}{}{sex}{expiry}{}{opt}{}",
        cd(&doc),
        cd(birth),
        cd(expiry),
        cd(&opt)
    );
    let comp = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
    l2.push_str(&cd(&comp));
    format!("{l1}\n{l2}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn td3_roundtrips(
        doc in "[A-Z0-9]{1,9}", by in 0u8..=99, bm in 1u8..=12, bd in 1u8..=28,
        ey in 0u8..=99, em in 1u8..=12, ed in 1u8..=28,
        sex in prop::sample::select(vec!['M', 'F', '<', 'X']),
        opt in "[A-Z0-9]{0,14}", surname in "[A-Z]{1,15}", given in "[A-Z]{1,10}",
    ) {
        let text = td3(&doc, &format!("{by:02}{bm:02}{bd:02}"), &format!("{ey:02}{em:02}{ed:02}"), sex, &opt, &surname, &given);
        let m = Mrz::parse(&text, today()).unwrap();
        prop_assert_eq!(m.expose_document_number(), doc.as_str());
        prop_assert_eq!(m.surname(), surname.as_str());
        prop_assert_eq!(m.given_names(), given.as_str());
        prop_assert_eq!(m.expose_optional_data(), opt.as_str());
        prop_assert_eq!(m.sex(), sex);
        prop_assert_eq!((m.birth_date().month(), m.birth_date().day()), (bm, bd));
        prop_assert!(m.birth_date() <= today());
        prop_assert_eq!(m.expiry_date().year(), 2000 + u16::from(ey));
        prop_assert_eq!(m.check_expiry(today()).is_ok(), m.expiry_date() >= today());
    }
}

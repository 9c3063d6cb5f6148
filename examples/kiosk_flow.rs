//! A parcel-locker session without a face: policy, flow, one-time code, ID card, audit.
//!
//! `cargo run --example kiosk_flow`

use facegate::audit::{AuditEvent, AuditSink, JsonLinesSink, PseudonymKey, SubjectRef};
use facegate::date::Date;
use facegate::idcard::{CnIdNumber, HolderRegistry, IdNumberVerifier, IdReading};
use facegate::otp::{Delivery, OobAttempt, OobCode, OobConfig, OobVerifier};
use facegate::policy::{notice, Language, Method, Policy, Step};
use facegate::Verifier;

/// The integrator's SMS gateway (here: prints to the console, as a phone would show it).
struct ConsoleSms(Option<String>);
impl Delivery for ConsoleSms {
    type Error = std::convert::Infallible;
    fn deliver(&mut self, _recipient: &str, code: &OobCode) -> Result<(), Self::Error> {
        self.0 = Some(code.expose().to_owned());
        Ok(())
    }
}

/// The integrator's parcel records.
struct Parcels;
impl HolderRegistry for Parcels {
    type Error = std::convert::Infallible;
    fn is_holder(&self, name: &str, number: &str) -> Result<bool, Self::Error> {
        Ok(name == "ZHANG SAN" && number == "11010519491231002X")
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = 1_800_000_000;
    let today = Date::from_unix_seconds(now).ok_or("date")?;
    let policy = Policy::builder("locker-7")
        .offer(Method::OneTimeCode)
        .offer(Method::IdCard)
        .offer(Method::Face { liveness: true })
        .build()?;
    for m in policy.methods() {
        println!("{}\n", notice(*m, Language::En));
    }

    let mut audit = JsonLinesSink::new(std::io::stdout());
    let pseudonyms = PseudonymKey::new(b"per-deployment secret key bytes!")?;
    let mut flow = policy.flow();
    let phone = "+8613800000000";

    // One-time code: the person mistypes it three times, the code still works after.
    let mut otp = OobVerifier::new(OobConfig::default(), ConsoleSms(None))?;
    otp.send(phone, now)?;
    let code = otp.delivery().0.clone().ok_or("no code")?;
    for typed in ["000000", "111111", code.as_str()] {
        let outcome = otp.verify(OobAttempt {
            recipient: phone,
            code: typed,
            now,
        })?;
        audit.record(
            &AuditEvent::new(now, policy.id(), otp.family(), outcome)
                .with_subject(SubjectRef::pseudonym(&pseudonyms, phone)),
        )?;
        match flow.record(&otp, outcome, now)? {
            Step::Verified(m) => {
                println!("verified by {m:?}");
                break;
            }
            Step::TryAgain { reason, .. } => println!("try again: {reason}"),
            other => println!("{other:?}"),
        }
    }

    // ID card, in a second session.
    let mut flow = policy.flow();
    flow.choose(Method::IdCard, now)?;
    let number = "11010519491231002X";
    let mut ids = IdNumberVerifier::new(Parcels);
    let outcome = ids.verify(IdReading {
        name: "ZHANG SAN",
        number,
        today,
    })?;
    let masked = CnIdNumber::parse(number, today).map(|id| id.masked())?;
    audit.record(
        &AuditEvent::new(now, policy.id(), ids.family(), outcome)
            .with_subject(SubjectRef::masked(masked)),
    )?;
    println!("{:?}", flow.record(&ids, outcome, now)?);
    Ok(())
}

//! Identity documents: Chinese 18-character identity numbers ([`cn`]) and ICAO 9303
//! machine-readable zones ([`mrz`]), holder matching through an integrator's registry,
//! and masking ([`mask`]).
//!
//! Why: an ID card is the non-biometric alternative that must always be available next
//! to face recognition. A check must reject every malformed document with a precise
//! reason (so the kiosk can say "check digit wrong" rather than "failed"), and the number
//! itself is personal information: it is zeroized after use and only ever shown masked
//! (`110105********002X`).
//!
//! The document's chip photo compared with the live face lands with the face module
//! (issue 3), and only with consent.

pub mod cn;
pub mod mask;
pub mod mrz;

pub use cn::{CnIdNumber, IdKind, Sex};
pub use mask::MaskedId;
pub use mrz::{Mrz, MrzError, MrzFormat};

use crate::date::Date;
use crate::verifier::{Family, Outcome, Verifier};

/// Reason codes for identity numbers and the holder check.
pub mod reasons {
    use crate::verifier::{Reason, ReasonKind};
    /// Not 18 characters.
    pub const LENGTH: Reason = Reason::new("idcard.length", ReasonKind::Malformed);
    /// A character other than digits (and a final `X`).
    pub const CHARSET: Reason = Reason::new("idcard.charset", ReasonKind::Malformed);
    /// Unknown province / region code.
    pub const REGION: Reason = Reason::new("idcard.region", ReasonKind::Malformed);
    /// Implausible nationality code on a foreigner's card.
    pub const NATIONALITY: Reason = Reason::new("idcard.nationality", ReasonKind::Malformed);
    /// The birth date is not a calendar date.
    pub const BIRTH_DATE: Reason = Reason::new("idcard.birth_date", ReasonKind::Malformed);
    /// The birth date is before 1900.
    pub const BIRTH_DATE_BEFORE_1900: Reason =
        Reason::new("idcard.birth_date_before_1900", ReasonKind::Malformed);
    /// The birth date is in the future.
    pub const BIRTH_DATE_IN_FUTURE: Reason =
        Reason::new("idcard.birth_date_in_future", ReasonKind::Malformed);
    /// The ISO 7064 MOD 11-2 check character does not match.
    pub const CHECK_DIGIT: Reason = Reason::new("idcard.check_digit", ReasonKind::Malformed);
    /// The registry says this person does not hold this document.
    pub const HOLDER_MISMATCH: Reason = Reason::new("idcard.holder_mismatch", ReasonKind::Mismatch);
}

/// Why an identity number is invalid. Carries no part of the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not 18 characters.
    #[error("identity number must be 18 characters")]
    Length,
    /// Invalid character.
    #[error("identity number must be 17 digits and a digit or X")]
    Charset,
    /// Unknown region code.
    #[error("identity number has an unknown region code")]
    Region,
    /// Implausible nationality code.
    #[error("identity number has an implausible nationality code")]
    Nationality,
    /// Impossible birth date.
    #[error("identity number has an impossible birth date")]
    BirthDate,
    /// Birth date before 1900.
    #[error("identity number has a birth date before 1900")]
    BirthDateBefore1900,
    /// Birth date after today.
    #[error("identity number has a birth date in the future")]
    BirthDateInFuture,
    /// Check character mismatch.
    #[error("identity number check character does not match")]
    CheckDigit,
}

/// The integrator's record of who may collect: does the person `name` hold the
/// document `number`? (A parcel's recipient record, a staff list, …)
pub trait HolderRegistry {
    /// Lookup failures (database down, …).
    type Error: std::error::Error + Send + Sync + 'static;
    /// Whether `name` holds `number`. `number` is the full number: do not log it.
    fn is_holder(&self, name: &str, number: &str) -> Result<bool, Self::Error>;
}

/// An identity number read from a card (chip or typed), with the holder's name. No
/// `Clone` (it holds a full number) and `Debug` shows the number masked.
pub struct IdReading<'e> {
    /// Holder's name as read from the document.
    pub name: &'e str,
    /// The 18-character number.
    pub number: &'e str,
    /// Today's date (bounds the birth date).
    pub today: Date,
}

impl std::fmt::Debug for IdReading<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdReading")
            .field("number", &MaskedId::new(self.number))
            .finish_non_exhaustive()
    }
}

/// Verifies a Chinese identity number and its holder.
#[derive(Debug)]
pub struct IdNumberVerifier<R> {
    registry: R,
}

impl<R: HolderRegistry> IdNumberVerifier<R> {
    /// A verifier backed by `registry`.
    pub fn new(registry: R) -> Self {
        IdNumberVerifier { registry }
    }
}

impl<R: HolderRegistry> Verifier for IdNumberVerifier<R> {
    type Evidence<'e> = IdReading<'e>;
    type Error = R::Error;

    fn family(&self) -> Family {
        Family::IdCard
    }

    fn verify(&mut self, r: IdReading<'_>) -> Result<Outcome, R::Error> {
        let id = match CnIdNumber::parse(r.number, r.today) {
            Ok(id) => id,
            Err(e) => return Ok(Outcome::Rejected(e.reason())),
        };
        Ok(if self.registry.is_holder(r.name, id.expose())? {
            Outcome::Accepted
        } else {
            Outcome::Rejected(reasons::HOLDER_MISMATCH)
        })
    }
}

/// A machine-readable zone as scanned (2 or 3 lines) and today's date. No `Clone` (it
/// holds a full document number) and `Debug` is redacted.
pub struct MrzReading<'e> {
    /// The MRZ lines, separated by newlines.
    pub text: &'e str,
    /// Today's date (for expiry).
    pub today: Date,
}

impl std::fmt::Debug for MrzReading<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MrzReading(<redacted>)")
    }
}

/// Verifies a travel document's MRZ (check digits, dates, expiry) and its holder.
#[derive(Debug)]
pub struct MrzVerifier<R> {
    registry: R,
}

impl<R: HolderRegistry> MrzVerifier<R> {
    /// A verifier backed by `registry`; the registry receives the MRZ name
    /// (`SURNAME GIVEN NAMES`) and document number.
    pub fn new(registry: R) -> Self {
        MrzVerifier { registry }
    }
}

impl<R: HolderRegistry> Verifier for MrzVerifier<R> {
    type Evidence<'e> = MrzReading<'e>;
    type Error = R::Error;

    fn family(&self) -> Family {
        Family::IdCard
    }

    fn verify(&mut self, r: MrzReading<'_>) -> Result<Outcome, R::Error> {
        let mrz =
            match Mrz::parse(r.text, r.today).and_then(|m| m.check_expiry(r.today).map(|()| m)) {
                Ok(m) => m,
                Err(e) => return Ok(Outcome::Rejected(e.reason())),
            };
        let name = format!("{} {}", mrz.surname(), mrz.given_names());
        Ok(
            if self
                .registry
                .is_holder(name.trim(), mrz.expose_document_number())?
            {
                Outcome::Accepted
            } else {
                Outcome::Rejected(reasons::HOLDER_MISMATCH)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Registry;
    impl HolderRegistry for Registry {
        type Error = std::convert::Infallible;
        fn is_holder(&self, name: &str, number: &str) -> Result<bool, Self::Error> {
            Ok(matches!(
                (name, number),
                ("ZHANG SAN", "11010519491231002X") | ("ERIKSSON ANNA MARIA", "L898902C3")
            ))
        }
    }

    #[test]
    fn id_number_holder_check() {
        let today = Date::new(2026, 11, 23).unwrap();
        let mut v = IdNumberVerifier::new(Registry);
        assert_eq!(v.family(), Family::IdCard);
        assert!(!v.is_biometric());
        // No `Clone` on a reading (it holds a full number): build one per attempt.
        let reading = |name, number| IdReading {
            name,
            number,
            today,
        };
        let ok = reading("ZHANG SAN", "11010519491231002x");
        assert!(!format!("{ok:?}").contains("19491231"));
        assert_eq!(v.verify(ok).unwrap(), Outcome::Accepted);
        assert_eq!(
            v.verify(reading("LI SI", "11010519491231002x")).unwrap(),
            Outcome::Rejected(reasons::HOLDER_MISMATCH)
        );
        assert_eq!(
            v.verify(reading("ZHANG SAN", "110105194912310021"))
                .unwrap(),
            Outcome::Rejected(reasons::CHECK_DIGIT)
        );
    }

    #[test]
    fn mrz_holder_check_and_expiry() {
        let text = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n";
        let mut v = MrzVerifier::new(Registry);
        let valid = MrzReading {
            text,
            today: Date::new(2010, 1, 1).unwrap(),
        };
        assert_eq!(v.verify(valid).unwrap(), Outcome::Accepted);
        let expired = MrzReading {
            text,
            today: Date::new(2026, 1, 1).unwrap(),
        };
        assert_eq!(
            v.verify(expired).unwrap(),
            Outcome::Rejected(mrz::reasons::EXPIRED)
        );
    }
}

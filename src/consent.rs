//! Separate consent for face recognition, as values you can only get from a person.
//!
//! Why: PIPL arts. 28–29 treat facial data as sensitive personal information that may
//! only be processed with the person's *separate* consent, and art. 31 requires a
//! parent's or guardian's consent for a minor under 14. The 2025 face-recognition
//! security measures repeat both. A boolean flag is easy to hard-code to `true`; these
//! tokens are not:
//!
//! - [`BiometricConsent`] and [`GuardianConsent`] have private fields, no `Default`, no
//!   `Clone`, and only one constructor each, whose name states who gave the consent. A
//!   code reviewer grepping for `given_by_person` finds every place consent is asserted.
//! - The face verifier's evidence requires a [`FaceConsent`], which borrows those tokens:
//!   no consent value, no face attempt (it does not compile).
//! - [`FaceConsent::check`] applies the under-14 rule with the birth date read from the
//!   person's ID document.
//!
//! ```compile_fail
//! // Consent cannot be conjured: the field is private.
//! let c = facegate::consent::BiometricConsent { _private: () };
//! ```
//!
//! ```compile_fail
//! // Nor copied from one person's session into another's.
//! let c = facegate::consent::BiometricConsent::given_by_person();
//! let d = c.clone();
//! ```
//!
//! ```compile_fail
//! // Nor defaulted.
//! let c: facegate::consent::BiometricConsent = Default::default();
//! ```
//!
//! ```compile_fail
//! // A face consent always borrows the person's own consent.
//! let f = facegate::consent::FaceConsent::adult();
//! ```

use crate::date::Date;
use crate::verifier::{Reason, ReasonKind};

/// Age below which a guardian's consent is needed too (PIPL art. 31).
pub const GUARDIAN_AGE: u16 = 14;

/// Reason codes produced by consent checks.
pub mod reasons {
    use super::*;
    /// The person is under 14 and no guardian consent was presented.
    pub const GUARDIAN_REQUIRED: Reason =
        Reason::new("consent.guardian_required", ReasonKind::Consent);
    /// The person declined (or withdrew) consent to face recognition.
    pub const DECLINED: Reason = Reason::new("consent.declined", ReasonKind::Consent);
    /// The birth date on the document is after today, so age cannot be established.
    pub const BIRTH_DATE_INVALID: Reason =
        Reason::new("consent.birth_date_invalid", ReasonKind::Malformed);
}

/// The person's separate, explicit consent to face recognition for this session.
///
/// Obtain it from the person (a dedicated button after showing the face notice, never a
/// pre-ticked box), create it with [`BiometricConsent::given_by_person`], and drop it
/// when the session ends.
pub struct BiometricConsent {
    _private: (),
}

impl BiometricConsent {
    /// The person has just given separate consent to face recognition, after being shown
    /// the notice for the face method (see [`crate::policy::notice`]).
    pub fn given_by_person() -> Self {
        BiometricConsent { _private: () }
    }
}

impl std::fmt::Debug for BiometricConsent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BiometricConsent")
    }
}

/// A parent's or guardian's consent for a person under 14.
pub struct GuardianConsent {
    _private: (),
}

impl GuardianConsent {
    /// A parent or guardian of the person has just given separate consent to face
    /// recognition of the minor, after being shown the face notice.
    pub fn given_by_guardian() -> Self {
        GuardianConsent { _private: () }
    }
}

impl std::fmt::Debug for GuardianConsent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GuardianConsent")
    }
}

/// The consent a face attempt requires: the person's own, plus a guardian's if the
/// person may be under 14.
#[derive(Debug)]
pub struct FaceConsent<'c> {
    _person: &'c BiometricConsent,
    guardian: Option<&'c GuardianConsent>,
}

impl<'c> FaceConsent<'c> {
    /// Consent of a person who is 14 or older.
    pub fn adult(person: &'c BiometricConsent) -> Self {
        FaceConsent {
            _person: person,
            guardian: None,
        }
    }

    /// Consent of a minor together with their guardian's.
    pub fn with_guardian(person: &'c BiometricConsent, guardian: &'c GuardianConsent) -> Self {
        FaceConsent {
            _person: person,
            guardian: Some(guardian),
        }
    }

    /// Whether a guardian's consent is included.
    pub fn has_guardian(&self) -> bool {
        self.guardian.is_some()
    }

    /// Applies the under-14 rule. `birth_date` comes from the person's ID document when
    /// one was read; without it the age is unknown and the person's own consent is taken
    /// at face value (the kiosk should ask "are you 14 or older?" before offering face).
    pub fn check(&self, birth_date: Option<Date>, today: Date) -> Result<(), Reason> {
        let Some(born) = birth_date else {
            return Ok(());
        };
        match born.age_on(today) {
            None => Err(reasons::BIRTH_DATE_INVALID),
            Some(age) if age < GUARDIAN_AGE && self.guardian.is_none() => {
                Err(reasons::GUARDIAN_REQUIRED)
            }
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    #[test]
    fn under_14_needs_guardian() {
        let person = BiometricConsent::given_by_person();
        let guardian = GuardianConsent::given_by_guardian();
        let today = d("2026-11-23");
        let child = Some(d("2012-11-24")); // 13 until tomorrow
        let teen = Some(d("2012-11-23")); // 14 today

        assert_eq!(
            FaceConsent::adult(&person).check(child, today),
            Err(reasons::GUARDIAN_REQUIRED)
        );
        assert_eq!(
            FaceConsent::with_guardian(&person, &guardian).check(child, today),
            Ok(())
        );
        assert_eq!(FaceConsent::adult(&person).check(teen, today), Ok(()));
        assert_eq!(FaceConsent::adult(&person).check(None, today), Ok(()));
        assert_eq!(
            FaceConsent::adult(&person).check(Some(d("2030-01-01")), today),
            Err(reasons::BIRTH_DATE_INVALID)
        );
        assert_eq!(reasons::GUARDIAN_REQUIRED.kind(), ReasonKind::Consent);
    }
}

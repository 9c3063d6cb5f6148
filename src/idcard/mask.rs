//! Masked identifiers for anything that may reach a log, a screen or an audit trail.
//!
//! Why a type: a `String` can hold a full ID number by mistake; a [`MaskedId`] can only
//! be made by one of two fixed masking rules, so an API that takes one (such as
//! [`crate::audit::SubjectRef::masked`]) cannot receive the full number, nor a "mask"
//! chosen by the caller that leaves most of it visible. There is deliberately no
//! constructor taking how many characters to keep.
//!
//! The rules:
//! 1. A validated resident identity number ([`super::CnIdNumber::masked`]): the 6-digit
//!    region code and the last 4 characters (sequence and check character) stay, the 8
//!    digits of the birth date are always masked: `110105********002X`. Only a number
//!    that passed validation gets this rule, because only then is the birth date known to
//!    sit at characters 7–14.
//! 2. Any other identifier ([`MaskedId::new`]: document numbers, unvalidated input): at
//!    most the first 2 and the last 2 characters stay, and never more than half:
//!    `L898902C3` → `L8*****C3`, an 18-character ID number → `11**************2X`.
//!
//! Neither rule can show a birth date of a resident identity number.

use serde::Serialize;

/// An identifier with its middle replaced by `*`, e.g. `110105********002X`, made only
/// by the rules in the module docs.
///
/// ```compile_fail
/// // A caller-chosen mask that would show the birth date does not compile.
/// let m = facegate::idcard::MaskedId::new("11010519491231002X", 14, 0);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MaskedId(String);

impl MaskedId {
    /// Masks any identifier by rule 2: keeps at most the first 2 and the last 2
    /// characters (1 and 1 below 8 characters, none below 4), so at least half is masked.
    pub fn new(id: &str) -> MaskedId {
        let n = id.chars().count();
        let keep = match n {
            0..=3 => 0,
            4..=7 => 1,
            _ => 2,
        };
        MaskedId::keep(id, keep, keep)
    }

    /// Rule 1, for a validated 18-character resident identity number only: region code
    /// and the last 4 characters, the birth date masked.
    pub(crate) fn resident_id(validated: &str) -> MaskedId {
        if validated.chars().count() == 18 {
            MaskedId::keep(validated, 6, 4)
        } else {
            MaskedId::new(validated)
        }
    }

    fn keep(id: &str, start: usize, end: usize) -> MaskedId {
        let n = id.chars().count();
        let s = id
            .chars()
            .enumerate()
            .map(|(i, c)| if i < start || i + end >= n { c } else { '*' })
            .collect();
        MaskedId(s)
    }

    /// The masked text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MaskedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for MaskedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MaskedId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_middle() {
        assert_eq!(
            MaskedId::resident_id("11010519491231002X").as_str(),
            "110105********002X"
        );
        assert_eq!(MaskedId::new("L898902C3").as_str(), "L8*****C3");
        assert_eq!(MaskedId::new("123456").as_str(), "1****6");
        assert_eq!(MaskedId::new("1234").as_str(), "1**4");
        assert_eq!(MaskedId::new("123").as_str(), "***");
        assert_eq!(MaskedId::new("1").as_str(), "*");
        assert_eq!(MaskedId::new("").as_str(), "");
        assert_eq!(MaskedId::new("中华人民共和国").as_str(), "中*****国");
        // Rule 1 only for 18 characters; anything else falls back to rule 2.
        assert_eq!(MaskedId::resident_id("1101051949").as_str(), "11******49");
    }

    #[test]
    fn no_rule_reveals_a_birth_date() {
        let id = "11010519491231002X";
        for m in [MaskedId::new(id), MaskedId::resident_id(id)] {
            let s = m.as_str();
            assert_eq!(s.chars().count(), 18);
            assert!(s[6..14].chars().all(|c| c == '*'), "{s}");
            let visible = s.chars().filter(|c| *c != '*').count();
            assert!(visible <= 10, "{s}");
        }
        assert_eq!(MaskedId::new(id).as_str(), "11**************2X");
        // Any length, any input: rule 2 masks at least half.
        for n in 0..40 {
            let id: String = "9".repeat(n);
            let visible = MaskedId::new(&id)
                .as_str()
                .chars()
                .filter(|c| *c == '9')
                .count();
            assert!(visible * 2 <= n, "{n}: {visible}");
        }
    }
}

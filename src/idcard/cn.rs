//! Chinese 18-character identity numbers (GB 11643-1999 layout):
//!
//! | kind | characters 1–6 | 7–14 | 15–17 | 18 |
//! |---|---|---|---|---|
//! | resident identity card | address code (province 11–65, 71) | birth date | sequence (17th: odd = male) | ISO 7064 MOD 11-2 (`X` = 10) |
//! | residence permit, HK / Macao / Taiwan residents | `810000` / `820000` / `830000` | birth date | sequence | same |
//! | foreigner's permanent residence ID card (2023) | `9` + province where issued + 3-digit nationality (ISO 3166-1 numeric) — chars 1, 2–3, 4–6 | birth date | sequence | same |
//!
//! (The 2023 foreigner card layout follows the National Immigration Administration's
//! machine-readable rules: first digit 9, MOD 11-2 check as for citizens.)
//!
//! Each defect has its own error and reason, checked in this order: length, character
//! set, region, birth date, check character — so a number with exactly one defect is
//! reported with that defect. The number is kept zeroized; `Debug`, `Display`-facing
//! output and errors show only the masked form.

use zeroize::Zeroizing;

use super::mask::MaskedId;
use super::{reasons, IdError};
use crate::date::Date;

/// Which document the number belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// Resident identity card of the PRC.
    Resident,
    /// Residence permit for Hong Kong residents (region 81).
    HongKongResidencePermit,
    /// Residence permit for Macao residents (region 82).
    MacaoResidencePermit,
    /// Residence permit for Taiwan residents (region 83).
    TaiwanResidencePermit,
    /// Foreigner's permanent residence ID card, 2023 edition.
    ForeignPermanentResident,
}

/// Sex recorded in the number (odd 17th digit = male).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
}

/// A validated identity number. No `Clone`; zeroized on drop; `Debug` is masked.
///
/// ```
/// use facegate::date::Date;
/// use facegate::idcard::{CnIdNumber, IdError, IdKind, Sex};
///
/// let today = Date::new(2026, 11, 30).unwrap();
/// // The specimen number of the GB 11643-1999 standard.
/// let id = CnIdNumber::parse("11010519491231002x", today)?;
/// assert_eq!(id.kind(), IdKind::Resident);
/// assert_eq!(id.birth_date(), Date::new(1949, 12, 31).unwrap());
/// assert_eq!(id.sex(), Sex::Female); // even 17th digit
/// assert_eq!(id.masked().as_str(), "110105********002X"); // what logs and screens show
/// assert!(!format!("{id:?}").contains("19491231"));
///
/// // One wrong character is caught by the check character.
/// assert_eq!(CnIdNumber::parse("110105194912310021", today).err(), Some(IdError::CheckDigit));
/// # Ok::<(), IdError>(())
/// ```
pub struct CnIdNumber {
    chars: Zeroizing<String>,
    kind: IdKind,
    birth_date: Date,
    sex: Sex,
}

/// Province-level codes of GB/T 2260 (mainland provinces and 71 Taiwan).
const PROVINCES: [u8; 32] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71,
];

/// ISO 7064 MOD 11-2 check character for 17 digits.
pub fn check_char(body: &[u8]) -> Option<u8> {
    if body.len() != 17 || !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut sum: u32 = 0;
    let mut w: u32 = 1;
    // Weight of position i (from the right, check at 1) is 2^(i-1) mod 11.
    for &d in body.iter().rev() {
        w = (w * 2) % 11;
        sum += u32::from(d - b'0') * w;
    }
    let c = (12 - sum % 11) % 11;
    Some(if c == 10 { b'X' } else { b'0' + c as u8 })
}

impl CnIdNumber {
    /// Parses and validates a number; `today` bounds the birth date.
    pub fn parse(input: &str, today: Date) -> Result<CnIdNumber, IdError> {
        let s = input.trim();
        if s.len() > 72 || s.chars().count() != 18 {
            return Err(IdError::Length);
        }
        let b = s.as_bytes();
        // 18 chars and ≤ 72 bytes; all ASCII is checked next so indexing below is safe.
        if b.len() != 18
            || !b[..17].iter().all(u8::is_ascii_digit)
            || !(b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
        {
            return Err(IdError::Charset);
        }
        let mut chars = Zeroizing::new(s.to_ascii_uppercase());
        let b = chars.as_bytes();
        let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');

        let kind = if b[0] == b'9' {
            if !PROVINCES[..31].contains(&two(1)) {
                return Err(IdError::Region);
            }
            let nat = u16::from(b[3] - b'0') * 100 + u16::from(two(4));
            if !(4..=894).contains(&nat) {
                return Err(IdError::Nationality);
            }
            IdKind::ForeignPermanentResident
        } else {
            match (two(0), &b[2..6]) {
                (81, b"0000") => IdKind::HongKongResidencePermit,
                (82, b"0000") => IdKind::MacaoResidencePermit,
                (83, b"0000") => IdKind::TaiwanResidencePermit,
                (p, _) if PROVINCES.contains(&p) => IdKind::Resident,
                _ => return Err(IdError::Region),
            }
        };

        let birth = std::str::from_utf8(&b[6..14]).map_err(|_| IdError::Charset)?;
        let birth_date = Date::parse_compact(birth).map_err(|_| IdError::BirthDate)?;
        if birth_date.year() < 1900 {
            return Err(IdError::BirthDateBefore1900);
        }
        if birth_date > today {
            return Err(IdError::BirthDateInFuture);
        }
        if check_char(&b[..17]) != Some(b[17]) {
            return Err(IdError::CheckDigit);
        }
        let sex = if (b[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        // Normalise a lowercase x in place (already uppercased above).
        chars.make_ascii_uppercase();
        Ok(CnIdNumber {
            chars,
            kind,
            birth_date,
            sex,
        })
    }

    /// The document kind.
    pub fn kind(&self) -> IdKind {
        self.kind
    }
    /// Date of birth (feeds [`crate::consent::FaceConsent::check`]).
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }
    /// Sex recorded in the number.
    pub fn sex(&self) -> Sex {
        self.sex
    }
    /// The masked form for logs and screens, e.g. `110105********002X`.
    pub fn masked(&self) -> MaskedId {
        MaskedId::resident_id(&self.chars)
    }
    /// The full number (uppercase `X`), for the holder registry only. Never log it.
    pub fn expose(&self) -> &str {
        &self.chars
    }
}

impl std::fmt::Debug for CnIdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CnIdNumber")
            .field("masked", &self.masked())
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl IdError {
    /// The stable reason code for this defect.
    pub fn reason(&self) -> crate::verifier::Reason {
        match self {
            IdError::Length => reasons::LENGTH,
            IdError::Charset => reasons::CHARSET,
            IdError::Region => reasons::REGION,
            IdError::Nationality => reasons::NATIONALITY,
            IdError::BirthDate => reasons::BIRTH_DATE,
            IdError::BirthDateBefore1900 => reasons::BIRTH_DATE_BEFORE_1900,
            IdError::BirthDateInFuture => reasons::BIRTH_DATE_IN_FUTURE,
            IdError::CheckDigit => reasons::CHECK_DIGIT,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn today() -> Date {
        Date::new(2026, 11, 23).unwrap()
    }

    /// Builds a number from a 17-digit body with a correct check character.
    pub(crate) fn with_check(body: &str) -> String {
        format!("{body}{}", char::from(check_char(body.as_bytes()).unwrap()))
    }

    #[test]
    fn gb11643_example_and_kinds() {
        // The GB 11643-1999 standard's own example.
        let id = CnIdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(id.kind(), IdKind::Resident);
        assert_eq!(id.birth_date(), Date::new(1949, 12, 31).unwrap());
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked().as_str(), "110105********002X");
        assert!(CnIdNumber::parse("11010519491231002x", today()).is_ok());
        // Lowercase x is normalised.
        assert_eq!(
            CnIdNumber::parse("11010519491231002x", today())
                .unwrap()
                .expose(),
            "11010519491231002X"
        );

        for (body, kind) in [
            ("81000019900101001", IdKind::HongKongResidencePermit),
            ("82000019900101002", IdKind::MacaoResidencePermit),
            ("83000019900101003", IdKind::TaiwanResidencePermit),
            ("93184019900101005", IdKind::ForeignPermanentResident),
        ] {
            let id = CnIdNumber::parse(&with_check(body), today()).unwrap();
            assert_eq!(id.kind(), kind, "{body}");
        }
        assert_eq!(
            CnIdNumber::parse(&with_check("81000019900101001"), today())
                .unwrap()
                .sex(),
            Sex::Male
        );
    }

    #[test]
    fn each_single_defect_has_its_own_reason() {
        let cases = [
            ("1101051949123100", IdError::Length),
            ("11010519491231002X1", IdError::Length),
            ("1101051949123100AX", IdError::Charset),
            ("11010519491231002Y", IdError::Charset),
            ("１1010519491231002X", IdError::Charset), // full-width digit: 18 chars, not ASCII
            (&with_check("99010519491231002"), IdError::Region), // province 99
            (&with_check("81010519491231002"), IdError::Region), // 81 but not 810000
            (&with_check("90005619900101005"), IdError::Region), // foreigner, province 00
            (&with_check("93100019900101005"), IdError::Nationality), // nationality 000
            (&with_check("11010519490231002"), IdError::BirthDate), // 31 Feb
            (
                &with_check("11010518991231002"),
                IdError::BirthDateBefore1900,
            ),
            (&with_check("11010520301231002"), IdError::BirthDateInFuture),
            ("110105194912310021", IdError::CheckDigit),
        ];
        let mut seen = std::collections::HashSet::new();
        for (n, want) in cases {
            let got = CnIdNumber::parse(n, today()).unwrap_err();
            assert_eq!(got, want, "{n}");
            seen.insert(got.reason().code());
        }
        assert_eq!(
            seen.len(),
            8,
            "every defect kind has a distinct reason code"
        );
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        // MOD 11-2 detects all single substitutions.
        let good = "11010519491231002X";
        for i in 0..17 {
            for d in b'0'..=b'9' {
                let mut b = good.as_bytes().to_vec();
                if b[i] == d {
                    continue;
                }
                b[i] = d;
                let s = String::from_utf8(b).unwrap();
                assert!(CnIdNumber::parse(&s, today()).is_err(), "{s}");
            }
        }
    }

    #[test]
    fn debug_and_errors_never_show_the_number() {
        let id = CnIdNumber::parse("11010519491231002X", today()).unwrap();
        let dbg = format!("{id:?}");
        assert!(
            !dbg.contains("11010519491231002X") && dbg.contains("110105********002X"),
            "{dbg}"
        );
        let e = CnIdNumber::parse("110105194912310021", today()).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("1101051949"));
    }
}

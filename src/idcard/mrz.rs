//! ICAO Doc 9303 machine-readable zones: TD1 (ID cards, 3×30), TD2 (2×36) and TD3
//! (passports, 2×44).
//!
//! Every check digit is verified (document number, birth date, expiry, TD3 optional
//! data, composite), dates are validated as calendar dates, and expiry is judged against
//! a supplied `today`. Each defect has its own [`MrzError`] and reason code, checked in
//! the order length → character set → check digits → dates → sex → expiry. The document
//! number and optional data (often a personal number) are zeroized and shown masked.

use zeroize::Zeroizing;

use super::mask::MaskedId;
use crate::date::Date;
use crate::verifier::Reason;

/// Reason codes for MRZ defects.
pub mod reasons {
    use crate::verifier::{Reason, ReasonKind};
    /// Wrong number of lines or line length for any TD format.
    pub const LENGTH: Reason = Reason::new("mrz.length", ReasonKind::Malformed);
    /// A character outside `A–Z 0–9 <`.
    pub const CHARSET: Reason = Reason::new("mrz.charset", ReasonKind::Malformed);
    /// Document number check digit.
    pub const CHECK_DOCUMENT_NUMBER: Reason =
        Reason::new("mrz.check_digit.document_number", ReasonKind::Malformed);
    /// Birth date check digit.
    pub const CHECK_BIRTH_DATE: Reason =
        Reason::new("mrz.check_digit.birth_date", ReasonKind::Malformed);
    /// Expiry date check digit.
    pub const CHECK_EXPIRY_DATE: Reason =
        Reason::new("mrz.check_digit.expiry_date", ReasonKind::Malformed);
    /// Optional data (personal number) check digit, TD3.
    pub const CHECK_OPTIONAL_DATA: Reason =
        Reason::new("mrz.check_digit.optional_data", ReasonKind::Malformed);
    /// Composite check digit.
    pub const CHECK_COMPOSITE: Reason =
        Reason::new("mrz.check_digit.composite", ReasonKind::Malformed);
    /// Birth date is not a calendar date.
    pub const BIRTH_DATE: Reason = Reason::new("mrz.birth_date", ReasonKind::Malformed);
    /// Expiry date is not a calendar date.
    pub const EXPIRY_DATE: Reason = Reason::new("mrz.expiry_date", ReasonKind::Malformed);
    /// Sex is not `M`, `F`, `X` or `<`.
    pub const SEX: Reason = Reason::new("mrz.sex", ReasonKind::Malformed);
    /// The document has expired.
    pub const EXPIRED: Reason = Reason::new("mrz.expired", ReasonKind::Expired);
}

/// Why an MRZ is invalid. Carries no document data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    /// Not 3×30, 2×36 or 2×44 characters.
    #[error("MRZ must be 3 lines of 30, or 2 lines of 36 or 44 characters")]
    Length,
    /// Invalid character.
    #[error("MRZ contains a character outside A-Z, 0-9 and <")]
    Charset,
    /// Document number check digit mismatch.
    #[error("MRZ document number check digit does not match")]
    CheckDocumentNumber,
    /// Birth date check digit mismatch.
    #[error("MRZ birth date check digit does not match")]
    CheckBirthDate,
    /// Expiry date check digit mismatch.
    #[error("MRZ expiry date check digit does not match")]
    CheckExpiryDate,
    /// Optional data check digit mismatch.
    #[error("MRZ optional data check digit does not match")]
    CheckOptionalData,
    /// Composite check digit mismatch.
    #[error("MRZ composite check digit does not match")]
    CheckComposite,
    /// Impossible birth date.
    #[error("MRZ birth date is not a valid date")]
    BirthDate,
    /// Impossible expiry date.
    #[error("MRZ expiry date is not a valid date")]
    ExpiryDate,
    /// Invalid sex field.
    #[error("MRZ sex field is invalid")]
    Sex,
    /// Expired.
    #[error("document has expired")]
    Expired,
}

impl MrzError {
    /// The stable reason code for this defect.
    pub fn reason(&self) -> Reason {
        match self {
            MrzError::Length => reasons::LENGTH,
            MrzError::Charset => reasons::CHARSET,
            MrzError::CheckDocumentNumber => reasons::CHECK_DOCUMENT_NUMBER,
            MrzError::CheckBirthDate => reasons::CHECK_BIRTH_DATE,
            MrzError::CheckExpiryDate => reasons::CHECK_EXPIRY_DATE,
            MrzError::CheckOptionalData => reasons::CHECK_OPTIONAL_DATA,
            MrzError::CheckComposite => reasons::CHECK_COMPOSITE,
            MrzError::BirthDate => reasons::BIRTH_DATE,
            MrzError::ExpiryDate => reasons::EXPIRY_DATE,
            MrzError::Sex => reasons::SEX,
            MrzError::Expired => reasons::EXPIRED,
        }
    }
}

/// The ICAO 9303 size format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MrzFormat {
    /// 3 lines × 30 (ID cards).
    Td1,
    /// 2 lines × 36.
    Td2,
    /// 2 lines × 44 (passports).
    Td3,
}

impl std::fmt::Display for MrzFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MrzFormat::Td1 => "TD1",
            MrzFormat::Td2 => "TD2",
            MrzFormat::Td3 => "TD3",
        })
    }
}

/// A parsed MRZ whose check digits and dates hold. Expiry is checked separately with
/// [`Mrz::check_expiry`]. No `Clone`; `Debug` masks the document number.
///
/// ```
/// use facegate::date::Date;
/// use facegate::idcard::{Mrz, MrzError, MrzFormat};
///
/// let today = Date::new(2026, 11, 30).unwrap();
/// // The ICAO Doc 9303 specimen passport (TD3).
/// let lines = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n\
///              L898902C36UTO7408122F1204159ZE184226B<<<<<10";
/// let mrz = Mrz::parse(lines, today)?;
/// assert_eq!(mrz.format(), MrzFormat::Td3);
/// assert_eq!((mrz.surname(), mrz.given_names()), ("ERIKSSON", "ANNA MARIA"));
/// assert_eq!(mrz.birth_date(), Date::new(1974, 8, 12).unwrap());
/// assert_eq!(mrz.masked_document_number().as_str(), "L8*****C3");
/// // Parsed, but the specimen expired on 15 April 2012.
/// assert_eq!(mrz.check_expiry(today), Err(MrzError::Expired));
///
/// // A misread digit in the document number fails its check digit.
/// let misread = lines.replacen("L898902C3", "L898962C3", 1);
/// assert_eq!(Mrz::parse(&misread, today).err(), Some(MrzError::CheckDocumentNumber));
/// # Ok::<(), MrzError>(())
/// ```
pub struct Mrz {
    format: MrzFormat,
    document_code: String,
    issuing_state: String,
    nationality: String,
    document_number: Zeroizing<String>,
    optional_data: Zeroizing<String>,
    surname: String,
    given_names: String,
    birth_date: Date,
    expiry_date: Date,
    sex: char,
}

/// ICAO 9303 check digit (weights 7, 3, 1; `<` = 0, `A` = 10 … `Z` = 35).
pub fn check_digit(field: &[u8]) -> u8 {
    let mut sum: u32 = 0;
    for (i, &c) in field.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => 0,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    (sum % 10) as u8
}

fn holds(field: &[u8], digit: u8) -> bool {
    digit.is_ascii_digit() && check_digit(field) == digit - b'0'
}

fn text(b: &[u8]) -> String {
    // Input is validated as ASCII A-Z0-9< before this is called.
    b.iter()
        .map(|&c| if c == b'<' { ' ' } else { char::from(c) })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The document number, and whether it was long. A number of more than 9 characters
/// (TD1, TD2) has `<` at the check-digit position and continues in the optional data up
/// to the first filler, the last of those characters being its check digit.
fn document_number(
    field: &[u8],
    cd: u8,
    opt: &[u8],
    may_overflow: bool,
) -> Result<(Zeroizing<Vec<u8>>, bool), MrzError> {
    let mut number = Zeroizing::new(field.to_vec());
    if may_overflow && cd == b'<' {
        let ext: Vec<u8> = opt.iter().copied().take_while(|&c| c != b'<').collect();
        let (cd, rest) = ext.split_last().ok_or(MrzError::CheckDocumentNumber)?;
        number.extend_from_slice(rest);
        if !holds(&number, *cd) {
            return Err(MrzError::CheckDocumentNumber);
        }
        return Ok((number, true));
    }
    if !holds(&number, cd) {
        return Err(MrzError::CheckDocumentNumber);
    }
    Ok((number, false))
}

fn yymmdd(b: &[u8]) -> Option<(u16, u8, u8)> {
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    Some((u16::from(n(0)), n(2), n(4)))
}

impl Mrz {
    /// Parses 2 or 3 MRZ lines (blank lines and surrounding whitespace ignored).
    /// `today` decides the birth century (the latest one not in the future); expiry is
    /// checked separately by [`Mrz::check_expiry`].
    pub fn parse(input: &str, today: Date) -> Result<Mrz, MrzError> {
        if input.len() > 1024 {
            return Err(MrzError::Length);
        }
        let lines: Vec<&str> = input
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        for l in &lines {
            if !l
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'<')
            {
                // Length first: a wrong-size MRZ with odd characters is reported as length.
                if !matches!(
                    lines.iter().map(|l| l.chars().count()).collect::<Vec<_>>()[..],
                    [30, 30, 30] | [36, 36] | [44, 44]
                ) {
                    return Err(MrzError::Length);
                }
                return Err(MrzError::Charset);
            }
        }
        let lens: Vec<usize> = lines.iter().map(|l| l.len()).collect();
        match lens[..] {
            [30, 30, 30] => Self::td1(
                lines[0].as_bytes(),
                lines[1].as_bytes(),
                lines[2].as_bytes(),
                today,
            ),
            [36, 36] => Self::td23(
                MrzFormat::Td2,
                lines[0].as_bytes(),
                lines[1].as_bytes(),
                today,
            ),
            [44, 44] => Self::td23(
                MrzFormat::Td3,
                lines[0].as_bytes(),
                lines[1].as_bytes(),
                today,
            ),
            _ => Err(MrzError::Length),
        }
    }

    fn td23(format: MrzFormat, l1: &[u8], l2: &[u8], today: Date) -> Result<Mrz, MrzError> {
        let n = l2.len();
        let (opt_end, composite_at) = (n - 2, n - 1);
        let opt_field = &l2[28..opt_end + if format == MrzFormat::Td2 { 1 } else { 0 }];
        // A TD3 number never overflows (its optional data has its own check digit).
        let (doc, long) = document_number(&l2[0..9], l2[9], opt_field, format == MrzFormat::Td2)?;
        let opt = if long { &[][..] } else { opt_field };
        if !holds(&l2[13..19], l2[19]) {
            return Err(MrzError::CheckBirthDate);
        }
        if !holds(&l2[21..27], l2[27]) {
            return Err(MrzError::CheckExpiryDate);
        }
        if format == MrzFormat::Td3 {
            let opt_cd = l2[42];
            let filler = l2[28..42].iter().all(|&c| c == b'<');
            if !(holds(&l2[28..42], opt_cd) || (filler && opt_cd == b'<')) {
                return Err(MrzError::CheckOptionalData);
            }
        }
        let mut comp = Vec::with_capacity(40);
        comp.extend_from_slice(&l2[0..10]);
        comp.extend_from_slice(&l2[13..20]);
        comp.extend_from_slice(&l2[21..composite_at]);
        if !holds(&comp, l2[composite_at]) {
            return Err(MrzError::CheckComposite);
        }
        let name = &l1[5..];
        Self::finish(
            format,
            &l1[0..2],
            &l1[2..5],
            &l2[10..13],
            &doc,
            opt,
            name,
            &l2[13..19],
            &l2[21..27],
            l2[20],
            today,
        )
    }

    fn td1(l1: &[u8], l2: &[u8], l3: &[u8], today: Date) -> Result<Mrz, MrzError> {
        let (doc, long) = document_number(&l1[5..14], l1[14], &l1[15..30], true)?;
        let opt = if long { &[][..] } else { &l1[15..30] };
        if !holds(&l2[0..6], l2[6]) {
            return Err(MrzError::CheckBirthDate);
        }
        if !holds(&l2[8..14], l2[14]) {
            return Err(MrzError::CheckExpiryDate);
        }
        let mut comp = Vec::with_capacity(60);
        comp.extend_from_slice(&l1[5..30]);
        comp.extend_from_slice(&l2[0..7]);
        comp.extend_from_slice(&l2[8..15]);
        comp.extend_from_slice(&l2[18..29]);
        if !holds(&comp, l2[29]) {
            return Err(MrzError::CheckComposite);
        }
        Self::finish(
            MrzFormat::Td1,
            &l1[0..2],
            &l1[2..5],
            &l2[15..18],
            &doc,
            opt,
            l3,
            &l2[0..6],
            &l2[8..14],
            l2[7],
            today,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        format: MrzFormat,
        code: &[u8],
        state: &[u8],
        nationality: &[u8],
        doc: &[u8],
        opt: &[u8],
        name: &[u8],
        birth: &[u8],
        expiry: &[u8],
        sex: u8,
        today: Date,
    ) -> Result<Mrz, MrzError> {
        // Birth: the latest century that does not put the birth in the future.
        // Expiry: 20YY (documents are valid for at most a few decades).
        let (by, bm, bd) = yymmdd(birth).ok_or(MrzError::BirthDate)?;
        let century = today.year() / 100 * 100;
        // Compare whole dates: a birthday later this year is still in the future.
        let birth_date = match Date::new(century + by, bm, bd) {
            Ok(d) if d <= today => d,
            _ => Date::new(century.saturating_sub(100) + by, bm, bd)
                .map_err(|_| MrzError::BirthDate)?,
        };
        let (ey, em, ed) = yymmdd(expiry).ok_or(MrzError::ExpiryDate)?;
        let expiry_date = Date::new(2000 + ey, em, ed).map_err(|_| MrzError::ExpiryDate)?;
        if !matches!(sex, b'M' | b'F' | b'X' | b'<') {
            return Err(MrzError::Sex);
        }
        let name = String::from_utf8_lossy(name);
        let (surname, given) = name.split_once("<<").unwrap_or((&name, ""));
        Ok(Mrz {
            format,
            document_code: text(code),
            issuing_state: text(state),
            nationality: text(nationality),
            document_number: Zeroizing::new(text(doc).replace(' ', "")),
            optional_data: Zeroizing::new(text(opt)),
            surname: text(surname.as_bytes()),
            given_names: text(given.as_bytes())
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            birth_date,
            expiry_date,
            sex: char::from(sex),
        })
    }

    /// Refuses an expired document (valid through its expiry date).
    pub fn check_expiry(&self, today: Date) -> Result<(), MrzError> {
        if today > self.expiry_date {
            Err(MrzError::Expired)
        } else {
            Ok(())
        }
    }

    /// TD1, TD2 or TD3.
    pub fn format(&self) -> MrzFormat {
        self.format
    }
    /// Document code, e.g. `P` or `I`.
    pub fn document_code(&self) -> &str {
        &self.document_code
    }
    /// Issuing state (ICAO code, e.g. `UTO`).
    pub fn issuing_state(&self) -> &str {
        &self.issuing_state
    }
    /// Nationality (ICAO code).
    pub fn nationality(&self) -> &str {
        &self.nationality
    }
    /// Primary identifier.
    pub fn surname(&self) -> &str {
        &self.surname
    }
    /// Secondary identifier (given names, space-separated).
    pub fn given_names(&self) -> &str {
        &self.given_names
    }
    /// Date of birth (century inferred: not in the future).
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }
    /// Date of expiry.
    pub fn expiry_date(&self) -> Date {
        self.expiry_date
    }
    /// `M`, `F`, `X` or `<` (unspecified).
    pub fn sex(&self) -> char {
        self.sex
    }
    /// The document number masked for logs, e.g. `L8*****C3`.
    pub fn masked_document_number(&self) -> MaskedId {
        MaskedId::new(&self.document_number)
    }
    /// The full document number, for the holder registry only. Never log it.
    pub fn expose_document_number(&self) -> &str {
        &self.document_number
    }
    /// Whether optional data (often a personal number) is present; the data itself is
    /// never exposed by this type beyond [`Mrz::expose_optional_data`].
    pub fn has_optional_data(&self) -> bool {
        !self.optional_data.is_empty()
    }
    /// The optional data field (may hold a personal number). Never log it.
    pub fn expose_optional_data(&self) -> &str {
        &self.optional_data
    }
}

impl std::fmt::Debug for Mrz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mrz")
            .field("format", &self.format)
            .field("document_number", &self.masked_document_number())
            .field("expiry_date", &self.expiry_date)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// ICAO 9303 Part 4 specimen (TD3 passport).
    pub(crate) const TD3: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    /// ICAO 9303 Part 6 specimen (TD2).
    pub(crate) const TD2: &str =
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6";
    /// ICAO 9303 Part 5 specimen (TD1).
    pub(crate) const TD1: &str =
        "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";

    const T: Date = Date::from_ymd_const(2026, 11, 23);

    fn d(y: u16, m: u8, dd: u8) -> Date {
        Date::new(y, m, dd).unwrap()
    }

    #[test]
    fn check_digit_by_hand() {
        // L898902C3: 21·7+8·3+9+8·7+9·3+0+2·7+12·3+3 = 316 → 6.
        assert_eq!(check_digit(b"L898902C3"), 6);
        // 740812: 49+12+0+56+3+2 = 122 → 2.   120415: 7+6+0+28+3+5 = 49 → 9.
        assert_eq!(check_digit(b"740812"), 2);
        assert_eq!(check_digit(b"120415"), 9);
        // ZE184226B<<<<<: 245+42+1+56+12+2+14+18+11 = 401 → 1.
        assert_eq!(check_digit(b"ZE184226B<<<<<"), 1);
        // D23145890: 13·7+2·3+3+1·7+4·3+5+8·7+9·3+0 = 207 → 7.
        assert_eq!(check_digit(b"D23145890"), 7);
    }

    #[test]
    fn icao_specimens_parse() {
        let p = Mrz::parse(TD3, T).unwrap();
        assert_eq!(p.format(), MrzFormat::Td3);
        assert_eq!(
            (p.document_code(), p.issuing_state(), p.nationality()),
            ("P", "UTO", "UTO")
        );
        assert_eq!((p.surname(), p.given_names()), ("ERIKSSON", "ANNA MARIA"));
        assert_eq!(p.expose_document_number(), "L898902C3");
        assert_eq!(p.masked_document_number().as_str(), "L8*****C3");
        assert_eq!(p.expose_optional_data(), "ZE184226B");
        assert_eq!(
            (p.birth_date(), p.expiry_date(), p.sex()),
            (d(1974, 8, 12), d(2012, 4, 15), 'F')
        );
        assert!(p.check_expiry(d(2012, 4, 15)).is_ok());
        assert_eq!(p.check_expiry(d(2012, 4, 16)), Err(MrzError::Expired));

        for (text, fmt) in [(TD2, MrzFormat::Td2), (TD1, MrzFormat::Td1)] {
            let m = Mrz::parse(text, T).unwrap();
            assert_eq!(m.format(), fmt);
            assert_eq!(m.expose_document_number(), "D23145890");
            assert_eq!((m.surname(), m.given_names()), ("ERIKSSON", "ANNA MARIA"));
            assert_eq!(
                (m.birth_date(), m.expiry_date()),
                (d(1974, 8, 12), d(2012, 4, 15))
            );
        }
        // Windows line endings and surrounding blank lines are fine.
        assert!(Mrz::parse(&format!("\r\n{}\r\n\r\n", TD3.replace('\n', "\r\n")), T).is_ok());
    }

    /// Replaces `len` characters at (line, col) and optionally fixes the given check
    /// digits, so the result has exactly one defect.
    fn edit(text: &str, line: usize, col: usize, with: &str) -> String {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines[line].replace_range(col..col + with.len(), with);
        lines.join("\n")
    }

    fn fix(text: &str, line: usize, field: std::ops::Range<usize>, at: usize) -> String {
        let l = text.lines().nth(line).unwrap().as_bytes().to_vec();
        let cd = check_digit(&l[field]);
        edit(text, line, at, &cd.to_string())
    }

    fn fix_composite_td3(text: &str) -> String {
        let l2 = text.lines().nth(1).unwrap().as_bytes().to_vec();
        let mut c = l2[0..10].to_vec();
        c.extend_from_slice(&l2[13..20]);
        c.extend_from_slice(&l2[21..43]);
        edit(text, 1, 43, &check_digit(&c).to_string())
    }

    #[test]
    fn each_single_defect_has_its_own_reason() {
        let cases: Vec<(String, MrzError)> = vec![
            (TD3.replacen('\n', "<\n", 1), MrzError::Length),
            (TD3.lines().next().unwrap().to_owned(), MrzError::Length),
            (edit(TD3, 0, 6, "r"), MrzError::Charset),
            (edit(TD3, 1, 9, "5"), MrzError::CheckDocumentNumber),
            (edit(TD3, 1, 19, "3"), MrzError::CheckBirthDate),
            (edit(TD3, 1, 27, "8"), MrzError::CheckExpiryDate),
            (edit(TD3, 1, 42, "2"), MrzError::CheckOptionalData),
            (edit(TD3, 1, 43, "1"), MrzError::CheckComposite),
            // Impossible dates with every check digit recomputed.
            (
                fix_composite_td3(&fix(&edit(TD3, 1, 13, "740231"), 1, 13..19, 19)),
                MrzError::BirthDate,
            ),
            (
                fix_composite_td3(&fix(&edit(TD3, 1, 21, "121315"), 1, 21..27, 27)),
                MrzError::ExpiryDate,
            ),
            (edit(TD3, 1, 20, "Q"), MrzError::Sex),
            (edit(TD2, 1, 35, "7"), MrzError::CheckComposite),
            (edit(TD1, 1, 29, "7"), MrzError::CheckComposite),
            (edit(TD1, 0, 14, "8"), MrzError::CheckDocumentNumber),
        ];
        let mut seen = std::collections::HashSet::new();
        for (text, want) in &cases {
            let got = Mrz::parse(text, T).map(|_| ()).unwrap_err();
            assert_eq!(got, *want, "{text}");
            seen.insert(got.reason().code());
        }
        seen.insert(MrzError::Expired.reason().code());
        assert_eq!(seen.len(), 11);
    }

    #[test]
    fn long_document_number_td1() {
        // A 12-character number: 9 in the field, '<' at the check position, the rest and
        // its check digit at the start of optional data.
        let number = b"D23145890123";
        let cd = check_digit(number);
        let mut l1 = format!("I<UTOD23145890<123{cd}");
        while l1.len() < 30 {
            l1.push('<');
        }
        let l2 = "7408122F1204159UTO<<<<<<<<<<<";
        let mut comp = l1.as_bytes()[5..30].to_vec();
        comp.extend_from_slice(&l2.as_bytes()[0..7]);
        comp.extend_from_slice(&l2.as_bytes()[8..15]);
        comp.extend_from_slice(&l2.as_bytes()[18..29]);
        let text = format!(
            "{l1}\n{l2}{}\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
            check_digit(&comp)
        );
        let m = Mrz::parse(&text, T).unwrap();
        assert_eq!(m.expose_document_number(), "D23145890123");
        assert!(!format!("{m:?}").contains("D23145890123"));
    }

    #[test]
    fn long_document_number_td2() {
        let number = b"D23145890AB";
        let cd = check_digit(number);
        let mut l2 = format!("D23145890<UTO7408122F1204159AB{cd}");
        while l2.len() < 35 {
            l2.push('<');
        }
        let b = l2.as_bytes();
        let mut comp = b[0..10].to_vec();
        comp.extend_from_slice(&b[13..20]);
        comp.extend_from_slice(&b[21..35]);
        let text = format!(
            "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n{l2}{}",
            check_digit(&comp)
        );
        let m = Mrz::parse(&text, T).unwrap();
        assert_eq!(m.format(), MrzFormat::Td2);
        assert_eq!(m.expose_document_number(), "D23145890AB");
        // The same text with a wrong extension check digit.
        let bad = text.replacen(&format!("AB{cd}"), &format!("AB{}", (cd + 1) % 10), 1);
        assert_eq!(
            Mrz::parse(&bad, T).map(|_| ()),
            Err(MrzError::CheckDocumentNumber)
        );
    }

    #[test]
    fn td3_without_optional_data_may_use_filler_check() {
        let t = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159<<<<<<<<<<<<<<<0";
        let t = fix_composite_td3(&edit(t, 1, 42, "<"));
        let m = Mrz::parse(&t, T).unwrap();
        assert!(!m.has_optional_data());
    }
}

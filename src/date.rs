//! A small civil (proleptic Gregorian) date, for birth and expiry dates on identity
//! documents and for the under-14 consent rule.
//!
//! Why our own type: ID numbers and MRZs carry dates as bare digits, and a wrong
//! calendar check (30 February, 2023-02-29) is exactly the kind of defect an ID check
//! must reject with its own reason. The type is validated on construction, so a `Date`
//! value is always a real day; every operation is total (no panics, no overflow).

use serde::{Serialize, Serializer};

/// Why a date could not be built or parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// The text has the wrong length or shape (expected `YYYY-MM-DD` or `YYYYMMDD`).
    #[error("date has the wrong format")]
    Format,
    /// A character that is not an ASCII digit where one was expected.
    #[error("date contains a non-digit")]
    NotDigit,
    /// Year outside 1..=9999.
    #[error("year out of range")]
    Year,
    /// Month outside 1..=12.
    #[error("month out of range")]
    Month,
    /// Day outside the month (including 29 February of a common year).
    #[error("day does not exist in that month")]
    Day,
}

/// A real calendar day between 0001-01-01 and 9999-12-31.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    // Field order makes the derived ordering chronological.
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A date, if it exists on the calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Date, DateError> {
        if !(1..=9999).contains(&year) {
            return Err(DateError::Year);
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::Month);
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(DateError::Day);
        }
        Ok(Date { year, month, day })
    }

    /// A date known valid at compile time; an invalid one fails const evaluation
    /// (crate-internal: the public API never panics).
    #[cfg(test)]
    pub(crate) const fn from_ymd_const(year: u16, month: u8, day: u8) -> Date {
        assert!(
            year >= 1
                && year <= 9999
                && month >= 1
                && month <= 12
                && day >= 1
                && day <= days_in_month(year, month)
        );
        Date { year, month, day }
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Result<Date, DateError> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(DateError::Format);
        }
        let year = digits(&b[0..4])?;
        let month = digits(&b[5..7])?;
        let day = digits(&b[8..10])?;
        Date::new(year as u16, month as u8, day as u8)
    }

    /// Parses `YYYYMMDD` (the form inside resident identity numbers).
    pub fn parse_compact(s: &str) -> Result<Date, DateError> {
        let b = s.as_bytes();
        if b.len() != 8 {
            return Err(DateError::Format);
        }
        let year = digits(&b[0..4])?;
        let month = digits(&b[4..6])?;
        let day = digits(&b[6..8])?;
        Date::new(year as u16, month as u8, day as u8)
    }

    /// The UTC calendar day containing `unix_seconds`, or `None` beyond year 9999.
    pub fn from_unix_seconds(unix_seconds: u64) -> Option<Date> {
        let days = i64::try_from(unix_seconds / 86_400).ok()?;
        Date::from_days_since_epoch(days)
    }

    /// Today's UTC date from the system clock (for the CLI; library code takes `today`
    /// as a parameter so it can be tested).
    pub fn today_utc() -> Option<Date> {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        Date::from_unix_seconds(secs)
    }

    /// Year (1..=9999).
    pub const fn year(self) -> u16 {
        self.year
    }
    /// Month (1..=12).
    pub const fn month(self) -> u8 {
        self.month
    }
    /// Day of the month.
    pub const fn day(self) -> u8 {
        self.day
    }

    /// Completed years of age on `today` for someone born on `self`; `None` if `today`
    /// is before the birth date. A person born on 29 February has their birthday on
    /// 1 March in common years (the reading most civil codes use).
    pub fn age_on(self, today: Date) -> Option<u16> {
        if today < self {
            return None;
        }
        let mut age = today.year - self.year;
        if (today.month, today.day) < (self.month, self.day) {
            age -= 1;
        }
        Some(age)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil; all intermediates fit easily in i64.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The inverse of [`Date::days_since_epoch`]; `None` outside 0001..=9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Date> {
        // Bound first so the arithmetic below cannot overflow.
        if !(-719_162..=2_932_896).contains(&days) {
            return None;
        }
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
        )
        .ok()
    }
}

/// Whether `year` is a Gregorian leap year.
pub const fn is_leap_year(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` of `year` (0 for an invalid month).
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Parses up to 4 ASCII digits.
pub(crate) fn digits(b: &[u8]) -> Result<u32, DateError> {
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return Err(DateError::NotDigit);
        }
        v = v.saturating_mul(10).saturating_add(u32::from(c - b'0'));
    }
    Ok(v)
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::fmt::Debug for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Date({self})")
    }
}

impl std::str::FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Date::parse_iso(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    #[test]
    fn rejects_impossible_days() {
        assert_eq!(Date::new(2023, 2, 29), Err(DateError::Day));
        assert!(Date::new(2024, 2, 29).is_ok());
        assert_eq!(Date::new(1900, 2, 29), Err(DateError::Day));
        assert!(Date::new(2000, 2, 29).is_ok());
        assert_eq!(Date::new(2024, 4, 31), Err(DateError::Day));
        assert_eq!(Date::new(2024, 13, 1), Err(DateError::Month));
        assert_eq!(Date::new(2024, 0, 1), Err(DateError::Month));
        assert_eq!(Date::new(0, 1, 1), Err(DateError::Year));
        assert_eq!(Date::parse_iso("2024-1-01"), Err(DateError::Format));
        assert_eq!(Date::parse_iso("2024-0a-01"), Err(DateError::NotDigit));
        assert_eq!(Date::parse_compact("19491231"), Ok(d("1949-12-31")));
    }

    #[test]
    fn age_counts_completed_years() {
        let born = d("2012-06-15");
        assert_eq!(born.age_on(d("2026-06-14")), Some(13));
        assert_eq!(born.age_on(d("2026-06-15")), Some(14));
        assert_eq!(born.age_on(d("2012-06-14")), None);
        let leap = d("2008-02-29");
        assert_eq!(leap.age_on(d("2022-02-28")), Some(13));
        assert_eq!(leap.age_on(d("2022-03-01")), Some(14));
    }

    #[test]
    fn epoch_days_roundtrip() {
        assert_eq!(d("1970-01-01").days_since_epoch(), 0);
        assert_eq!(d("2000-03-01").days_since_epoch(), 11_017);
        assert_eq!(
            Date::from_unix_seconds(1_111_111_111),
            Some(d("2005-03-18"))
        );
        for s in [
            "0001-01-01",
            "1600-02-29",
            "1969-12-31",
            "2038-01-19",
            "9999-12-31",
        ] {
            let x = d(s);
            assert_eq!(
                Date::from_days_since_epoch(x.days_since_epoch()),
                Some(x),
                "{s}"
            );
        }
        assert_eq!(Date::from_days_since_epoch(i64::MAX), None);
        assert_eq!(Date::from_days_since_epoch(i64::MIN), None);
        assert_eq!(Date::from_unix_seconds(u64::MAX), None);
    }
}
